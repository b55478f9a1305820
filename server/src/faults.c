/*
 * faults.c - fault injection rules (see faults.h).
 *
 * The rules are a small array under one mutex; `enabled_rules` counts the
 * enabled ones so that every hook returns at once when there are none.
 * Each hook walks the rules of its kind, checks scope and trigger, and
 * merges what fired into the caller's plan; a firing is counted, logged
 * and put into the console's message log.
 */
#include "faults.h"
#include "broker.h"
#include "clock.h"
#include "ids.h"
#include "kick.h"
#include "live.h"
#include "log.h"
#include "service_devices.h"
#include "store_device_ip.h"
#include "store_push.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAULTS_MAX 64

typedef enum {
    /* downloads */
    A_HTTP_STATUS, A_DELAY, A_BANDWIDTH, A_TRUNCATE, A_CORRUPT, A_STALL, A_WRONG_LENGTH, A_REFUSE_RANGE,
    /* MQTT */
    A_DROP_PUSH, A_DELAY_PUSH, A_DUPLICATE_PUSH, A_WRONG_MD5, A_WRONG_SIZE, A_DISCONNECT, A_REFUSE_LOGIN,
    A_DROP_RESULT, A_RESTART_BROKER,
    A_COUNT
} action;

static const char *const ACTION_NAMES[A_COUNT] = {
    "httpStatus", "delay",       "bandwidth", "truncate",   "corrupt",     "stall",         "wrongLength",
    "refuseRange", "dropPush",   "delayPush", "duplicatePush", "wrongMd5", "wrongSize",    "disconnect",
    "refuseLogin", "dropResult", "restartBroker"};

typedef enum { T_ALWAYS, T_TIMES, T_PROBABILITY, T_FROM } trigger;
typedef enum { W_CONNECT, W_PUSH, W_DOWNLOAD, W_SUBSCRIBE } moment;

typedef struct {
    char id[16];
    bool used, enabled;
    action act;
    int64_t value, value2; /* status / ms / bytes per second / offset; count / stall ms / logins */
    moment when;           /* disconnect */
    char pk[16], dn[40], task[48];
    char object[128];      /* the package of task, looked up when the rule was made ("" none) */
    trigger trig;
    int64_t times_left;
    double probability;
    int64_t from_ms;
    long fired;
    int64_t refused;       /* refuseLogin: logins refused so far */
    bool holding;          /* refuseLogin: the device is held disabled */
    char armed_pk[16], armed_dn[40]; /* disconnect when=subscribe: the device connected, not yet heard from */
    cJSON *json;           /* the rule as given */
} rule;

static rule rules[FAULTS_MAX];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int enabled_rules;
static int next_id = 1;

bool faults_active(void) { return atomic_load_explicit(&enabled_rules, memory_order_relaxed) > 0; }

/* Counts the enabled rules again (lock held). */
static void recount(void)
{
    int n = 0;
    for (int i = 0; i < FAULTS_MAX; i++)
        n += rules[i].used && rules[i].enabled;
    atomic_store(&enabled_rules, n);
}

/* Does the trigger let rule r fire now? Consumes a "times". (lock held) */
static bool triggered(rule *r)
{
    switch (r->trig) {
    case T_TIMES:
        if (r->times_left <= 0)
            return false;
        r->times_left--;
        return true;
    case T_PROBABILITY: {
        unsigned char b[4];
        ids_bytes(b, sizeof b);
        uint32_t x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        return (double)x / 4294967296.0 < r->probability;
    }
    case T_FROM:
        return clock_now_ms() >= r->from_ms;
    default:
        return true;
    }
}

/* A firing: counted, logged, shown in the message log. (lock held) */
static void fired(rule *r, const char *pk, const char *dn, const char *task, const char *what)
{
    r->fired++;
    char text[300];
    int n = snprintf(text, sizeof text, "{\"faultId\":\"%s\",\"action\":\"%s\",\"did\":\"%s\"}", r->id,
                     ACTION_NAMES[r->act], what);
    log_msg(LOG_INFO, "fault %s (%s) fired%s%s%s: %s", r->id, ACTION_NAMES[r->act], pk && *pk ? " for " : "",
            pk ? pk : "", dn && *dn ? "/" : "", what);
    live_log("out", "fault", pk ? pk : "", dn ? dn : "", task ? task : "", "(fault)", text, (size_t)n);
}

/* Does the scope of r take device pk/dn in task? (lock held) */
static bool in_scope(const rule *r, const char *pk, const char *dn, const char *task)
{
    return (!r->pk[0] || (pk && !strcmp(r->pk, pk))) && (!r->dn[0] || (dn && !strcmp(r->dn, dn))) &&
           (!r->task[0] || (task && !strcmp(r->task, task)));
}

