/*
 * api_timeline.c - a task's and a device's timeline (timeline.h): every
 * MQTT message, download, fault and state change, in order, as JSON for CI
 * logs and the console. GET /api/v1/tasks/{id}/timeline (a firmware job's
 * or rollout's id works too) and GET /api/v1/products/{pk}/devices/{dn}/timeline.
 */
#include "api_shared.h"
#include "routes.h"
#include "store_devices.h"
#include "store_tasks.h"
#include "timeline.h"

static enum MHD_Result reply_timeline(http_request *r, const char *key, const char *value, cJSON *events)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, key, value);
    cJSON_AddNumberToObject(o, "total", cJSON_GetArraySize(events));
    cJSON_AddItemToObject(o, "items", events);
    return reply_json(r, 200, o);
}

enum MHD_Result api_task_timeline(http_request *r)
{
    store_task t;
    cJSON *events = timeline_json(r->params[0], NULL, NULL);
    /* a task that never had an event: known, or not? */
    if (cJSON_GetArraySize(events) == 0 && store_task_get(r->params[0], &t, NULL, NULL) == STORE_NOT_FOUND) {
        cJSON_Delete(events);
        return reply_error(r, 404, "TaskNotFound", "no task %.40s (nor any event of it)", r->params[0]);
    }
    return reply_timeline(r, "taskId", r->params[0], events);
}

enum MHD_Result api_device_timeline(http_request *r)
{
    store_status s = store_device_exists(r->params[0], r->params[1]);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the device", "DeviceNotFound", "no device %s in product %s", r->params[1],
                              r->params[0]);
    cJSON *events = timeline_json(NULL, r->params[0], r->params[1]);
    return reply_timeline(r, "deviceName", r->params[1], events);
}
