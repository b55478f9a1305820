/*
 * service_rollouts.c - the rules for staged rollouts (see
 * service_rollouts.h).
 */
#include "clock.h"
#include "service_rollouts.h"
#include "identifiers.h"
#include "ids.h"
#include "log.h"
#include "service_firmwares.h"
#include "store_devices.h"
#include "store_groups.h"
#include "store_products.h"
#include "store_versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_text(const char *s) { return s && s != service_not_text; }

void service_rollout_defaults(service_rollout_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->success_percent = 100;
    spec->error_percent = 0;
    spec->retry_seconds = 60;
}

/* One batch size as given: a count, or a percent of the devices. */
typedef struct {
    long value;
    bool percent;
} batch_size;

/* Parses "3,10%,100%" into sizes (at most ROLLOUT_BATCHES_MAX); the
 * number of batches, or -1 when malformed. */
static int parse_batches(const char *text, batch_size *sizes)
{
    int n = 0;
    for (const char *p = text; *p; n++) {
        char *end;
        if (n == ROLLOUT_BATCHES_MAX || *p < '0' || *p > '9')
            return -1;
        sizes[n].value = strtol(p, &end, 10);
        sizes[n].percent = *end == '%';
        end += sizes[n].percent;
        if (sizes[n].value < 1 || (sizes[n].percent && sizes[n].value > 100) || sizes[n].value > 1000000 ||
            (*end && *end != ','))
            return -1;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return -1;
    }
    return n > 0 ? n : -1;
}

/* The device count of each batch for total devices: a count or a percent
 * (rounded up) of them, never past the total; the last takes the rest. */
static void batch_counts(const batch_size *sizes, int n, int total, int *out)
{
    int left = total;
    for (int i = 0; i < n; i++) {
        long want = sizes[i].percent ? (sizes[i].value * total + 99) / 100 : sizes[i].value;
        out[i] = i == n - 1 ? left : (int)(want < left ? want : left);
        left -= out[i];
    }
}

static int make_rollout_id(char *id, size_t len)
{
    snprintf(id, len, "rollout-");
    return ids_random_alnum(id + 8, 12);
}

static store_status insert_rollout(const char *id, void *ctx)
{
    store_rollout *r = ctx;
    if (id != r->rollout_id)
        snprintf(r->rollout_id, sizeof r->rollout_id, "%s", id);
    return store_rollout_insert(r);
}

/* The numbers of a spec in their ranges? */
static bool numbers_valid(const service_rollout_spec *s)
{
    return s->success_percent >= 1 && s->success_percent <= 100 && s->error_percent >= 0 && s->error_percent <= 100 &&
           s->start_at >= 0 && s->rate_per_minute >= 0 && s->rate_per_minute <= 100000 && s->timeout_seconds >= 0 &&
           s->timeout_seconds <= 7 * 86400 && s->max_retries >= 0 && s->max_retries <= 10 && s->retry_seconds >= 1 &&
           s->retry_seconds <= 86400;
}

/* The target of a spec well formed? */
static bool target_valid(const service_rollout_spec *s)
{
    const char *t = is_text(s->target_type) ? s->target_type : "";
    bool devices = !strcmp(t, "devices"), group = !strcmp(t, "group");
    if (!devices && !group && strcmp(t, "product"))
        return false;
    if (devices && (s->device_count == 0 || s->device_count > SERVICE_ROLLOUT_DEVICES_MAX || s->dynamic))
        return false;
    for (size_t i = 0; devices && i < s->device_count; i++)
        if (!is_text(s->devices[i]) || !valid_device_name(s->devices[i]))
            return false;
    return !group || (is_text(s->group_id) && valid_token(s->group_id));
}

/* What is sent named well: a firmware, or an app version of a product. */
static bool payload_valid(const service_rollout_spec *s, const char *kind)
{
    if (!strcmp(kind, "firmware"))
        return is_text(s->firmware_id);
    return !strcmp(kind, "app") && is_text(s->app_id) && is_text(s->version) && is_text(s->product_key);
}

