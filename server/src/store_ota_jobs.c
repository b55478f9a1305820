/*
 * store_ota_jobs.c - firmware upgrade jobs and their devices (see
 * store_ota_jobs.h).
 */
#include "store_ota_jobs.h"
#include "db.h"

#include <string.h>

/* Are firmware jobs in progress? (db_hint, db.h): every device's online
 * message, version inform and firmware/get asks, a quarter of the MQTT
 * link's work in a 1,000-device app upgrade when it took a query. */
static db_hint jobs_in_progress = DB_HINT_INIT;

const char *const store_ota_state_names[OTA_STATES] = {"queued", "pushed", "downloading", "succeeded",
                                                       "failed", "timedOut", "canceled"};

/* The states in which a device still waits for its job to end. */
#define WAITING "('queued', 'pushed', 'downloading')"

static store_ota_state state_named(const char *name)
{
    for (int i = 0; i < OTA_STATES; i++)
        if (!strcmp(name, store_ota_state_names[i]))
            return (store_ota_state)i;
    return OTA_QUEUED;
}

#define JOB_COLUMNS "j.job_id, j.firmware_id, f.product_key, f.module_name, f.version, j.target_type, " \
                    "COALESCE(j.group_id, ''), j.src_versions, j.timeout_minutes, j.status, j.created_at, " \
                    "COALESCE(j.ended_at, 0)"
#define JOB_FROM " FROM ota_jobs j JOIN firmwares f ON f.firmware_id = j.firmware_id "

static void read_job(sqlite3_stmt *st, void *out)
{
    store_ota_job *j = out;
    db_copy(j->job_id, sizeof j->job_id, st, 0);
    db_copy(j->firmware_id, sizeof j->firmware_id, st, 1);
    db_copy(j->product_key, sizeof j->product_key, st, 2);
    db_copy(j->module_name, sizeof j->module_name, st, 3);
    db_copy(j->version, sizeof j->version, st, 4);
    db_copy(j->target_type, sizeof j->target_type, st, 5);
    db_copy(j->group_id, sizeof j->group_id, st, 6);
    db_copy(j->src_versions, sizeof j->src_versions, st, 7);
    j->timeout_minutes = sqlite3_column_int(st, 8);
    db_copy(j->status, sizeof j->status, st, 9);
    j->created_at = sqlite3_column_int64(st, 10);
    j->ended_at = sqlite3_column_int64(st, 11);
    memset(j->counts, 0, sizeof j->counts);
}

static void read_count(sqlite3_stmt *st, void *out)
{
    store_ota_job *j = out;
    j->counts[state_named(db_text(st, 0))] += sqlite3_column_int(st, 1);
}

/* The counts of job j, by state. */
static store_status count_states(store_ota_job *j)
{
    return db_each("SELECT state, COUNT(*) FROM ota_job_devices WHERE job_id = ?1 GROUP BY state", read_count, j,
                   db_visit_all, NULL, "s", j->job_id);
}

static void read_job_counted(sqlite3_stmt *st, void *out)
{
    read_job(st, out);
    count_states(out);
}

static store_status any_in_progress(bool *any)
{
    return db_one("SELECT EXISTS (SELECT 1 FROM ota_jobs WHERE status = 'inProgress')", db_read_bool, any, "");
}

store_status store_ota_refresh_active(void) { return db_hint_refresh(&jobs_in_progress, any_in_progress); }

store_status store_ota_job_insert(const store_ota_job *j)
{
    db_hint_set(&jobs_in_progress);
    return db_insert("INSERT OR IGNORE INTO ota_jobs(job_id, firmware_id, target_type, group_id, src_versions, "
                     "timeout_minutes, created_at) VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, ?6, ?7)",
                     "sssssiI", j->job_id, j->firmware_id, j->target_type, j->group_id, j->src_versions,
                     j->timeout_minutes, j->created_at);
}

