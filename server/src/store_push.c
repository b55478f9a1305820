/*
 * store_push.c - the reads and writes of pushes on tasks, task_devices,
 * group_members and device_apps (see store_push.h).
 */
#include "store_push.h"
#include "store_devices.h"
#include "clock.h"
#include "db.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char app_id[STORE_APP_ID_SIZE];
    char version[STORE_VERSION_SIZE];
    char *group_id;
} task_target;

static void read_target(sqlite3_stmt *st, void *out)
{
    task_target *t = out;
    db_copy(t->app_id, sizeof t->app_id, st, 0);
    db_copy(t->version, sizeof t->version, st, 1);
    db_copy(t->group_id, STORE_ID_SIZE, st, 2);
}

store_status store_push_package(const char *task_id, char group_id[STORE_ID_SIZE], store_version *pkg)
{
    task_target t = {.group_id = group_id};
    db_lock();
    store_status s = db_one("SELECT app_id, version, group_id FROM tasks WHERE task_id = ?1", read_target, &t, "s",
                            task_id);
    if (s == STORE_OK)
        s = store_version_get(t.app_id, t.version, pkg);
    db_unlock();
    return s;
}

static void read_member(sqlite3_stmt *st, void *out)
{
    store_push_member *m = out;
    db_copy(m->product_key, sizeof m->product_key, st, 0);
    db_copy(m->device_name, sizeof m->device_name, st, 1);
    m->online = sqlite3_column_int(st, 2) != 0;
    m->has_version = !db_null(st, 3);
    db_copy(m->version, sizeof m->version, st, 3);
    m->state = store_task_state_named(db_text(st, 4));
    m->has_code = !db_null(st, 5);
    m->code = sqlite3_column_int(st, 5);
}

typedef struct {
    store_push_member_fn each;
    void *ctx;
    bool stopped; /* each returned non-zero */
} member_visit;

static int visit_member(const void *row, void *ctx)
{
    member_visit *v = ctx;
    int rc = v->each(row, v->ctx);
    v->stopped = rc != 0;
    return rc;
}

/* The walks of a push: the same parameters (?1 task, ?2 group, ?3 app, ?4
 * and ?5 the member after which to start, ?6 the limit) and the same
 * columns (read_member) from the statements below; sql is one of their
 * literals. The moved walk's look-up of one member takes ?4 and ?5 as the
 * member itself and 1 as the limit. Each row goes to v's function; v notes
 * whether it asked to stop. */
static store_status walk_members(const char *sql, const char *task_id, const char *group_id, const char *app_id,
                                 const char *after_pk, const char *after_dn, int limit, member_visit *v)
{
    store_push_member row;
    return db_each(sql, read_member, &row, visit_member, v, "sssssi", task_id, group_id, app_id, after_pk, after_dn,
                   limit);
}

store_status store_push_members(const char *task_id, const char *group_id, const char *app_id, const char *after_pk,
                                const char *after_dn, int limit, store_push_member_fn each, void *ctx)
{
    /* the app's version only of online members: the others get no push,
     * and most of a big group is offline (a look-up less for each) */
    return walk_members("SELECT m.product_key, m.device_name, d.status = 'online', CASE WHEN d.status = 'online' THEN "
                        "(SELECT a.version FROM device_apps a WHERE a.product_key = m.product_key "
                        "AND a.device_name = m.device_name AND a.app_id = ?3) END, "
                        "COALESCE(td.state, 'pending'), td.code FROM group_members m "
                        "JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name "
                        "LEFT JOIN task_devices td ON td.task_id = ?1 AND td.product_key = m.product_key "
                        "AND td.device_name = m.device_name "
                        "WHERE m.group_id = ?2 AND (m.product_key, m.device_name) > (?4, ?5) "
                        "ORDER BY m.product_key, m.device_name LIMIT ?6",
                        task_id, group_id, app_id, after_pk, after_dn, limit, &(member_visit){each, ctx, false});
}

