/*
 * device_events.c - handle device messages (see device_events.h).
 *
 * Topics, read by topic_parse() (topics.h) and dispatched through the
 * HANDLERS table below, event posts further through POSTS by identifier
 * (the broker's ACL guarantees a device only publishes under its own
 * /sys/{pk}/{dn}/, so the identity in the topic can be trusted):
 *   /as/mqtt/statuses                          lifecycle gathered, from the plugin
 *   /as/mqtt/status/{pk}/{dn}                  lifecycle (each device's last,
 *                                              replayed at each connect of the link)
 *   /as/mqtt/refused                           refused logins, from the plugin
 *   /sys/{pk}/{dn}/thing/event/{id}/post       event posts; a reply unless
 *                                              "sys":{"ack":0} asks for none
 *   /sys/{pk}/{dn}/thing/deviceinfo/update     stored as received
 *   /ota/device/..., .../thing/ota/firmware/get firmware OTA (ota_events.h)
 */
#include "clock.h"
#include "copy_text.h"
#include "db.h"
#include "device_events.h"
#include "alink_envelope.h"
#include "faults.h"
#include "identifiers.h"
#include "json_text.h"
#include "kick.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "ota_events.h"
#include "ota_push.h"
#include "push.h"
#include "rollout_engine.h"
#include "service_rollouts.h"
#include "rrpc.h"
#include "service_tasks.h"
#include "store_devices.h"
#include "store_reports.h"
#include "timeline.h"
#include "topics.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PAYLOAD (256 * 1024)

/*
 * Offline reports wait for the end of the link's batch (one transaction,
 * db_batch_begin() to device_events_batch_end()). A device that reboots,
 * as every device of an upgrade does, reports offline and then online,
 * mostly within one batch (2,938 of 3,000 in a 3,000-device fleet
 * upgrade); the online then cancels the offline, so the pair costs one
 * UPDATE, which leaves the status as it was, instead of two that move the
 * row in the status index and run the counts' trigger. The offline UPDATE
 * was 9.6% of the link's samples in that upgrade; in 3 alternating pairs
 * the link used 0.35-0.36 s a round against 0.36-0.38 s (the VM's noise
 * is about as large).
 *
 * No one sees the difference: the API reads only what is committed (the
 * reader connection), and a writer on another thread (a push, an API
 * change) waits for the batch to end, which writes what is still held
 * back before the commit. At most PENDING_OFFLINE_MAX are held (looked
 * through one by one); more are written at once.
 */
#define PENDING_OFFLINE_MAX 256
static struct {
    char pk[HAAS_PK_LEN + 1];
    char dn[HAAS_DN_MAX + 1];
} pending_offline[PENDING_OFFLINE_MAX];
static int pending_offline_n; /* the link's thread only */

/* Index of (pk, dn) among the held-back offline reports, or -1. */
static int pending_offline_find(const char *pk, const char *dn)
{
    for (int i = 0; i < pending_offline_n; i++)
        if (!strcmp(pending_offline[i].dn, dn) && !strcmp(pending_offline[i].pk, pk))
            return i;
    return -1;
}

static void report_offline_later(const char *pk, const char *dn)
{
    if (pending_offline_find(pk, dn) >= 0)
        return;
    if (pending_offline_n == PENDING_OFFLINE_MAX || strlen(pk) > HAAS_PK_LEN || strlen(dn) > HAAS_DN_MAX) {
        store_report_offline(pk, dn);
        return;
    }
    copy_text(pending_offline[pending_offline_n].pk, sizeof pending_offline[0].pk, pk);
    copy_text(pending_offline[pending_offline_n].dn, sizeof pending_offline[0].dn, dn);
    pending_offline_n++;
}

/* An online report cancels a held-back offline of the same device. */
static void cancel_offline(const char *pk, const char *dn)
{
    int i = pending_offline_find(pk, dn);
    if (i >= 0)
        pending_offline[i] = pending_offline[--pending_offline_n]; /* their order does not matter */
}

void device_events_batch_end(void)
{
    for (int i = 0; i < pending_offline_n; i++)
        store_report_offline(pending_offline[i].pk, pending_offline[i].dn);
    pending_offline_n = 0;
    db_batch_end();
}

static void on_status(const char *pk, const char *dn, const cJSON *msg)
{
    cJSON *status = cJSON_GetObjectItemCaseSensitive(msg, "status");
    cJSON *ip = cJSON_GetObjectItemCaseSensitive(msg, "clientIp");
    if (!cJSON_IsString(status) || (strcmp(status->valuestring, "online") && strcmp(status->valuestring, "offline"))) {
        log_msg(LOG_WARN, "status message for %s/%s without a valid status; ignored", pk, dn);
        return;
    }
    int online = !strcmp(status->valuestring, "online");
    /* the emulator's clock, not the broker's: it may be virtual */
    long long at = (long long)clock_now();
    if (online) {
        cancel_offline(pk, dn);
        store_report_online(pk, dn, (int64_t)at, cJSON_IsString(ip) ? ip->valuestring : NULL);
        if (faults_on_connect(pk, dn))
            kick_device(pk, dn);
        ota_push_due(pk, dn, 0); /* firmware jobs that queued it while it was away */
        rollout_engine_device_seen(pk, dn);
    } else
        report_offline_later(pk, dn);
}