store_status store_ota_job_add_devices(const store_ota_job *j, const char *dn, const char *group_id, int64_t now,
                                       int *added)
{
    /* instr() on ",a,b," rather than LIKE: versions may hold '_', a LIKE wildcard. */
    return db_write("INSERT OR IGNORE INTO ota_job_devices(job_id, product_key, device_name, from_version, "
                    "updated_at) SELECT ?1, d.product_key, d.device_name, COALESCE(dm.version, ''), ?8 FROM devices d "
                    "LEFT JOIN device_modules dm ON dm.product_key = d.product_key "
                    "AND dm.device_name = d.device_name AND dm.module_name = ?5 "
                    "WHERE d.product_key = ?2 AND (?3 IS NULL OR d.device_name = ?3) "
                    "AND (?4 IS NULL OR EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = ?4 "
                    "AND m.product_key = d.product_key AND m.device_name = d.device_name)) "
                    "AND COALESCE(dm.version, '') <> ?6 "
                    "AND (?7 = '' OR instr(',' || ?7 || ',', ',' || COALESCE(dm.version, '') || ',') > 0)",
                    added, "sssssssI", j->job_id, j->product_key, dn, group_id, j->module_name, j->version,
                    j->src_versions, now);
}

store_status store_ota_job_supersede(const store_ota_job *j, int64_t now)
{
    int n = 0;
    return db_write("UPDATE ota_job_devices SET state = 'canceled', reason = 'superseded by job ' || ?1, "
                    "updated_at = ?4 WHERE job_id <> ?1 AND state IN " WAITING " "
                    "AND job_id IN (SELECT j.job_id" JOB_FROM "WHERE j.status = 'inProgress' "
                    "AND f.product_key = ?2 AND f.module_name = ?3) "
                    "AND EXISTS (SELECT 1 FROM ota_job_devices n WHERE n.job_id = ?1 "
                    "AND n.product_key = ota_job_devices.product_key "
                    "AND n.device_name = ota_job_devices.device_name)",
                    &n, "sssI", j->job_id, j->product_key, j->module_name, now);
}

static void read_job_device(sqlite3_stmt *st, void *out)
{
    store_ota_job_device *d = out;
    db_copy(d->job_id, sizeof d->job_id, st, 0);
    db_copy(d->product_key, sizeof d->product_key, st, 1);
    db_copy(d->device_name, sizeof d->device_name, st, 2);
    d->state = state_named(db_text(st, 3));
    d->has_progress = !db_null(st, 4);
    d->progress = sqlite3_column_int(st, 4);
    d->has_code = !db_null(st, 5);
    d->code = sqlite3_column_int(st, 5);
    db_copy(d->reason, sizeof d->reason, st, 6);
    db_copy(d->from_version, sizeof d->from_version, st, 7);
    d->pushed_at = sqlite3_column_int64(st, 8);
    d->updated_at = sqlite3_column_int64(st, 9);
    d->push_count = sqlite3_column_int(st, 10);
    db_copy(d->device_status, sizeof d->device_status, st, 11);
}

#define JOB_DEVICE_COLUMNS "jd.job_id, jd.product_key, jd.device_name, jd.state, jd.progress, jd.code, " \
                           "jd.reason, jd.from_version, COALESCE(jd.pushed_at, 0), jd.updated_at, " \
                           "jd.push_count, d.status"

typedef struct {
    store_ota_job *job;
    store_row_fn each;
    void *ctx;
} device_walk;

static int count_device(const void *row, void *ctx)
{
    const store_ota_job_device *d = row;
    device_walk *w = ctx;
    w->job->counts[d->state]++;
    w->each(d, w->ctx);
    return 0;
}

store_status store_ota_job_get(const char *id, store_ota_job *out, store_row_fn each, void *ctx)
{
    bool on_reader = db_snapshot_begin(); /* the row and its counts agree */
    store_status s = db_one("SELECT " JOB_COLUMNS JOB_FROM "WHERE j.job_id = ?1", read_job, out, "s", id);
    store_ota_job_device row;
    device_walk w = {out, each, ctx};
    if (s == STORE_OK && !each)
        s = count_states(out);
    else if (s == STORE_OK)
        s = db_each("SELECT " JOB_DEVICE_COLUMNS " FROM ota_job_devices jd JOIN devices d "
                    "ON d.product_key = jd.product_key AND d.device_name = jd.device_name "
                    "WHERE jd.job_id = ?1 ORDER BY jd.product_key, jd.device_name",
                    read_job_device, &row, count_device, &w, "s", id);
    db_snapshot_end(on_reader);
    return s;
}