store_status store_push_online_members(const char *task_id, const char *group_id, const char *app_id,
                                       const char *after_pk, const char *after_dn, int limit, store_push_member_fn each,
                                       void *ctx)
{
    /* CROSS JOIN: from the online devices in order, never from the group */
    return walk_members("SELECT d.product_key, d.device_name, 1, (SELECT a.version FROM device_apps a "
                        "WHERE a.product_key = d.product_key AND a.device_name = d.device_name AND a.app_id = ?3), "
                        "COALESCE(td.state, 'pending'), td.code FROM devices d INDEXED BY devices_by_status "
                        "CROSS JOIN group_members m ON m.group_id = ?2 AND m.product_key = d.product_key "
                        "AND m.device_name = d.device_name "
                        "LEFT JOIN task_devices td ON td.task_id = ?1 AND td.product_key = d.product_key "
                        "AND td.device_name = d.device_name "
                        "WHERE d.status = 'online' AND (d.product_key, d.device_name) > (?4, ?5) "
                        "ORDER BY d.product_key, d.device_name LIMIT ?6",
                        task_id, group_id, app_id, after_pk, after_dn, limit, &(member_visit){each, ctx, false});
}

/* The keys the moved walk reads its members of (store_push_moved_members). */
typedef struct {
    store_push_key_fn walked;
    void *ctx;
    store_device_id *keys;
    int n;
} moved_keys;

static int keep_moved_key(const void *row, void *ctx)
{
    const store_device_id *k = row;
    moved_keys *m = ctx;
    if (m->walked(k->product_key, k->device_name, m->ctx))
        m->keys[m->n++] = *k;
    return 0;
}

store_status store_push_moved_members(const char *task_id, const char *group_id, const char *app_id,
                                      const char *after_pk, const char *after_dn, int limit,
                                      store_push_key_fn walked, store_push_member_fn each, void *ctx)
{
    if (limit <= 0)
        return STORE_OK;
    moved_keys m = {walked, ctx, malloc((size_t)limit * sizeof *m.keys), 0};
    if (!m.keys)
        return STORE_ERROR;
    store_device_id row;
    /* only the partial index task_devices_moved: it holds every key asked
     * for, and its WHERE is the walk's (the rows are not read) */
    store_status s = db_each("SELECT product_key, device_name FROM task_devices INDEXED BY task_devices_moved "
                             "WHERE task_id = ?1 AND state <> 'offline' AND (product_key, device_name) > (?2, ?3) "
                             "ORDER BY product_key, device_name LIMIT ?4",
                             store_device_id_read, &row, keep_moved_key, &m, "sssi", task_id, after_pk, after_dn, limit);
    member_visit v = {each, ctx, false};
    for (int i = 0; s == STORE_OK && !v.stopped && i < m.n; i++) {
        /* the member, if the device still is one, with its row */
        s = walk_members("SELECT m.product_key, m.device_name, d.status = 'online', "
                         "CASE WHEN d.status = 'online' THEN (SELECT a.version FROM device_apps a "
                         "WHERE a.product_key = m.product_key AND a.device_name = m.device_name "
                         "AND a.app_id = ?3) END, td.state, td.code FROM group_members m "
                         "JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name "
                         "JOIN task_devices td ON td.task_id = ?1 AND td.product_key = m.product_key "
                         "AND td.device_name = m.device_name "
                         "WHERE m.group_id = ?2 AND m.product_key = ?4 AND m.device_name = ?5 LIMIT ?6",
                         task_id, group_id, app_id, m.keys[i].product_key, m.keys[i].device_name, 1, &v);
    }
    free(m.keys);
    return s;
}

