/*
 * api_tasks.c - /api/v1/tasks: test tasks (tutorial 5.4-5.6). A task names
 * an app version and a test device group; pushing it sends the upgrade to
 * the group's online devices. The rules are service_tasks.h's; the push
 * itself (the message, publishing it) is push.c's.
 */
#include "api_shared.h"
#include "push.h"
#include "routes.h"
#include "service_tasks.h"

#include <stdlib.h>
#include <string.h>

/* The task as JSON, without its members (reply_task adds them). */
static cJSON *task_json(const store_task *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "taskId", t->task_id);
    cJSON_AddStringToObject(o, "appId", t->app_id);
    cJSON_AddStringToObject(o, "appName", t->app_name);
    cJSON_AddStringToObject(o, "version", t->version);
    cJSON_AddStringToObject(o, "groupId", t->group_id);
    cJSON_AddStringToObject(o, "groupName", t->group_name);
    cJSON_AddItemToObject(o, "createdAt", json_time(t->created_at));
    cJSON_AddItemToObject(o, "pushedAt", json_time(t->pushed_at));
    cJSON_AddNumberToObject(o, "pushCount", t->push_count);
    cJSON_AddItemToObject(o, "timeoutSeconds",
                          t->timeout_seconds >= 0 ? cJSON_CreateNumber(t->timeout_seconds) : cJSON_CreateNull());
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    long total = 0;
    for (int i = 0; i < TASK_STATES; i++) {
        cJSON_AddNumberToObject(counts, store_task_state_names[i], (double)t->counts[i]);
        total += t->counts[i];
    }
    cJSON_AddNumberToObject(counts, "total", (double)total);
    return o;
}

static cJSON *task_row(const void *row) { return task_json(row); }

/* One member of the task's group, with its state. */
static cJSON *task_device_json(const store_task_device *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", d->product_key);
    cJSON_AddStringToObject(o, "deviceName", d->device_name);
    cJSON_AddStringToObject(o, "state", store_task_state_names[d->state]);
    cJSON_AddItemToObject(o, "code", d->has_code ? cJSON_CreateNumber(d->code) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "updatedAt", json_time(d->updated_at));
    cJSON_AddStringToObject(o, "deviceStatus", d->device_status);
    return o;
}

static cJSON *task_device_row(const void *row) { return task_device_json(row); }

/* store_task_device_fn: one member into the list ctx (json_list: every
 * member of a group of any size, as text). */
static int add_device(const store_task_device *d, void *list)
{
    return json_list_add(list, task_device_json(d));
}

/* Answers task id, with its devices unless with_devices is false (status
 * on success). */
static enum MHD_Result reply_task(http_request *r, unsigned status, const char *id, bool with_devices)
{
    store_task t;
    json_list devices = {0};
    store_status s = store_task_get(id, &t, with_devices ? add_device : NULL, &devices);
    if (s != STORE_OK) {
        free(devices.text);
        return api_store_fail(r, s, "read the task", "TaskNotFound", "no task %s", id);
    }
    if (!with_devices)
        return reply_json(r, status, task_json(&t));
    return reply_json_list(r, status, task_json(&t), "devices", &devices);
}

enum MHD_Result api_task_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    char id[STORE_ID_SIZE];
    service_result res;
    /* taskId: fixed ids for seeded runs */
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(in, "timeoutSeconds");
    int seconds = !timeout || cJSON_IsNull(timeout) ? -1
                  : cJSON_IsNumber(timeout) && timeout->valuedouble == (int)timeout->valuedouble &&
                          timeout->valuedouble >= 0
                      ? (int)timeout->valuedouble
                      : -2; /* refused */
    service_task_create_timed(api_text(in, "appId", 0), api_text(in, "version", 0), api_text(in, "groupId", 0),
                              api_text(in, "taskId", 0), seconds, id, &res);
    cJSON_Delete(in);
    return res.status == SERVICE_OK ? reply_task(r, 201, id, true) : api_fail(r, &res);
}

enum MHD_Result api_task_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, task_row))
        return pg.ret;
    return api_page_end(r, &pg, store_task_list(http_query(r, "appId"), &pg.page));
}

/* GET /api/v1/tasks/{id}[?devices=false]: without the devices, the task and
 * its counts only (what a console polls; the devices come a page at a time
 * from api_task_devices). */
enum MHD_Result api_task_get(http_request *r)
{
    const char *devices = http_query(r, "devices");
    if (devices && strcmp(devices, "true") && strcmp(devices, "false"))
        return reply_error(r, 400, "InvalidParameter", "devices must be true or false");
    return reply_task(r, 200, r->params[0], !devices || !strcmp(devices, "true"));
}

/* GET /api/v1/tasks/{id}/devices?state=&offset=&limit=: the members page by
 * page, for groups too large for the whole list of GET /api/v1/tasks/{id}. */
enum MHD_Result api_task_devices(http_request *r)
{
    const char *state = http_query(r, "state");
    if (state && strcmp(state, store_task_state_names[store_task_state_named(state)]))
        return reply_error(r, 400, "InvalidParameter", "state must be one of pending, offline, upToDate, pushed, "
                           "succeeded, failed, timedOut");
    store_task t;
    store_status s = store_task_get(r->params[0], &t, NULL, NULL);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the task", "TaskNotFound", "no task %s", r->params[0]);
    api_page pg;
    if (!api_page_begin(r, &pg, task_device_row))
        return pg.ret;
    return api_page_end(r, &pg, store_task_devices_page(r->params[0], state, &pg.page));
}

/* A push running aside (http_run_aside) and what came of it. */
typedef struct {
    service_status status;
    service_push_counts counts;
    service_result res;
} push_run;

static void run_push(http_request *r)
{
    push_run *p = r->aside;
    p->status = push_task(r->params[0], &p->counts, &p->res);
}

/* POST /api/v1/tasks/{id}/push: the push runs on a thread of its own (to a
 * large group it takes seconds, which would stall the other connections of
 * this server thread); the answer comes when it is done. */
enum MHD_Result api_task_push(http_request *r)
{
    push_run *p = r->aside;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return reply_error(r, 500, "OutOfMemory", "cannot start the push");
        return http_run_aside(r, p, run_push);
    }
    r->aside = NULL;
    push_run done = *p;
    free(p);
    if (done.status != SERVICE_OK)
        return api_fail(r, &done.res);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pushed", done.counts.pushed);
    cJSON_AddNumberToObject(o, "offline", done.counts.offline);
    cJSON_AddNumberToObject(o, "upToDate", done.counts.up_to_date);
    cJSON_AddNumberToObject(o, "notSent", done.counts.failed_to_send);
    return reply_json(r, 200, o);
}
