/*
 * timeline.c - the events of tasks and devices, in order (see
 * timeline.h): a ring under one mutex.
 */
#include "timeline.h"
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    uint64_t seq;
    int64_t at_ms;
    char kind[12], task[48], pk[16], dn[40];
    char detail[1024];
} event;

static event ring[TIMELINE_CAPACITY];
static uint64_t last_seq;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void timeline_add(const char *kind, const char *task, const char *pk, const char *dn, const char *detail)
{
    int64_t at = clock_now_ms();
    pthread_mutex_lock(&lock);
    event *e = &ring[++last_seq % TIMELINE_CAPACITY];
    e->seq = last_seq;
    e->at_ms = at;
    snprintf(e->kind, sizeof e->kind, "%s", kind ? kind : "");
    snprintf(e->task, sizeof e->task, "%s", task ? task : "");
    snprintf(e->pk, sizeof e->pk, "%s", pk ? pk : "");
    snprintf(e->dn, sizeof e->dn, "%s", dn ? dn : "");
    snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "{}");
    pthread_mutex_unlock(&lock);
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
        cJSON *detail = cJSON_Parse(e->detail);
        cJSON_AddItemToObject(o, "detail", detail ? detail : cJSON_CreateString(e->detail));
        cJSON_AddItemToArray(list, o);
    }
    pthread_mutex_unlock(&lock);
    return list;
}