store_status store_push_set(const char *task_id, const char *pk, const char *dn, store_task_state state,
                            bool has_code, int code, const char *trace, int64_t now)
{
    return db_write("INSERT INTO task_devices(task_id, product_key, device_name, state, code, trace_id, updated_at) "
                    "VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 THEN ?6 END, ?7, ?8) "
                    "ON CONFLICT(task_id, product_key, device_name) DO UPDATE SET state = excluded.state, "
                    "code = excluded.code, trace_id = excluded.trace_id, updated_at = excluded.updated_at",
                    NULL, "ssssiisI", task_id, pk, dn, store_task_state_names[state], (int)has_code, code, trace,
                    now);
}

/*
 * store_push_record writes rows RECORD_CHUNK at a time, one statement per
 * chunk: ?1 the task, ?2 the time, then product key, device name, state and
 * code of each row. A row the task has not got yet is inserted; one it has
 * (every pushed device, at the next push) is updated in place, which costs
 * SQLite half of an INSERT ... ON CONFLICT DO UPDATE (that tries the insert
 * first). Built once (their addresses are their cache keys, db_cached).
 */
#define RECORD_CHUNK 64
#define RECORD_VALUES "(?%d, ?%d, ?%d, ?%d)"
static char insert_sql[200 + RECORD_CHUNK * 32 + 300], update_sql[200 + RECORD_CHUNK * 32 + 200];
static pthread_once_t record_once = PTHREAD_ONCE_INIT;

/* "VALUES (?3, ?4, ?5, ?6), ..." for RECORD_CHUNK rows at buf; its length. */
static size_t record_values(char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "VALUES ");
    for (int i = 0; i < RECORD_CHUNK; i++) {
        int p = 3 + 4 * i;
        len += (size_t)snprintf(buf + len, cap - len, RECORD_VALUES "%s", p, p + 1, p + 2, p + 3,
                                i + 1 < RECORD_CHUNK ? ", " : "");
    }
    return len;
}

static void build_record_sql(void)
{
    size_t len = (size_t)snprintf(insert_sql, sizeof insert_sql, "INSERT INTO task_devices(task_id, product_key, "
                                  "device_name, state, code, trace_id, updated_at) SELECT ?1, column1, column2, "
                                  "column3, column4, NULL, ?2 FROM (");
    len += record_values(insert_sql + len, sizeof insert_sql - len);
    snprintf(insert_sql + len, sizeof insert_sql - len,
             ") WHERE 1 ON CONFLICT(task_id, product_key, device_name) DO UPDATE SET state = excluded.state, "
             "code = excluded.code, trace_id = NULL, updated_at = excluded.updated_at");
    len = (size_t)snprintf(update_sql, sizeof update_sql, "UPDATE task_devices SET state = v.column3, "
                           "code = v.column4, trace_id = NULL, updated_at = ?2 FROM (");
    len += record_values(update_sql + len, sizeof update_sql - len);
    snprintf(update_sql + len, sizeof update_sql - len,
             ") AS v WHERE task_devices.task_id = ?1 AND task_devices.product_key = v.column1 "
             "AND task_devices.device_name = v.column2");
}

/* Writes RECORD_CHUNK rows with one statement of sql. */
static store_status record_chunk(const char *sql, const char *task_id, const store_push_state *const *rows,
                                 int64_t now)
{
    sqlite3 *db = db_lock();
    sqlite3_stmt *st = db_cached(db, sql);
    store_status s = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        for (int i = 0; i < RECORD_CHUNK; i++) {
            int p = 3 + 4 * i;
            sqlite3_bind_text(st, p, rows[i]->product_key, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, p + 1, rows[i]->device_name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, p + 2, store_task_state_names[rows[i]->state], -1, SQLITE_STATIC);
            if (rows[i]->has_code)
                sqlite3_bind_int(st, p + 3, rows[i]->code);
        }
        int rc = sqlite3_step(st);
        int ext = sqlite3_extended_errcode(db);
        s = rc == SQLITE_DONE ? STORE_OK : ext == SQLITE_CONSTRAINT_FOREIGNKEY ? STORE_CONFLICT : STORE_ERROR;
        if (s == STORE_OK && sql == update_sql && sqlite3_changes(db) != RECORD_CHUNK)
            s = STORE_CONFLICT; /* a row that was not there after all */
        if (s == STORE_ERROR)
            log_msg(LOG_ERROR, "sqlite: %s (in: recording push states)", sqlite3_errmsg(db));
        db_done(st);
    }
    db_unlock();
    return s;
}

