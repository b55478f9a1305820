/*
 * service_tasks.c - the rules for test tasks (see service_tasks.h).
 */
#include "clock.h"
#include "copy_text.h"
#include "service_tasks.h"
#include "identifiers.h"
#include "ids.h"
#include "service_apps.h"
#include "store_devices.h"
#include "store_groups.h"
#include "store_push.h"
#include "store_reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *app_id, *version, *group_id;
    int timeout_seconds; /* -1: the server's */
} task_row;

static int make_task_id(char *id, size_t len)
{
    snprintf(id, len, "task-");
    return ids_random_hex(id + 5, 12);
}

static store_status insert_task(const char *id, void *ctx)
{
    const task_row *t = ctx;
    return store_task_insert(id, t->app_id, t->version, t->group_id, t->timeout_seconds, clock_now());
}

static int is_text(const char *s) { return s && s != service_not_text; }

/* Do the app, a version of it still being tested, and the group exist? */
static service_status check_task(const task_row *t, service_result *res)
{
    store_app app;
    store_version v;
    store_group g;
    if (service_app_get(t->app_id, &app, res) != SERVICE_OK) {
        if (res->status == SERVICE_NOT_FOUND)
            service_fail(res, SERVICE_NOT_FOUND, "AppNotFound", "no app %.40s", t->app_id);
        return res->status;
    }
    store_status s = store_version_get(t->app_id, t->version, &v);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "VersionNotFound", "app %s has no version %.40s", t->app_id,
                            t->version);
    if (s == STORE_OK && !strcmp(v.status, "deprecated"))
        return service_fail(res, SERVICE_CONFLICT, "VersionDeprecated", "version %s is deprecated", t->version);
    if (s == STORE_OK && (s = store_group_get(t->group_id, &g)) == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "GroupNotFound", "no group %.40s", t->group_id);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the task's app and group");
}

service_status service_task_create(const char *app_id, const char *version, const char *group_id,
                                   const char *task_id, char id[STORE_ID_SIZE], service_result *res)
{
    return service_task_create_timed(app_id, version, group_id, task_id, -1, id, res);
}

service_status service_task_create_timed(const char *app_id, const char *version, const char *group_id,
                                         const char *task_id, int timeout_seconds, char id[STORE_ID_SIZE],
                                         service_result *res)
{
    if (!is_text(app_id) || !is_text(version) || !is_text(group_id) ||
        (task_id && (task_id == service_not_text || !valid_token(task_id))))
        return service_fail(res, SERVICE_INVALID, "InvalidTask",
                            "appId, version and groupId are required strings (and taskId, when given, 1..40 of "
                            "A-Z a-z 0-9 _ -)");
    if (timeout_seconds < -1 || timeout_seconds > SERVICE_TASK_TIMEOUT_MAX)
        return service_fail(res, SERVICE_INVALID, "InvalidTask", "timeoutSeconds is 0..%d (0: never)",
                            SERVICE_TASK_TIMEOUT_MAX);
    task_row t = {app_id, version, group_id, timeout_seconds};
    if (check_task(&t, res) != SERVICE_OK)
        return res->status;
    store_status s = service_insert_id(id, STORE_ID_SIZE, task_id, make_task_id, insert_task, &t);
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "TaskExists", "task %s already exists", id);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "store the task");
}

/* A member's key, as the walks order them. */
typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
} push_key;

/* The walks of a push (service_task_push). */
typedef enum { WALK_ONLINE, WALK_MOVED, WALK_ALL } push_walk;

typedef struct {
    const char *task_id;
    const store_version *pkg;
    service_push_fn send;
    void *ctx;
    push_walk walk;
    push_key *planned; /* the members the online walk planned, in its order */
    size_t planned_n, planned_cap;
    size_t planned_at; /* how far a later walk has come through them */
    service_push_counts *counts;
    store_push_state *records; /* the states to record */
    size_t n, cap;
    size_t seen;               /* members walked in this chunk */
    store_push_member last;    /* the last of them: where the next chunk starts */
    bool out_of_memory;
} push_plan;

