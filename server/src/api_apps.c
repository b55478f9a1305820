/*
 * api_apps.c - /api/v1/apps: create, list, get, delete apps (tutorial 5.2).
 *
 * appName and appId follow the console's rules (PROTOCOL.md 4.6) and are
 * each unique. An app with versions cannot be deleted: delete them first.
 */
#include "api_shared.h"
#include "db.h"
#include "routes.h"
#include "validate.h"

#include <string.h>
#include <time.h>

#define APP_COLUMNS \
    "a.app_id, a.app_name, a.description, a.created_at, " \
    "(SELECT COUNT(*) FROM versions v WHERE v.app_id = a.app_id), " \
    "(SELECT v.version FROM versions v WHERE v.app_id = a.app_id " \
    "  ORDER BY v.v_major DESC, v.v_minor DESC, v.v_patch DESC LIMIT 1)"

static cJSON *app_json(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "appId", db_text(st, 0));
    cJSON_AddStringToObject(o, "appName", db_text(st, 1));
    cJSON_AddStringToObject(o, "description", db_text(st, 2));
    cJSON_AddItemToObject(o, "createdAt", json_time(sqlite3_column_int64(st, 3)));
    cJSON_AddNumberToObject(o, "versionCount", (double)sqlite3_column_int64(st, 4));
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "latestVersion");
    else
        cJSON_AddStringToObject(o, "latestVersion", db_text(st, 5));
    return o;
}

static cJSON *load_app(sqlite3 *db, const char *id)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " APP_COLUMNS " FROM apps a WHERE a.app_id = ?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? app_json(db, st) : NULL;
    sqlite3_finalize(st);
    return o;
}

enum MHD_Result api_app_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "appName");
    cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "appId");
    cJSON *desc = cJSON_GetObjectItemCaseSensitive(in, "description");
    if (!cJSON_IsString(name) || !valid_app_name(name->valuestring))
        ret = reply_error(r, 400, "InvalidAppName", "appName must be 1..16 letters and digits");
    else if (!cJSON_IsString(id) || !valid_app_id(id->valuestring))
        ret = reply_error(r, 400, "InvalidAppId", "appId must be 16 digits starting with 88001000");
    else if (desc && !cJSON_IsNull(desc) &&
             (!cJSON_IsString(desc) || (desc->valuestring[0] && !valid_display_name(desc->valuestring, 512))))
        ret = reply_error(r, 400, "InvalidDescription", "description must be at most 512 bytes of text");
    else {
        sqlite3 *db = db_lock();
        if (db_int(db, "SELECT 1 FROM apps WHERE app_id = ?", id->valuestring, NULL) == 1)
            ret = reply_error(r, 409, "AppExists", "app %s already exists", id->valuestring);
        else if (db_int(db, "SELECT 1 FROM apps WHERE app_name = ?", name->valuestring, NULL) == 1)
            ret = reply_error(r, 409, "AppNameTaken", "appName %s is used by another app", name->valuestring);
        else {
            sqlite3_stmt *st = db_prepare(db, "INSERT INTO apps(app_id, app_name, description, created_at) VALUES (?, ?, ?, ?)");
            int ok = 0;
            if (st) {
                sqlite3_bind_text(st, 1, id->valuestring, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, name->valuestring, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, cJSON_IsString(desc) ? desc->valuestring : "", -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, time(NULL));
                ok = sqlite3_step(st) == SQLITE_DONE;
                sqlite3_finalize(st);
            }
            cJSON *out = ok ? load_app(db, id->valuestring) : NULL;
            ret = out ? reply_json(r, 201, out) : reply_error(r, 500, "StorageError", "cannot store the app");
        }
        db_unlock();
    }
    cJSON_Delete(in);
    return ret;
}

enum MHD_Result api_app_list(http_request *r)
{
    return api_page(r, "SELECT " APP_COLUMNS " FROM apps a ORDER BY a.created_at, a.app_id LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM apps", NULL, NULL, app_json);
}

enum MHD_Result api_app_get(http_request *r)
{
    sqlite3 *db = db_lock();
    cJSON *o = load_app(db, r->params[0]);
    db_unlock();
    if (!o)
        return reply_error(r, 404, "AppNotFound", "no app %s", r->params[0]);
    return reply_json(r, 200, o);
}

enum MHD_Result api_app_delete(http_request *r)
{
    const char *id = r->params[0];
    sqlite3 *db = db_lock();
    int64_t versions = db_int(db, "SELECT COUNT(*) FROM versions WHERE app_id = ?", id, NULL);
    int changed = versions == 0 ? db_change(db, "DELETE FROM apps WHERE app_id = ?", id, NULL) : 0;
    int exists = versions > 0 || changed > 0;
    if (versions > 0)
        exists = db_int(db, "SELECT 1 FROM apps WHERE app_id = ?", id, NULL) == 1;
    db_unlock();
    if (changed < 0)
        return reply_error(r, 500, "StorageError", "cannot delete the app");
    if (!exists)
        return reply_error(r, 404, "AppNotFound", "no app %s", id);
    if (versions > 0)
        return reply_error(r, 409, "AppHasVersions", "app %s still has %lld version(s); deprecate and delete them first",
                           id, (long long)versions);
    return reply_json(r, 204, NULL);
}