store_status store_ota_job_list(const char *firmware_id, const char *pk, store_page *page)
{
    store_ota_job row;
    return db_page("SELECT " JOB_COLUMNS JOB_FROM "WHERE (?1 IS NULL OR j.firmware_id = ?1) "
                   "AND (?2 IS NULL OR f.product_key = ?2) "
                   "ORDER BY j.created_at DESC, j.job_id LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*)" JOB_FROM "WHERE (?1 IS NULL OR j.firmware_id = ?1) "
                   "AND (?2 IS NULL OR f.product_key = ?2)",
                   read_job_counted, &row, page, "ss", firmware_id, pk);
}

static void read_text(sqlite3_stmt *st, void *out) { db_copy(out, STORE_WORD_SIZE, st, 0); }

store_status store_ota_job_cancel(const char *id, int64_t now)
{
    char status[STORE_WORD_SIZE];
    db_lock();
    store_status s = db_one("SELECT status FROM ota_jobs WHERE job_id = ?1", read_text, status, "s", id);
    if (s == STORE_OK && strcmp(status, "inProgress") != 0)
        s = STORE_CONFLICT;
    int n = 0;
    if (s == STORE_OK)
        s = db_write("UPDATE ota_job_devices SET state = 'canceled', reason = 'job canceled', updated_at = ?2 "
                     "WHERE job_id = ?1 AND state IN " WAITING, &n, "sI", id, now);
    if (s == STORE_OK)
        s = db_update("UPDATE ota_jobs SET status = 'canceled', ended_at = ?2 WHERE job_id = ?1", "sI", id, now);
    db_unlock();
    return s;
}

store_status store_ota_jobs_settle(int64_t now)
{
    int n = 0;
    return db_write("UPDATE ota_jobs SET status = 'completed', ended_at = ?1 WHERE status = 'inProgress' "
                    "AND NOT EXISTS (SELECT 1 FROM ota_job_devices d WHERE d.job_id = ota_jobs.job_id "
                    "AND d.state IN " WAITING ")", &n, "I", now);
}

store_status store_ota_firmware_active_jobs(const char *id, int *n)
{
    return db_one("SELECT COUNT(*) FROM ota_jobs WHERE firmware_id = ?1 AND status = 'inProgress'", db_read_int, n, "s",
                  id);
}

static void read_due(sqlite3_stmt *st, void *out)
{
    store_ota_due *d = out;
    db_copy(d->job_id, sizeof d->job_id, st, 0);
    d->state = state_named(db_text(st, 1));
    store_firmware *f = &d->firmware;
    db_copy(f->firmware_id, sizeof f->firmware_id, st, 2);
    db_copy(f->product_key, sizeof f->product_key, st, 3);
    db_copy(f->module_name, sizeof f->module_name, st, 4);
    db_copy(f->version, sizeof f->version, st, 5);
    db_copy(f->name, sizeof f->name, st, 6);
    db_copy(f->object_key, sizeof f->object_key, st, 7);
    f->size = sqlite3_column_int64(st, 8);
    db_copy(f->md5, sizeof f->md5, st, 9);
    db_copy(f->sha256, sizeof f->sha256, st, 10);
    db_copy(f->sign_method, sizeof f->sign_method, st, 11);
    db_copy(f->src_versions, sizeof f->src_versions, st, 12);
    f->created_at = sqlite3_column_int64(st, 13);
}

typedef struct {
    store_row_fn each;
    void *ctx;
    unsigned states;
} due_walk;

static int visit_due(const void *row, void *ctx)
{
    const store_ota_due *d = row;
    const due_walk *w = ctx;
    if (w->states & (1u << d->state))
        w->each(d, w->ctx);
    return 0;
}

store_status store_ota_due_for(const char *pk, const char *dn, const char *module, unsigned states, store_row_fn each,
                               void *ctx)
{
    if (!db_hint_maybe(&jobs_in_progress))
        return STORE_OK; /* no job in progress: none is due */
    store_ota_due row;
    due_walk w = {each, ctx, states};
    return db_each("SELECT jd.job_id, jd.state, f.firmware_id, f.product_key, f.module_name, f.version, f.name, "
                   "f.object_key, f.size, f.md5, f.sha256, f.sign_method, f.src_versions, f.created_at "
                   "FROM ota_job_devices jd JOIN ota_jobs j ON j.job_id = jd.job_id "
                   "JOIN firmwares f ON f.firmware_id = j.firmware_id "
                   "WHERE jd.product_key = ?1 AND jd.device_name = ?2 AND j.status = 'inProgress' "
                   "AND jd.state IN " WAITING " AND (?3 IS NULL OR f.module_name = ?3) "
                   "ORDER BY j.created_at DESC, j.job_id",
                   read_due, &row, visit_due, &w, "sss", pk, dn, module);
}