/* Updates the row of one device the task has; STORE_CONFLICT when it has
 * none after all. */
static store_status update_one(const char *task_id, const store_push_state *row, int64_t now)
{
    return db_write_one("UPDATE task_devices SET state = ?4, code = CASE WHEN ?5 THEN ?6 END, trace_id = NULL, "
                        "updated_at = ?7 WHERE task_id = ?1 AND product_key = ?2 AND device_name = ?3",
                        STORE_CONFLICT, "ssssiiI", task_id, row->product_key, row->device_name,
                        store_task_state_names[row->state], (int)row->has_code, row->code, now);
}

/* Writes the n rows of rows: whole chunks with sql, the rest one by one
 * (inserted, or with sql == update_sql updated). */
static store_status record_rows(const char *sql, const char *task_id, const store_push_state *const *rows, size_t n,
                                int64_t now)
{
    store_status s = STORE_OK;
    size_t i = 0;
    for (; s == STORE_OK && i + RECORD_CHUNK <= n; i += RECORD_CHUNK)
        s = record_chunk(sql, task_id, rows + i, now);
    for (; s == STORE_OK && i < n; i++)
        s = sql == update_sql ? update_one(task_id, rows[i], now)
                              : store_push_set(task_id, rows[i]->product_key, rows[i]->device_name, rows[i]->state,
                                               rows[i]->has_code, rows[i]->code, NULL, now);
    return s;
}

/* Moves task_id's kept counts by the rows' states before and after. */
static store_status count_moves(const char *task_id, const store_push_state *rows, size_t n)
{
    int delta[TASK_STATES] = {0};
    for (size_t i = 0; i < n; i++)
        delta[rows[i].was]--, delta[rows[i].state]++;
    store_status s = STORE_OK;
    for (int st = 0; s == STORE_OK && st < TASK_STATES; st++) {
        if (st != TASK_PENDING && delta[st]) /* pending is what the group's other members are */
            s = db_write("UPDATE task_state_counts SET n = n + ?3 WHERE task_id = ?1 AND state = ?2", NULL, "ssi",
                         task_id, store_task_state_names[st], delta[st]);
    }
    return s;
}

store_status store_push_record(const char *task_id, const store_push_state *rows, size_t n, int64_t now)
{
    pthread_once(&record_once, build_record_sql);
    /* the rows the task has not got first, then those it has */
    const store_push_state **order = n ? malloc(n * sizeof *order) : NULL;
    if (n && !order)
        return STORE_ERROR;
    size_t fresh = 0, kept = n;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].was == TASK_PENDING)
            order[fresh++] = &rows[i];
        else
            order[--kept] = &rows[i];
    }
    db_lock();
    /* the triggers leave task_id's counts to count_moves (0014_task_counts_in_bulk.sql) */
    store_status s = db_write("INSERT INTO task_counts_by_writer(task_id) VALUES (?1)", NULL, "s", task_id);
    if (s == STORE_OK)
        s = record_rows(insert_sql, task_id, order, fresh, now);
    if (s == STORE_OK)
        s = record_rows(update_sql, task_id, order + fresh, n - fresh, now);
    if (s == STORE_OK)
        s = count_moves(task_id, rows, n);
    store_status cleared = db_write("DELETE FROM task_counts_by_writer WHERE task_id = ?1", NULL, "s", task_id);
    db_unlock();
    free(order);
    return s == STORE_OK ? cleared : s;
}

store_status store_push_done(const char *task_id)
{
    return db_update("UPDATE tasks SET pushed_at = ?2, push_count = push_count + 1 "
                     "WHERE task_id = ?1", "sI", task_id, clock_now());
}

