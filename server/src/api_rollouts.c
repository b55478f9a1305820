/*
 * api_rollouts.c - /api/v1/rollouts: staged rollouts of a firmware or an
 * app version (create, list, get with its batches and devices, one
 * device's history, pause, resume, cancel). The rules are
 * service_rollouts.h's; rollout_engine.h runs them.
 */
#include "api_shared.h"
#include "clock.h"
#include "routes.h"
#include "service_rollouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static cJSON *rollout_json(const store_rollout *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rolloutId", r->rollout_id);
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "kind", r->kind);
    cJSON_AddStringToObject(o, "productKey", r->product_key);
    cJSON_AddItemToObject(o, "firmwareId", api_text_or_null(r->firmware_id[0] != '\0', r->firmware_id));
    cJSON_AddItemToObject(o, "moduleName", api_text_or_null(r->module_name[0] != '\0', r->module_name));
    cJSON_AddItemToObject(o, "appId", api_text_or_null(r->app_id[0] != '\0', r->app_id));
    cJSON_AddStringToObject(o, "version", r->version);
    cJSON_AddStringToObject(o, "targetType", r->target_type);
    cJSON_AddItemToObject(o, "groupId", api_text_or_null(r->group_id[0] != '\0', r->group_id));
    cJSON_AddItemToObject(o, "srcVersions", api_version_array(r->src_versions));
    cJSON_AddBoolToObject(o, "dynamic", r->dynamic);
    cJSON_AddItemToObject(o, "batches", api_version_array(r->batches));
    cJSON_AddNumberToObject(o, "successPercent", r->success_percent);
    cJSON_AddNumberToObject(o, "errorPercent", r->error_percent);
    cJSON_AddItemToObject(o, "startAt", json_time(r->start_at));
    cJSON_AddNumberToObject(o, "ratePerMinute", r->rate_per_minute);
    cJSON_AddNumberToObject(o, "timeoutSeconds", r->timeout_seconds);
    cJSON_AddNumberToObject(o, "maxRetries", r->max_retries);
    cJSON_AddNumberToObject(o, "retrySeconds", r->retry_seconds);
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddItemToObject(o, "pauseReason", api_text_or_null(r->pause_reason[0] != '\0', r->pause_reason));
    cJSON_AddNumberToObject(o, "currentBatch", r->current_batch);
    cJSON_AddItemToObject(o, "createdAt", json_time(r->created_at));
    cJSON_AddItemToObject(o, "endedAt", json_time(r->ended_at));
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    long total = 0;
    for (int i = 0; i < RD_STATES; i++) {
        cJSON_AddNumberToObject(counts, store_rollout_state_names[i], (double)r->counts[i]);
        total += r->counts[i];
    }
    cJSON_AddNumberToObject(counts, "total", (double)total);
    return o;
}

static cJSON *rollout_row(const void *row) { return rollout_json(row); }

static cJSON *device_row_json(const store_rollout_device *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", d->product_key);
    cJSON_AddStringToObject(o, "deviceName", d->device_name);
    cJSON_AddNumberToObject(o, "batch", d->batch);
    cJSON_AddStringToObject(o, "state", store_rollout_state_names[d->state]);
    cJSON_AddNumberToObject(o, "attempts", d->attempts);
    cJSON_AddItemToObject(o, "progress", d->has_progress ? cJSON_CreateNumber(d->progress) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "code", d->has_code ? cJSON_CreateNumber(d->code) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "reason", d->reason);
    cJSON_AddStringToObject(o, "fromVersion", d->from_version);
    cJSON_AddItemToObject(o, "pushedAt", json_time(d->pushed_at));
    cJSON_AddItemToObject(o, "retryAt", json_time(d->retry_at));
    cJSON_AddItemToObject(o, "updatedAt", json_time(d->updated_at));
    cJSON_AddStringToObject(o, "deviceStatus", d->device_status);
    return o;
}

/* The devices of a rollout, and per batch: size, succeeded, errors. */
typedef struct {
    json_list devices; /* as text (a rollout of 100,000 devices) */
    int size[ROLLOUT_BATCHES_MAX + 1], succeeded[ROLLOUT_BATCHES_MAX + 1], failed[ROLLOUT_BATCHES_MAX + 1],
        open[ROLLOUT_BATCHES_MAX + 1];
} device_walk;