/* hli_event app.result: the outcome of an upgrade. The task it belongs to
 * goes to task_id (for the console's log). */
static void on_result(const char *pk, const char *dn, cJSON *params, char task_id[STORE_ID_SIZE])
{
    cJSON *type = cJSON_GetObjectItemCaseSensitive(params, "eventType");
    cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "eventName");
    cJSON *arg = cJSON_GetObjectItemCaseSensitive(params, "argInt");
    cJSON *ext = cJSON_GetObjectItemCaseSensitive(params, "ext");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "haas.upgrade") || !cJSON_IsString(name) ||
        strcmp(name->valuestring, "app.result"))
        return; /* another hli_event: acknowledged, nothing to record */
    /* ext is a JSON document inside a string; an object is accepted too. */
    cJSON *parsed = cJSON_IsString(ext) ? cJSON_Parse(ext->valuestring) : NULL;
    cJSON *info = parsed ? parsed : ext;
    cJSON *app = cJSON_GetObjectItemCaseSensitive(info, "appId");
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(info, "appNewVersion");
    long parts[3];
    if (!cJSON_IsNumber(arg) || !cJSON_IsString(app) || !cJSON_IsString(ver) || !valid_app_id(app->valuestring) ||
        !version_parse(ver->valuestring, parts)) {
        log_msg(LOG_WARN, "app.result from %s/%s without argInt, appId or appNewVersion; ignored", pk, dn);
        cJSON_Delete(parsed);
        return;
    }
    int code = arg->valueint;
    service_result res;
    if (faults_on_result(pk, dn, "")) { /* lost on its way, as far as the platform knows */
        cJSON_Delete(parsed);
        return;
    }
    int changed = service_task_result(pk, dn, app->valuestring, ver->valuestring, code, task_id, &res) == SERVICE_OK;
    service_rollout_app_result(pk, dn, app->valuestring, ver->valuestring, code);
    if (changed) {
        char state[64];
        snprintf(state, sizeof state, "{\"state\":\"%s\",\"code\":%d}", code == 200 ? "succeeded" : "failed", code);
        timeline_add("state", task_id, pk, dn, state);
    }
    log_msg(LOG_INFO, "%s/%s reports app.result %d for %s %s%s", pk, dn, code, app->valuestring,
            ver->valuestring, changed ? "" : " (no task pushed it)");
    cJSON_Delete(parsed);
}

/* hli_event_upgrade_query: the device tells which app versions it runs. */
/* The device runs this version: a task still waiting for its result gets
 * it (service_task_reached); logged, since the result message was lost. */
static void reached(const char *pk, const char *dn, const char *app_id, const char *version)
{
    char task_id[STORE_ID_SIZE];
    int n = 0;
    service_result res;
    if (service_task_reached(pk, dn, app_id, version, &n, task_id, &res) == SERVICE_OK && n > 0)
        log_msg(LOG_INFO, "%s/%s runs %s %s: task %s counts it succeeded (its app.result never arrived)", pk, dn,
                app_id, version, task_id);
}

static void on_query(const char *pk, const char *dn, cJSON *params, char task_id[STORE_ID_SIZE])
{
    (void)task_id; /* the console's log groups queries under no task */
    cJSON *apps = cJSON_GetObjectItemCaseSensitive(params, "app");
    cJSON *fw = cJSON_GetObjectItemCaseSensitive(params, "firmwareVersion");
    if (cJSON_IsString(fw) && strlen(fw->valuestring) < STORE_FIRMWARE_SIZE)
        store_report_firmware(pk, dn, fw->valuestring);
    cJSON *a;
    int n = 0;
    if (!cJSON_IsArray(apps))
        return;
    cJSON_ArrayForEach(a, apps) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "appId");
        cJSON *ver = cJSON_GetObjectItemCaseSensitive(a, "version");
        long parts[3];
        if (++n > 32 || !cJSON_IsString(id) || !cJSON_IsString(ver) || !valid_app_id(id->valuestring) ||
            !version_parse(ver->valuestring, parts))
            continue;
        store_report_app(pk, dn, id->valuestring, ver->valuestring);
        reached(pk, dn, id->valuestring, ver->valuestring);
        service_rollout_app_result(pk, dn, id->valuestring, ver->valuestring, 200); /* it runs the target */
        push_on_query(pk, dn, id->valuestring, ver->valuestring);
    }
    rollout_engine_device_seen(pk, dn); /* what it runs is known now */
}

