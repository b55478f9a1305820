/*
 * api_groups.c - /api/v1/groups: test device groups (tutorial 2.4) and their
 * members. A push reaches the online members of the task's group.
 */
#include "api_shared.h"
#include "db.h"
#include "ids.h"
#include "routes.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define GROUP_COLUMNS \
    "g.group_id, g.name, g.created_at, " \
    "(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.group_id)"

static cJSON *group_json(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "groupId", db_text(st, 0));
    cJSON_AddStringToObject(o, "name", db_text(st, 1));
    cJSON_AddItemToObject(o, "createdAt", json_time(sqlite3_column_int64(st, 2)));
    cJSON_AddNumberToObject(o, "deviceCount", (double)sqlite3_column_int64(st, 3));
    return o;
}

static cJSON *load_group(sqlite3 *db, const char *id)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " GROUP_COLUMNS " FROM device_groups g WHERE g.group_id = ?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? group_json(db, st) : NULL;
    sqlite3_finalize(st);
    return o;
}

static int group_exists(sqlite3 *db, const char *id)
{
    return db_int(db, "SELECT 1 FROM device_groups WHERE group_id = ?", id, NULL) == 1;
}

enum MHD_Result api_group_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
    if (!cJSON_IsString(name) || !valid_display_name(name->valuestring, 64)) {
        cJSON_Delete(in);
        return reply_error(r, 400, "InvalidName", "name must be 1..64 bytes of text without control characters");
    }
    /* groupId is generated unless given (seeded CI runs need fixed ids). */
    cJSON *given = cJSON_GetObjectItemCaseSensitive(in, "groupId");
    if (given && (!cJSON_IsString(given) || !valid_token(given->valuestring))) {
        cJSON_Delete(in);
        return reply_error(r, 400, "InvalidGroupId", "groupId must be 1..40 of A-Z a-z 0-9 _ -");
    }
    char id[48] = "grp-";
    sqlite3 *db = db_lock();
    cJSON *out = NULL;
    int exists = 0;
    for (int attempt = 0; attempt < 10 && !out && !exists; attempt++) {
        if (given)
            snprintf(id, sizeof id, "%s", given->valuestring);
        else if (ids_random_hex(id + 4, 12) < 0)
            break;
        sqlite3_stmt *st = db_prepare(db, "INSERT OR IGNORE INTO device_groups(group_id, name, created_at) VALUES (?, ?, ?)");
        if (!st)
            break;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, time(NULL));
        int ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok)
            break;
        if (sqlite3_changes(db) == 1)
            out = load_group(db, id);
        else if (given)
            exists = 1;
    }
    db_unlock();
    cJSON_Delete(in);
    if (exists)
        return reply_error(r, 409, "GroupExists", "group %s already exists", id);
    if (!out)
        return reply_error(r, 500, "StorageError", "cannot store the group");
    return reply_json(r, 201, out);
}

enum MHD_Result api_group_list(http_request *r)
{
    return api_page(r, "SELECT " GROUP_COLUMNS " FROM device_groups g ORDER BY g.created_at, g.group_id LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM device_groups", NULL, NULL, group_json);
}

enum MHD_Result api_group_get(http_request *r)
{
    sqlite3 *db = db_lock();
    cJSON *o = load_group(db, r->params[0]);
    db_unlock();
    if (!o)
        return reply_error(r, 404, "GroupNotFound", "no group %s", r->params[0]);
    return reply_json(r, 200, o);
}

enum MHD_Result api_group_delete(http_request *r)
{
    sqlite3 *db = db_lock();
    int changed = db_change(db, "DELETE FROM device_groups WHERE group_id = ?", r->params[0], NULL);
    db_unlock();
    if (changed < 0)
        return reply_error(r, 500, "StorageError", "cannot delete the group");
    if (!changed)
        return reply_error(r, 404, "GroupNotFound", "no group %s", r->params[0]);
    return reply_json(r, 204, NULL);
}

/*
 * {"devices":[{"productKey","deviceName"},...]}: all or nothing; devices
 * already in the group are left as they are.
 */
