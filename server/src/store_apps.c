/*
 * store_apps.c - the apps table (see store_apps.h).
 */
#include "store_apps.h"
#include "db.h"

#define APP_COLUMNS \
    "a.app_id, a.app_name, a.description, a.created_at, " \
    "(SELECT COUNT(*) FROM versions v WHERE v.app_id = a.app_id), " \
    "(SELECT v.version FROM versions v WHERE v.app_id = a.app_id " \
    "  ORDER BY v.v_major DESC, v.v_minor DESC, v.v_patch DESC LIMIT 1)"

static void read_app(sqlite3_stmt *st, void *out)
{
    store_app *a = out;
    db_copy(a->app_id, sizeof a->app_id, st, 0);
    db_copy(a->app_name, sizeof a->app_name, st, 1);
    db_copy(a->description, sizeof a->description, st, 2);
    a->created_at = sqlite3_column_int64(st, 3);
    a->version_count = sqlite3_column_int64(st, 4);
    a->has_latest = !db_null(st, 5);
    db_copy(a->latest_version, sizeof a->latest_version, st, 5);
}

store_status store_app_insert(const char *app_id, const char *name, const char *description, int64_t now)
{
    /* Which of the two unique keys is taken decides the answer, the appId
     * first; under one lock, so the answer holds for the insert. */
    db_lock();
    store_status s = db_one("SELECT 1 FROM apps WHERE app_id = ?1", NULL, NULL, "s", app_id);
    if (s == STORE_OK) {
        s = STORE_EXISTS;
    } else if (s == STORE_NOT_FOUND) {
        s = db_one("SELECT 1 FROM apps WHERE app_name = ?1", NULL, NULL, "s", name);
        if (s == STORE_OK)
            s = STORE_CONFLICT;
        else if (s == STORE_NOT_FOUND)
            s = db_write("INSERT INTO apps(app_id, app_name, description, created_at) VALUES (?1, ?2, ?3, ?4)",
                         NULL, "sssI", app_id, name, description, now);
    }
    db_unlock();
    return s;
}

store_status store_app_get(const char *app_id, store_app *out)
{
    return db_one("SELECT " APP_COLUMNS " FROM apps a WHERE a.app_id = ?1", read_app, out, "s", app_id);
}

store_status store_app_list(store_page *page)
{
    store_app row;
    return db_page("SELECT " APP_COLUMNS " FROM apps a ORDER BY a.created_at, a.app_id LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM apps", read_app, &row, page, "");
}

store_status store_app_delete(const char *app_id)
{
    return db_delete("DELETE FROM apps WHERE app_id = ?1", "s", app_id);
}