/* The name, the id and the from-versions (into r) well formed? */
static bool texts_valid(const service_rollout_spec *s, store_rollout *r)
{
    return (!s->name || (is_text(s->name) && (!*s->name || valid_display_name(s->name, STORE_NAME_SIZE - 1)))) &&
           (!s->rollout_id || (is_text(s->rollout_id) && valid_token(s->rollout_id))) &&
           (!s->src_versions || (is_text(s->src_versions) && service_version_list(s->src_versions, r->src_versions)));
}

/* Checks the shape of spec into r: SERVICE_OK or InvalidRollout. */
static service_status check_spec(const service_rollout_spec *s, store_rollout *r, batch_size *sizes, int *n,
                                 service_result *res)
{
    const char *kind = is_text(s->kind) ? s->kind : "";
    const char *batches = s->batches ? s->batches : "100%";
    bool ok = payload_valid(s, kind) && target_valid(s) && numbers_valid(s) && is_text(batches) &&
              strlen(batches) < sizeof r->batches && (*n = parse_batches(batches, sizes)) > 0 && texts_valid(s, r);
    if (!ok)
        return service_fail(res, SERVICE_INVALID, "InvalidRollout",
                            "kind firmware (firmwareId) or app (productKey, appId, version); targetType product, group "
                            "(groupId) or devices (1..%d names, not dynamic); batches like \"3,10%%,100%%\" (at most "
                            "%d); successPercent 1..100, errorPercent 0..100, ratePerMinute >= 0, timeoutSeconds "
                            "0..604800, maxRetries 0..10, retrySeconds 1..86400",
                            SERVICE_ROLLOUT_DEVICES_MAX, ROLLOUT_BATCHES_MAX);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    snprintf(r->name, sizeof r->name, "%s", s->name ? s->name : "");
    snprintf(r->target_type, sizeof r->target_type, "%s", s->target_type);
    snprintf(r->group_id, sizeof r->group_id, "%s", !strcmp(s->target_type, "group") ? s->group_id : "");
    snprintf(r->batches, sizeof r->batches, "%s", batches);
    r->batch_count = *n;
    r->dynamic = s->dynamic;
    r->success_percent = s->success_percent, r->error_percent = s->error_percent;
    r->rate_per_minute = s->rate_per_minute, r->timeout_seconds = s->timeout_seconds;
    r->max_retries = s->max_retries, r->retry_seconds = s->retry_seconds;
    return service_ok(res);
}

/* What the rollout sends: the firmware (its product, module, version) or
 * the app version of the product. */
static service_status check_payload(const service_rollout_spec *s, store_rollout *r, service_result *res)
{
    if (!strcmp(r->kind, "firmware")) {
        store_firmware f;
        if (service_firmware_get(s->firmware_id, &f, res) != SERVICE_OK)
            return res->status;
        snprintf(r->firmware_id, sizeof r->firmware_id, "%s", f.firmware_id);
        snprintf(r->product_key, sizeof r->product_key, "%s", f.product_key);
        snprintf(r->module_name, sizeof r->module_name, "%s", f.module_name);
        snprintf(r->version, sizeof r->version, "%s", f.version);
        if (!s->src_versions)
            snprintf(r->src_versions, sizeof r->src_versions, "%s", f.src_versions);
        return service_ok(res);
    }
    store_product p;
    store_version v;
    store_status st = valid_product_key(s->product_key) ? store_product_get(s->product_key, &p) : STORE_NOT_FOUND;
    if (st == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "ProductNotFound", "no product %.40s", s->product_key);
    st = st == STORE_OK ? (valid_app_id(s->app_id) ? store_version_get(s->app_id, s->version, &v) : STORE_NOT_FOUND)
                        : st;
    if (st == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "VersionNotFound", "app %.40s has no version %.40s", s->app_id,
                            s->version);
    if (st != STORE_OK)
        return service_storage_error(res, "read the rollout's app");
    snprintf(r->product_key, sizeof r->product_key, "%s", s->product_key);
    snprintf(r->app_id, sizeof r->app_id, "%s", v.app_id);
    snprintf(r->version, sizeof r->version, "%s", v.version);
    return service_ok(res);
}

