/*
 * ota_events.c - device messages of firmware OTA (see ota_events.h).
 */
#include "ota_events.h"
#include "alink_envelope.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "ota_push.h"
#include "rollout_engine.h"
#include "service_ota_jobs.h"
#include "service_rollouts.h"
#include "store_firmwares.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The "params" object of an OTA message, and its module ("default" when
 * absent); NULL (logged as invalid) when the message is not of that shape. */
static cJSON *params_of(cJSON *msg, const char **module, const struct topic_parts *t, const char *topic,
                        const void *payload, int len)
{
    cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    cJSON *m = cJSON_GetObjectItemCaseSensitive(params, "module");
    if (!cJSON_IsObject(params) || (m && !cJSON_IsString(m))) {
        log_msg(LOG_WARN, "%s/%s sent %.80s without a params object (or with a module that is not text); ignored",
                t->product_key, t->device_name, topic);
        live_log("in", "invalid", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
        return NULL;
    }
    *module = m ? m->valuestring : STORE_OTA_DEFAULT_MODULE;
    return params;
}

/* A progress step: a decimal integer in a string (Link SDK 4.x) or a number. */
static int parse_step(const cJSON *step, int *out)
{
    if (cJSON_IsNumber(step) && step->valuedouble == (double)(int)step->valuedouble) {
        *out = (int)step->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(step) || !step->valuestring[0])
        return -1;
    char *end;
    errno = 0;
    long v = strtol(step->valuestring, &end, 10);
    if (errno || *end || v < -1000 || v > 1000)
        return -1;
    *out = (int)v;
    return 0;
}

/* Records the version module runs (when version is given) and pushes what
 * waits for the device: again says whether already pushed jobs count. */
static void report_version(const struct topic_parts *t, const char *module, const cJSON *version, int again)
{
    const char *pk = t->product_key, *dn = t->device_name;
    service_result res;
    int succeeded = 0;
    if (version && (!cJSON_IsString(version) ||
                    service_ota_inform(pk, dn, module, version->valuestring, &succeeded, &res) != SERVICE_OK)) {
        log_msg(LOG_WARN, "%s/%s informed an invalid version of module %.64s: %s", pk, dn, module,
                cJSON_IsString(version) ? res.message : "not text");
        return;
    }
    if (succeeded)
        log_msg(LOG_INFO, "%s/%s runs %s %s: %d job device(s) succeeded", pk, dn, module, version->valuestring,
                succeeded);
    if (version)
        service_rollout_firmware_inform(pk, dn, module, version->valuestring);
    ota_push_due(pk, dn, again);
    rollout_engine_device_seen(pk, dn);
}

void ota_events_inform(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    const char *module;
    cJSON *params = params_of(msg, &module, t, topic, payload, len);
    if (params) {
        live_log("in", "inform", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
        cJSON *version = cJSON_GetObjectItemCaseSensitive(params, "version");
        if (version)
            report_version(t, module, version, 0);
        else
            log_msg(LOG_WARN, "%s/%s informed no version; ignored", t->product_key, t->device_name);
    }
    cJSON_Delete(msg);
}

void ota_events_progress(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    const char *module;
    cJSON *params = params_of(msg, &module, t, topic, payload, len);
    int step = 0;
    char job_id[STORE_ID_SIZE] = "";
    service_result res;
    if (params) {
        cJSON *desc = cJSON_GetObjectItemCaseSensitive(params, "desc");
        const char *text = cJSON_IsString(desc) ? desc->valuestring : NULL;
        int ok = parse_step(cJSON_GetObjectItemCaseSensitive(params, "step"), &step) == 0 &&
                 service_ota_progress(t->product_key, t->device_name, module, step, text, job_id, &res) == SERVICE_OK;
        if (!ok)
            log_msg(LOG_WARN, "%s/%s reported a progress step that is not -4..100; ignored", t->product_key,
                    t->device_name);
        else
            service_rollout_firmware_progress(t->product_key, t->device_name, module, step, text);
        if (ok && step < 0)
            log_msg(LOG_INFO, "%s/%s: %s %s (step %d)%s%s", t->product_key, t->device_name, module,
                    service_ota_step_meaning(step), step, job_id[0] ? ", job " : " (no job waits for it)", job_id);
        live_log("in", "progress", t->product_key, t->device_name, job_id, topic, payload, (size_t)len);
    }
    cJSON_Delete(msg);
}

void ota_events_request(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    const char *module;
    cJSON *params = params_of(msg, &module, t, topic, payload, len);
    if (params) {
        live_log("in", "request", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
        report_version(t, module, cJSON_GetObjectItemCaseSensitive(params, "version"), 1);
    }
    cJSON_Delete(msg);
}

void ota_events_firmware_get(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    const char *module;
    cJSON *params = params_of(msg, &module, t, topic, payload, len);
    char job_id[STORE_ID_SIZE] = "", reply_topic[TOPIC_MAX + 8];
    if (params) {
        live_log("in", "firmwareGet", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
        cJSON *data = ota_firmware_get_data(t->product_key, t->device_name, module, job_id);
        char *text = alink_reply_with_data(topic, msg, data);
        if (text && topic_reply(reply_topic, sizeof reply_topic, topic) > 0 &&
            mqtt_link_publish(reply_topic, text, strlen(text), 1) == 0)
            live_log("out", "ota", t->product_key, t->device_name, job_id, reply_topic, text, strlen(text));
        cJSON_free(text);
    }
    cJSON_Delete(msg);
}
