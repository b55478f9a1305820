/*
 * push.c - send the HaaS upgrade push to the devices of a task (see push.h).
 *
 * States are written in one transaction and each push is published right
 * after its row; answers from devices wait for the database lock, so they
 * are handled after the commit and always find their row in "pushed".
 */
#include "push.h"
#include "db.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "server.h"
#include "validate.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PUSH_TOPIC_FMT "/sys/%s/%s/thing/service/hli_service_upgrade_push"

/* Message ids: decimal, unique per device (and here per emulator run),
 * within 0..4294967295 as the Alink protocol requires. */
static atomic_ulong next_message_id;
static atomic_uint trace_sequence;

static unsigned long message_id(void)
{
    unsigned long expected = 0;
    atomic_compare_exchange_strong(&next_message_id, &expected, (unsigned long)time(NULL) % 1000000000UL);
    return (atomic_fetch_add(&next_message_id, 1) + 1) % 4294967296UL;
}

/* haasTraceId: 8 hex digits of an IPv4 address, 13-digit millisecond time,
 * 4-digit sequence, a flag digit and 4 more digits: 30 characters. */
void push_trace_id(char out[31])
{
    unsigned ip = 0x7f000001u;
    const char *host = strstr(server.cfg.public_url, "://");
    if (host) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", host + 3);
        buf[strcspn(buf, ":/")] = '\0';
        struct in_addr a;
        if (inet_pton(AF_INET, buf, &a) == 1)
            ip = ntohl(a.s_addr);
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long ms = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    unsigned seq = atomic_fetch_add(&trace_sequence, 1) % 10000;
    char buf[64];
    snprintf(buf, sizeof buf, "%08x%013lld%04u1%04u", ip, ms % 10000000000000LL, seq, (unsigned)getpid() % 10000);
    memcpy(out, buf, 30);
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
    char pk[16], dn[40], trace[31];
    unsigned long id;
} push_target;

typedef struct {
    char app_id[20], version[32], object[300], md5[40];
    long long size;
    long parts[3];
} package_info;

/* Reads the task's package; 0, or -1 when the task or version is gone. */
static int load_package(sqlite3 *db, const char *task_id, package_info *p, char *group, size_t glen)
{
    sqlite3_stmt *st = db_cached(db, "SELECT t.app_id, t.version, t.group_id, v.object_key, v.size, v.md5 "
                                      "FROM tasks t JOIN versions v ON v.app_id = t.app_id AND v.version = t.version "
                                      "WHERE t.task_id = ?");
    int found = 0;
    if (st) {
        sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(p->app_id, sizeof p->app_id, "%s", db_text(st, 0));
            snprintf(p->version, sizeof p->version, "%s", db_text(st, 1));
            if (group)
                snprintf(group, glen, "%s", db_text(st, 2));
            snprintf(p->object, sizeof p->object, "%s", db_text(st, 3));
            p->size = sqlite3_column_int64(st, 4);
            snprintf(p->md5, sizeof p->md5, "%s", db_text(st, 5));
            found = version_parse(p->version, p->parts);
        }
        db_done(st);
    }
    return found ? 0 : -1;
}

/* Signs the package URL handed to devices (valid for --url-ttl). */
static int sign_url(const package_info *p, char *url, size_t len)
{
    return oss_sign_url(&server.signer, p->object, (long long)time(NULL) + server.cfg.url_ttl, url, len);
}

/* Publishes one push of task_id (and logs it for the console); 0 or -1. */
static int send_one(const package_info *p, const char *url, const push_target *t, const char *task_id)
{
    char msg[2048], topic[128];
    int len = push_build_message(msg, sizeof msg, t->id, p->app_id, p->version, p->size, p->md5, url, t->trace);
    snprintf(topic, sizeof topic, PUSH_TOPIC_FMT, t->pk, t->dn);
    if (len < 0 || mqtt_link_publish(topic, msg, (size_t)len, 1) < 0)
        return -1;
    live_log("out", "push", t->pk, t->dn, task_id, topic, msg, (size_t)len);
    return 0;
}

