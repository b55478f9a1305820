/*
 * api_tasks.c - /api/v1/tasks: test tasks (tutorial 5.4-5.6). A task names
 * an app version and a test device group; pushing it sends the upgrade to
 * the group's online devices. Per-device state lives in task_devices.
 *
 * The push itself (who gets it, the message) is push.c's job.
 */
#include "api_shared.h"
#include "db.h"
#include "ids.h"
#include "push.h"
#include "routes.h"
#include "validate.h"

#include <stdio.h>

#include <string.h>
#include <time.h>

#define TASK_COLUMNS "t.task_id, t.app_id, t.version, t.group_id, t.created_at, t.pushed_at, t.push_count, " \
                     "(SELECT app_name FROM apps a WHERE a.app_id = t.app_id), " \
                     "(SELECT name FROM device_groups g WHERE g.group_id = t.group_id)"

static const char *const states[] = {"pending", "offline", "upToDate", "pushed", "succeeded", "failed"};
#define N_STATES (sizeof states / sizeof states[0])

/* The task's devices: every current member of its group, with the state the
 * task recorded for it ("pending" before the first push reached it). */
static cJSON *task_devices(sqlite3 *db, const char *task, const char *group, cJSON *counts)
{
    cJSON *list = cJSON_CreateArray();
    long n[N_STATES] = {0};
    sqlite3_stmt *st = db_prepare(db,
        "SELECT m.product_key, m.device_name, COALESCE(td.state, 'pending'), td.code, td.updated_at, d.status "
        "FROM group_members m JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name "
        "LEFT JOIN task_devices td ON td.task_id = ?1 AND td.product_key = m.product_key "
        "AND td.device_name = m.device_name WHERE m.group_id = ?2 ORDER BY m.product_key, m.device_name");
    if (st) {
        sqlite3_bind_text(st, 1, task, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            const char *state = db_text(st, 2);
            cJSON_AddStringToObject(o, "productKey", db_text(st, 0));
            cJSON_AddStringToObject(o, "deviceName", db_text(st, 1));
            cJSON_AddStringToObject(o, "state", state);
            if (sqlite3_column_type(st, 3) == SQLITE_NULL)
                cJSON_AddNullToObject(o, "code");
            else
                cJSON_AddNumberToObject(o, "code", sqlite3_column_int(st, 3));
            cJSON_AddItemToObject(o, "updatedAt", json_time(sqlite3_column_int64(st, 4)));
            cJSON_AddStringToObject(o, "deviceStatus", db_text(st, 5));
            cJSON_AddItemToArray(list, o);
            for (size_t i = 0; i < N_STATES; i++)
                if (!strcmp(state, states[i]))
                    n[i]++;
        }
        sqlite3_finalize(st);
    }
    long total = 0;
    for (size_t i = 0; i < N_STATES; i++) {
        cJSON_AddNumberToObject(counts, states[i], n[i]);
        total += n[i];
    }
    cJSON_AddNumberToObject(counts, "total", total);
    return list;
}

static cJSON *task_json(sqlite3 *db, sqlite3_stmt *st, int with_devices)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "taskId", db_text(st, 0));
    cJSON_AddStringToObject(o, "appId", db_text(st, 1));
    cJSON_AddStringToObject(o, "appName", db_text(st, 7));
    cJSON_AddStringToObject(o, "version", db_text(st, 2));
    cJSON_AddStringToObject(o, "groupId", db_text(st, 3));
    cJSON_AddStringToObject(o, "groupName", db_text(st, 8));
    cJSON_AddItemToObject(o, "createdAt", json_time(sqlite3_column_int64(st, 4)));
    cJSON_AddItemToObject(o, "pushedAt", json_time(sqlite3_column_int64(st, 5)));
    cJSON_AddNumberToObject(o, "pushCount", sqlite3_column_int(st, 6));
    cJSON *counts = cJSON_CreateObject();
    cJSON *devices = task_devices(db, db_text(st, 0), db_text(st, 3), counts);
    cJSON_AddItemToObject(o, "counts", counts);
    if (with_devices)
        cJSON_AddItemToObject(o, "devices", devices);
    else
        cJSON_Delete(devices);
    return o;
}

static cJSON *load_task(sqlite3 *db, const char *id, int with_devices)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " TASK_COLUMNS " FROM tasks t WHERE t.task_id = ?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? task_json(db, st, with_devices) : NULL;
    sqlite3_finalize(st);
    return o;
}