/* The state a push gives member m for package version parts. */
static store_task_state push_state(const store_push_member *m, const long parts[3])
{
    long known[3];
    if (!m->online)
        return TASK_OFFLINE;
    if (m->has_version && version_parse(m->version, known) && version_compare(known, parts) >= 0)
        return TASK_UP_TO_DATE;
    return TASK_PUSHED;
}

/* Orders two members as the walks do (SQLite's BINARY: byte order). */
static int compare_keys(const char *pk1, const char *dn1, const char *pk2, const char *dn2)
{
    int c = strcmp(pk1, pk2);
    return c ? c : strcmp(dn1, dn2);
}

/* The online walk notes each member it plans; 0, or -1 out of memory. */
static int note_planned(push_plan *p, const store_push_member *m)
{
    if (p->planned_n == p->planned_cap) {
        size_t cap = p->planned_cap ? p->planned_cap * 2 : 256;
        push_key *more = realloc(p->planned, cap * sizeof *more);
        if (!more)
            return -1;
        p->planned = more, p->planned_cap = cap;
    }
    push_key *k = &p->planned[p->planned_n++];
    copy_text(k->product_key, sizeof k->product_key, m->product_key);
    copy_text(k->device_name, sizeof k->device_name, m->device_name);
    return 0;
}

/* Did the online walk plan m already? The walks go in the same order, so a
 * later one keeps a cursor in the online walk's list. */
static bool planned_before(push_plan *p, const char *pk, const char *dn)
{
    while (p->planned_at < p->planned_n) {
        const push_key *k = &p->planned[p->planned_at];
        int c = compare_keys(k->product_key, k->device_name, pk, dn);
        if (c > 0)
            return false;
        p->planned_at++;
        if (c == 0)
            return true;
    }
    return false;
}

/* Notes that the walk came to member pk/dn: the next chunk starts after it. */
static void note_walked(push_plan *p, const char *pk, const char *dn)
{
    p->seen++;
    copy_text(p->last.product_key, sizeof p->last.product_key, pk);
    copy_text(p->last.device_name, sizeof p->last.device_name, dn);
}

/* store_push_key_fn of the moved walk: a member the online walk did not
 * plan is read and decided (decide_member). */
static bool moved_wanted(const char *pk, const char *dn, void *ctx)
{
    push_plan *p = ctx;
    note_walked(p, pk, dn);
    return !planned_before(p, pk, dn);
}

/* Adds the record of member m moving from its state to state; 0, or 1
 * out of memory (noted in the plan). */
static int record_move(push_plan *p, const store_push_member *m, store_task_state state)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        store_push_state *more = realloc(p->records, cap * sizeof *more);
        if (!more) {
            p->out_of_memory = true;
            return 1;
        }
        p->records = more, p->cap = cap;
    }
    store_push_state *r = &p->records[p->n++];
    copy_text(r->product_key, sizeof r->product_key, m->product_key);
    copy_text(r->device_name, sizeof r->device_name, m->device_name);
    r->state = state;
    r->was = m->state;
    r->has_code = false;
    r->code = 0;
    return 0;
}

/*
 * Decides one member's state, sends its push when due, and keeps a record
 * of the member only when its state moves: a row that keeps its state keeps
 * its time too, which is when it came to that state. Pushing again to a
 * group of 100,000 mostly offline devices would otherwise rewrite every
 * offline row for nothing, and every device still waiting in 'pushed'
 * (bench-100k: a push again to 19,800 such devices spent 120-165 ms of its
 * 0.25-0.3 s rewriting their rows, their time in two indexes). Their
 * timeout counts from the task's last push all the same
 * (store_task_timeouts).
 */
static int decide_member(const store_push_member *m, void *ctx)
{
    push_plan *p = ctx;
    store_task_state state = push_state(m, p->pkg->parts);
    if (state == TASK_OFFLINE) {
        p->counts->offline++;
    } else if (state == TASK_UP_TO_DATE) {
        p->counts->up_to_date++;
        if (m->state == TASK_SUCCEEDED) /* a device that succeeded in this task stays so */
            return 0;
    } else {
        p->counts->pushed++;
        if (p->send(p->pkg, m->product_key, m->device_name, p->task_id, p->ctx) < 0)
            p->counts->failed_to_send++;
    }
    return state == m->state ? 0 : record_move(p, m, state);
}