/* Answers a request on <topic>_reply in the real cloud's shape (alink_envelope.h),
 * unless it asked for none. */
static void reply(const char *topic, const cJSON *msg)
{
    char *text = alink_reply_text(topic, msg);
    char reply_topic[TOPIC_MAX + 8];
    if (text && topic_reply(reply_topic, sizeof reply_topic, topic) > 0)
        mqtt_link_publish(reply_topic, text, strlen(text), 1);
    cJSON_free(text);
}

static void on_device_info(const char *pk, const char *dn, const char *payload, int len)
{
    /* Stored as text exactly as received (bytes, not re-encoded), cut to
     * STORE_DEVICE_INFO_MAX bytes. */
    store_report_info(pk, dn, payload, len);
}

/* A refusal of a device a refuseLogin fault holds disabled counts for it. */
static void refused_for_fault(int known, const char *code, const char *pk, const char *dn)
{
    if (known && !strcmp(code, "DeviceDisabled"))
        faults_on_refused(pk, dn);
}

/* A login the broker refused: logged without --verbose (a device that cannot
 * come online is the first thing a user needs to see), and kept on the
 * device's row for its console page. */
static void on_refused(const void *payload, int len)
{
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    cJSON *code = cJSON_GetObjectItemCaseSensitive(msg, "code");
    cJSON *reason = cJSON_GetObjectItemCaseSensitive(msg, "reason");
    cJSON *pk = cJSON_GetObjectItemCaseSensitive(msg, "productKey");
    cJSON *dn = cJSON_GetObjectItemCaseSensitive(msg, "deviceName");
    cJSON *cid = cJSON_GetObjectItemCaseSensitive(msg, "clientId");
    cJSON *ip = cJSON_GetObjectItemCaseSensitive(msg, "clientIp");
    /* (The plugin's notices are shorter than STORE_REFUSAL_MAX, see status_msg.h.) */
    if (!cJSON_IsString(code) || !cJSON_IsString(reason) || !cJSON_IsString(pk) || !cJSON_IsString(dn) ||
        len > STORE_REFUSAL_MAX) {
        log_msg(LOG_WARN, "ignored a malformed refusal notice from the broker");
        cJSON_Delete(msg);
        return;
    }
    int known = valid_product_key(pk->valuestring) && valid_device_name(dn->valuestring);
    int stored = known && store_report_refusal(pk->valuestring, dn->valuestring, payload, len) == STORE_OK;
    refused_for_fault(known, code->valuestring, pk->valuestring, dn->valuestring);
    log_msg(LOG_WARN, "refused MQTT login of %s%s%s (clientId %.200s from %s): %s [%s]%s",
            known ? dn->valuestring : "a client", known ? "&" : "", known ? pk->valuestring : "",
            cJSON_IsString(cid) ? cid->valuestring : "?", cJSON_IsString(ip) ? ip->valuestring : "?",
            reason->valuestring, code->valuestring,
            !strcmp(code->valuestring, "UnknownDevice") || (known && !stored)
                ? " - no such device here: create it (POST /api/v1/products/{pk}/devices) with its DeviceSecret"
            : !strcmp(code->valuestring, "WrongPassword")
                ? " - the DeviceSecret on the device differs from the emulator's"
                : "");
    live_log("in", "refused", known ? pk->valuestring : "", known ? dn->valuestring : "", NULL, TOPIC_REFUSED,
             payload, (size_t)len);
    cJSON_Delete(msg);
}

/* ---- dispatch: one handler per kind of topic (topics.h) ---- */