/* The group and the named devices exist? */
static service_status check_targets(const service_rollout_spec *s, const store_rollout *r, service_result *res)
{
    store_group g;
    store_status st = r->group_id[0] ? store_group_get(r->group_id, &g) : STORE_OK;
    if (st == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "GroupNotFound", "no group %s", r->group_id);
    for (size_t i = 0; st == STORE_OK && !strcmp(r->target_type, "devices") && i < s->device_count; i++) {
        st = store_device_exists(r->product_key, s->devices[i]);
        if (st == STORE_NOT_FOUND)
            return service_fail(res, SERVICE_NOT_FOUND, "DeviceNotFound", "product %s has no device %s",
                                r->product_key, s->devices[i]);
    }
    return st == STORE_OK ? service_ok(res) : service_storage_error(res, "read the rollout's targets");
}

/* A scheduled rollout starts: running, batch 1. */
static store_status start_rollout(store_rollout *r, int64_t now)
{
    snprintf(r->status, sizeof r->status, "running");
    r->current_batch = 1;
    log_msg(LOG_INFO, "rollout %s starts (%d batch(es))", r->rollout_id, r->batch_count);
    store_status st = store_rollout_start_batch(r->rollout_id, 1, now);
    return st == STORE_OK ? store_rollout_save(r, now) : st;
}

/* Inserts the rollout and its devices, in batches (inside a transaction). */
static store_status add_rollout(const service_rollout_spec *s, store_rollout *r, const batch_size *sizes, int n,
                                int *devices)
{
    store_status st = service_insert_id(r->rollout_id, sizeof r->rollout_id, s->rollout_id, make_rollout_id,
                                        insert_rollout, r);
    *devices = 0;
    for (size_t i = 0; st == STORE_OK && !strcmp(r->target_type, "devices") && i < s->device_count; i++) {
        int added = 0;
        st = store_rollout_add_devices(r, s->devices[i], 1, r->created_at, &added);
        *devices += added;
    }
    if (st == STORE_OK && strcmp(r->target_type, "devices"))
        st = store_rollout_add_devices(r, NULL, 1, r->created_at, devices);
    int counts[ROLLOUT_BATCHES_MAX];
    batch_counts(sizes, n, *devices, counts);
    if (st == STORE_OK)
        st = store_rollout_assign_batches(r->rollout_id, counts, n);
    if (st == STORE_OK && r->start_at <= r->created_at) /* no schedule: batch 1 starts now */
        st = start_rollout(r, r->created_at);
    return st;
}

service_status service_rollout_create(const service_rollout_spec *spec, char id[STORE_ID_SIZE], int *devices,
                                      service_result *res)
{
    store_rollout r;
    batch_size sizes[ROLLOUT_BATCHES_MAX];
    int n = 0;
    memset(&r, 0, sizeof r);
    *devices = 0;
    if (check_spec(spec, &r, sizes, &n, res) != SERVICE_OK || check_payload(spec, &r, res) != SERVICE_OK ||
        check_targets(spec, &r, res) != SERVICE_OK)
        return res->status;
    r.created_at = clock_now();
    r.start_at = spec->start_at ? spec->start_at : r.created_at;
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "store the rollout");
    store_status st = add_rollout(spec, &r, sizes, n, devices);
    if (st != STORE_OK) {
        store_rollback();
        if (st == STORE_EXISTS)
            return service_fail(res, SERVICE_EXISTS, "RolloutExists", "rollout %s exists already", r.rollout_id);
        return service_storage_error(res, "store the rollout");
    }
    if (store_commit() != STORE_OK)
        return service_storage_error(res, "store the rollout");
    snprintf(id, STORE_ID_SIZE, "%s", r.rollout_id);
    return service_ok(res);
}

