/*
 * store_rollouts.c - staged rollouts and their devices (see
 * store_rollouts.h).
 */
#include "store_rollouts.h"
#include "db.h"

#include <stdio.h>
#include <string.h>

const char *const store_rollout_state_names[RD_STATES] = {
    "waiting", "queued", "pushed", "downloading", "installing", "succeeded", "failed", "timedOut", "canceled"};

/* States in which a device still waits for its result. */
#define OPEN_STATES "('waiting', 'queued', 'pushed', 'downloading', 'installing')"

static store_rollout_state state_named(const char *name)
{
    for (int i = 0; i < RD_STATES; i++)
        if (!strcmp(name, store_rollout_state_names[i]))
            return (store_rollout_state)i;
    return RD_WAITING;
}

#define ROLLOUT_COLUMNS "rollout_id, name, kind, product_key, COALESCE(firmware_id, ''), module_name, app_id, " \
                        "version, target_type, COALESCE(group_id, ''), src_versions, dynamic, batches, batch_count, " \
                        "success_percent, error_percent, start_at, rate_per_minute, timeout_seconds, max_retries, " \
                        "retry_seconds, status, pause_reason, current_batch, accepted_errors, created_at, " \
                        "COALESCE(ended_at, 0)"

static void read_rollout(sqlite3_stmt *st, void *out)
{
    store_rollout *r = out;
    int c = 0;
    db_copy(r->rollout_id, sizeof r->rollout_id, st, c++);
    db_copy(r->name, sizeof r->name, st, c++);
    db_copy(r->kind, sizeof r->kind, st, c++);
    db_copy(r->product_key, sizeof r->product_key, st, c++);
    db_copy(r->firmware_id, sizeof r->firmware_id, st, c++);
    db_copy(r->module_name, sizeof r->module_name, st, c++);
    db_copy(r->app_id, sizeof r->app_id, st, c++);
    db_copy(r->version, sizeof r->version, st, c++);
    db_copy(r->target_type, sizeof r->target_type, st, c++);
    db_copy(r->group_id, sizeof r->group_id, st, c++);
    db_copy(r->src_versions, sizeof r->src_versions, st, c++);
    r->dynamic = sqlite3_column_int(st, c++) != 0;
    db_copy(r->batches, sizeof r->batches, st, c++);
    r->batch_count = sqlite3_column_int(st, c++);
    r->success_percent = sqlite3_column_int(st, c++);
    r->error_percent = sqlite3_column_int(st, c++);
    r->start_at = sqlite3_column_int64(st, c++);
    r->rate_per_minute = sqlite3_column_int(st, c++);
    r->timeout_seconds = sqlite3_column_int(st, c++);
    r->max_retries = sqlite3_column_int(st, c++);
    r->retry_seconds = sqlite3_column_int(st, c++);
    db_copy(r->status, sizeof r->status, st, c++);
    db_copy(r->pause_reason, sizeof r->pause_reason, st, c++);
    r->current_batch = sqlite3_column_int(st, c++);
    r->accepted_errors = sqlite3_column_int(st, c++);
    r->created_at = sqlite3_column_int64(st, c++);
    r->ended_at = sqlite3_column_int64(st, c++);
    memset(r->counts, 0, sizeof r->counts);
}

static void read_count(sqlite3_stmt *st, void *out)
{
    store_rollout *r = out;
    r->counts[state_named(db_text(st, 0))] += sqlite3_column_int(st, 1);
}

store_status store_rollout_count(store_rollout *r)
{
    memset(r->counts, 0, sizeof r->counts);
    return db_each("SELECT state, COUNT(*) FROM rollout_devices WHERE rollout_id = ?1 GROUP BY state", read_count,
                   r, db_visit_all, NULL, "s", r->rollout_id);
}

static void read_rollout_counted(sqlite3_stmt *st, void *out)
{
    read_rollout(st, out);
    store_rollout_count(out);
}

