/*
 * store_versions.c - the versions table (see store_versions.h).
 */
#include "store_versions.h"
#include "db.h"

#define VERSION_COLUMNS "app_id, version, v_major, v_minor, v_patch, object_key, size, md5, sha256, status, created_at"

static void read_version(sqlite3_stmt *st, void *out)
{
    store_version *v = out;
    db_copy(v->app_id, sizeof v->app_id, st, 0);
    db_copy(v->version, sizeof v->version, st, 1);
    for (int i = 0; i < 3; i++)
        v->parts[i] = (long)sqlite3_column_int64(st, 2 + i);
    db_copy(v->object_key, sizeof v->object_key, st, 5);
    v->size = sqlite3_column_int64(st, 6);
    db_copy(v->md5, sizeof v->md5, st, 7);
    db_copy(v->sha256, sizeof v->sha256, st, 8);
    db_copy(v->status, sizeof v->status, st, 9);
    v->created_at = sqlite3_column_int64(st, 10);
}

store_status store_version_insert(const store_version *v)
{
    return db_write("INSERT INTO versions(app_id, version, v_major, v_minor, v_patch, object_key, size, md5, sha256, "
                    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    NULL, "ssIIIsIssI", v->app_id, v->version, (int64_t)v->parts[0], (int64_t)v->parts[1],
                    (int64_t)v->parts[2], v->object_key, v->size, v->md5, v->sha256, v->created_at);
}

store_status store_version_get(const char *app_id, const char *version, store_version *out)
{
    return db_one("SELECT " VERSION_COLUMNS " FROM versions WHERE app_id = ?1 AND version = ?2", read_version, out,
                  "ss", app_id, version);
}

store_status store_version_find(const char *app_id, const long parts[3], store_version *out)
{
    return db_one("SELECT " VERSION_COLUMNS " FROM versions WHERE app_id = ?1 AND v_major = ?2 AND v_minor = ?3 "
                  "AND v_patch = ?4", read_version, out, "sIII", app_id, (int64_t)parts[0], (int64_t)parts[1],
                  (int64_t)parts[2]);
}

store_status store_version_by_object(const char *object, store_version *out)
{
    return db_one("SELECT " VERSION_COLUMNS " FROM versions WHERE object_key = ?1", read_version, out, "s", object);
}

store_status store_version_list(const char *app_id, store_page *page)
{
    store_version row;
    return db_page("SELECT " VERSION_COLUMNS " FROM versions WHERE app_id = ?1 "
                   "ORDER BY v_major DESC, v_minor DESC, v_patch DESC LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM versions WHERE app_id = ?1", read_version, &row, page, "s", app_id);
}

store_status store_version_deprecate(const char *app_id, const char *version)
{
    return db_free_one("UPDATE versions SET status = 'deprecated' WHERE app_id = ?1 AND version = ?2", "ss", app_id,
                       version);
}

store_status store_version_delete(const char *app_id, const char *version)
{
    return db_delete("DELETE FROM versions WHERE app_id = ?1 AND version = ?2", "ss", app_id, version);
}
