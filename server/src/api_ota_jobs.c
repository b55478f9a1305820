/*
 * api_ota_jobs.c - /api/v1/ota/jobs: firmware upgrade jobs (create, list,
 * get with each device's state and progress, cancel). The rules are
 * service_ota_jobs.h's; the notices to online devices are ota_push.h's.
 */
#include "api_shared.h"
#include "ota_push.h"
#include "routes.h"
#include "service_ota_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The job as JSON, without its devices (reply_job adds them). */
static cJSON *job_json(const store_ota_job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "jobId", j->job_id);
    cJSON_AddStringToObject(o, "firmwareId", j->firmware_id);
    cJSON_AddStringToObject(o, "productKey", j->product_key);
    cJSON_AddStringToObject(o, "moduleName", j->module_name);
    cJSON_AddStringToObject(o, "version", j->version);
    cJSON_AddStringToObject(o, "targetType", j->target_type);
    cJSON_AddItemToObject(o, "groupId", api_text_or_null(j->group_id[0] != '\0', j->group_id));
    cJSON_AddItemToObject(o, "srcVersions", api_version_array(j->src_versions));
    cJSON_AddNumberToObject(o, "timeoutMinutes", j->timeout_minutes);
    cJSON_AddStringToObject(o, "status", j->status);
    cJSON_AddItemToObject(o, "createdAt", json_time(j->created_at));
    cJSON_AddItemToObject(o, "endedAt", json_time(j->ended_at));
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    long total = 0;
    for (int i = 0; i < OTA_STATES; i++) {
        cJSON_AddNumberToObject(counts, store_ota_state_names[i], (double)j->counts[i]);
        total += j->counts[i];
    }
    cJSON_AddNumberToObject(counts, "total", (double)total);
    return o;
}

static cJSON *job_row(const void *row) { return job_json(row); }

static void add_device(const void *row, void *list)
{
    const store_ota_job_device *d = row;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", d->product_key);
    cJSON_AddStringToObject(o, "deviceName", d->device_name);
    cJSON_AddStringToObject(o, "state", store_ota_state_names[d->state]);
    cJSON_AddItemToObject(o, "progress", d->has_progress ? cJSON_CreateNumber(d->progress) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "code", d->has_code ? cJSON_CreateNumber(d->code) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "reason", d->reason);
    cJSON_AddStringToObject(o, "fromVersion", d->from_version);
    cJSON_AddItemToObject(o, "pushedAt", json_time(d->pushed_at));
    cJSON_AddNumberToObject(o, "pushCount", d->push_count);
    cJSON_AddItemToObject(o, "updatedAt", json_time(d->updated_at));
    cJSON_AddStringToObject(o, "deviceStatus", d->device_status);
    json_list_add(list, o); /* out of memory: the answer is a 500 */
}

/* Answers job id with its devices (status on success), the list as text
 * (json_list: a job of 100,000 devices). */
static enum MHD_Result reply_job(http_request *r, unsigned status, const char *id)
{
    store_ota_job j;
    json_list devices = {0};
    store_status s = store_ota_job_get(id, &j, add_device, &devices);
    if (s != STORE_OK) {
        free(devices.text);
        return api_store_fail(r, s, "read the job", "JobNotFound", "no job %.40s", id);
    }
    return reply_json_list(r, status, job_json(&j), "devices", &devices);
}



enum MHD_Result api_ota_job_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    const char **list = calloc(SERVICE_JOB_DEVICES_MAX, sizeof *list);
    char src[STORE_SRC_VERSIONS_SIZE];
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(in, "timeoutMinutes");
    service_job_spec spec = {
        .firmware_id = api_text(in, "firmwareId", 0),
        .target_type = api_text(in, "targetType", 0),
        .group_id = api_text(in, "groupId", 1),
        .src_versions = api_text_list(in, "srcVersions", src, sizeof src),
        .timeout_minutes = !timeout || cJSON_IsNull(timeout) ? 0
                           : cJSON_IsNumber(timeout) && timeout->valuedouble == (int)timeout->valuedouble
                               ? (int)timeout->valuedouble
                               : -1,
        .job_id = api_text(in, "jobId", 1),
    };
    service_result res;
    char id[STORE_ID_SIZE];
    int devices = 0;
    if (!list)
        service_fail(&res, SERVICE_ERROR, "OutOfMemory", "cannot take the job now");
    else if (api_name_list(in, "devices", list, SERVICE_JOB_DEVICES_MAX, &spec.device_count) < 0)
        service_fail(&res, SERVICE_INVALID, "InvalidJob", "devices is an array of at most %d device names",
                     SERVICE_JOB_DEVICES_MAX);
    else {
        spec.devices = list;
        service_ota_job_create(&spec, id, &devices, &res);
    }
    cJSON_Delete(in);
    free(list);
    if (res.status != SERVICE_OK)
        return api_fail(r, &res);
    int pushed = 0;
    ota_push_job(id, &pushed); /* a link that is down: devices get it when they come back */
    return reply_job(r, 201, id);
}

enum MHD_Result api_ota_job_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, job_row))
        return pg.ret;
    return api_page_end(r, &pg, store_ota_job_list(http_query(r, "firmwareId"), http_query(r, "productKey"), &pg.page));
}

enum MHD_Result api_ota_job_get(http_request *r) { return reply_job(r, 200, r->params[0]); }

enum MHD_Result api_ota_job_cancel(http_request *r)
{
    service_result res;
    if (service_ota_job_cancel(r->params[0], &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_job(r, 200, r->params[0]);
}
