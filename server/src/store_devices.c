/*
 * store_devices.c - the devices table and the app versions of device_apps,
 * read as one row per device (see store_devices.h).
 */
#include "store_devices.h"
#include "db.h"

#include <stdio.h>
#include <string.h>

/* A device row: the apps come as "appId version,appId version,..." (both
 * are checked before they are stored, so neither holds a space or comma). */
#define DEVICE_COLUMNS \
    "d.product_key, d.device_name, d.device_secret, d.status, d.last_online_at, d.ip, d.created_at, " \
    "(SELECT group_concat(a.app_id || ' ' || a.version, ',') FROM device_apps a " \
    "   WHERE a.product_key = d.product_key AND a.device_name = d.device_name), " \
    "d.firmware_version, d.device_info, d.device_info_at, d.last_refusal, d.enabled"

/* Splits "appId version,..." into d->apps. */
static void read_apps(store_device *d, const char *text)
{
    d->app_count = 0;
    while (*text && d->app_count < STORE_DEVICE_APPS_MAX) {
        size_t len = strcspn(text, ","), id = strcspn(text, " ");
        if (id < len) {
            store_device_app *a = &d->apps[d->app_count++];
            snprintf(a->app_id, sizeof a->app_id, "%.*s", (int)id, text);
            snprintf(a->version, sizeof a->version, "%.*s", (int)(len - id - 1), text + id + 1);
        }
        text += len + (text[len] == ',');
    }
}

/* Copies a column that may be NULL; returns whether it was not. */
static bool copy_nullable(char *out, size_t n, sqlite3_stmt *st, int col)
{
    db_copy(out, n, st, col);
    return !db_null(st, col);
}

static void read_device(sqlite3_stmt *st, void *out)
{
    store_device *d = out;
    db_copy(d->product_key, sizeof d->product_key, st, 0);
    db_copy(d->device_name, sizeof d->device_name, st, 1);
    db_copy(d->device_secret, sizeof d->device_secret, st, 2);
    db_copy(d->status, sizeof d->status, st, 3);
    d->last_online_at = sqlite3_column_int64(st, 4);
    d->has_ip = copy_nullable(d->ip, sizeof d->ip, st, 5);
    d->created_at = sqlite3_column_int64(st, 6);
    read_apps(d, db_text(st, 7));
    d->has_firmware = copy_nullable(d->firmware_version, sizeof d->firmware_version, st, 8);
    d->has_device_info = copy_nullable(d->device_info, sizeof d->device_info, st, 9);
    d->device_info_at = sqlite3_column_int64(st, 10);
    d->has_refusal = copy_nullable(d->last_refusal, sizeof d->last_refusal, st, 11);
    d->enabled = sqlite3_column_int(st, 12) != 0;
}

store_status store_device_insert(const char *pk, const char *dn, const char *secret, int64_t now)
{
    return db_insert("INSERT OR IGNORE INTO devices(product_key, device_name, device_secret, created_at) "
                     "VALUES (?1, ?2, ?3, ?4)", "sssI", pk, dn, secret, now);
}

store_status store_device_get(const char *pk, const char *dn, store_device *out)
{
    return db_one("SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.product_key = ?1 AND d.device_name = ?2",
                  read_device, out, "ss", pk, dn);
}

store_status store_device_exists(const char *pk, const char *dn)
{
    return db_one("SELECT 1 FROM devices WHERE product_key = ?1 AND device_name = ?2", NULL, NULL, "ss", pk, dn);
}

/*
 * Device pages. pk NULL is every product: the range '' .. x'ff' holds every
 * text key (a blob sorts after all text), so both cases walk an index in
 * the list's order. Each page is found in an index alone first (the rowids
 * LIMIT/OFFSET keep), and only its rows are read whole: OFFSET skips index
 * entries, not rows with their columns (a page at offset 99,950 of 100,000
 * devices: 3 ms instead of 33), and a page in the second half of the list
 * from its end (db_page_from_ends). The totals come from the counts kept by
 * 0011_device_counts.sql.
 */