/* A lifecycle message of the plugin. */
static void handle_status(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    if (msg) {
        on_status(t->product_key, t->device_name, msg);
        live_log("in", "status", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
    }
    cJSON_Delete(msg);
}

/* One object of a gathered lifecycle message (handle_status_batch), logged
 * as it came. */
static void handle_status_item(const char *item, size_t len, void *ctx)
{
    (void)ctx;
    cJSON *parsed = cJSON_ParseWithLength(item, len);
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(parsed, "productKey");
    const cJSON *dn = cJSON_GetObjectItemCaseSensitive(parsed, "deviceName");
    char device_topic[TOPIC_MAX];
    if (!cJSON_IsString(pk) || !cJSON_IsString(dn) ||
        topic_status(device_topic, sizeof device_topic, pk->valuestring, dn->valuestring) < 0) {
        log_msg(LOG_WARN, "lifecycle message on %s without a valid productKey and deviceName; skipped",
                TOPIC_STATUSES);
    } else {
        on_status(pk->valuestring, dn->valuestring, parsed);
        live_log("in", "status", pk->valuestring, dn->valuestring, NULL, device_topic, item, len);
    }
    cJSON_Delete(parsed);
}

/* The plugin's lifecycle messages of one pass of the broker's loop: an
 * array of the objects of handle_status's messages, in their order. Each
 * object is read (and logged) from its own text: printing it again from a
 * parse of the whole array, its two times as numbers, was about a tenth of
 * the link's CPU while a fleet logged in. An object without a valid device
 * is skipped, and the others are still handled. */
static void handle_status_batch(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    (void)t, (void)topic;
    if (json_text_array_items(payload, (size_t)len, handle_status_item, NULL) < 0)
        log_msg(LOG_WARN, "lifecycle message on %s is not one JSON array; the objects before the fault were "
                "handled", TOPIC_STATUSES);
}

static void handle_refused(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    (void)t, (void)topic;
    on_refused(payload, len);
}

/* Device info: stored as it came (not always JSON), answered when it is. */
static void handle_device_info(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    on_device_info(t->product_key, t->device_name, payload, len);
    live_log("in", "deviceinfo", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    if (msg)
        reply(topic, msg);
    cJSON_Delete(msg);
}

/* Event posts with a meaning of their own, by identifier; every other post
 * (properties, custom events) is answered and logged, nothing more. */
static const struct {
    const char *event;
    const char *log_kind;
    void (*handle)(const char *pk, const char *dn, cJSON *params, char task_id[STORE_ID_SIZE]);
} POSTS[] = {
    {"hli_event", "result", on_result},
    {"hli_event_upgrade_query", "query", on_query},
};

static void handle_post(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    const char *pk = t->product_key, *dn = t->device_name;
    cJSON *msg = cJSON_ParseWithLength(payload, (size_t)len);
    if (!cJSON_IsObject(msg)) {
        log_msg(LOG_WARN, "%s/%s posted %s that is not a JSON object; ignored", pk, dn, t->name);
        live_log("in", "invalid", pk, dn, NULL, topic, payload, (size_t)len);
        cJSON_Delete(msg);
        return;
    }
    reply(topic, msg);
    cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    char task_id[STORE_ID_SIZE] = "";
    const char *kind = "event";
    for (size_t i = 0; i < sizeof POSTS / sizeof POSTS[0]; i++) {
        if (strcmp(t->name, POSTS[i].event) == 0) {
            kind = POSTS[i].log_kind;
            if (cJSON_IsObject(params))
                POSTS[i].handle(pk, dn, params, task_id);
        }
    }
    live_log("in", kind, pk, dn, task_id, topic, payload, (size_t)len);
    cJSON_Delete(msg);
}

static const struct {
    enum topic_kind kind;
    void (*handle)(const struct topic_parts *t, const char *topic, const void *payload, int len);
} HANDLERS[] = {
    {TOPIC_STATUS_BATCH, handle_status_batch},
    {TOPIC_STATUS, handle_status},
    {TOPIC_REFUSED_LOGIN, handle_refused},
    {TOPIC_DEVICEINFO_UPDATE, handle_device_info},
    {TOPIC_EVENT_POST, handle_post},
    {TOPIC_OTA_INFORM, ota_events_inform},
    {TOPIC_OTA_PROGRESS, ota_events_progress},
    {TOPIC_OTA_REQUEST, ota_events_request},
    {TOPIC_OTA_FIRMWARE_GET, ota_events_firmware_get},
    {TOPIC_RRPC_RESPONSE, rrpc_events_response}, /* the IoT API's RRpc (rrpc.h) */
};

/* A device's own message: a disconnect fault may wait for it (faults.h). */
static void uplink_faults(const struct topic_parts *t)
{
    bool from_device = t->kind != TOPIC_STATUS && t->kind != TOPIC_STATUS_BATCH && t->kind != TOPIC_REFUSED_LOGIN &&
                       t->kind != TOPIC_KICK;
    if (from_device && faults_active() && faults_on_uplink(t->product_key, t->device_name))
        kick_device(t->product_key, t->device_name);
}

void device_events_handle(const char *topic, const void *payload, int len)
{
    struct topic_parts t;
    enum topic_kind kind = topic_parse(topic, &t);
    if (len >= 0 && len <= MAX_PAYLOAD) {
        for (size_t i = 0; i < sizeof HANDLERS / sizeof HANDLERS[0]; i++) {
            if (HANDLERS[i].kind == kind) {
                HANDLERS[i].handle(&t, topic, payload, len);
                uplink_faults(&t);
                return;
            }
        }
    }
    log_msg(LOG_WARN, "ignored a message on %.80s (%d bytes)", topic, len);
}

void device_events_session_lost(void)
{
    int n = 0;
    store_report_all_offline(&n);
    if (n > 0)
        log_msg(LOG_INFO, "broker session lost: %d device(s) marked offline until they announce again", n);
}
