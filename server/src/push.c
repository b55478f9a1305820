/*
 * push.c - send the HaaS upgrade push to the devices of a task (see push.h).
 *
 * service_task_push walks the task's group in one transaction and calls
 * back here for each device due a push; the URL is signed once per push.
 */
#include "clock.h"
#include "copy_text.h"
#include "push.h"
#include "push_faults.h"
#include "timeline.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "server.h"
#include "topics.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


/* Message ids: decimal, unique per device (and here per emulator run),
 * within 0..4294967295 as the Alink protocol requires. */
static atomic_ulong next_message_id;
static atomic_uint trace_sequence;

unsigned long push_message_id(void)
{
    unsigned long expected = 0;
    atomic_compare_exchange_strong(&next_message_id, &expected, (unsigned long)clock_now() % 1000000000UL);
    return (atomic_fetch_add(&next_message_id, 1) + 1) % 4294967296UL;
}

/* The IPv4 address of --public-url's host as a number (127.0.0.1 when the
 * host is a name): found once, as every push asks for it. The host part
 * never changes once the emulator has started (only a port 0 is filled in). */
static unsigned public_ip(void)
{
    static atomic_uint cached; /* the address + 1, 0 until found */
    unsigned found = atomic_load(&cached);
    if (found)
        return found - 1;
    unsigned ip = 0x7f000001u;
    const char *host = strstr(server.cfg.public_url, "://");
    if (host) {
        char buf[64];
        copy_text(buf, sizeof buf, host + 3);
        buf[strcspn(buf, ":/")] = '\0';
        struct in_addr a;
        if (inet_pton(AF_INET, buf, &a) == 1)
            ip = ntohl(a.s_addr);
    }
    if (ip != UINT_MAX) /* 255.255.255.255 is simply found each time */
        atomic_store(&cached, ip + 1);
    return ip;
}

/* Writes v as n digits of base 10 or 16 (leading zeros, the low digits
 * when it has more). */
static void put_digits(char *out, unsigned long long v, int n, unsigned base)
{
    for (int i = n - 1; i >= 0; i--, v /= base)
        out[i] = "0123456789abcdef"[v % base];
}

/* haasTraceId: 8 hex digits of an IPv4 address, 13-digit millisecond time,
 * 4-digit sequence, a flag digit and 4 more digits: 30 characters. */
void push_trace_id(char out[31])
{
    unsigned long long ms = (unsigned long long)clock_now_ms();
    unsigned seq = atomic_fetch_add(&trace_sequence, 1) % 10000;
    /* the last 4 digits: the process id, or 0 when the run must repeat
     * byte for byte (a virtual clock) */
    static atomic_uint pid; /* getpid() is a system call; it never changes */
    if (!atomic_load(&pid))
        atomic_store(&pid, (unsigned)getpid());
    unsigned tail = clock_is_virtual() ? 0 : atomic_load(&pid) % 10000;
    put_digits(out, public_ip(), 8, 16);
    put_digits(out + 8, ms % 10000000000000ULL, 13, 10);
    put_digits(out + 21, seq, 4, 10);
    out[25] = '1';
    put_digits(out + 26, tail, 4, 10);
    out[30] = '\0';
}

int push_build_message(char *out, size_t outlen, unsigned long id, const char *app_id, const char *version,
                       long long size, const char *md5, const char *url, const char *trace)
{
    int n = snprintf(out, outlen,
                     "{\"id\":\"%lu\",\"version\":\"1.0\",\"method\":\"thing.service.hli_service_upgrade_push\","
                     "\"params\":{\"app\":[{\"size\":%lld,\"appId\":\"%s\",\"rollingBack\":0,\"version\":\"%s\","
                     "\"url\":\"%s\",\"md5\":\"%s\",\"needRestart\":0}],\"appUpdateCount\":1,\"errorCode\":\"200\","
                     "\"needUpdateFirmware\":0,\"haasTraceId\":\"%s\"}}",
                     id, size, app_id, version, url, md5, trace);
    return (n < 0 || (size_t)n >= outlen) ? -1 : n;
}

typedef struct {
    char pk[STORE_PK_SIZE], dn[STORE_DN_SIZE], trace[31];
    unsigned long id;
} push_target;

/* Signs the package URL handed to devices (valid for --url-ttl). */
static int sign_url(const store_version *p, char *url, size_t len)
{
    return oss_sign_url(&server.signer, p->object_key, (long long)clock_now() + server.cfg.url_ttl, url, len);
}