/*
 * The three functions below run for nearly every message a device sends in
 * an upgrade (its query, its result), on the MQTT link's thread. Each picks
 * one row of a few, and none says ORDER BY ... LIMIT 1: SQLite sorts such a
 * result in an ephemeral table, which opens a b-tree and a pager and closes
 * them again at every run of the statement (with the sorting, about a
 * twentieth of the link's CPU in a fleet upgrade, perf). The rows are few
 * (one per task of the app that has the device), so each reads them all and
 * keeps the best as it goes. In a C micro-benchmark (10,000 devices, three
 * tasks, batches of 100, medians of 18 runs) store_push_due went from 20.3
 * to 17.2 µs, store_push_result from 59.6 to 52.6 µs (with its update) and
 * store_push_reached with nothing to change from 9.1 to 5.3 µs.
 */

/* A pushed task the device may be due, and its order (store_push_due). */
typedef struct {
    char task_id[STORE_ID_SIZE];
    int64_t rank[4]; /* version major, minor, patch; pushed_at */
} due_task;

typedef struct {
    due_task best;
    bool found;
} due_pick;

static void read_due_task(sqlite3_stmt *st, void *out)
{
    due_task *t = out;
    db_copy(t->task_id, sizeof t->task_id, st, 0);
    for (int i = 0; i < 4; i++)
        t->rank[i] = sqlite3_column_int64(st, i + 1);
}

/* Keeps the task with the highest version, then the latest pushed; of
 * equals, the first read. */
static int keep_due_task(const void *row, void *ctx)
{
    const due_task *t = row;
    due_pick *p = ctx;
    int order = 0;
    for (int i = 0; i < 4 && order == 0; i++)
        order = (t->rank[i] > p->best.rank[i]) - (t->rank[i] < p->best.rank[i]);
    if (!p->found || order > 0) {
        p->best = *t;
        p->found = true;
    }
    return 0;
}

store_status store_push_due(const char *pk, const char *dn, const char *app_id, char task_id[STORE_ID_SIZE])
{
    due_task row;
    due_pick pick = {.found = false};
    store_status s = db_each("SELECT t.task_id, v.v_major, v.v_minor, v.v_patch, t.pushed_at FROM tasks t "
                             "JOIN versions v ON v.app_id = t.app_id AND v.version = t.version "
                             "JOIN group_members m ON m.group_id = t.group_id AND m.product_key = ?1 "
                             "AND m.device_name = ?2 "
                             "LEFT JOIN task_devices td ON td.task_id = t.task_id AND td.product_key = ?1 "
                             "AND td.device_name = ?2 "
                             "WHERE t.app_id = ?3 AND t.pushed_at IS NOT NULL AND v.status = 'testing' "
                             "AND COALESCE(td.state, 'pending') NOT IN ('succeeded', 'failed')",
                             read_due_task, &row, keep_due_task, &pick, "sss", pk, dn, app_id);
    if (s != STORE_OK)
        return s;
    if (!pick.found)
        return STORE_NOT_FOUND;
    memcpy(task_id, pick.best.task_id, STORE_ID_SIZE);
    return STORE_OK;
}

/* A device's row in a task of the app and version it reports, and what
 * store_push_reached and store_push_result choose it by. */
typedef struct {
    int64_t row;
    char task_id[STORE_ID_SIZE];
    char state[16];
    bool has_code;
    int code;
    bool pushed;       /* state is "pushed" */
    int64_t pushed_at; /* 0 for a task never pushed (NULL), before any push */
} task_row;

/* Columns: rowid, task_id, state, code, pushed_at. */
static void read_task_row(sqlite3_stmt *st, void *out)
{
    task_row *r = out;
    r->row = sqlite3_column_int64(st, 0);
    db_copy(r->task_id, sizeof r->task_id, st, 1);
    db_copy(r->state, sizeof r->state, st, 2);
    r->has_code = !db_null(st, 3);
    r->code = sqlite3_column_int(st, 3);
    r->pushed = strcmp(r->state, "pushed") == 0;
    r->pushed_at = sqlite3_column_int64(st, 4);
}

