/*
 * store_applies.c - the batches of BatchRegisterDevice (see
 * store_applies.h).
 */
#include "store_applies.h"
#include "db.h"

static void read_id(sqlite3_stmt *st, void *out) { *(int64_t *)out = sqlite3_column_int64(st, 0); }

store_status store_apply_insert(const char *pk, int64_t now, int64_t *id)
{
    store_status s = db_write("INSERT INTO aliyun_applies(apply_id, product_key, created_at) "
                              "SELECT COALESCE(MAX(apply_id), 0) + 1, ?1, ?2 FROM aliyun_applies", NULL, "sI", pk,
                              now);
    if (s != STORE_OK)
        return s;
    return db_one("SELECT MAX(apply_id) FROM aliyun_applies", read_id, id, "");
}

store_status store_apply_add_device(int64_t id, const char *pk, const char *dn)
{
    return db_write("INSERT INTO aliyun_apply_devices(apply_id, product_key, device_name) VALUES (?1, ?2, ?3)", NULL,
                    "Iss", id, pk, dn);
}

static void read_apply(sqlite3_stmt *st, void *out)
{
    store_apply *a = out;
    a->apply_id = sqlite3_column_int64(st, 0);
    db_copy(a->product_key, sizeof a->product_key, st, 1);
    a->created_at = sqlite3_column_int64(st, 2);
}

store_status store_apply_get(int64_t id, store_apply *out)
{
    return db_one("SELECT apply_id, product_key, created_at FROM aliyun_applies WHERE apply_id = ?1", read_apply, out,
                  "I", id);
}

static void read_device(sqlite3_stmt *st, void *out)
{
    store_apply_device *d = out;
    db_copy(d->product_key, sizeof d->product_key, st, 0);
    db_copy(d->device_name, sizeof d->device_name, st, 1);
    db_copy(d->device_secret, sizeof d->device_secret, st, 2);
}

store_status store_apply_devices(int64_t id, store_page *page)
{
    store_apply_device row;
    return db_page("SELECT d.product_key, d.device_name, d.device_secret FROM aliyun_apply_devices a "
                   "JOIN devices d ON d.product_key = a.product_key AND d.device_name = a.device_name "
                   "WHERE a.apply_id = ?1 ORDER BY d.device_name LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM aliyun_apply_devices WHERE apply_id = ?1", read_device, &row, page, "I", id);
}