/* Publishes one push of task_id (and logs it for the console); 0 or -1. */
static int send_one(const store_version *p, const char *url, const push_target *t, const char *task_id)
{
    char msg[2048], topic[TOPIC_MAX], md5[STORE_MD5_SIZE];
    fault_push f = {.any = false};
    if (faults_active())
        faults_on_push(t->pk, t->dn, task_id, &f);
    snprintf(md5, sizeof md5, "%s", p->md5);
    if (f.wrong_md5)
        md5[0] = md5[0] == '0' ? '1' : '0'; /* another MD5 than the package's */
    int len = push_build_message(msg, sizeof msg, t->id, p->app_id, p->version, (long long)p->size + f.wrong_size,
                                 md5, url, t->trace);
    if (len < 0 || topic_service(topic, sizeof topic, t->pk, t->dn, SERVICE_UPGRADE_PUSH) < 0 ||
        push_publish(topic, msg, (size_t)len, t->pk, t->dn, &f) < 0)
        return -1;
    live_log("out", "push", t->pk, t->dn, task_id, topic, msg, (size_t)len);
    timeline_add("state", task_id, t->pk, t->dn, "{\"state\":\"pushed\"}");
    return 0;
}

/* A new target: the device, a fresh trace id and message id. */
static void make_target(push_target *t, const char *pk, const char *dn)
{
    copy_text(t->pk, sizeof t->pk, pk);
    copy_text(t->dn, sizeof t->dn, dn);
    push_trace_id(t->trace);
    t->id = push_message_id();
}

/* A task's push: the package URL, signed once for all its devices, and
 * how many messages are held for the link (mqtt_link_hold). */
typedef struct {
    char url[1400];
    int signed_ok; /* 1 signed, -1 signing failed, 0 not yet */
    int held;
} push_url;

/* The link thread is woken once per this many pushes, not for each. */
#define PUSH_HANDOVER 64

/* service_push_fn: publishes the push to one device. */
static int publish(const store_version *pkg, const char *pk, const char *dn, const char *task_id, void *ctx)
{
    push_url *u = ctx;
    if (!u->signed_ok)
        u->signed_ok = sign_url(pkg, u->url, sizeof u->url) == 0 ? 1 : -1;
    push_target t;
    make_target(&t, pk, dn);
    if (u->held++ == 0)
        mqtt_link_hold();
    int rc = u->signed_ok > 0 ? send_one(pkg, u->url, &t, task_id) : -1;
    if (u->held == PUSH_HANDOVER) {
        mqtt_link_release();
        u->held = 0;
    }
    return rc;
}

int push_app_to(const char *pk, const char *dn, const store_version *v, const char *ref_id)
{
    char url[1400];
    push_target t;
    make_target(&t, pk, dn);
    if (sign_url(v, url, sizeof url) < 0)
        return -1;
    return send_one(v, url, &t, ref_id);
}

service_status push_task(const char *task_id, service_push_counts *counts, service_result *res)
{
    memset(counts, 0, sizeof *counts);
    if (!mqtt_link_connected())
        return service_fail(res, SERVICE_UNAVAILABLE, "BrokerUnavailable",
                            "the MQTT link to the broker is down; try again");
    push_url url = {"", 0, 0};
    service_status st = service_task_push(task_id, publish, &url, counts, res);
    if (url.held)
        mqtt_link_release();
    if (st != SERVICE_OK)
        return res->status;
    if (counts->failed_to_send)
        log_msg(LOG_WARN, "task %s: %d of %d pushes could not be sent", task_id, counts->failed_to_send,
                counts->pushed);
    log_msg(LOG_INFO, "task %s pushed: %d pushed, %d offline, %d up to date", task_id, counts->pushed,
            counts->offline, counts->up_to_date);
    return SERVICE_OK;
}

int push_on_query(const char *pk, const char *dn, const char *app_id, const char *version)
{
    char task_id[STORE_ID_SIZE], url[1400];
    store_version p;
    push_target t;
    service_result res;
    if (service_task_due(pk, dn, app_id, version, task_id, &p, &res) != SERVICE_OK)
        return res.status == SERVICE_NOT_FOUND ? 0 : -1;
    make_target(&t, pk, dn);
    if (service_task_pushed(task_id, pk, dn, t.trace, &res) != SERVICE_OK || sign_url(&p, url, sizeof url) < 0)
        return 0;
    int failed = send_one(&p, url, &t, task_id) < 0;
    log_msg(LOG_INFO, "%s/%s asked with %s %s: pushed %s of task %s", pk, dn, app_id, version, p.version, task_id);
    return failed ? -1 : 1;
}
