/*
 * aliyun_actions_ota_dynamic.c - the IoT Platform API's dynamic firmware
 * upgrade jobs (aliyun_actions.h), run as haas-emu's dynamic staged
 * rollouts of one batch (service_rollouts.h; the same rollout at
 * /api/v1/rollouts/{JobId}): CreateOTADynamicUpgradeJob takes the
 * product's devices on SrcVersion.N now and every device that reports one
 * later, until CancelOTAStrategyByJob; QueryOTAJob, ListOTAJobByFirmware,
 * ListOTATaskByJob and CancelOTATaskByJob read and cancel them as they do
 * static jobs (aliyun_actions_ota.c asks here for a JobId that is no
 * static job). Rollout states in the API's words: scheduled, running,
 * paused IN_PROGRESS; completed COMPLETED; canceled CANCELED; a device's
 * waiting and queued QUEUED, pushed NOTIFIED, downloading and installing
 * IN_PROGRESS, succeeded SUCCEEDED, failed FAILED, timedOut TIMEOUT,
 * canceled CANCELED.
 */
#include "aliyun_actions.h"
#include "service_firmwares.h"
#include "service_ota_dynamic.h"
#include "service_ota_jobs.h"
#include "service_rollouts.h"
#include "store_ota_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const task_status[RD_STATES] = {"QUEUED", "QUEUED", "NOTIFIED", "IN_PROGRESS", "IN_PROGRESS",
                                                   "SUCCEEDED", "FAILED", "TIMEOUT", "CANCELED"};

static const char *job_status(const char *status)
{
    return !strcmp(status, "completed") ? "COMPLETED" : !strcmp(status, "canceled") ? "CANCELED" : "IN_PROGRESS";
}

/* The values of SrcVersion.1, .2, ... as one comma-separated text. */
static const char *src_versions(aliyun_call *c, char *buf, size_t size)
{
    char key[32];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 1; i <= 64 && used < size; i++) {
        snprintf(key, sizeof key, "SrcVersion.%d", i);
        const char *v = aliyun_get(c, key);
        if (!v)
            break;
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i > 1 ? "," : "", strchr(v, ',') ? "," : v);
    }
    return buf[0] ? buf : NULL;
}

/* The rollout spec of CreateOTADynamicUpgradeJob's parameters; false with
 * the bad one in *bad. */
static bool dynamic_spec(aliyun_call *c, service_rollout_spec *spec, char *src, const char **bad)
{
    long timeout, count, interval, mode;
    service_rollout_defaults(spec);
    spec->kind = "firmware";
    spec->firmware_id = aliyun_get(c, "FirmwareId");
    spec->target_type = "product";
    spec->dynamic = true;
    spec->src_versions = src_versions(c, src, STORE_SRC_VERSIONS_SIZE);
    *bad = "DynamicMode"; /* 2 (only devices that come later) is not supported */
    if (!aliyun_get_int(c, "DynamicMode", 1, 1, 1, &mode))
        return false;
    *bad = "TimeoutInMinutes";
    if (!aliyun_get_int(c, "TimeoutInMinutes", 0, 1, SERVICE_JOB_TIMEOUT_MAX, &timeout))
        return false;
    *bad = "RetryCount";
    if (!aliyun_get_int(c, "RetryCount", 0, 0, 10, &count))
        return false;
    *bad = "RetryInterval";
    if (!aliyun_get_int(c, "RetryInterval", 1, 1, 1440, &interval))
        return false;
    spec->timeout_seconds = (int)timeout * 60;
    spec->max_retries = (int)count;
    spec->retry_seconds = (int)interval * 60;
    return true;
}

