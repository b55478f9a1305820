/*
 * rollout_engine.c - runs the staged rollouts (see rollout_engine.h).
 *
 * The store walks hand rows over while their statement runs and may not be
 * called back, so ids and due devices are collected first and acted on
 * after (small arrays).
 */
#include "clock.h"
#include "rollout_engine.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "ota_push.h"
#include "push.h"
#include "service_rollouts.h"
#include "store_versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACTIVE_MAX 64 /* rollouts stepped per tick (oldest first) */

typedef struct {
    char ids[ACTIVE_MAX][STORE_ID_SIZE];
    int n;
} id_list;

static void keep_id(const char *id, void *ctx)
{
    id_list *l = ctx;
    if (l->n < ACTIVE_MAX)
        snprintf(l->ids[l->n++], STORE_ID_SIZE, "%s", id);
}

typedef struct {
    store_rollout_device *rows;
    int n, cap;
} device_list;

static void keep_device(const void *row, void *ctx)
{
    device_list *l = ctx;
    if (l->n < l->cap)
        l->rows[l->n++] = *(const store_rollout_device *)row;
}

/* What a rollout sends: its firmware or its app version. */
typedef struct {
    store_firmware firmware;
    store_version app;
} payload;

static int load_payload(const store_rollout *r, payload *p)
{
    if (!strcmp(r->kind, "firmware"))
        return store_firmware_get(r->firmware_id, &p->firmware) == STORE_OK ? 0 : -1;
    return store_version_get(r->app_id, r->version, &p->app) == STORE_OK ? 0 : -1;
}

/* Pushes one device of r and records it. */
static int push_device(const store_rollout *r, const payload *p, const store_rollout_device *d, int64_t now)
{
    int rc = !strcmp(r->kind, "firmware") ? ota_push_notice(d->product_key, d->device_name, r->rollout_id, &p->firmware)
                                          : push_app_to(d->product_key, d->device_name, &p->app, r->rollout_id);
    if (rc < 0)
        return -1;
    char detail[64];
    snprintf(detail, sizeof detail, "attempt %d", d->attempts + 1);
    return store_rollout_move(r->rollout_id, d->product_key, d->device_name, 1u << RD_QUEUED, RD_PUSHED, NULL, -1,
                              detail, now) == STORE_OK ? 0 : -1;
}

/* The pushes rollout r is due now, within its rate. */
static int push_due(const store_rollout *r, int64_t now)
{
    int budget = service_rollout_budget(r, now);
    payload p;
    if (budget <= 0 || load_payload(r, &p) < 0)
        return 0;
    device_list due = {malloc((size_t)budget * sizeof(store_rollout_device)), 0, budget};
    int sent = 0;
    if (due.rows && store_rollout_due(r, budget, now, keep_device, &due) == STORE_OK)
        for (int i = 0; i < due.n; i++)
            sent += push_device(r, &p, &due.rows[i], now) == 0;
    free(due.rows);
    return sent;
}

int rollout_engine_tick(int64_t now)
{
    id_list active = {.n = 0};
    store_rollout_ids("scheduled", keep_id, &active);
    store_rollout_ids("running", keep_id, &active);
    store_rollout_ids("paused", keep_id, &active);
    if (active.n == 0)
        store_rollouts_refresh_active(); /* none: the devices' messages need not ask (db_hint) */
    int sent = 0, changed = 0;
    for (int i = 0; i < active.n; i++) {
        store_rollout r, before;
        service_result res;
        if (store_rollout_get(active.ids[i], &before, NULL, NULL) != STORE_OK ||
            service_rollout_step(active.ids[i], now, &r, &res) != SERVICE_OK) {
            log_msg(LOG_WARN, "rollout %s could not step", active.ids[i]);
            continue;
        }
        /* what the console shows moved: a start, a batch, a pause, an end, a timeout or a retry */
        changed |= strcmp(before.status, r.status) || before.current_batch != r.current_batch ||
                   memcmp(before.counts, r.counts, sizeof r.counts) != 0;
        if (!strcmp(r.status, "running") && mqtt_link_connected())
            sent += push_due(&r, now);
    }
    if (changed || sent)
        live_changed();
    return sent;
}

void rollout_engine_device_seen(const char *pk, const char *dn) { service_rollout_dynamic(pk, dn); }

typedef struct {
    store_rollout_device row;
    int found;
} one_device;

static void keep_one(const void *row, void *ctx)
{
    one_device *o = ctx;
    const store_rollout_device *d = row;
    if (!o->found && !strcmp(d->device_name, o->row.device_name)) {
        o->row = *d;
        o->found = 1;
    }
}

int rollout_engine_firmware_for(const char *pk, const char *dn, const char *module, store_firmware *f,
                                char rollout_id[STORE_ID_SIZE])
{
    id_list l = {.n = 0};
    store_rollouts_of_device(pk, dn, "firmware", keep_id, &l);
    for (int i = 0; i < l.n; i++) {
        store_rollout r;
        one_device o = {.found = 0};
        snprintf(o.row.device_name, sizeof o.row.device_name, "%s", dn);
        if (store_rollout_get(l.ids[i], &r, keep_one, &o) != STORE_OK || strcmp(r.status, "running") ||
            strcmp(r.module_name, module) || !o.found || o.row.batch > r.current_batch ||
            store_firmware_get(r.firmware_id, f) != STORE_OK)
            continue;
        if (o.row.state == RD_QUEUED)
            store_rollout_move(r.rollout_id, pk, dn, 1u << RD_QUEUED, RD_PUSHED, NULL, -1, "firmware/get",
                               clock_now());
        snprintf(rollout_id, STORE_ID_SIZE, "%s", r.rollout_id);
        return 1;
    }
    return 0;
}