enum MHD_Result api_group_add_devices(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    const char *gid = r->params[0];
    cJSON *list = cJSON_GetObjectItemCaseSensitive(in, "devices");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
        cJSON_Delete(in);
        return reply_error(r, 400, "InvalidDevices", "devices must be a non-empty array of {productKey, deviceName}");
    }
    sqlite3 *db = db_lock();
    if (!group_exists(db, gid)) {
        db_unlock();
        cJSON_Delete(in);
        return reply_error(r, 404, "GroupNotFound", "no group %s", gid);
    }
    int added = 0;
    unsigned status = 0;
    const char *code = NULL;
    char what[120] = "";
    sqlite3_stmt *st = NULL;
    if (db_exec(db, "BEGIN IMMEDIATE") < 0 ||
        !(st = db_prepare(db, "INSERT OR IGNORE INTO group_members(group_id, product_key, device_name, added_at) "
                              "VALUES (?, ?, ?, ?)"))) {
        status = 500, code = "StorageError";
    }
    cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (status)
            break;
        cJSON *pk = cJSON_GetObjectItemCaseSensitive(item, "productKey");
        cJSON *dn = cJSON_GetObjectItemCaseSensitive(item, "deviceName");
        if (!cJSON_IsString(pk) || !cJSON_IsString(dn)) {
            status = 400, code = "InvalidDevices";
            snprintf(what, sizeof what, "each device needs productKey and deviceName strings");
            break;
        }
        if (!device_exists(db, pk->valuestring, dn->valuestring)) {
            status = 404, code = "DeviceNotFound";
            snprintf(what, sizeof what, "no device %.40s in product %.16s", dn->valuestring, pk->valuestring);
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, gid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pk->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, dn->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, time(NULL));
        if (sqlite3_step(st) != SQLITE_DONE)
            status = 500, code = "StorageError";
        else
            added += sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    if (!status && db_exec(db, "COMMIT") < 0)
        status = 500, code = "StorageError";
    if (status)
        db_exec(db, "ROLLBACK");
    int64_t total = db_int(db, "SELECT COUNT(*) FROM group_members WHERE group_id = ?", gid, NULL);
    db_unlock();
    cJSON_Delete(in);
    if (status)
        return reply_error(r, status, code, "%s", what[0] ? what : "cannot store the members");
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "added", added);
    cJSON_AddNumberToObject(out, "deviceCount", (double)total);
    return reply_json(r, 200, out);
}

enum MHD_Result api_group_list_devices(http_request *r)
{
    const char *gid = r->params[0];
    sqlite3 *db = db_lock();
    int exists = group_exists(db, gid);
    db_unlock();
    if (!exists)
        return reply_error(r, 404, "GroupNotFound", "no group %s", gid);
    return api_page(r, "SELECT " DEVICE_COLUMNS " FROM group_members m JOIN devices d "
                       "ON d.product_key = m.product_key AND d.device_name = m.device_name "
                       "WHERE m.group_id = ?1 ORDER BY d.product_key, d.device_name LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM group_members WHERE group_id = ?1", gid, NULL, device_json);
}

enum MHD_Result api_group_remove_device(http_request *r)
{
    sqlite3 *db = db_lock();
    int exists = group_exists(db, r->params[0]);
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM group_members WHERE group_id = ? AND product_key = ? AND device_name = ?");
    int changed = -1;
    if (st) {
        for (int i = 0; i < 3; i++)
            sqlite3_bind_text(st, i + 1, r->params[i], -1, SQLITE_STATIC);
        changed = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) : -1;
        sqlite3_finalize(st);
    }
    db_unlock();
    if (!exists)
        return reply_error(r, 404, "GroupNotFound", "no group %s", r->params[0]);
    if (changed < 0)
        return reply_error(r, 500, "StorageError", "cannot remove the member");
    if (!changed)
        return reply_error(r, 404, "NotAMember", "device %s/%s is not in group %s", r->params[1], r->params[2], r->params[0]);
    return reply_json(r, 204, NULL);
}