enum MHD_Result aliyun_create_ota_dynamic_upgrade_job(aliyun_call *c)
{
    static const char *const required[] = {"FirmwareId", "ProductKey"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!aliyun_get(c, required[i]) || !*aliyun_get(c, required[i]))
            return aliyun_missing(c, required[i]);
    store_firmware fw;
    service_result res;
    if (service_firmware_get(aliyun_get(c, "FirmwareId"), &fw, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    if (strcmp(fw.product_key, aliyun_get(c, "ProductKey")) != 0)
        return aliyun_error(c, "iot.ota.FirmwareNotInProduct", "The firmware is not of this product.");
    service_rollout_spec spec;
    const char *bad;
    char *src = malloc(STORE_SRC_VERSIONS_SIZE);
    if (!src)
        return aliyun_error(c, "iot.system.SystemException", "out of memory");
    bool valid = dynamic_spec(c, &spec, src, &bad);
    char id[STORE_ID_SIZE];
    int devices = 0;
    if (valid)
        service_rollout_create(&spec, id, &devices, &res);
    free(src);
    if (!valid)
        return aliyun_invalid(c, bad);
    if (res.status != SERVICE_OK)
        return aliyun_service_error(c, &res);
    store_rollout r;
    char t[32];
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "JobId", id);
    cJSON_AddStringToObject(data, "UtcCreate",
                            aliyun_utc(store_rollout_get(id, &r, NULL, NULL) == STORE_OK ? r.created_at : 0, t));
    return aliyun_ok_data(c, data);
}

static cJSON *rollout_job_info(const store_rollout *r)
{
    char t[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "JobId", r->rollout_id);
    cJSON_AddStringToObject(o, "FirmwareId", r->firmware_id);
    cJSON_AddStringToObject(o, "ProductKey", r->product_key);
    cJSON_AddStringToObject(o, "JobStatus", job_status(r->status));
    cJSON_AddStringToObject(o, "JobType", "UPGRADE_FIRMWARE");
    cJSON_AddStringToObject(o, "SelectionType", r->dynamic ? "DYNAMIC" : "STATIC");
    cJSON_AddStringToObject(o, "TargetSelection", "ALL");
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(r->created_at, t));
    cJSON_AddStringToObject(o, "UtcStartTime", aliyun_utc(r->start_at ? r->start_at : r->created_at, t));
    cJSON_AddStringToObject(o, "UtcModified", aliyun_utc(r->ended_at ? r->ended_at : r->created_at, t));
    cJSON_AddStringToObject(o, "UtcEndTime", aliyun_utc(r->ended_at, t));
    return o;
}

/* Firmware rollout id into r; false when there is none. */
static bool firmware_rollout(const char *id, store_rollout *r, store_row_fn each, void *ctx)
{
    return store_rollout_get(id, r, each, ctx) == STORE_OK && !strcmp(r->kind, "firmware");
}

enum MHD_Result aliyun_dynamic_query_job(aliyun_call *c, const char *id)
{
    store_rollout r;
    if (!firmware_rollout(id, &r, NULL, NULL))
        return aliyun_error(c, "iot.ota.NotExistedJob", "The job does not exist.");
    cJSON *o = rollout_job_info(&r);
    cJSON_AddStringToObject(o, "DestVersion", r.version);
    cJSON_AddStringToObject(o, "ModuleName", r.module_name);
    cJSON_AddNumberToObject(o, "TimeoutInMinutes", r.timeout_seconds / 60);
    cJSON_AddNumberToObject(o, "RetryCount", r.max_retries);
    cJSON_AddNumberToObject(o, "RetryInterval", r.retry_seconds / 60);
    cJSON_AddNumberToObject(o, "DynamicMode", 1);
    cJSON_AddStringToObject(o, "Name", r.name[0] ? r.name : r.rollout_id);
    cJSON_AddStringToObject(o, "JobDesc", "");
    cJSON *src = cJSON_CreateArray();
    for (const char *p = r.src_versions; *p;) {
        size_t len = strcspn(p, ",");
        char v[STORE_OTA_WORD_SIZE];
        snprintf(v, sizeof v, "%.*s", (int)len, p);
        cJSON_AddItemToArray(src, cJSON_CreateString(v));
        p += len + (p[len] == ',');
    }
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "SrcVersions"), "SrcVersion", src);
    return aliyun_ok_data(c, o);
}

/* The rollouts of firmware fw as job infos, onto list. */
typedef struct {
    const char *firmware_id;
    cJSON *list;
} of_firmware;

static void add_if_of_firmware(const void *row, void *ctx)
{
    const store_rollout *r = row;
    of_firmware *f = ctx;
    if (!strcmp(r->kind, "firmware") && !strcmp(r->firmware_id, f->firmware_id))
        cJSON_AddItemToArray(f->list, rollout_job_info(r));
}

bool aliyun_dynamic_jobs_of_firmware(const char *pk, const char *firmware_id, cJSON *list)
{
    of_firmware f = {firmware_id, list};
    store_page pg = {.offset = 0, .limit = 100000, .each = add_if_of_firmware, .ctx = &f};
    return store_rollout_list(pk, &pg) == STORE_OK;
}