/* The online walk's and the whole group's: notes the member (and that it
 * was planned), then decides it. */
static int plan_member(const store_push_member *m, void *ctx)
{
    push_plan *p = ctx;
    note_walked(p, m->product_key, m->device_name);
    if (p->walk == WALK_ONLINE && note_planned(p, m) < 0) {
        p->out_of_memory = true;
        return 1;
    }
    return decide_member(m, ctx);
}

/*
 * A push goes through the group PUSH_CHUNK members at a time, each chunk
 * one transaction: its pushes go out first, then their states are written.
 *
 * When fewer devices are online than the group has members (a big group,
 * mostly offline: the usual fleet) and every member has a row in the task
 * (every push after the first), it takes two walks in the same order, the
 * second skipping whom the first planned: the online members, read from
 * the online devices; then only the members whose row is not 'offline'
 * (migration 0016), for the others stay as they are. At 100,000 members
 * with 19,800 online that is 2 x 19,800 look-ups instead of 100,000, and
 * the devices that can get the push get it first. The list of planned
 * members is 19,800 keys, about 1 MB, for the push's time. A first push
 * writes a row for every member anyway, so it walks the whole group once.
 * A device's answer waits for the lock held until that commit, so it always
 * finds its "pushed" row; publishing first lets the broker deliver
 * meanwhile. Between chunks the lock is handed to whoever waits for it
 * (store_let_others_in): a push to 100,000 devices takes seconds, and API
 * requests, downloads and the devices' answers are served meanwhile rather
 * than after it. The task is marked pushed in the first chunk, so a device
 * of that chunk that asks for its upgrade at once finds the task pushed.
 */
#define PUSH_CHUNK 200

/* Plans, sends and records one chunk of the members after the last one of
 * the previous chunk (in *after, updated); *more: a full chunk was read. */
static store_status push_chunk(push_plan *plan, const char *group, store_push_member *after, bool first, bool *more)
{
    plan->n = plan->seen = 0;
    *more = false;
    if (store_begin() != STORE_OK)
        return STORE_ERROR;
    const char *app_id = plan->pkg->app_id;
    store_status s;
    if (plan->walk == WALK_MOVED)
        s = store_push_moved_members(plan->task_id, group, app_id, after->product_key, after->device_name, PUSH_CHUNK,
                                     moved_wanted, decide_member, plan);
    else
        s = (plan->walk == WALK_ONLINE ? store_push_online_members : store_push_members)(
            plan->task_id, group, app_id, after->product_key, after->device_name, PUSH_CHUNK, plan_member, plan);
    if (s == STORE_OK && !plan->out_of_memory)
        s = store_push_record(plan->task_id, plan->records, plan->n, clock_now());
    if (s == STORE_OK && first)
        s = store_push_done(plan->task_id);
    if (s != STORE_OK || plan->out_of_memory) {
        store_rollback();
        return STORE_ERROR;
    }
    if (plan->seen)
        *after = plan->last;
    *more = plan->seen == PUSH_CHUNK;
    return store_commit();
}

/* Sets *two to whether the push of task_id takes the two walks: fewer
 * devices are online (in every product) than its group has members, and
 * none of them is pending (every member has a row). From kept counts. */
static store_status choose_walks(const char *task_id, bool *two)
{
    store_task t;
    int online = 0;
    *two = false;
    store_status s = store_task_get(task_id, &t, NULL, NULL);
    if (s == STORE_OK)
        s = store_device_count(NULL, "online", &online);
    if (s != STORE_OK)
        return s == STORE_NOT_FOUND ? STORE_OK : s; /* deleted meanwhile: the one walk finds it so */
    long members = 0;
    for (int i = 0; i < TASK_STATES; i++)
        members += t.counts[i];
    *two = online < members && t.counts[TASK_PENDING] == 0;
    return STORE_OK;
}