/* Are rollouts scheduled, running or paused? (db_hint, db.h): every
 * device's online message, query and result asks. */
static db_hint rollouts_active = DB_HINT_INIT;

static store_status any_active(bool *any)
{
    return db_one("SELECT EXISTS (SELECT 1 FROM rollouts WHERE status IN ('scheduled', 'running', 'paused'))",
                  db_read_bool, any, "");
}

store_status store_rollouts_refresh_active(void) { return db_hint_refresh(&rollouts_active, any_active); }

store_status store_rollout_insert(const store_rollout *r)
{
    db_hint_set(&rollouts_active);
    return db_insert("INSERT OR IGNORE INTO rollouts(rollout_id, name, kind, product_key, firmware_id, module_name, "
                     "app_id, version, target_type, group_id, src_versions, dynamic, batches, batch_count, "
                     "success_percent, error_percent, start_at, rate_per_minute, timeout_seconds, max_retries, "
                     "retry_seconds, created_at) VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''), ?6, ?7, ?8, ?9, "
                     "NULLIF(?10, ''), ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
                     "sssssssssssisiiiIiiiiI", r->rollout_id, r->name, r->kind, r->product_key, r->firmware_id,
                     r->module_name, r->app_id, r->version, r->target_type, r->group_id, r->src_versions,
                     (int)r->dynamic, r->batches, r->batch_count, r->success_percent, r->error_percent, r->start_at,
                     r->rate_per_minute, r->timeout_seconds, r->max_retries, r->retry_seconds, r->created_at);
}

store_status store_rollout_add_devices(const store_rollout *r, const char *dn, int batch, int64_t now, int *added)
{
    int firmware = !strcmp(r->kind, "firmware");
    /* the version a device runs: of the module (firmware) or of the app */
    return db_write("INSERT OR IGNORE INTO rollout_devices(rollout_id, product_key, device_name, batch, "
                    "from_version, updated_at) SELECT ?1, d.product_key, d.device_name, ?9, "
                    "COALESCE(CASE WHEN ?5 THEN dm.version ELSE da.version END, ''), ?10 FROM devices d "
                    "LEFT JOIN device_modules dm ON dm.product_key = d.product_key "
                    "AND dm.device_name = d.device_name AND dm.module_name = ?6 "
                    "LEFT JOIN device_apps da ON da.product_key = d.product_key "
                    "AND da.device_name = d.device_name AND da.app_id = ?7 "
                    "WHERE d.product_key = ?2 AND (?3 IS NULL OR d.device_name = ?3) "
                    "AND (?4 IS NULL OR EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = ?4 "
                    "AND m.product_key = d.product_key AND m.device_name = d.device_name)) "
                    "AND COALESCE(CASE WHEN ?5 THEN dm.version ELSE da.version END, '') <> ?8 "
                    "AND (?11 = '' OR instr(',' || ?11 || ',', ',' || "
                    "COALESCE(CASE WHEN ?5 THEN dm.version ELSE da.version END, '') || ',') > 0)",
                    added, "ssssssssiIs", r->rollout_id, r->product_key, dn,
                    !strcmp(r->target_type, "group") ? r->group_id : NULL, firmware ? "1" : "0", r->module_name,
                    r->app_id, r->version, batch, now, r->src_versions);
}

store_status store_rollout_assign_batches(const char *id, const int *sizes, int n)
{
    int offset = 0, changes = 0;
    store_status s = STORE_OK;
    for (int b = 1; s == STORE_OK && b < n; b++) {
        offset += sizes[b - 1];
        /* everyone past the first `offset` devices moves at least to batch b+1 */
        s = db_write("UPDATE rollout_devices SET batch = ?2 WHERE rollout_id = ?1 AND rowid IN "
                     "(SELECT rowid FROM rollout_devices WHERE rollout_id = ?1 "
                     "ORDER BY product_key, device_name LIMIT -1 OFFSET ?3)",
                     &changes, "sii", id, b + 1, offset);
    }
    return s;
}