/* Rollout id into r: SERVICE_OK or RolloutNotFound. */
static service_status get_rollout(const char *id, store_rollout *r, service_result *res)
{
    store_status st = valid_token(id) ? store_rollout_get(id, r, NULL, NULL) : STORE_NOT_FOUND;
    if (st == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "RolloutNotFound", "no rollout %.40s", id ? id : "");
    return st == STORE_OK ? service_ok(res) : service_storage_error(res, "read the rollout");
}

static bool ended(const store_rollout *r) { return !strcmp(r->status, "completed") || !strcmp(r->status, "canceled"); }

service_status service_rollout_pause(const char *id, service_result *res)
{
    store_rollout r;
    if (get_rollout(id, &r, res) != SERVICE_OK)
        return res->status;
    if (strcmp(r.status, "running") && strcmp(r.status, "scheduled"))
        return service_fail(res, SERVICE_CONFLICT, ended(&r) ? "RolloutEnded" : "RolloutNotRunning",
                            "rollout %s is %s", id, r.status);
    snprintf(r.status, sizeof r.status, "paused");
    snprintf(r.pause_reason, sizeof r.pause_reason, "paused by hand");
    return store_rollout_save(&r, clock_now()) == STORE_OK ? service_ok(res)
                                                                    : service_storage_error(res, "pause the rollout");
}

service_status service_rollout_resume(const char *id, service_result *res)
{
    store_rollout r;
    store_batch_counts c = {0};
    if (get_rollout(id, &r, res) != SERVICE_OK)
        return res->status;
    if (strcmp(r.status, "paused"))
        return service_fail(res, SERVICE_CONFLICT, ended(&r) ? "RolloutEnded" : "RolloutNotPaused",
                            "rollout %s is %s", id, r.status);
    /* the failures of the current batch so far are accepted: they no longer
     * pause it, and count as done for its success threshold */
    if (r.current_batch > 0 && store_rollout_batch_counts(&r, r.current_batch, &c) != STORE_OK)
        return service_storage_error(res, "resume the rollout");
    r.accepted_errors = c.errors;
    snprintf(r.status, sizeof r.status, "%s", r.current_batch > 0 ? "running" : "scheduled");
    r.pause_reason[0] = '\0';
    return store_rollout_save(&r, clock_now()) == STORE_OK ? service_ok(res)
                                                                    : service_storage_error(res, "resume the rollout");
}

service_status service_rollout_cancel(const char *id, service_result *res)
{
    store_status st = valid_token(id) ? store_rollout_cancel(id, clock_now()) : STORE_NOT_FOUND;
    if (st == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "RolloutNotFound", "no rollout %.40s", id ? id : "");
    if (st == STORE_CONFLICT)
        return service_fail(res, SERVICE_CONFLICT, "RolloutEnded", "rollout %s has ended already", id);
    return st == STORE_OK ? service_ok(res) : service_storage_error(res, "cancel the rollout");
}