static void add_device(const void *row, void *ctx)
{
    const store_rollout_device *d = row;
    device_walk *w = ctx;
    json_list_add(&w->devices, device_row_json(d)); /* out of memory: the answer is a 500 */
    int b = d->batch >= 1 && d->batch <= ROLLOUT_BATCHES_MAX ? d->batch : 0;
    w->size[b]++;
    w->succeeded[b] += d->state == RD_SUCCEEDED;
    w->failed[b] += d->state == RD_FAILED || d->state == RD_TIMED_OUT;
    w->open[b] += d->state <= RD_INSTALLING;
}

/* Each batch: its number, counts and status (waiting, running, done). */
static cJSON *batch_list(const store_rollout *r, const device_walk *w)
{
    cJSON *list = cJSON_CreateArray();
    for (int b = 1; b <= r->batch_count; b++) {
        cJSON *o = cJSON_CreateObject();
        const char *status = b > r->current_batch ? "waiting" : b < r->current_batch || w->open[b] == 0 ? "done"
                                                                                                         : "running";
        cJSON_AddNumberToObject(o, "batch", b);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "size", w->size[b]);
        cJSON_AddNumberToObject(o, "succeeded", w->succeeded[b]);
        cJSON_AddNumberToObject(o, "failed", w->failed[b]);
        cJSON_AddNumberToObject(o, "open", w->open[b]);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

static enum MHD_Result reply_rollout(http_request *r, unsigned status, const char *id)
{
    store_rollout ro;
    device_walk *w = calloc(1, sizeof *w);
    if (!w)
        return reply_error(r, 500, "OutOfMemory", "out of memory");
    store_status s = store_rollout_get(id, &ro, add_device, w);
    enum MHD_Result ret;
    if (s != STORE_OK) {
        free(w->devices.text);
        ret = api_store_fail(r, s, "read the rollout", "RolloutNotFound", "no rollout %.40s", id);
    } else {
        cJSON *o = rollout_json(&ro);
        cJSON_AddItemToObject(o, "batchList", batch_list(&ro, w));
        ret = reply_json_list(r, status, o, "devices", &w->devices);
    }
    free(w);
    return ret;
}

/* An integer member (absent: dflt; not an integer: -1, refused by the service). */
static int int_of(const cJSON *in, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
    if (!v || cJSON_IsNull(v))
        return dflt;
    return cJSON_IsNumber(v) && v->valuedouble == (int)v->valuedouble ? (int)v->valuedouble : -1;
}

/* "startAt": ISO 8601 UTC ("2026-12-02T10:00:00Z") into seconds; 0 when
 * absent, -1 when malformed. */
static int64_t start_of(const cJSON *in)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "startAt");
    if (!v || cJSON_IsNull(v))
        return 0;
    return cJSON_IsString(v) ? clock_parse_iso(v->valuestring) : -1;
}



service_status api_rollout_spec(const cJSON *in, service_rollout_spec *spec, api_rollout_buffers *buf,
                                service_result *res)
{
    const cJSON *dynamic = cJSON_GetObjectItemCaseSensitive(in, "dynamic");
    service_rollout_defaults(spec);
    spec->kind = api_text(in, "kind", 0);
    spec->firmware_id = api_text(in, "firmwareId", 1);
    spec->product_key = api_text(in, "productKey", 1);
    spec->app_id = api_text(in, "appId", 1);
    spec->version = api_text(in, "version", 1);
    spec->name = api_text(in, "name", 1);
    spec->target_type = api_text(in, "targetType", 0);
    spec->group_id = api_text(in, "groupId", 1);
    spec->src_versions = api_text_list(in, "srcVersions", buf->src, sizeof buf->src);
    spec->batches = api_text_list(in, "batches", buf->batches, sizeof buf->batches);
    spec->dynamic = cJSON_IsTrue(dynamic);
    spec->success_percent = int_of(in, "successPercent", 100);
    spec->error_percent = int_of(in, "errorPercent", 0);
    spec->start_at = start_of(in);
    spec->rate_per_minute = int_of(in, "ratePerMinute", 0);
    spec->timeout_seconds = int_of(in, "timeoutSeconds", 0);
    spec->max_retries = int_of(in, "maxRetries", 0);
    spec->retry_seconds = int_of(in, "retrySeconds", 60);
    spec->rollout_id = api_text(in, "rolloutId", 1);
    spec->devices = buf->names;
    if (dynamic && !cJSON_IsBool(dynamic))
        spec->success_percent = -1; /* refused: dynamic is true or false */
    if (api_name_list(in, "devices", buf->names, SERVICE_ROLLOUT_DEVICES_MAX, &spec->device_count) < 0)
        return service_fail(res, SERVICE_INVALID, "InvalidRollout", "devices is an array of at most %d device names",
                            SERVICE_ROLLOUT_DEVICES_MAX);
    return service_ok(res);
}