int push_task(const char *task_id, push_counts *counts)
{
    memset(counts, 0, sizeof *counts);
    if (!mqtt_link_connected())
        return -2;
    package_info p;
    char group[48], url[1400];
    sqlite3 *db = db_lock();
    if (load_package(db, task_id, &p, group, sizeof group) < 0) {
        db_unlock();
        return -1;
    }
    if (sign_url(&p, url, sizeof url) < 0) {
        db_unlock();
        return -3;
    }
    sqlite3_stmt *members = db_prepare(db,
        "SELECT m.product_key, m.device_name, d.status, "
        "(SELECT a.version FROM device_apps a WHERE a.product_key = m.product_key "
        "   AND a.device_name = m.device_name AND a.app_id = ?2) "
        "FROM group_members m JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name "
        "WHERE m.group_id = ?1");
    /* All states in one statement, computed in SQL the same way as below in
     * C (version_cmp is registered by db.c); re-pushed rows are updated in
     * place. */
    sqlite3_stmt *record = db_prepare(db,
        "INSERT INTO task_devices(task_id, product_key, device_name, state, code, trace_id, updated_at) "
        "SELECT ?1, m.product_key, m.device_name, "
        "  CASE WHEN d.status != 'online' THEN 'offline' "
        "       WHEN a.version IS NOT NULL AND version_cmp(a.version, ?3) >= 0 THEN 'upToDate' "
        "       ELSE 'pushed' END, NULL, NULL, ?4 "
        "FROM group_members m JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name "
        "LEFT JOIN device_apps a ON a.product_key = m.product_key AND a.device_name = m.device_name "
        "  AND a.app_id = ?2 "
        "WHERE m.group_id = ?5 "
        "ON CONFLICT(task_id, product_key, device_name) DO UPDATE SET "
        /* a device that already succeeded in this task stays succeeded */
        "state = CASE WHEN task_devices.state = 'succeeded' AND excluded.state = 'upToDate' "
        "             THEN 'succeeded' ELSE excluded.state END, "
        "code = CASE WHEN task_devices.state = 'succeeded' AND excluded.state = 'upToDate' "
        "            THEN task_devices.code ELSE NULL END, "
        "trace_id = NULL, updated_at = excluded.updated_at");
    int ok = members && record && db_exec(db, "BEGIN IMMEDIATE") == 0;
    long long now = time(NULL);
    if (ok) {
        sqlite3_bind_text(members, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(members, 2, p.app_id, -1, SQLITE_STATIC);
    }
    /* First every push goes out, then the states are written: a device's
     * answer needs the database lock we hold until the commit, so it is
     * handled afterwards and always finds its "pushed" row. Publishing first
     * lets the broker deliver while we write. (The per-device trace ids are
     * in the messages only.) */
    int n = 0;
    while (ok && sqlite3_step(members) == SQLITE_ROW) {
        n++;
        if (strcmp(db_text(members, 2), "online") != 0) {
            counts->offline++;
            continue;
        }
        long known[3];
        if (version_parse(db_text(members, 3), known) && version_compare(known, p.parts) >= 0) {
            counts->up_to_date++;
            continue;
        }
        push_target t;
        snprintf(t.pk, sizeof t.pk, "%s", db_text(members, 0));
        snprintf(t.dn, sizeof t.dn, "%s", db_text(members, 1));
        push_trace_id(t.trace);
        t.id = message_id();
        counts->pushed++;
        if (send_one(&p, url, &t, task_id) < 0)
            counts->failed_to_send++;
    }
    if (ok) {
        sqlite3_bind_text(record, 1, task_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(record, 2, p.app_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(record, 3, p.version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(record, 4, now);
        sqlite3_bind_text(record, 5, group, -1, SQLITE_STATIC);
        ok = sqlite3_step(record) == SQLITE_DONE && sqlite3_changes(db) == n;
    }
    if (ok)
        ok = db_change(db, "UPDATE tasks SET pushed_at = strftime('%s','now'), push_count = push_count + 1 "
                           "WHERE task_id = ?", task_id, NULL) == 1;
    if (ok)
        ok = db_exec(db, "COMMIT") == 0;
    else
        db_exec(db, "ROLLBACK");
    sqlite3_finalize(members);
    sqlite3_finalize(record);
    db_unlock();
    if (!ok)
        return -3;
    if (counts->failed_to_send)
        log_msg(LOG_WARN, "task %s: %d of %d pushes could not be sent", task_id, counts->failed_to_send,
                counts->pushed);
    log_msg(LOG_INFO, "task %s pushed: %d pushed, %d offline, %d up to date", task_id, counts->pushed,
            counts->offline, counts->up_to_date);
    return 0;
}

int push_on_query(const char *pk, const char *dn, const char *app_id, const char *version)
{
    long reported[3];
    if (!version_parse(version, reported))
        return 0;
    sqlite3 *db = db_lock();
    /* The newest version offered to this device by a pushed task of one of
     * its groups, unless the device already finished that task. */
    sqlite3_stmt *st = db_cached(db,
        "SELECT t.task_id FROM tasks t "
        "JOIN versions v ON v.app_id = t.app_id AND v.version = t.version "
        "JOIN group_members m ON m.group_id = t.group_id AND m.product_key = ?1 AND m.device_name = ?2 "
        "LEFT JOIN task_devices td ON td.task_id = t.task_id AND td.product_key = ?1 AND td.device_name = ?2 "
        "WHERE t.app_id = ?3 AND t.pushed_at IS NOT NULL AND v.status = 'testing' "
        "AND COALESCE(td.state, 'pending') NOT IN ('succeeded', 'failed') "
        "ORDER BY v.v_major DESC, v.v_minor DESC, v.v_patch DESC, t.pushed_at DESC LIMIT 1");
    char task_id[48] = "";
    if (st) {
        sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, app_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(task_id, sizeof task_id, "%s", db_text(st, 0));
        db_done(st);
    }
    package_info p;
    int due = task_id[0] && load_package(db, task_id, &p, NULL, 0) == 0 && version_compare(p.parts, reported) > 0;
    push_target t;
    if (due) {
        snprintf(t.pk, sizeof t.pk, "%s", pk);
        snprintf(t.dn, sizeof t.dn, "%s", dn);
        push_trace_id(t.trace);
        t.id = message_id();
        sqlite3_stmt *rec = db_cached(db,
            "INSERT OR REPLACE INTO task_devices(task_id, product_key, device_name, state, code, trace_id, updated_at) "
            "VALUES (?, ?, ?, 'pushed', NULL, ?, strftime('%s','now'))");
        due = rec != NULL;
        if (rec) {
            sqlite3_bind_text(rec, 1, task_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(rec, 2, pk, -1, SQLITE_STATIC);
            sqlite3_bind_text(rec, 3, dn, -1, SQLITE_STATIC);
            sqlite3_bind_text(rec, 4, t.trace, -1, SQLITE_STATIC);
            due = sqlite3_step(rec) == SQLITE_DONE;
            db_done(rec);
        }
    }
    db_unlock();
    char url[1400];
    if (!due || sign_url(&p, url, sizeof url) < 0)
        return 0;
    int failed = send_one(&p, url, &t, task_id) < 0;
    log_msg(LOG_INFO, "%s/%s asked with %s %s: pushed %s of task %s", pk, dn, app_id, version, p.version, task_id);
    return failed ? -1 : 1;
}