static void read_device(sqlite3_stmt *st, void *out)
{
    store_rollout_device *d = out;
    db_copy(d->product_key, sizeof d->product_key, st, 0);
    db_copy(d->device_name, sizeof d->device_name, st, 1);
    d->batch = sqlite3_column_int(st, 2);
    d->state = state_named(db_text(st, 3));
    d->attempts = sqlite3_column_int(st, 4);
    d->has_progress = !db_null(st, 5);
    d->progress = sqlite3_column_int(st, 5);
    d->has_code = !db_null(st, 6);
    d->code = sqlite3_column_int(st, 6);
    db_copy(d->reason, sizeof d->reason, st, 7);
    db_copy(d->from_version, sizeof d->from_version, st, 8);
    d->pushed_at = sqlite3_column_int64(st, 9);
    d->retry_at = sqlite3_column_int64(st, 10);
    d->updated_at = sqlite3_column_int64(st, 11);
    db_copy(d->device_status, sizeof d->device_status, st, 12);
}

#define DEVICE_COLUMNS "rd.product_key, rd.device_name, rd.batch, rd.state, rd.attempts, rd.progress, rd.code, " \
                       "rd.reason, rd.from_version, COALESCE(rd.pushed_at, 0), COALESCE(rd.retry_at, 0), " \
                       "rd.updated_at, d.status"
#define DEVICE_FROM " FROM rollout_devices rd JOIN devices d ON d.product_key = rd.product_key " \
                    "AND d.device_name = rd.device_name "

store_status store_rollout_get(const char *id, store_rollout *out, store_row_fn each, void *ctx)
{
    bool on_reader = db_snapshot_begin(); /* the row and its counts agree */
    store_status s = db_one("SELECT " ROLLOUT_COLUMNS " FROM rollouts WHERE rollout_id = ?1", read_rollout, out, "s",
                            id);
    if (s == STORE_OK)
        s = store_rollout_count(out);
    store_rollout_device row;
    db_rows v = {each, ctx};
    if (s == STORE_OK && each)
        s = db_each("SELECT " DEVICE_COLUMNS DEVICE_FROM "WHERE rd.rollout_id = ?1 "
                    "ORDER BY rd.batch, rd.product_key, rd.device_name",
                    read_device, &row, db_visit_rows, &v, "s", id);
    db_snapshot_end(on_reader);
    return s;
}

store_status store_rollout_list(const char *pk, store_page *page)
{
    store_rollout row;
    return db_page("SELECT " ROLLOUT_COLUMNS " FROM rollouts WHERE (?1 IS NULL OR product_key = ?1) "
                   "ORDER BY created_at DESC, rollout_id LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM rollouts WHERE (?1 IS NULL OR product_key = ?1)", read_rollout_counted, &row,
                   page, "s", pk);
}

static void read_batch(sqlite3_stmt *st, void *out)
{
    store_batch_counts *c = out;
    c->size = sqlite3_column_int(st, 0);
    c->succeeded = sqlite3_column_int(st, 1);
    c->errors = sqlite3_column_int(st, 2);
    c->in_flight = sqlite3_column_int(st, 3);
}

store_status store_rollout_batch_counts(const store_rollout *r, int batch, store_batch_counts *out)
{
    memset(out, 0, sizeof *out);
    return db_one("SELECT COUNT(*), COALESCE(SUM(state = 'succeeded'), 0), "
                  "COALESCE(SUM(state IN ('failed', 'timedOut') AND attempts > ?3), 0), "
                  "COALESCE(SUM(state IN " OPEN_STATES " OR (state IN ('failed', 'timedOut') AND attempts <= ?3)), 0) "
                  "FROM rollout_devices WHERE rollout_id = ?1 AND batch = ?2",
                  read_batch, out, "sii", r->rollout_id, batch, r->max_retries);
}