enum MHD_Result api_rollout_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    service_rollout_spec spec;
    char id[STORE_ID_SIZE];
    api_rollout_buffers *buf = malloc(sizeof *buf);
    service_result res;
    int devices = 0;
    if (!buf)
        service_fail(&res, SERVICE_ERROR, "OutOfMemory", "cannot take the rollout now");
    else if (api_rollout_spec(in, &spec, buf, &res) == SERVICE_OK)
        service_rollout_create(&spec, id, &devices, &res);
    cJSON_Delete(in);
    free(buf);
    return res.status == SERVICE_OK ? reply_rollout(r, 201, id) : api_fail(r, &res);
}

enum MHD_Result api_rollout_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, rollout_row))
        return pg.ret;
    return api_page_end(r, &pg, store_rollout_list(http_query(r, "productKey"), &pg.page));
}

enum MHD_Result api_rollout_get(http_request *r) { return reply_rollout(r, 200, r->params[0]); }

/* One device of a rollout with its history. */
typedef struct {
    const char *pk, *dn;
    cJSON *device;
} one_device;

static void find_device(const void *row, void *ctx)
{
    const store_rollout_device *d = row;
    one_device *o = ctx;
    if (!o->device && !strcmp(d->product_key, o->pk) && !strcmp(d->device_name, o->dn))
        o->device = device_row_json(d);
}

static void add_event(const void *row, void *list)
{
    const store_rollout_event *e = row;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "at", json_time(e->at));
    cJSON_AddStringToObject(o, "state", e->state);
    cJSON_AddItemToObject(o, "code", e->has_code ? cJSON_CreateNumber(e->code) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "detail", e->detail);
    cJSON_AddItemToArray(list, o);
}

enum MHD_Result api_rollout_device(http_request *r)
{
    store_rollout ro;
    one_device o = {r->params[1], r->params[2], NULL};
    store_status s = store_rollout_get(r->params[0], &ro, find_device, &o);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the rollout", "RolloutNotFound", "no rollout %.40s", r->params[0]);
    if (!o.device)
        return reply_error(r, 404, "DeviceNotFound", "device %s/%s is not in rollout %s", o.pk, o.dn, r->params[0]);
    cJSON *history = cJSON_CreateArray();
    if (store_rollout_history(r->params[0], o.pk, o.dn, add_event, history) != STORE_OK) {
        cJSON_Delete(history);
        cJSON_Delete(o.device);
        return api_store_fail(r, STORE_ERROR, "read the history", "RolloutNotFound", "no rollout %.40s", r->params[0]);
    }
    cJSON_AddItemToObject(o.device, "history", history);
    return reply_json(r, 200, o.device);
}

/* pause, resume, cancel: the rollout after it, or the error. */
static enum MHD_Result act(http_request *r, service_status (*fn)(const char *, service_result *))
{
    service_result res;
    if (fn(r->params[0], &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_rollout(r, 200, r->params[0]);
}

enum MHD_Result api_rollout_pause(http_request *r) { return act(r, service_rollout_pause); }
enum MHD_Result api_rollout_resume(http_request *r) { return act(r, service_rollout_resume); }
enum MHD_Result api_rollout_cancel(http_request *r) { return act(r, service_rollout_cancel); }