/* ListOTATaskByJob's walk over a rollout's devices. */
typedef struct {
    const store_rollout *r;
    aliyun_task_filter *filter;
    int64_t total;
    cJSON *items;
} rollout_walk;

static void add_rollout_task(const void *row, void *ctx)
{
    const store_rollout_device *d = row;
    rollout_walk *w = ctx;
    if (!aliyun_task_wanted(w->filter, task_status[d->state], d->device_name, &w->total))
        return;
    char t[32], id[STORE_ID_SIZE + STORE_DN_SIZE + 2];
    snprintf(id, sizeof id, "%s-%s", w->r->rollout_id, d->device_name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "TaskId", id);
    cJSON_AddStringToObject(o, "JobId", w->r->rollout_id);
    cJSON_AddStringToObject(o, "FirmwareId", w->r->firmware_id);
    cJSON_AddStringToObject(o, "ProductKey", d->product_key);
    cJSON_AddStringToObject(o, "DeviceName", d->device_name);
    cJSON_AddStringToObject(o, "TaskStatus", task_status[d->state]);
    snprintf(t, sizeof t, "%d", d->state == RD_SUCCEEDED ? 100 : d->has_progress ? d->progress : 0);
    cJSON_AddStringToObject(o, "Progress", t);
    cJSON_AddStringToObject(o, "SrcVersion", d->from_version);
    cJSON_AddStringToObject(o, "DestVersion", w->r->version);
    cJSON_AddStringToObject(o, "TaskDesc", d->reason);
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(w->r->created_at, t));
    cJSON_AddStringToObject(o, "UtcModified", aliyun_utc(d->updated_at ? d->updated_at : w->r->created_at, t));
    cJSON_AddItemToArray(w->items, o);
}

bool aliyun_dynamic_tasks(const char *id, aliyun_task_filter *filter, cJSON *items, int64_t *total)
{
    store_rollout r;
    rollout_walk w = {&r, filter, 0, items};
    if (!firmware_rollout(id, &r, add_rollout_task, &w))
        return false;
    *total = w.total;
    return true;
}

enum MHD_Result aliyun_dynamic_cancel_tasks(aliyun_call *c, const char *id)
{
    unsigned states = (aliyun_get_bool(c, "CancelQueuedTask", false) ? (1u << RD_WAITING) | (1u << RD_QUEUED) : 0) |
                      (aliyun_get_bool(c, "CancelNotifiedTask", false) ? 1u << RD_PUSHED : 0) |
                      (aliyun_get_bool(c, "CancelInProgressTask", false)
                           ? (1u << RD_DOWNLOADING) | (1u << RD_INSTALLING) : 0);
    int n;
    service_result res;
    if (service_rollout_cancel_states(id, states, &n, &res) == SERVICE_OK)
        return aliyun_ok(c, cJSON_CreateObject());
    if (!strcmp(res.code, "InvalidStates"))
        return aliyun_error(c, "iot.ota.CancelOTATaskParamsError", "Choose the tasks to cancel: CancelQueuedTask, "
                            "CancelNotifiedTask or CancelInProgressTask.");
    if (!strcmp(res.code, "RolloutNotFound"))
        return aliyun_error(c, "iot.ota.NotExistedJob", "The job does not exist.");
    return aliyun_error(c, "iot.ota.JobStatusNotSupportCancel", "%s", res.message);
}

enum MHD_Result aliyun_cancel_ota_strategy_by_job(aliyun_call *c)
{
    const char *id = aliyun_get(c, "JobId");
    if (!id || !*id)
        return aliyun_missing(c, "JobId");
    store_ota_job j;
    if (store_ota_job_get(id, &j, NULL, NULL) == STORE_OK)
        return aliyun_error(c, "iot.ota.JobNotDynamic", "The job is static: it has no dynamic strategy to cancel.");
    service_result res;
    if (service_rollout_end_dynamic(id, &res) == SERVICE_OK)
        return aliyun_ok(c, cJSON_CreateObject());
    if (!strcmp(res.code, "RolloutNotFound"))
        return aliyun_error(c, "iot.ota.NotExistedJob", "The job does not exist.");
    if (!strcmp(res.code, "NotDynamic"))
        return aliyun_error(c, "iot.ota.JobNotDynamic", "The job has no dynamic strategy to cancel.");
    return aliyun_error(c, "iot.ota.JobStatusNotSupportCancel", "%s", res.message);
}