store_status store_rollout_save(const store_rollout *r, int64_t now)
{
    int ended = !strcmp(r->status, "completed") || !strcmp(r->status, "canceled");
    return db_update("UPDATE rollouts SET status = ?2, pause_reason = ?3, current_batch = ?4, accepted_errors = ?5, "
                     "ended_at = CASE WHEN ?6 THEN ?7 ELSE NULL END WHERE rollout_id = ?1",
                     "sssiiiI", r->rollout_id, r->status, r->pause_reason, r->current_batch, r->accepted_errors,
                     ended, now);
}

typedef struct {
    void (*each)(const char *id, void *ctx);
    void *ctx;
} id_visit;

static void read_id(sqlite3_stmt *st, void *out) { db_copy(out, STORE_ID_SIZE, st, 0); }

static int visit_id(const void *row, void *ctx)
{
    const id_visit *v = ctx;
    v->each(row, v->ctx);
    return 0;
}

store_status store_rollout_ids(const char *status, void (*each)(const char *id, void *ctx), void *ctx)
{
    char id[STORE_ID_SIZE];
    id_visit v = {each, ctx};
    return db_each("SELECT rollout_id FROM rollouts WHERE status = ?1 ORDER BY created_at", read_id, id, visit_id, &v,
                   "s", status);
}

store_status store_rollout_start_batch(const char *id, int batch, int64_t now)
{
    int n = 0;
    store_status s = db_write("INSERT INTO rollout_history(rollout_id, product_key, device_name, at, state, detail) "
                              "SELECT rollout_id, product_key, device_name, ?3, 'queued', 'batch ' || ?2 || ' started' "
                              "FROM rollout_devices WHERE rollout_id = ?1 AND batch = ?2 AND state = 'waiting'",
                              &n, "siI", id, batch, now);
    if (s == STORE_OK)
        s = db_write("UPDATE rollout_devices SET state = 'queued', updated_at = ?3 "
                     "WHERE rollout_id = ?1 AND batch = ?2 AND state = 'waiting'", &n, "siI", id, batch, now);
    return s;
}

/* The state names of mask as an SQL list body: 'a','b' (into buf). */
static void state_list(unsigned mask, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < RD_STATES; i++)
        if (mask & (1u << i))
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", store_rollout_state_names[i]);
}

store_status store_rollout_move(const char *id, const char *pk, const char *dn, unsigned from, store_rollout_state to,
                                 const int *code, int progress, const char *reason, int64_t now)
{
    char states[200];
    state_list(from, states, sizeof states);
    const char *name = store_rollout_state_names[to];
    int pushed = to == RD_PUSHED, ended_badly = to == RD_FAILED || to == RD_TIMED_OUT;
    db_lock();
    /* instr() over ",a,b,": the states the device may move from */
    store_status s = db_update(
        "UPDATE rollout_devices SET state = ?4, updated_at = ?5, "
        "attempts = attempts + ?6, pushed_at = CASE WHEN ?6 THEN ?5 ELSE pushed_at END, "
        "progress = CASE WHEN ?7 >= 0 THEN ?7 WHEN ?6 THEN NULL ELSE progress END, "
        "code = CASE WHEN ?8 THEN ?9 WHEN ?6 THEN NULL ELSE code END, "
        "reason = COALESCE(?10, CASE WHEN ?6 THEN '' ELSE reason END), "
        "retry_at = CASE WHEN ?11 THEN ?5 + (SELECT retry_seconds FROM rollouts r WHERE r.rollout_id = ?1) "
        "ELSE NULL END "
        "WHERE rollout_id = ?1 AND product_key = ?2 AND device_name = ?3 AND instr(',' || ?12 || ',', ',' || state || ',')",
        "ssssIiiiisis", id, pk, dn, name, now, pushed, progress, code != NULL, code ? *code : 0, reason,
        ended_badly, states);
    int n = 0;
    if (s == STORE_OK)
        s = db_write("INSERT INTO rollout_history(rollout_id, product_key, device_name, at, state, code, detail) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN ?7 END, COALESCE(?8, ''))",
                     &n, "sssIsiis", id, pk, dn, now, name, code != NULL, code ? *code : 0, reason);
    db_unlock();
    return s;
}