store_status store_ota_job_online_queued(const char *id, store_row_fn each, void *ctx)
{
    store_ota_job_device row;
    db_rows v = {each, ctx};
    return db_each("SELECT " JOB_DEVICE_COLUMNS " FROM ota_job_devices jd JOIN devices d "
                   "ON d.product_key = jd.product_key AND d.device_name = jd.device_name "
                   "WHERE jd.job_id = ?1 AND jd.state = 'queued' AND d.status = 'online'",
                   read_job_device, &row, db_visit_rows, &v, "s", id);
}

store_status store_ota_mark_pushed(const char *id, const char *pk, const char *dn, int64_t now)
{
    return db_update("UPDATE ota_job_devices SET state = CASE state WHEN 'queued' THEN 'pushed' ELSE state END, "
                     "pushed_at = ?4, push_count = push_count + 1, updated_at = ?4 "
                     "WHERE job_id = ?1 AND product_key = ?2 AND device_name = ?3 AND state IN " WAITING,
                     "sssI", id, pk, dn, now);
}

static void read_id(sqlite3_stmt *st, void *out) { db_copy(out, STORE_ID_SIZE, st, 0); }

store_status store_ota_progress(const char *pk, const char *dn, const char *module, int step, const char *reason,
                                int64_t now, char job_id[STORE_ID_SIZE])
{
    job_id[0] = '\0';
    db_lock();
    store_status s = db_one("SELECT jd.job_id FROM ota_job_devices jd JOIN ota_jobs j ON j.job_id = jd.job_id "
                            "JOIN firmwares f ON f.firmware_id = j.firmware_id "
                            "WHERE jd.product_key = ?1 AND jd.device_name = ?2 AND f.module_name = ?3 "
                            "AND j.status = 'inProgress' AND jd.state IN ('pushed', 'downloading') "
                            "ORDER BY j.created_at DESC, j.job_id LIMIT 1",
                            read_id, job_id, "sss", pk, dn, module);
    if (s == STORE_OK && step >= 0)
        s = db_update("UPDATE ota_job_devices SET state = 'downloading', progress = ?4, updated_at = ?5 "
                      "WHERE job_id = ?1 AND product_key = ?2 AND device_name = ?3", "sssiI", job_id, pk, dn, step,
                      now);
    else if (s == STORE_OK)
        s = db_update("UPDATE ota_job_devices SET state = 'failed', code = ?4, reason = ?5, updated_at = ?6 "
                      "WHERE job_id = ?1 AND product_key = ?2 AND device_name = ?3", "sssisI", job_id, pk, dn, step,
                      reason, now);
    db_unlock();
    return s == STORE_NOT_FOUND ? STORE_OK : s;
}

store_status store_ota_reached(const char *pk, const char *dn, const char *module, const char *version, int64_t now,
                               int *n)
{
    if (!db_hint_maybe(&jobs_in_progress)) {
        *n = 0;
        return STORE_OK;
    }
    return db_write("UPDATE ota_job_devices SET state = 'succeeded', progress = 100, updated_at = ?5 "
                    "WHERE product_key = ?1 AND device_name = ?2 AND state IN " WAITING " "
                    "AND job_id IN (SELECT j.job_id" JOB_FROM "WHERE j.status = 'inProgress' "
                    "AND f.module_name = ?3 AND f.version = ?4)",
                    n, "ssssI", pk, dn, module, version, now);
}

store_status store_ota_timeouts(int64_t now, int *n)
{
    return db_write("UPDATE ota_job_devices SET state = 'timedOut', reason = 'no result within the job''s timeout', "
                    "updated_at = ?1 WHERE state IN ('pushed', 'downloading') AND EXISTS (SELECT 1 FROM ota_jobs j "
                    "WHERE j.job_id = ota_job_devices.job_id AND j.status = 'inProgress' AND j.timeout_minutes > 0 "
                    "AND ota_job_devices.pushed_at + j.timeout_minutes * 60 <= ?1)", n, "I", now);
}