/* The current batch of a running rollout: pause on errors, or move on. */
static store_status judge_batch(store_rollout *r, int64_t now)
{
    store_batch_counts c;
    store_status st = store_rollout_batch_counts(r, r->current_batch, &c);
    if (st != STORE_OK)
        return st;
    int errors = c.errors - r->accepted_errors;
    if (c.size > 0 && (long)errors * 100 > (long)r->error_percent * c.size) {
        snprintf(r->status, sizeof r->status, "paused");
        snprintf(r->pause_reason, sizeof r->pause_reason,
                 "batch %d: %d of %d devices failed or timed out (more than the error threshold of %d%%)",
                 r->current_batch, c.errors, c.size, r->error_percent);
        log_msg(LOG_WARN, "rollout %s paused: %s", r->rollout_id, r->pause_reason);
        return STORE_OK;
    }
    bool reached = (long)(c.succeeded + r->accepted_errors) * 100 >= (long)r->success_percent * c.size;
    if (reached && r->current_batch < r->batch_count) {
        r->current_batch++;
        r->accepted_errors = 0;
        log_msg(LOG_INFO, "rollout %s: batch %d starts", r->rollout_id, r->current_batch);
        return store_rollout_start_batch(r->rollout_id, r->current_batch, now);
    }
    if (r->current_batch == r->batch_count && c.in_flight == 0 && !r->dynamic &&
        r->counts[RD_WAITING] + r->counts[RD_QUEUED] + r->counts[RD_PUSHED] + r->counts[RD_DOWNLOADING] +
        r->counts[RD_INSTALLING] == 0) {
        snprintf(r->status, sizeof r->status, "completed");
        r->ended_at = now;
        log_msg(LOG_INFO, "rollout %s completed", r->rollout_id);
    }
    return STORE_OK;
}

service_status service_rollout_step(const char *id, int64_t now, store_rollout *out, service_result *res)
{
    int n = 0;
    if (get_rollout(id, out, res) != SERVICE_OK)
        return res->status;
    store_status st = STORE_OK;
    if (!strcmp(out->status, "scheduled") && out->start_at <= now)
        st = start_rollout(out, now);
    if (st == STORE_OK && (!strcmp(out->status, "running") || !strcmp(out->status, "paused")))
        st = store_rollout_timeouts(out, now, &n);
    if (st == STORE_OK && !strcmp(out->status, "running"))
        st = store_rollout_retries(out, now, &n);
    if (st == STORE_OK && !strcmp(out->status, "running")) {
        st = store_rollout_count(out); /* the counts after the moves above */
        if (st == STORE_OK)
            st = judge_batch(out, now);
    }
    if (st == STORE_OK)
        st = store_rollout_save(out, now);
    return st == STORE_OK ? service_ok(res) : service_storage_error(res, "step the rollout");
}

int service_rollout_budget(const store_rollout *r, int64_t now)
{
    int pushed = 0;
    if (r->rate_per_minute <= 0)
        return 1000;
    if (store_rollout_pushes_since(r->rollout_id, now - 60, &pushed) != STORE_OK)
        return 0;
    int left = r->rate_per_minute - pushed;
    return left > 0 ? (left < 1000 ? left : 1000) : 0;
}

/* ---- what devices report ---- */

typedef struct {
    char ids[16][STORE_ID_SIZE];
    int n;
} id_list;

static void keep_id(const char *id, void *ctx)
{
    id_list *l = ctx;
    if (l->n < 16)
        snprintf(l->ids[l->n++], STORE_ID_SIZE, "%s", id);
}

#define MASK(s) (1u << (s))
#define WAITING_FOR_RESULT (MASK(RD_QUEUED) | MASK(RD_PUSHED) | MASK(RD_DOWNLOADING) | MASK(RD_INSTALLING))

/* Applies fn to every rollout of kind where device pk/dn waits and whose
 * module (firmware) or app matches `what` (NULL: any). */
static void each_waiting(const char *pk, const char *dn, const char *kind, const char *what,
                         void (*fn)(const store_rollout *r, void *ctx), void *ctx)
{
    id_list l = {.n = 0};
    store_rollouts_of_device(pk, dn, kind, keep_id, &l);
    for (int i = 0; i < l.n; i++) {
        store_rollout r;
        if (store_rollout_get(l.ids[i], &r, NULL, NULL) != STORE_OK)
            continue;
        const char *of = !strcmp(kind, "firmware") ? r.module_name : r.app_id;
        if (!what || !strcmp(of, what))
            fn(&r, ctx);
    }
}

typedef struct {
    const char *pk, *dn, *version, *desc;
    int step;
} report;

