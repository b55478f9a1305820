/*
 * push_faults.c - publishing a push through its faults (see
 * push_faults.h).
 */
#include "push_faults.h"
#include "clock.h"
#include "kick.h"
#include "log.h"
#include "mqtt_link.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DELAYED_MAX 256

typedef struct {
    char *topic, *msg;
    size_t len;
    int64_t at_ms;
} delayed;

static delayed queue[DELAYED_MAX];
static int queued;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int later(const char *topic, const char *msg, size_t len, int64_t at_ms)
{
    char *t = strdup(topic), *m = malloc(len + 1);
    pthread_mutex_lock(&lock);
    int ok = t && m && queued < DELAYED_MAX;
    if (ok) {
        memcpy(m, msg, len);
        m[len] = '\0';
        queue[queued++] = (delayed){t, m, len, at_ms};
    }
    pthread_mutex_unlock(&lock);
    if (!ok) {
        free(t);
        free(m);
        log_msg(LOG_WARN, "a delayed push could not be kept; sent now");
        return mqtt_link_publish(topic, msg, len, 1);
    }
    return 0;
}

int push_publish(const char *topic, const char *msg, size_t len, const char *pk, const char *dn, const fault_push *f)
{
    if (!f || !f->any)
        return mqtt_link_publish(topic, msg, len, 1);
    if (f->drop)
        return 0;
    int rc = f->delay_ms > 0 ? later(topic, msg, len, clock_now_ms() + f->delay_ms)
                             : mqtt_link_publish(topic, msg, len, 1);
    if (rc == 0 && f->duplicate)
        rc = mqtt_link_publish(topic, msg, len, 1);
    if (rc == 0 && f->disconnect)
        kick_device(pk, dn);
    return rc;
}

void push_faults_flush(int64_t now_ms)
{
    delayed due[DELAYED_MAX];
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < queued;) {
        if (queue[i].at_ms <= now_ms) {
            due[n++] = queue[i];
            queue[i] = queue[--queued];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) {
        mqtt_link_publish(due[i].topic, due[i].msg, due[i].len, 1);
        free(due[i].topic);
        free(due[i].msg);
    }
}