store_status store_rollout_due(const store_rollout *r, int max, int64_t now, store_row_fn each, void *ctx)
{
    store_rollout_device row;
    db_rows v = {each, ctx};
    (void)now;
    return db_each("SELECT " DEVICE_COLUMNS DEVICE_FROM "WHERE rd.rollout_id = ?1 AND rd.state = 'queued' "
                   "AND rd.batch <= ?2 AND d.status = 'online' ORDER BY rd.batch, rd.product_key, rd.device_name "
                   "LIMIT ?3",
                   read_device, &row, db_visit_rows, &v, "sii", r->rollout_id, r->current_batch, max);
}

store_status store_rollout_retries(const store_rollout *r, int64_t now, int *n)
{
    int h = 0;
    store_status s = db_write("INSERT INTO rollout_history(rollout_id, product_key, device_name, at, state, detail) "
                              "SELECT rollout_id, product_key, device_name, ?2, 'queued', 'retry ' || attempts "
                              "FROM rollout_devices WHERE rollout_id = ?1 AND state IN ('failed', 'timedOut') "
                              "AND attempts <= ?3 AND retry_at <= ?2",
                              &h, "sIi", r->rollout_id, now, r->max_retries);
    if (s == STORE_OK)
        s = db_write("UPDATE rollout_devices SET state = 'queued', retry_at = NULL, updated_at = ?2 "
                     "WHERE rollout_id = ?1 AND state IN ('failed', 'timedOut') AND attempts <= ?3 AND retry_at <= ?2",
                     n, "sIi", r->rollout_id, now, r->max_retries);
    return s;
}

store_status store_rollout_timeouts(const store_rollout *r, int64_t now, int *n)
{
    *n = 0;
    if (r->timeout_seconds <= 0)
        return STORE_OK;
    int h = 0;
    int64_t before = now - r->timeout_seconds;
    store_status s = db_write("INSERT INTO rollout_history(rollout_id, product_key, device_name, at, state, detail) "
                              "SELECT rollout_id, product_key, device_name, ?2, 'timedOut', 'no result within ' || ?4 "
                              "|| ' s' FROM rollout_devices WHERE rollout_id = ?1 "
                              "AND state IN ('pushed', 'downloading', 'installing') AND pushed_at <= ?3",
                              &h, "sIIi", r->rollout_id, now, before, r->timeout_seconds);
    if (s == STORE_OK)
        s = db_write("UPDATE rollout_devices SET state = 'timedOut', reason = 'no result within ' || ?4 || ' s', "
                     "updated_at = ?2, retry_at = ?2 + ?5 WHERE rollout_id = ?1 "
                     "AND state IN ('pushed', 'downloading', 'installing') AND pushed_at <= ?3",
                     n, "sIIii", r->rollout_id, now, before, r->timeout_seconds, r->retry_seconds);
    return s;
}

store_status store_rollout_pushes_since(const char *id, int64_t since, int *n)
{
    return db_one("SELECT COUNT(*) FROM rollout_history WHERE rollout_id = ?1 AND state = 'pushed' AND at > ?2",
                  db_read_int, n, "sI", id, since);
}