enum MHD_Result api_task_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    cJSON *app = cJSON_GetObjectItemCaseSensitive(in, "appId");
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(in, "version");
    cJSON *grp = cJSON_GetObjectItemCaseSensitive(in, "groupId");
    cJSON *given = cJSON_GetObjectItemCaseSensitive(in, "taskId"); /* fixed ids for seeded runs */
    if (!cJSON_IsString(app) || !cJSON_IsString(ver) || !cJSON_IsString(grp) ||
        (given && (!cJSON_IsString(given) || !valid_token(given->valuestring)))) {
        cJSON_Delete(in);
        return reply_error(r, 400, "InvalidTask", "appId, version and groupId are required strings "
                           "(and taskId, when given, 1..40 of A-Z a-z 0-9 _ -)");
    }
    sqlite3 *db = db_lock();
    const char *status = NULL;
    int64_t found = db_int(db, "SELECT status = 'deprecated' FROM versions WHERE app_id = ? AND version = ?",
                           app->valuestring, ver->valuestring);
    cJSON *out = NULL;
    if (db_int(db, "SELECT 1 FROM apps WHERE app_id = ?", app->valuestring, NULL) != 1)
        ret = reply_error(r, 404, "AppNotFound", "no app %.40s", app->valuestring);
    else if (found < 0)
        ret = reply_error(r, 404, "VersionNotFound", "app %s has no version %.40s", app->valuestring, ver->valuestring);
    else if (found == 1)
        ret = reply_error(r, 409, "VersionDeprecated", "version %s is deprecated", ver->valuestring);
    else if (db_int(db, "SELECT 1 FROM device_groups WHERE group_id = ?", grp->valuestring, NULL) != 1)
        ret = reply_error(r, 404, "GroupNotFound", "no group %.40s", grp->valuestring);
    else
        status = "ok";
    char id[48] = "task-";
    int exists = 0;
    for (int attempt = 0; status && attempt < 10 && !out && !exists; attempt++) {
        if (given)
            snprintf(id, sizeof id, "%s", given->valuestring);
        else if (ids_random_hex(id + 5, 12) < 0)
            break;
        sqlite3_stmt *st = db_prepare(db, "INSERT OR IGNORE INTO tasks(task_id, app_id, version, group_id, created_at) "
                                          "VALUES (?, ?, ?, ?, ?)");
        if (!st)
            break;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, app->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ver->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, grp->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, time(NULL));
        int ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok)
            break;
        if (sqlite3_changes(db) == 1)
            out = load_task(db, id, 1);
        else if (given)
            exists = 1;
    }
    db_unlock();
    cJSON_Delete(in);
    if (!status)
        return ret;
    if (exists)
        return reply_error(r, 409, "TaskExists", "task %s already exists", id);
    return out ? reply_json(r, 201, out) : reply_error(r, 500, "StorageError", "cannot store the task");
}

/* A task of a list: without its per-device rows. */
static cJSON *task_summary(sqlite3 *db, sqlite3_stmt *st) { return task_json(db, st, 0); }

enum MHD_Result api_task_list(http_request *r)
{
    return api_page(r, "SELECT " TASK_COLUMNS " FROM tasks t WHERE (?1 IS NULL OR t.app_id = ?1) "
                       "ORDER BY t.created_at DESC, t.task_id LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM tasks WHERE (?1 IS NULL OR app_id = ?1)", http_query(r, "appId"), NULL,
                    task_summary);
}

enum MHD_Result api_task_get(http_request *r)
{
    sqlite3 *db = db_lock();
    cJSON *o = load_task(db, r->params[0], 1);
    db_unlock();
    if (!o)
        return reply_error(r, 404, "TaskNotFound", "no task %s", r->params[0]);
    return reply_json(r, 200, o);
}

enum MHD_Result api_task_push(http_request *r)
{
    push_counts c;
    switch (push_task(r->params[0], &c)) {
    case -1:
        return reply_error(r, 404, "TaskNotFound", "no task %s (or its version was deleted)", r->params[0]);
    case -2:
        return reply_error(r, 503, "BrokerUnavailable", "the MQTT link to the broker is down; try again");
    case -3:
        return reply_error(r, 500, "StorageError", "cannot record the push");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pushed", c.pushed);
    cJSON_AddNumberToObject(o, "offline", c.offline);
    cJSON_AddNumberToObject(o, "upToDate", c.up_to_date);
    cJSON_AddNumberToObject(o, "notSent", c.failed_to_send);
    return reply_json(r, 200, o);
}