service_status service_task_push(const char *task_id, service_push_fn send, void *ctx, service_push_counts *counts,
                                 service_result *res)
{
    memset(counts, 0, sizeof *counts);
    char group[STORE_ID_SIZE];
    store_version pkg;
    store_status s = store_push_package(task_id, group, &pkg);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "TaskNotFound", "no task %s (or its version was deleted)",
                            task_id);
    if (s != STORE_OK)
        return service_storage_error(res, "record the push");
    push_plan plan = {.task_id = task_id, .pkg = &pkg, .send = send, .ctx = ctx, .counts = counts};
    bool two_walks = false;
    s = choose_walks(task_id, &two_walks);
    static const push_walk one_walk[] = {WALK_ALL}, online_then_moved[] = {WALK_ONLINE, WALK_MOVED};
    const push_walk *walks = two_walks ? online_then_moved : one_walk;
    bool first = true;
    for (int i = 0; s == STORE_OK && i < (two_walks ? 2 : 1); i++) {
        plan.walk = walks[i];
        store_push_member after = {.product_key = "", .device_name = ""};
        for (bool more = true; s == STORE_OK && more; first = false) {
            if (!first)
                store_let_others_in();
            s = push_chunk(&plan, group, &after, first, &more);
        }
    }
    /* The moved rows' walk did not see the members that stayed offline:
     * the task's kept count has them (with those it recorded offline). */
    store_task t;
    if (s == STORE_OK && two_walks && (s = store_task_get(task_id, &t, NULL, NULL)) == STORE_OK)
        counts->offline = (int)t.counts[TASK_OFFLINE];
    free(plan.records);
    free(plan.planned);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "record the push");
}

service_status service_task_due(const char *pk, const char *dn, const char *app_id, const char *version,
                                char task_id[STORE_ID_SIZE], store_version *pkg, service_result *res)
{
    long reported[3];
    char group[STORE_ID_SIZE];
    if (!version_parse(version, reported))
        return service_fail(res, SERVICE_NOT_FOUND, "NothingDue", "%s is not a version", version);
    store_status s = store_push_due(pk, dn, app_id, task_id);
    if (s == STORE_OK)
        s = store_push_package(task_id, group, pkg);
    if (s == STORE_OK && version_compare(pkg->parts, reported) > 0)
        return service_ok(res);
    if (s == STORE_OK || s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "NothingDue", "no push due for %s %s", app_id, version);
    return service_storage_error(res, "read the due task");
}

service_status service_task_pushed(const char *task_id, const char *pk, const char *dn, const char *trace,
                                   service_result *res)
{
    if (store_push_set(task_id, pk, dn, TASK_PUSHED, false, 0, trace, clock_now()) != STORE_OK)
        return service_storage_error(res, "record the push");
    return service_ok(res);
}

service_status service_task_reached(const char *pk, const char *dn, const char *app_id, const char *version,
                                    int *reconciled, char task_id[STORE_ID_SIZE], service_result *res)
{
    if (store_push_reached(pk, dn, app_id, version, reconciled, task_id) != STORE_OK)
        return service_storage_error(res, "record the version reached");
    return service_ok(res);
}

service_status service_task_result(const char *pk, const char *dn, const char *app_id, const char *version, int code,
                                   char task_id[STORE_ID_SIZE], service_result *res)
{
    task_id[0] = '\0';
    store_status s = store_push_result(pk, dn, app_id, version, code == 200 ? TASK_SUCCEEDED : TASK_FAILED, code,
                                       task_id);
    if (code == 200)
        store_report_app(pk, dn, app_id, version);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "NoTaskPushedIt", "no task pushed %s %s to %s/%s", app_id, version,
                            dn, pk);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "record the result");
}

service_status service_task_timeouts(int64_t now, int default_seconds, int *n, service_result *res,
                                     void (*each)(const char *task, const char *pk, const char *dn, void *ctx),
                                     void *ctx)
{
    *n = 0;
    if (each && store_task_due_timeouts(now, default_seconds, each, ctx) != STORE_OK)
        return service_storage_error(res, "time out tasks");
    return store_task_timeouts(now, default_seconds, n) == STORE_OK ? service_ok(res)
                                                                      : service_storage_error(res, "time out tasks");
}
