/*
 * rrpc.c - RRpc calls waiting for the device's answer (see rrpc.h).
 */
#include "rrpc.h"
#include "clock.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A call waiting for its answer. */
typedef struct waiting {
    struct waiting *next;
    char topic[TOPIC_MAX];      /* the response topic it waits for */
    pthread_cond_t cond;
    bool done;
    unsigned char *payload;
    size_t len;
} waiting;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static waiting *calls;

static void unlink_call(waiting *w)
{
    for (waiting **p = &calls; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}

rrpc_outcome rrpc_call(const char *pk, const char *dn, long long id, const void *request, size_t len, int timeout_ms,
                       unsigned char **resp, size_t *resp_len)
{
    char topic[TOPIC_MAX];
    waiting *w = calloc(1, sizeof *w);
    pthread_condattr_t attr;
    if (!w)
        return RRPC_NOT_SENT;
    snprintf(w->topic, sizeof w->topic, "/sys/%s/%s/rrpc/response/%lld", pk, dn, id);
    snprintf(topic, sizeof topic, "/sys/%s/%s/rrpc/request/%lld", pk, dn, id);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_lock(&lock);
    w->next = calls;
    calls = w; /* before the publish: an answer can come at once */
    pthread_mutex_unlock(&lock);
    rrpc_outcome out = RRPC_NOT_SENT;
    if (mqtt_link_publish(topic, request, len, 0) == 0) {
        live_log("out", "rrpc", pk, dn, NULL, topic, request, len);
        /* real time, whatever the emulator's clock says */
        struct timespec until = clock_monotonic_after(timeout_ms);
        pthread_mutex_lock(&lock);
        while (!w->done && pthread_cond_timedwait(&w->cond, &lock, &until) != ETIMEDOUT)
            ;
        out = w->done ? RRPC_SUCCESS : RRPC_TIMEOUT;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    unlink_call(w);
    pthread_mutex_unlock(&lock);
    pthread_cond_destroy(&w->cond);
    if (out == RRPC_SUCCESS) {
        *resp = w->payload;
        *resp_len = w->len;
    } else {
        free(w->payload);
    }
    free(w);
    return out;
}

void rrpc_events_response(const struct topic_parts *t, const char *topic, const void *payload, int len)
{
    bool taken = false;
    pthread_mutex_lock(&lock);
    for (waiting *w = calls; w && !taken; w = w->next) {
        if (w->done || strcmp(w->topic, topic) != 0)
            continue;
        w->payload = malloc((size_t)len + 1);
        if (w->payload)
            memcpy(w->payload, payload, (size_t)len);
        w->len = w->payload ? (size_t)len : 0;
        w->done = taken = true;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&lock);
    live_log("in", "rrpc", t->product_key, t->device_name, NULL, topic, payload, (size_t)len);
    if (!taken)
        log_msg(LOG_INFO, "RRPC answer of %s/%s to message %s came when nobody waited", t->product_key,
                t->device_name, t->name);
}
