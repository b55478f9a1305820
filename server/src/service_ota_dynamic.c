/*
 * service_ota_dynamic.c - dynamic firmware jobs as rollouts (see
 * service_ota_dynamic.h).
 */
#include "service_ota_dynamic.h"
#include "clock.h"
#include "store_devices.h"
#include "store_rollout_strategy.h"

#include <stdlib.h>
#include <string.h>

#define WAITING_STATES ((1u << RD_WAITING) | (1u << RD_QUEUED) | (1u << RD_PUSHED) | (1u << RD_DOWNLOADING) | \
                        (1u << RD_INSTALLING))

/* Firmware rollout id into r, not ended. */
static service_status live_rollout(const char *id, store_rollout *r, service_result *res)
{
    store_status s = store_rollout_get(id, r, NULL, NULL);
    if (s == STORE_NOT_FOUND || (s == STORE_OK && strcmp(r->kind, "firmware") != 0))
        return service_fail(res, SERVICE_NOT_FOUND, "RolloutNotFound", "no firmware rollout %.40s", id);
    if (s != STORE_OK)
        return service_storage_error(res, "read the rollout");
    if (!strcmp(r->status, "completed") || !strcmp(r->status, "canceled"))
        return service_fail(res, SERVICE_CONFLICT, "RolloutEnded", "rollout %.40s has ended", id);
    return service_ok(res);
}

service_status service_rollout_end_dynamic(const char *id, service_result *res)
{
    store_rollout r;
    if (live_rollout(id, &r, res) != SERVICE_OK)
        return res->status;
    if (!r.dynamic)
        return service_fail(res, SERVICE_CONFLICT, "NotDynamic", "rollout %.40s is not dynamic", id);
    store_status s = store_rollout_end_dynamic(id);
    return s == STORE_OK || s == STORE_NOT_FOUND ? service_ok(res) : service_storage_error(res, "end the strategy");
}

/* The devices a cancel picks, collected while the rollout is read. */
typedef struct {
    unsigned states;
    store_device_id *ids;
    size_t n, cap;
    bool failed;
} pick;

static void pick_device(const void *row, void *ctx)
{
    const store_rollout_device *d = row;
    pick *p = ctx;
    if (!(p->states & (1u << d->state)) || p->failed)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        store_device_id *ids = realloc(p->ids, cap * sizeof *ids);
        if (!ids) {
            p->failed = true;
            return;
        }
        p->ids = ids;
        p->cap = cap;
    }
    memcpy(p->ids[p->n].product_key, d->product_key, sizeof p->ids[0].product_key);
    memcpy(p->ids[p->n].device_name, d->device_name, sizeof p->ids[0].device_name);
    p->n++;
}

service_status service_rollout_cancel_states(const char *id, unsigned states, int *n, service_result *res)
{
    store_rollout r;
    *n = 0;
    states &= WAITING_STATES;
    if (!states)
        return service_fail(res, SERVICE_INVALID, "InvalidStates", "choose the states of the devices to cancel");
    if (live_rollout(id, &r, res) != SERVICE_OK)
        return res->status;
    pick p = {.states = states};
    store_status s = store_rollout_get(id, &r, pick_device, &p);
    int64_t now = clock_now();
    for (size_t i = 0; s == STORE_OK && !p.failed && i < p.n; i++) {
        s = store_rollout_move(id, p.ids[i].product_key, p.ids[i].device_name, states, RD_CANCELED, NULL, -1,
                               "task canceled", now);
        if (s == STORE_NOT_FOUND)
            s = STORE_OK; /* it moved on in the meantime */
        else if (s == STORE_OK)
            (*n)++;
    }
    free(p.ids);
    return s == STORE_OK && !p.failed ? service_ok(res) : service_storage_error(res, "cancel the devices");
}
