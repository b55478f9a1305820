/*
 * live.c - change counter and message ring for the console (see live.h).
 */
#include "live.h"
#include "clock.h"
#include "copy_text.h"
#include "identifiers.h"
#include "timeline.h"

#include <cjson/cJSON.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef struct {
    uint64_t seq;
    int64_t at_ms;
    char direction[4], kind[12], pk[16], dn[40], task[32];
    char *topic, *payload; /* one allocation: topic then payload */
    size_t payload_len;
    int truncated;
} entry;

static atomic_uint_fast64_t rev;
static entry ring[LIVE_LOG_CAPACITY];
static uint64_t last_seq;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void live_changed(void) { atomic_fetch_add(&rev, 1); }
uint64_t live_rev(void) { return atomic_load(&rev); }

void live_log(const char *direction, const char *kind, const char *pk, const char *dn, const char *task_id,
              const char *topic, const void *payload, size_t len)
{
    size_t keep = len > LIVE_PAYLOAD_MAX ? LIVE_PAYLOAD_MAX : len;
    if ((task_id && *task_id) || (pk && *pk))
        timeline_add_message(direction, kind, task_id, pk, dn, topic, payload, len);
    size_t tlen = strlen(topic);
    char *mem = malloc(tlen + 1 + keep + 1);
    if (!mem)
        return;
    memcpy(mem, topic, tlen + 1);
    if (keep)
        memcpy(mem + tlen + 1, payload, keep);
    mem[tlen + 1 + keep] = '\0';
    int64_t at_ms = clock_now_ms();

    pthread_mutex_lock(&lock);
    entry *e = &ring[++last_seq % LIVE_LOG_CAPACITY];
    free(e->topic);
    e->seq = last_seq;
    e->at_ms = at_ms;
    copy_text(e->direction, sizeof e->direction, direction);
    copy_text(e->kind, sizeof e->kind, kind);
    copy_text(e->pk, sizeof e->pk, pk);
    copy_text(e->dn, sizeof e->dn, dn);
    copy_text(e->task, sizeof e->task, task_id);
    e->topic = mem;
    e->payload = mem + tlen + 1;
    e->payload_len = keep;
    e->truncated = keep < len;
    pthread_mutex_unlock(&lock);
    live_changed();
}

/* Payload as a JSON string (valid UTF-8 assumed; bytes that are not become
 * U+FFFD through cJSON's own handling of what it is given). */
static cJSON *entry_json(const entry *e)
{
    cJSON *o = cJSON_CreateObject();
    char when[40];
    time_t s = (time_t)(e->at_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03dZ", (int)(e->at_ms % 1000));
    cJSON_AddNumberToObject(o, "seq", (double)e->seq);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "direction", e->direction);
    cJSON_AddStringToObject(o, "kind", e->kind);
    cJSON_AddStringToObject(o, "productKey", e->pk);
    cJSON_AddStringToObject(o, "deviceName", e->dn);
    if (e->task[0])
        cJSON_AddStringToObject(o, "taskId", e->task);
    else
        cJSON_AddNullToObject(o, "taskId");
    cJSON_AddStringToObject(o, "topic", e->topic);
    cJSON_AddStringToObject(o, "payload", e->payload);
    cJSON_AddBoolToObject(o, "truncated", e->truncated);
    return o;
}

cJSON *live_messages(uint64_t after, const char *task_id, const char *pk, const char *dn, int limit,
                     uint64_t *next)
{
    cJSON *items = cJSON_CreateArray();
    pthread_mutex_lock(&lock);
    uint64_t first = last_seq > LIVE_LOG_CAPACITY ? last_seq - LIVE_LOG_CAPACITY + 1 : 1;
    if (after + 1 > first)
        first = after + 1;
    uint64_t seen = after;
    int count = 0;
    for (uint64_t seq = first; seq <= last_seq && count < limit; seq++) {
        const entry *e = &ring[seq % LIVE_LOG_CAPACITY];
        seen = seq;
        if ((task_id && strcmp(task_id, e->task)) || (pk && strcmp(pk, e->pk)) || (dn && strcmp(dn, e->dn)))
            continue;
        cJSON_AddItemToArray(items, entry_json(e));
        count++;
    }
    pthread_mutex_unlock(&lock);
    *next = seen;
    return items;
}

void live_free(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < LIVE_LOG_CAPACITY; i++) {
        free(ring[i].topic);
        ring[i].topic = NULL;
    }
    pthread_mutex_unlock(&lock);
}