/* The device scopes one download was matched against already: a rule's
 * product/device looked up once per request, not once per rule. */
typedef struct {
    struct {
        const char *pk, *dn;
        bool match;
    } seen[8];
    int n;
} ip_cache;

/* A download's scope: the task's package is object; the device is the one
 * (or one of the product's) last seen at ip. (lock held) */
static bool download_in_scope(const rule *r, const char *object, const char *ip, ip_cache *c)
{
    if (r->task[0] && strcmp(r->object, object) != 0)
        return false;
    if (!r->pk[0])
        return true;
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->seen[i].pk, r->pk) && !strcmp(c->seen[i].dn, r->dn))
            return c->seen[i].match;
    bool match = false;
    if (store_device_at_ip(r->pk, r->dn[0] ? r->dn : NULL, ip, &match) != STORE_OK)
        match = false;
    if (c->n < 8)
        c->seen[c->n].pk = r->pk, c->seen[c->n].dn = r->dn, c->seen[c->n++].match = match;
    return match;
}

/* Applies download rule r to *out. */
static const char *apply_download(const rule *r, fault_download *out)
{
    switch (r->act) {
    case A_HTTP_STATUS: out->status = (int)r->value; return "answered with an error status";
    case A_DELAY: out->delay_ms = r->value; return "delayed the first byte";
    case A_BANDWIDTH: out->bytes_per_s = r->value; return "capped the bandwidth";
    case A_TRUNCATE: out->truncate_at = r->value; return "cut the body and closed the connection";
    case A_CORRUPT: out->corrupt_at = r->value, out->corrupt_count = r->value2; return "corrupted bytes";
    case A_STALL: out->stall_at = r->value, out->stall_ms = r->value2; return "stalled the body";
    case A_WRONG_LENGTH: out->extra_length = r->value; return "announced a wrong Content-Length";
    case A_REFUSE_RANGE: out->refuse_range = true; return "refused the Range";
    default: return NULL;
    }
}

bool faults_on_download(const char *object, const char *client_ip, fault_download *out)
{
    memset(out, 0, sizeof *out);
    out->truncate_at = out->corrupt_at = out->stall_at = -1;
    if (!faults_active())
        return false;
    char kick_pk[16] = "", kick_dn[40] = "";
    ip_cache cache = {.n = 0};
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        rule *r = &rules[i];
        bool download_rule = r->act <= A_REFUSE_RANGE || (r->act == A_DISCONNECT && r->when == W_DOWNLOAD);
        if (!r->used || !r->enabled || !download_rule || !download_in_scope(r, object, client_ip, &cache) ||
            !triggered(r))
            continue;
        const char *what = apply_download(r, out);
        if (r->act == A_DISCONNECT && r->dn[0]) {
            snprintf(kick_pk, sizeof kick_pk, "%s", r->pk);
            snprintf(kick_dn, sizeof kick_dn, "%s", r->dn);
            what = "disconnected the device mid-download";
        }
        fired(r, r->pk, r->dn, r->task, what ? what : "");
        out->any = true;
    }
    pthread_mutex_unlock(&lock);
    if (kick_dn[0])
        kick_device(kick_pk, kick_dn);
    return out->any;
}

bool faults_on_push(const char *pk, const char *dn, const char *task_id, fault_push *out)
{
    memset(out, 0, sizeof *out);
    if (!faults_active())
        return false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        rule *r = &rules[i];
        bool push_rule = (r->act >= A_DROP_PUSH && r->act <= A_WRONG_SIZE) ||
                         (r->act == A_DISCONNECT && r->when == W_PUSH);
        if (!r->used || !r->enabled || !push_rule || !in_scope(r, pk, dn, task_id) || !triggered(r))
            continue;
        const char *what = r->act == A_DROP_PUSH        ? (out->drop = true, "dropped the push")
                           : r->act == A_DUPLICATE_PUSH ? (out->duplicate = true, "sent the push twice")
                           : r->act == A_WRONG_MD5      ? (out->wrong_md5 = true, "sent a wrong MD5")
                           : r->act == A_WRONG_SIZE     ? (out->wrong_size = true, "sent a wrong size")
                           : r->act == A_DELAY_PUSH     ? (out->delay_ms = r->value, "delayed the push")
                                                        : (out->disconnect = true, "disconnected the device after the push");
        fired(r, pk, dn, task_id, what);
        out->any = true;
    }
    pthread_mutex_unlock(&lock);
    return out->any;
}