store_status store_rollouts_of_device(const char *pk, const char *dn, const char *kind,
                                      void (*each)(const char *id, void *ctx), void *ctx)
{
    char id[STORE_ID_SIZE];
    id_visit v = {each, ctx};
    if (!db_hint_maybe(&rollouts_active))
        return STORE_OK; /* no rollout is running or paused */
    return db_each("SELECT rd.rollout_id FROM rollout_devices rd JOIN rollouts r ON r.rollout_id = rd.rollout_id "
                   "WHERE rd.product_key = ?1 AND rd.device_name = ?2 AND r.kind = ?3 "
                   "AND r.status IN ('running', 'paused') "
                   "AND rd.state IN ('queued', 'pushed', 'downloading', 'installing') ORDER BY r.created_at DESC",
                   read_id, id, visit_id, &v, "sss", pk, dn, kind);
}

store_status store_rollouts_dynamic_for(const char *pk, const char *dn, void (*each)(const char *id, void *ctx),
                                        void *ctx)
{
    char id[STORE_ID_SIZE];
    id_visit v = {each, ctx};
    if (!db_hint_maybe(&rollouts_active))
        return STORE_OK; /* no rollout is scheduled, running or paused */
    return db_each("SELECT r.rollout_id FROM rollouts r WHERE r.product_key = ?1 AND r.dynamic "
                   "AND r.status IN ('scheduled', 'running', 'paused') AND NOT EXISTS (SELECT 1 FROM rollout_devices rd "
                   "WHERE rd.rollout_id = r.rollout_id AND rd.product_key = ?1 AND rd.device_name = ?2) "
                   "ORDER BY r.created_at",
                   read_id, id, visit_id, &v, "ss", pk, dn);
}

static void read_event(sqlite3_stmt *st, void *out)
{
    store_rollout_event *e = out;
    e->at = sqlite3_column_int64(st, 0);
    db_copy(e->state, sizeof e->state, st, 1);
    e->has_code = !db_null(st, 2);
    e->code = sqlite3_column_int(st, 2);
    db_copy(e->detail, sizeof e->detail, st, 3);
}

store_status store_rollout_history(const char *id, const char *pk, const char *dn, store_row_fn each, void *ctx)
{
    store_rollout_event row;
    db_rows v = {each, ctx};
    return db_each("SELECT at, state, code, detail FROM rollout_history WHERE rollout_id = ?1 AND product_key = ?2 "
                   "AND device_name = ?3 ORDER BY rowid", read_event, &row, db_visit_rows, &v, "sss", id, pk, dn);
}

store_status store_rollout_cancel(const char *id, int64_t now)
{
    char status[STORE_WORD_SIZE];
    db_lock();
    store_status s = db_one("SELECT status FROM rollouts WHERE rollout_id = ?1", read_id, status, "s", id);
    if (s == STORE_OK && (!strcmp(status, "completed") || !strcmp(status, "canceled")))
        s = STORE_CONFLICT;
    int n = 0;
    if (s == STORE_OK)
        s = db_write("INSERT INTO rollout_history(rollout_id, product_key, device_name, at, state, detail) "
                     "SELECT rollout_id, product_key, device_name, ?2, 'canceled', 'rollout canceled' "
                     "FROM rollout_devices WHERE rollout_id = ?1 AND (state IN " OPEN_STATES " OR state IN ('failed', 'timedOut') "
                     "AND attempts <= (SELECT max_retries FROM rollouts r WHERE r.rollout_id = ?1))", &n, "sI", id, now);
    if (s == STORE_OK)
        s = db_write("UPDATE rollout_devices SET state = 'canceled', reason = 'rollout canceled', updated_at = ?2, "
                     "retry_at = NULL WHERE rollout_id = ?1 AND (state IN " OPEN_STATES " OR state IN ('failed', 'timedOut') "
                     "AND attempts <= (SELECT max_retries FROM rollouts r WHERE r.rollout_id = ?1))", &n, "sI", id, now);
    if (s == STORE_OK)
        s = db_update("UPDATE rollouts SET status = 'canceled', ended_at = ?2 WHERE rollout_id = ?1", "sI", id, now);
    db_unlock();
    return s;
}