#define DEVICES_OF_PRODUCT "product_key BETWEEN ifnull(?1, '') AND ifnull(?1, x'ff')"
#define DEVICE_PAGE(keys) \
    "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.rowid IN (" keys " LIMIT :limit OFFSET :offset) " \
    "ORDER BY d.product_key, d.device_name"
#define DEVICE_TOTAL \
    "SELECT COALESCE(SUM(n), 0) FROM device_counts c WHERE c." DEVICES_OF_PRODUCT " AND (?2 IS NULL OR c.status = ?2)"

/* A device page's keys in the list's order (ASC), or from its end (DESC). */
#define DEVICE_KEYS_BY_STATUS(dir) \
    "SELECT rowid FROM devices WHERE status = ?2 AND " DEVICES_OF_PRODUCT \
    " ORDER BY product_key " dir ", device_name " dir
#define DEVICE_KEYS(dir) \
    "SELECT rowid FROM devices WHERE " DEVICES_OF_PRODUCT " AND ?2 IS NULL " \
    "ORDER BY product_key " dir ", device_name " dir
#define GROUP_DEVICE_PAGE(dir) \
    "SELECT " DEVICE_COLUMNS " FROM (SELECT product_key, device_name FROM group_members " \
    "WHERE group_id = ?1 ORDER BY product_key " dir ", device_name " dir " LIMIT :limit OFFSET :offset) m " \
    "JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name " \
    "ORDER BY d.product_key, d.device_name"

store_status store_device_count(const char *pk, const char *status, int *n)
{
    *n = 0;
    return db_one(DEVICE_TOTAL, db_read_int, n, "ss", pk, status);
}

store_status store_device_list(const char *pk, const char *status, store_page *page)
{
    store_device row;
    if (status) /* the index devices_by_status (0012_device_pages.sql) */
        return db_page_from_ends(DEVICE_PAGE(DEVICE_KEYS_BY_STATUS("ASC")), DEVICE_PAGE(DEVICE_KEYS_BY_STATUS("DESC")),
                                 DEVICE_TOTAL, read_device, &row, page, "ss", pk, status);
    return db_page_from_ends(DEVICE_PAGE(DEVICE_KEYS("ASC")), DEVICE_PAGE(DEVICE_KEYS("DESC")), DEVICE_TOTAL,
                             read_device, &row, page, "ss", pk, status);
}

store_status store_device_list_group(const char *gid, store_page *page)
{
    store_device row;
    /* the page of members from group_members' primary key, then their rows */
    return db_page_from_ends(GROUP_DEVICE_PAGE("ASC"), GROUP_DEVICE_PAGE("DESC"),
                             "SELECT member_count FROM device_groups WHERE group_id = ?1", read_device, &row, page,
                             "s", gid);
}

store_status store_device_delete(const char *pk, const char *dn)
{
    return db_delete("DELETE FROM devices WHERE product_key = ?1 AND device_name = ?2", "ss", pk, dn);
}

void store_device_id_read(sqlite3_stmt *st, void *out)
{
    store_device_id *id = out;
    db_copy(id->product_key, sizeof id->product_key, st, 0);
    db_copy(id->device_name, sizeof id->device_name, st, 1);
}

/* The caller's function and context of store_device_ids. */
typedef struct {
    store_device_id_fn each;
    void *ctx;
} id_walk;

static int visit_id(const void *row, void *ctx)
{
    const id_walk *w = ctx;
    w->each(row, w->ctx);
    return 0;
}

store_status store_device_ids(const char *pk, store_device_id_fn each, void *ctx)
{
    store_device_id row;
    id_walk w = {each, ctx};
    return db_each("SELECT product_key, device_name FROM devices WHERE product_key = ?1 ORDER BY device_name",
                   store_device_id_read, &row, visit_id, &w, "s", pk);
}

store_status store_device_set_enabled(const char *pk, const char *dn, bool enabled)
{
    /* a status flag: rewritten in place, so allowed on a full disk */
    return db_free_one("UPDATE devices SET enabled = ?3 WHERE product_key = ?1 AND device_name = ?2", "ssi", pk, dn,
                       enabled ? 1 : 0);
}