bool faults_on_connect(const char *pk, const char *dn)
{
    bool kick = false;
    if (!faults_active())
        return false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        rule *r = &rules[i];
        if (!r->used || !r->enabled || r->act != A_DISCONNECT || !in_scope(r, pk, dn, NULL))
            continue;
        if (r->when == W_SUBSCRIBE) { /* armed: the first message after its subscriptions */
            snprintf(r->armed_pk, sizeof r->armed_pk, "%s", pk);
            snprintf(r->armed_dn, sizeof r->armed_dn, "%s", dn);
        } else if (r->when == W_CONNECT && triggered(r)) {
            fired(r, pk, dn, "", "disconnected the device at its connect");
            kick = true;
        }
    }
    pthread_mutex_unlock(&lock);
    return kick;
}

bool faults_on_uplink(const char *pk, const char *dn)
{
    bool kick = false;
    if (!faults_active())
        return false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        rule *r = &rules[i];
        if (!r->used || !r->enabled || r->when != W_SUBSCRIBE || r->act != A_DISCONNECT ||
            strcmp(r->armed_pk, pk) || strcmp(r->armed_dn, dn))
            continue;
        r->armed_pk[0] = r->armed_dn[0] = '\0';
        if (triggered(r)) {
            fired(r, pk, dn, "", "disconnected the device after its subscriptions");
            kick = true;
        }
    }
    pthread_mutex_unlock(&lock);
    return kick;
}

bool faults_on_result(const char *pk, const char *dn, const char *task_id)
{
    bool drop = false;
    if (!faults_active())
        return false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        rule *r = &rules[i];
        if (r->used && r->enabled && r->act == A_DROP_RESULT && in_scope(r, pk, dn, task_id) && triggered(r)) {
            fired(r, pk, dn, task_id, "dropped the device's result");
            drop = true;
        }
    }
    pthread_mutex_unlock(&lock);
    return drop;
}

void faults_on_refused(const char *pk, const char *dn)
{
    if (!faults_active())
        return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        rule *r = &rules[i];
        if (r->used && r->holding && !strcmp(r->pk, pk) && !strcmp(r->dn, dn)) {
            r->refused++;
            fired(r, pk, dn, "", "refused a login");
        }
    }
    pthread_mutex_unlock(&lock);
}

/* The devices a tick holds disabled or lets in again. */
typedef struct {
    char hold[FAULTS_MAX][2][40], release[FAULTS_MAX][2][40];
    int nh, nr, restart;
} tick_work;

/* What rule r asks of this tick. (lock held) */
static void tick_rule(rule *r, tick_work *w)
{
    if (r->act == A_REFUSE_LOGIN && !r->holding && r->refused < r->value && triggered(r)) {
        r->holding = true;
        snprintf(w->hold[w->nh][0], 40, "%s", r->pk), snprintf(w->hold[w->nh++][1], 40, "%s", r->dn);
    } else if (r->act == A_REFUSE_LOGIN && r->holding && r->refused >= r->value) {
        r->holding = false;
        r->enabled = false; /* done */
        snprintf(w->release[w->nr][0], 40, "%s", r->pk), snprintf(w->release[w->nr++][1], 40, "%s", r->dn);
    } else if (r->act == A_RESTART_BROKER && triggered(r)) {
        fired(r, "", "", "", "restarted the broker");
        w->restart = 1;
        if (r->trig == T_TIMES && r->times_left <= 0)
            r->enabled = false;
    }
}

/* refuseLogin holds its device disabled (kicked) until it was refused
 * `logins` times, then lets it in; restartBroker kills the managed broker
 * (its supervisor starts it again). The device calls are made after the
 * lock is released. */
void faults_tick(int64_t now_ms)
{
    (void)now_ms;
    if (!faults_active())
        return;
    tick_work w;
    w.nh = w.nr = w.restart = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++)
        if (rules[i].used && rules[i].enabled)
            tick_rule(&rules[i], &w);
    recount();
    pthread_mutex_unlock(&lock);
    service_result res;
    store_device *d = (w.nh || w.nr) ? malloc(sizeof *d) : NULL;
    for (int i = 0; d && i < w.nh; i++) {
        if (service_device_set_enabled(w.hold[i][0], w.hold[i][1], false, d, &res) == SERVICE_OK)
            kick_device(w.hold[i][0], w.hold[i][1]);
        log_msg(LOG_INFO, "fault: %s/%s's logins are refused for now", w.hold[i][0], w.hold[i][1]);
    }
    for (int i = 0; d && i < w.nr; i++) {
        service_device_set_enabled(w.release[i][0], w.release[i][1], true, d, &res);
        log_msg(LOG_INFO, "fault: %s/%s may log in again", w.release[i][0], w.release[i][1]);
    }
    free(d);
    if (w.restart && broker_pid() > 0)
        kill(broker_pid(), SIGKILL);
}