typedef struct {
    task_row best;
    bool found;
    bool pushed_first; /* a row still "pushed" comes before any other */
} row_pick;

/* Keeps the row of the latest pushed task (a task never pushed last), a
 * row still "pushed" first when pick->pushed_first; of equals, the first
 * read. */
static int keep_task_row(const void *row, void *ctx)
{
    const task_row *r = row;
    row_pick *p = ctx;
    const task_row *b = &p->best;
    int order = p->pushed_first ? r->pushed - b->pushed : 0;
    if (order == 0)
        order = (r->pushed_at > b->pushed_at) - (r->pushed_at < b->pushed_at);
    if (!p->found || order > 0) {
        p->best = *r;
        p->found = true;
    }
    return 0;
}

#define TASK_ROWS_SQL                                                                                                  \
    "SELECT td.rowid, td.task_id, td.state, td.code, t.pushed_at FROM task_devices td "                                 \
    "JOIN tasks t ON t.task_id = td.task_id "                                                                          \
    "WHERE td.product_key = ?1 AND td.device_name = ?2 AND t.app_id = ?3 AND t.version = ?4"

store_status store_push_reached(const char *pk, const char *dn, const char *app_id, const char *version,
                                int *changed, char task_id[STORE_ID_SIZE])
{
    task_row row;
    row_pick pick = {.found = false, .pushed_first = false};
    task_id[0] = '\0';
    *changed = 0;
    db_lock();
    store_status s = db_each(TASK_ROWS_SQL " AND td.state IN ('pushed', 'timedOut')", read_task_row, &row,
                             keep_task_row, &pick, "ssss", pk, dn, app_id, version);
    if (s == STORE_OK && pick.found) {
        memcpy(task_id, pick.best.task_id, STORE_ID_SIZE);
        /* OR FAIL: no statement journal (store_reports.c); the new state and
         * code are constants the table's CHECK allows */
        s = db_write("UPDATE OR FAIL task_devices SET state = 'succeeded', code = 200, updated_at = ?5 "
                     "WHERE product_key = ?1 AND device_name = ?2 AND state IN ('pushed', 'timedOut') AND task_id IN "
                     "(SELECT task_id FROM tasks WHERE app_id = ?3 AND version = ?4)",
                     changed, "ssssI", pk, dn, app_id, version, clock_now());
    }
    db_unlock();
    return s;
}

/* A result the row has already (the same state and code: a device whose
 * upgrade query counted it succeeded before its result came, or a result
 * sent again) writes nothing: updatedAt is when the device came to its
 * state, and that write would move only the time and the row's indexes by
 * time. */
store_status store_push_result(const char *pk, const char *dn, const char *app_id, const char *version,
                               store_task_state state, int code, char task_id[STORE_ID_SIZE])
{
    task_row row;
    row_pick pick = {.found = false, .pushed_first = true};
    db_lock();
    store_status s = db_each(TASK_ROWS_SQL, read_task_row, &row, keep_task_row, &pick, "ssss", pk, dn, app_id,
                             version);
    if (s == STORE_OK && !pick.found)
        s = STORE_NOT_FOUND;
    if (s == STORE_OK) {
        const task_row *t = &pick.best;
        memcpy(task_id, t->task_id, STORE_ID_SIZE);
        bool kept = strcmp(t->state, store_task_state_names[state]) == 0 && t->has_code && t->code == code;
        /* OR FAIL: no statement journal (the trigger task_device_moved writes
         * task_state_counts too; store_reports.c says why that matters); the
         * state is one the table's CHECK allows */
        if (!kept)
            s = db_update("UPDATE OR FAIL task_devices SET state = ?1, code = ?2, updated_at = ?4 WHERE rowid = ?3",
                          "siII", store_task_state_names[state], code, t->row, clock_now());
    }
    db_unlock();
    return s;
}
