/*
 * timeline.c - the events of tasks and devices, in order (see
 * timeline.h): a ring under one mutex.
 */
#include "timeline.h"
#include "clock.h"
#include "identifiers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An event. Its detail is allocated to its size (most are a few hundred
 * bytes, against the 1 KiB the largest may take: a ring of fixed slots
 * held 19 MB at 10,000 devices); NULL when that allocation failed. A
 * message's (timeline_add_message) keeps its topic and payload as they
 * came, "topic\0payload", made JSON only when read: the MQTT link adds one
 * per message and must not spend its time encoding JSON nobody may ask
 * for. */
typedef struct {
    uint64_t seq;
    int64_t at_ms;
    char kind[12], task[48], pk[16], dn[40];
    bool message;
    char direction[4], message_kind[16];
    size_t payload_len;
    char *detail;
} event;

/* The most a timeline_add detail keeps (the rest is cut). */
#define DETAIL_MAX 1023

static event ring[TIMELINE_CAPACITY];
static uint64_t last_seq;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The next slot of the ring, filled with what every event has; the caller
 * holds the lock. */
static event *next_event(const char *kind, const char *task, const char *pk, const char *dn, int64_t at)
{
    event *e = &ring[++last_seq % TIMELINE_CAPACITY];
    free(e->detail); /* the event this one replaces */
    e->detail = NULL;
    e->seq = last_seq;
    e->at_ms = at;
    e->message = false;
    snprintf(e->kind, sizeof e->kind, "%s", kind ? kind : "");
    snprintf(e->task, sizeof e->task, "%s", task ? task : "");
    snprintf(e->pk, sizeof e->pk, "%s", pk ? pk : "");
    snprintf(e->dn, sizeof e->dn, "%s", dn ? dn : "");
    return e;
}

/* a ... a + alen, a NUL, then b ... b + blen and a NUL, in new memory (or
 * NULL) */
static char *joined(const char *a, size_t alen, const void *b, size_t blen)
{
    char *mem = malloc(alen + 1 + blen + 1);
    if (!mem)
        return NULL;
    memcpy(mem, a, alen);
    mem[alen] = '\0';
    if (blen)
        memcpy(mem + alen + 1, b, blen);
    mem[alen + 1 + blen] = '\0';
    return mem;
}

void timeline_add(const char *kind, const char *task, const char *pk, const char *dn, const char *detail)
{
    int64_t at = clock_now_ms();
    detail = detail ? detail : "{}";
    char *copy = joined(detail, strnlen(detail, DETAIL_MAX), NULL, 0);
    pthread_mutex_lock(&lock);
    event *e = next_event(kind, task, pk, dn, at);
    e->detail = copy;
    pthread_mutex_unlock(&lock);
}

void timeline_add_message(const char *direction, const char *kind, const char *task, const char *pk, const char *dn,
                          const char *topic, const void *payload, size_t len)
{
    int64_t at = clock_now_ms();
    size_t keep = payload && len > TIMELINE_PAYLOAD_MAX ? TIMELINE_PAYLOAD_MAX : payload ? len : 0;
    char *copy = joined(topic, strnlen(topic, TIMELINE_TOPIC_MAX), payload, keep);
    pthread_mutex_lock(&lock);
    event *e = next_event(!strcmp(kind, "fault") ? "fault" : "mqtt", task, pk, dn, at);
    e->message = true;
    snprintf(e->direction, sizeof e->direction, "%s", direction);
    snprintf(e->message_kind, sizeof e->message_kind, "%s", kind);
    e->detail = copy;
    e->payload_len = copy ? keep : 0;
    pthread_mutex_unlock(&lock);
}

void timeline_free(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < TIMELINE_CAPACITY; i++) {
        free(ring[i].detail);
        ring[i].detail = NULL;
    }
    pthread_mutex_unlock(&lock);
}

/* A message event's detail: direction, kind, topic and the valid UTF-8
 * beginning of its payload (cut at a NUL). */
static cJSON *message_detail(const event *e)
{
    cJSON *o = cJSON_CreateObject();
    char text[TIMELINE_PAYLOAD_MAX + 1];
    const char *topic = e->detail ? e->detail : "";
    const char *payload = e->detail ? e->detail + strlen(e->detail) + 1 : "";
    memcpy(text, payload, e->payload_len);
    text[e->payload_len] = '\0';
    text[utf8_valid_prefix(text, strlen(text))] = '\0';
    cJSON_AddStringToObject(o, "direction", e->direction);
    cJSON_AddStringToObject(o, "kind", e->message_kind);
    cJSON_AddStringToObject(o, "topic", topic);
    cJSON_AddStringToObject(o, "payload", text);
    return o;
}

/* Does event e belong to what was asked? */
static int wanted(const event *e, const char *task, const char *pk, const char *dn)
{
    return (!task || !strcmp(e->task, task)) && (!pk || !strcmp(e->pk, pk)) && (!dn || !strcmp(e->dn, dn));
}

cJSON *timeline_json(const char *task, const char *pk, const char *dn)
{
    cJSON *list = cJSON_CreateArray();
    pthread_mutex_lock(&lock);
    uint64_t first = last_seq > TIMELINE_CAPACITY ? last_seq - TIMELINE_CAPACITY + 1 : 1;
    for (uint64_t seq = first; seq <= last_seq; seq++) {
        const event *e = &ring[seq % TIMELINE_CAPACITY];
        if (!wanted(e, task, pk, dn))
            continue;
        cJSON *o = cJSON_CreateObject();
        char at[80];
        time_t secs = (time_t)(e->at_ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(e->at_ms % 1000));
        cJSON_AddNumberToObject(o, "seq", (double)e->seq);
        cJSON_AddStringToObject(o, "at", at);
        cJSON_AddStringToObject(o, "kind", e->kind);
        cJSON_AddStringToObject(o, "taskId", e->task);
        cJSON_AddStringToObject(o, "productKey", e->pk);
        cJSON_AddStringToObject(o, "deviceName", e->dn);
        const char *text = e->detail ? e->detail : "{}";
        cJSON *detail = e->message ? message_detail(e) : cJSON_Parse(text);
        cJSON_AddItemToObject(o, "detail", detail ? detail : cJSON_CreateString(text));
        cJSON_AddItemToArray(list, o);
    }
    pthread_mutex_unlock(&lock);
    return list;
}