static void apply_progress(const store_rollout *r, void *ctx)
{
    const report *p = ctx;
    int64_t now = clock_now();
    unsigned from = MASK(RD_PUSHED) | MASK(RD_DOWNLOADING);
    if (p->step >= 0) {
        store_rollout_state to = p->step == 100 ? RD_INSTALLING : RD_DOWNLOADING;
        store_rollout_move(r->rollout_id, p->pk, p->dn, from | MASK(RD_INSTALLING) * (to == RD_INSTALLING), to, NULL,
                           p->step, NULL, now);
        return;
    }
    char reason[STORE_ROLLOUT_REASON_SIZE];
    const char *meaning = p->step == -1 ? "upgrade failed" : p->step == -2 ? "download failed"
                          : p->step == -3 ? "verify failed" : "burn failed";
    snprintf(reason, sizeof reason, "%s%s%.100s", meaning, p->desc && *p->desc ? ": " : "", p->desc ? p->desc : "");
    reason[utf8_valid_prefix(reason, strlen(reason))] = '\0';
    store_rollout_move(r->rollout_id, p->pk, p->dn, from | MASK(RD_INSTALLING), RD_FAILED, &p->step, -1, reason, now);
}

void service_rollout_firmware_progress(const char *pk, const char *dn, const char *module, int step, const char *desc)
{
    report p = {pk, dn, NULL, desc, step};
    if (step >= -4 && step <= 100)
        each_waiting(pk, dn, "firmware", module, apply_progress, &p);
}

static void apply_version(const store_rollout *r, void *ctx)
{
    const report *p = ctx;
    if (!strcmp(r->version, p->version))
        store_rollout_move(r->rollout_id, p->pk, p->dn, WAITING_FOR_RESULT, RD_SUCCEEDED, NULL, 100, NULL,
                           clock_now());
}

void service_rollout_firmware_inform(const char *pk, const char *dn, const char *module, const char *version)
{
    report p = {pk, dn, version, NULL, 0};
    each_waiting(pk, dn, "firmware", module, apply_version, &p);
}

static void apply_result(const store_rollout *r, void *ctx)
{
    const report *p = ctx;
    if (strcmp(r->version, p->version))
        return;
    int64_t now = clock_now();
    if (p->step == 200) {
        store_rollout_move(r->rollout_id, p->pk, p->dn, WAITING_FOR_RESULT, RD_SUCCEEDED, &p->step, -1, NULL, now);
        return;
    }
    const char *why = p->step == 404 ? "download failed (404)" : p->step == 405 ? "install failed (405)"
                                                                                : "the device reported a failure";
    store_rollout_move(r->rollout_id, p->pk, p->dn, WAITING_FOR_RESULT, RD_FAILED, &p->step, -1, why, now);
}

void service_rollout_app_result(const char *pk, const char *dn, const char *app_id, const char *version, int code)
{
    report p = {pk, dn, version, NULL, code};
    each_waiting(pk, dn, "app", app_id, apply_result, &p);
}

static void take_in(const char *id, void *ctx)
{
    const char **device = ctx;
    store_rollout r;
    int added = 0;
    int64_t now = clock_now();
    if (store_rollout_get(id, &r, NULL, NULL) != STORE_OK ||
        store_rollout_add_devices(&r, device[1], r.batch_count, now, &added) != STORE_OK || added == 0)
        return;
    device[2] = (const char *)((intptr_t)device[2] + 1);
    log_msg(LOG_INFO, "dynamic rollout %s takes in %s/%s (batch %d)", id, device[0], device[1], r.batch_count);
    if (r.current_batch == r.batch_count)
        store_rollout_start_batch(id, r.batch_count, now);
}

int service_rollout_dynamic(const char *pk, const char *dn)
{
    /* device[2] counts the rollouts that took it (a pointer-sized counter) */
    const char *device[3] = {pk, dn, NULL};
    id_list l = {.n = 0};
    store_rollouts_dynamic_for(pk, dn, keep_id, &l);
    for (int i = 0; i < l.n; i++)
        take_in(l.ids[i], device);
    return (int)(intptr_t)device[2];
}