/* ---- rules ---- */

static action action_named(const char *name)
{
    for (int i = 0; name && i < A_COUNT; i++)
        if (!strcmp(ACTION_NAMES[i], name))
            return (action)i;
    return A_COUNT;
}

static int64_t number(const cJSON *o, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : (v ? -1 : dflt);
}

static const char *text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The action's numbers from the rule's JSON; false when out of range. */
static bool read_numbers(rule *r, const cJSON *j)
{
    switch (r->act) {
    case A_HTTP_STATUS: r->value = number(j, "status", 503); return r->value >= 400 && r->value <= 599;
    case A_DELAY: case A_DELAY_PUSH: r->value = number(j, "ms", 1000); return r->value >= 0 && r->value <= 600000;
    case A_BANDWIDTH: r->value = number(j, "bytesPerSecond", 1024); return r->value >= 1;
    case A_TRUNCATE: r->value = number(j, "at", 0); return r->value >= 0;
    case A_CORRUPT:
        r->value = number(j, "at", 0), r->value2 = number(j, "count", 1);
        return r->value >= 0 && r->value2 >= 1 && r->value2 <= 65536;
    case A_STALL:
        r->value = number(j, "at", 0), r->value2 = number(j, "ms", 20000);
        return r->value >= 0 && r->value2 >= 0 && r->value2 <= 600000;
    case A_WRONG_LENGTH: r->value = number(j, "bytes", 100); return r->value >= 1;
    case A_REFUSE_LOGIN: r->value = number(j, "logins", 1); return r->value >= 1 && r->value <= 1000;
    default: return true;
    }
}

/* The rule's trigger; false when malformed. */
static bool read_trigger(rule *r, const cJSON *t)
{
    if (!t || (cJSON_IsString(t) && !strcmp(t->valuestring, "always"))) {
        r->trig = T_ALWAYS;
        return true;
    }
    const cJSON *times = cJSON_GetObjectItemCaseSensitive(t, "times");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "probability");
    const char *from = text(t, "from");
    if (cJSON_IsNumber(times) && times->valuedouble >= 1) {
        r->trig = T_TIMES, r->times_left = (int64_t)times->valuedouble;
        return true;
    }
    if (cJSON_IsNumber(p) && p->valuedouble >= 0 && p->valuedouble <= 1) {
        r->trig = T_PROBABILITY, r->probability = p->valuedouble;
        return true;
    }
    int64_t secs = from ? clock_parse_iso(from) : -1;
    if (secs >= 0) {
        r->trig = T_FROM, r->from_ms = secs * 1000;
        return true;
    }
    return false;
}

/* The rule's scope; false when a field is not text or too long. */
static bool read_scope(rule *r, const cJSON *s)
{
    const char *pk = text(s, "productKey"), *dn = text(s, "deviceName"), *task = text(s, "taskId");
    if (s && !cJSON_IsObject(s))
        return false;
    if ((pk && strlen(pk) >= sizeof r->pk) || (dn && strlen(dn) >= sizeof r->dn) ||
        (task && strlen(task) >= sizeof r->task) || (dn && !pk))
        return false;
    snprintf(r->pk, sizeof r->pk, "%s", pk ? pk : "");
    snprintf(r->dn, sizeof r->dn, "%s", dn ? dn : "");
    snprintf(r->task, sizeof r->task, "%s", task ? task : "");
    return true;
}

/* The rule's moment (disconnect); false when unknown. */
static bool read_moment(rule *r, const cJSON *j)
{
    const char *w = text(j, "when");
    if (r->act != A_DISCONNECT)
        return true;
    r->when = !w || !strcmp(w, "push") ? W_PUSH : !strcmp(w, "connect") ? W_CONNECT
              : !strcmp(w, "download")                                ? W_DOWNLOAD
              : !strcmp(w, "subscribe")                               ? W_SUBSCRIBE
                                                                      : (moment)-1;
    return (int)r->when >= 0 && (r->when != W_DOWNLOAD || r->dn[0]);
}

static cJSON *rule_json(const rule *r)
{
    cJSON *o = cJSON_Duplicate(r->json, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "faultId");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "fired");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "enabled");
    cJSON_AddStringToObject(o, "faultId", r->id);
    cJSON_AddBoolToObject(o, "enabled", r->enabled);
    cJSON_AddNumberToObject(o, "fired", (double)r->fired);
    return o;
}

