/*
 * store_firmwares.c - OTA modules, firmwares and the module versions
 * devices report (see store_firmwares.h).
 */
#include "store_firmwares.h"
#include "db.h"

#include <string.h>

static void read_module(sqlite3_stmt *st, void *out)
{
    store_ota_module *m = out;
    db_copy(m->product_key, sizeof m->product_key, st, 0);
    db_copy(m->module_name, sizeof m->module_name, st, 1);
    db_copy(m->alias, sizeof m->alias, st, 2);
    db_copy(m->description, sizeof m->description, st, 3);
    m->created_at = sqlite3_column_int64(st, 4);
}

#define MODULE_COLUMNS "product_key, module_name, alias, description, created_at"

store_status store_module_insert(const store_ota_module *m)
{
    return db_insert("INSERT OR IGNORE INTO ota_modules(" MODULE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5)", "ssssI",
                     m->product_key, m->module_name, m->alias, m->description, m->created_at);
}

store_status store_module_get(const char *pk, const char *name, store_ota_module *out)
{
    return db_one("SELECT " MODULE_COLUMNS " FROM ota_modules WHERE product_key = ?1 AND module_name = ?2",
                  read_module, out, "ss", pk, name);
}

store_status store_module_list(const char *pk, store_page *page)
{
    store_ota_module row;
    /* "default" is no row of ota_modules: it is made from the product's */
    return db_page("SELECT * FROM (SELECT product_key, '" STORE_OTA_DEFAULT_MODULE "' AS module_name, '', '', "
                   "created_at FROM products WHERE product_key = ?1 UNION ALL SELECT " MODULE_COLUMNS
                   " FROM ota_modules WHERE product_key = ?1) "
                   "ORDER BY module_name <> '" STORE_OTA_DEFAULT_MODULE "', module_name LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) + 1 FROM ota_modules WHERE product_key = ?1", read_module, &row, page, "s", pk);
}

store_status store_module_delete(const char *pk, const char *name)
{
    return db_delete("DELETE FROM ota_modules WHERE product_key = ?1 AND module_name = ?2", "ss", pk, name);
}

store_status store_module_firmware_count(const char *pk, const char *name, int *n)
{
    return db_one("SELECT COUNT(*) FROM firmwares WHERE product_key = ?1 AND module_name = ?2", db_read_int, n, "ss",
                  pk, name);
}

#define FIRMWARE_COLUMNS "firmware_id, product_key, module_name, version, name, object_key, size, md5, sha256, " \
                         "sign_method, src_versions, created_at"

static void read_firmware(sqlite3_stmt *st, void *out)
{
    store_firmware *f = out;
    db_copy(f->firmware_id, sizeof f->firmware_id, st, 0);
    db_copy(f->product_key, sizeof f->product_key, st, 1);
    db_copy(f->module_name, sizeof f->module_name, st, 2);
    db_copy(f->version, sizeof f->version, st, 3);
    db_copy(f->name, sizeof f->name, st, 4);
    db_copy(f->object_key, sizeof f->object_key, st, 5);
    f->size = sqlite3_column_int64(st, 6);
    db_copy(f->md5, sizeof f->md5, st, 7);
    db_copy(f->sha256, sizeof f->sha256, st, 8);
    db_copy(f->sign_method, sizeof f->sign_method, st, 9);
    db_copy(f->src_versions, sizeof f->src_versions, st, 10);
    f->created_at = sqlite3_column_int64(st, 11);
}

store_status store_firmware_insert(const store_firmware *f)
{
    return db_insert("INSERT OR IGNORE INTO firmwares(" FIRMWARE_COLUMNS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                     "ssssssIssssI", f->firmware_id, f->product_key, f->module_name, f->version, f->name,
                     f->object_key, f->size, f->md5, f->sha256, f->sign_method, f->src_versions, f->created_at);
}

store_status store_firmware_get(const char *id, store_firmware *out)
{
    return db_one("SELECT " FIRMWARE_COLUMNS " FROM firmwares WHERE firmware_id = ?1", read_firmware, out, "s", id);
}

store_status store_firmware_by_object(const char *object, store_firmware *out)
{
    return db_one("SELECT " FIRMWARE_COLUMNS " FROM firmwares WHERE object_key = ?1", read_firmware, out, "s",
                  object);
}

store_status store_firmware_find(const char *pk, const char *module, const char *version, store_firmware *out)
{
    return db_one("SELECT " FIRMWARE_COLUMNS " FROM firmwares WHERE product_key = ?1 AND module_name = ?2 "
                  "AND version = ?3", read_firmware, out, "sss", pk, module, version);
}

store_status store_firmware_list(const char *pk, store_page *page)
{
    store_firmware row;
    return db_page("SELECT " FIRMWARE_COLUMNS " FROM firmwares WHERE (?1 IS NULL OR product_key = ?1) "
                   "ORDER BY created_at DESC, firmware_id LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM firmwares WHERE (?1 IS NULL OR product_key = ?1)", read_firmware, &row,
                   page, "s", pk);
}

store_status store_firmware_delete(const char *id)
{
    return db_delete("DELETE FROM firmwares WHERE firmware_id = ?1", "s", id);
}

store_status store_device_module_report(const char *pk, const char *dn, const char *module, const char *version,
                                        int64_t now)
{
    int changes = 0;
    return db_write("INSERT INTO device_modules(product_key, device_name, module_name, version, reported_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(product_key, device_name, module_name) "
                    "DO UPDATE SET version = excluded.version, reported_at = excluded.reported_at",
                    &changes, "ssssI", pk, dn, module, version, now);
}

static void read_device_module(sqlite3_stmt *st, void *out)
{
    store_device_module *m = out;
    db_copy(m->module_name, sizeof m->module_name, st, 0);
    db_copy(m->version, sizeof m->version, st, 1);
    m->reported_at = sqlite3_column_int64(st, 2);
}

store_status store_device_modules(const char *pk, const char *dn, store_row_fn each, void *ctx)
{
    store_device_module row;
    db_rows v = {each, ctx};
    return db_each("SELECT module_name, version, reported_at FROM device_modules "
                   "WHERE product_key = ?1 AND device_name = ?2 ORDER BY module_name",
                   read_device_module, &row, db_visit_rows, &v, "ss", pk, dn);
}
