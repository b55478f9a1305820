/*
 * ota_push.c - firmware upgrade notices (see ota_push.h).
 *
 * The store walks hand rows over one at a time while the statement runs
 * and may not be called back, so the devices or jobs due are collected
 * first (a small growing array) and pushed after.
 */
#include "clock.h"
#include "ota_push.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "push.h"
#include "push_faults.h"
#include "rollout_engine.h"
#include "server.h"
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cJSON *ota_upgrade_data(const store_firmware *f)
{
    char url[1400];
    if (oss_sign_url_at(&server.signer, server.cfg.firmware_url, f->object_key,
                        clock_now() + server.cfg.url_ttl, url, sizeof url) < 0)
        return NULL;
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    /* the cloud's order: size, version, url, md5, sign, signMethod, module */
    cJSON_AddNumberToObject(d, "size", (double)f->size);
    cJSON_AddStringToObject(d, "version", f->version);
    cJSON_AddStringToObject(d, "url", url);
    cJSON_AddStringToObject(d, "md5", f->md5);
    cJSON_AddStringToObject(d, "sign", strcmp(f->sign_method, "SHA256") == 0 ? f->sha256 : f->md5);
    cJSON_AddStringToObject(d, "signMethod", f->sign_method);
    cJSON_AddStringToObject(d, "module", f->module_name);
    return d;
}

/* A wrong MD5 and sign, or a wrong size, as push faults ask. */
static void spoil(cJSON *data, const fault_push *f)
{
    for (const char *key = "md5"; f->wrong_md5 && key; key = !strcmp(key, "md5") ? "sign" : NULL) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
        if (cJSON_IsString(v) && v->valuestring[0])
            v->valuestring[0] = v->valuestring[0] == '0' ? '1' : '0';
    }
    cJSON *size = cJSON_GetObjectItemCaseSensitive(data, "size");
    if (f->wrong_size && cJSON_IsNumber(size))
        cJSON_SetNumberValue(size, size->valuedouble + 1);
}

int ota_push_notice(const char *pk, const char *dn, const char *ref_id, const store_firmware *f)
{
    char topic[TOPIC_MAX];
    cJSON *msg = cJSON_CreateObject();
    cJSON *data = ota_upgrade_data(f);
    if (!msg || !data || topic_ota_upgrade(topic, sizeof topic, pk, dn) < 0) {
        cJSON_Delete(msg);
        cJSON_Delete(data);
        return -1;
    }
    fault_push fault = {.any = false};
    if (faults_active() && faults_on_push(pk, dn, ref_id, &fault) && (fault.wrong_md5 || fault.wrong_size))
        spoil(data, &fault);
    cJSON_AddStringToObject(msg, "code", "1000");
    cJSON_AddItemToObject(msg, "data", data);
    cJSON_AddNumberToObject(msg, "id", (double)push_message_id());
    cJSON_AddStringToObject(msg, "message", "success");
    char *text = cJSON_PrintUnformatted(msg);
    cJSON_Delete(msg);
    int rc = text ? push_publish(topic, text, strlen(text), pk, dn, &fault) : -1;
    if (rc == 0)
        live_log("out", "ota", pk, dn, ref_id, topic, text, strlen(text));
    cJSON_free(text);
    return rc;
}

/* Publishes the notice of job job_id to pk/dn and records it. */
static int send_notice(const char *pk, const char *dn, const char *job_id, const store_firmware *f)
{
    if (ota_push_notice(pk, dn, job_id, f) < 0)
        return -1;
    store_ota_mark_pushed(job_id, pk, dn, clock_now());
    return 0;
}

/* A growing array of rows of one type. */
typedef struct {
    void *rows;
    size_t n, cap, size;
} row_list;

static void keep_row(const void *row, void *ctx)
{
    row_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *more = realloc(l->rows, cap * l->size);
        if (!more)
            return; /* the rest waits for the device's next connect */
        l->rows = more, l->cap = cap;
    }
    memcpy((char *)l->rows + l->n++ * l->size, row, l->size);
}

int ota_push_job(const char *id, int *pushed)
{
    *pushed = 0;
    if (!mqtt_link_connected())
        return -1;
    store_ota_job job;
    row_list devices = {NULL, 0, 0, sizeof(store_ota_job_device)};
    store_firmware f;
    if (store_ota_job_get(id, &job, NULL, NULL) != STORE_OK || store_firmware_get(job.firmware_id, &f) != STORE_OK ||
        store_ota_job_online_queued(id, keep_row, &devices) != STORE_OK) {
        free(devices.rows);
        return -1;
    }
    for (size_t i = 0; i < devices.n; i++) {
        const store_ota_job_device *d = (const store_ota_job_device *)devices.rows + i;
        *pushed += send_notice(d->product_key, d->device_name, id, &f) == 0;
    }
    free(devices.rows);
    log_msg(LOG_INFO, "job %s: notified %d online device(s)", id, *pushed);
    return 0;
}

/* Was an earlier (newer) row of the list for the same module? */
static int module_seen(const store_ota_due *rows, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (!strcmp(rows[k].firmware.module_name, rows[i].firmware.module_name))
            return 1;
    return 0;
}

int ota_push_due(const char *pk, const char *dn, int again)
{
    unsigned states = 1u << OTA_QUEUED;
    if (again)
        states |= 1u << OTA_PUSHED | 1u << OTA_DOWNLOADING;
    row_list due = {NULL, 0, 0, sizeof(store_ota_due)};
    int sent = 0;
    if (store_ota_due_for(pk, dn, NULL, states, keep_row, &due) == STORE_OK) {
        const store_ota_due *rows = due.rows;
        for (size_t i = 0; i < due.n; i++)
            if (!module_seen(rows, i) && send_notice(pk, dn, rows[i].job_id, &rows[i].firmware) == 0)
                sent++;
    }
    free(due.rows);
    if (sent)
        log_msg(LOG_INFO, "%s/%s: sent %d firmware notice(s) of waiting jobs", pk, dn, sent);
    return sent;
}

cJSON *ota_firmware_get_data(const char *pk, const char *dn, const char *module, char job_id[STORE_ID_SIZE])
{
    unsigned states = 1u << OTA_QUEUED | 1u << OTA_PUSHED | 1u << OTA_DOWNLOADING;
    row_list due = {NULL, 0, 0, sizeof(store_ota_due)};
    cJSON *data = NULL;
    job_id[0] = '\0';
    if (store_ota_due_for(pk, dn, module, states, keep_row, &due) == STORE_OK && due.n > 0) {
        const store_ota_due *newest = due.rows;
        data = ota_upgrade_data(&newest->firmware);
        if (data) {
            snprintf(job_id, STORE_ID_SIZE, "%s", newest->job_id);
            store_ota_mark_pushed(newest->job_id, pk, dn, clock_now());
        }
    }
    free(due.rows);
    store_firmware f;
    if (!data && rollout_engine_firmware_for(pk, dn, module, &f, job_id)) /* no job: a rollout? */
        data = ota_upgrade_data(&f);
    return data ? data : cJSON_CreateObject();
}