cJSON *faults_add(const cJSON *j, const char **code, char *message, size_t len)
{
    rule r;
    memset(&r, 0, sizeof r);
    *code = "InvalidFault";
    r.act = cJSON_IsObject(j) ? action_named(text(j, "action")) : A_COUNT;
    if (r.act == A_COUNT || !read_numbers(&r, j) || !read_scope(&r, cJSON_GetObjectItemCaseSensitive(j, "scope")) ||
        !read_trigger(&r, cJSON_GetObjectItemCaseSensitive(j, "trigger")) || !read_moment(&r, j) ||
        (r.act == A_REFUSE_LOGIN && !r.dn[0])) {
        snprintf(message, len, "a fault is {\"action\": one of httpStatus, delay, bandwidth, truncate, corrupt, "
                 "stall, wrongLength, refuseRange, dropPush, delayPush, duplicatePush, wrongMd5, wrongSize, "
                 "disconnect, refuseLogin, dropResult, restartBroker; its numbers; \"scope\": {productKey, "
                 "deviceName, taskId}; \"trigger\": \"always\", {times}, {probability} or {from}} "
                 "(refuseLogin and a disconnect when=download name a device)");
        return NULL;
    }
    r.used = r.enabled = true;
    if (r.task[0]) { /* a task's package, for its downloads (a job or rollout has none here) */
        char group[STORE_ID_SIZE];
        store_version v;
        if (store_push_package(r.task, group, &v) == STORE_OK)
            snprintf(r.object, sizeof r.object, "%s", v.object_key);
    }
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(j, "enabled");
    if (cJSON_IsFalse(enabled))
        r.enabled = false;
    r.json = cJSON_Duplicate(j, 1);
    pthread_mutex_lock(&lock);
    int slot = -1;
    for (int i = 0; i < FAULTS_MAX && slot < 0; i++)
        if (!rules[i].used)
            slot = i;
    cJSON *out = NULL;
    if (slot >= 0) {
        snprintf(r.id, sizeof r.id, "f%d", next_id++);
        rules[slot] = r;
        recount();
        out = rule_json(&rules[slot]);
    }
    pthread_mutex_unlock(&lock);
    if (!out) {
        cJSON_Delete(r.json);
        *code = "TooManyFaults";
        snprintf(message, len, "at most %d fault rules: delete some", FAULTS_MAX);
    }
    return out;
}

cJSON *faults_list(void)
{
    cJSON *list = cJSON_CreateArray();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FAULTS_MAX; i++)
        if (rules[i].used)
            cJSON_AddItemToArray(list, rule_json(&rules[i]));
    pthread_mutex_unlock(&lock);
    return list;
}

/* The slot of rule id, or -1. (lock held) */
static int find(const char *id)
{
    for (int i = 0; i < FAULTS_MAX; i++)
        if (rules[i].used && !strcmp(rules[i].id, id))
            return i;
    return -1;
}

cJSON *faults_get(const char *id)
{
    pthread_mutex_lock(&lock);
    int i = find(id);
    cJSON *o = i >= 0 ? rule_json(&rules[i]) : NULL;
    pthread_mutex_unlock(&lock);
    return o;
}

bool faults_enable(const char *id, bool on)
{
    pthread_mutex_lock(&lock);
    int i = find(id);
    if (i >= 0)
        rules[i].enabled = on;
    recount();
    pthread_mutex_unlock(&lock);
    return i >= 0;
}

bool faults_delete(const char *id)
{
    pthread_mutex_lock(&lock);
    int i = find(id);
    if (i >= 0) {
        cJSON_Delete(rules[i].json);
        memset(&rules[i], 0, sizeof rules[i]);
    }
    recount();
    pthread_mutex_unlock(&lock);
    return i >= 0;
}

int faults_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(1 << 20) : NULL;
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    if (!buf) {
        snprintf(err, errlen, "cannot read the faults file %s", path);
        return -1;
    }
    buf[n] = '\0';
    cJSON *list = cJSON_Parse(buf), *item;
    free(buf);
    int rc = cJSON_IsArray(list) ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "%s: not a JSON array of fault rules", path);
    cJSON_ArrayForEach(item, list) {
        const char *code;
        char message[600];
        cJSON *added = rc == 0 ? faults_add(item, &code, message, sizeof message) : NULL;
        if (!added && rc == 0) {
            snprintf(err, errlen, "%s: %s: %s", path, code, message);
            rc = -1;
        }
        cJSON_Delete(added);
    }
    cJSON_Delete(list);
    return rc;
}
