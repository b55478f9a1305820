/*
 * store_tasks.c - the tasks table, read with the states of task_devices
 * (see store_tasks.h).
 */
#include "store_tasks.h"
#include "db.h"

#include <string.h>

const char *const store_task_state_names[TASK_STATES] = {"pending", "offline",   "upToDate", "pushed",
                                                        "succeeded", "failed", "timedOut"};

#define TASK_COLUMNS "t.task_id, t.app_id, t.version, t.group_id, t.created_at, t.pushed_at, t.push_count, " \
                     "COALESCE(t.timeout_seconds, -1), " \
                     "(SELECT app_name FROM apps a WHERE a.app_id = t.app_id), " \
                     "(SELECT name FROM device_groups g WHERE g.group_id = t.group_id)"

store_task_state store_task_state_named(const char *name)
{
    for (int i = 0; i < TASK_STATES; i++)
        if (!strcmp(name, store_task_state_names[i]))
            return (store_task_state)i;
    return TASK_PENDING;
}

/* The state named by column col. */
static store_task_state state_of(sqlite3_stmt *st, int col) { return store_task_state_named(db_text(st, col)); }

static void read_task(sqlite3_stmt *st, void *out)
{
    store_task *t = out;
    db_copy(t->task_id, sizeof t->task_id, st, 0);
    db_copy(t->app_id, sizeof t->app_id, st, 1);
    db_copy(t->version, sizeof t->version, st, 2);
    db_copy(t->group_id, sizeof t->group_id, st, 3);
    t->created_at = sqlite3_column_int64(st, 4);
    t->pushed_at = sqlite3_column_int64(st, 5);
    t->push_count = sqlite3_column_int(st, 6);
    t->timeout_seconds = sqlite3_column_int(st, 7);
    db_copy(t->app_name, sizeof t->app_name, st, 8);
    db_copy(t->group_name, sizeof t->group_name, st, 9);
    memset(t->counts, 0, sizeof t->counts);
}

static void read_count(sqlite3_stmt *st, void *out)
{
    store_task *t = out;
    int n = sqlite3_column_int(st, 1);
    if (db_null(st, 0)) { /* the group's members: those without a row are pending */
        t->counts[TASK_PENDING] += n;
        return;
    }
    t->counts[state_of(st, 0)] += n;
    t->counts[TASK_PENDING] -= n;
}

/* The counts of t, by state, from the counts kept by the triggers of
 * schema/migrations/0009_task_counts.sql: no walk over the group, whatever
 * its size. Caller holds the lock. */
static store_status count_states(store_task *t)
{
    return db_each("SELECT NULL, member_count FROM device_groups WHERE group_id = ?2 "
                   "UNION ALL SELECT state, n FROM task_state_counts WHERE task_id = ?1 AND n <> 0",
                   read_count, t, db_visit_all, NULL, "ss", t->task_id, t->group_id);
}

static void read_task_counted(sqlite3_stmt *st, void *out)
{
    read_task(st, out);
    count_states(out);
}

static void read_member(sqlite3_stmt *st, void *out)
{
    store_task_device *d = out;
    db_copy(d->product_key, sizeof d->product_key, st, 0);
    db_copy(d->device_name, sizeof d->device_name, st, 1);
    d->state = state_of(st, 2);
    d->has_code = !db_null(st, 3);
    d->code = sqlite3_column_int(st, 3);
    d->updated_at = sqlite3_column_int64(st, 4);
    db_copy(d->device_status, sizeof d->device_status, st, 5);
}

typedef struct {
    store_task *task;
    store_task_device_fn each;
    void *ctx;
} member_walk;

static int count_member(const void *row, void *ctx)
{
    const store_task_device *d = row;
    member_walk *w = ctx;
    w->task->counts[d->state]++;
    return w->each(d, w->ctx);
}

store_status store_task_insert(const char *task_id, const char *app_id, const char *version, const char *group_id,
                               int timeout_seconds, int64_t now)
{
    return db_insert("INSERT OR IGNORE INTO tasks(task_id, app_id, version, group_id, created_at, timeout_seconds) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 >= 0 THEN ?6 END)", "ssssIi", task_id, app_id,
                     version, group_id, now, timeout_seconds);
}

typedef struct {
    char task[STORE_ID_SIZE], pk[STORE_PK_SIZE], dn[STORE_DN_SIZE];
} due_row;

static void read_due(sqlite3_stmt *st, void *out)
{
    due_row *d = out;
    db_copy(d->task, sizeof d->task, st, 0);
    db_copy(d->pk, sizeof d->pk, st, 1);
    db_copy(d->dn, sizeof d->dn, st, 2);
}

typedef struct {
    void (*each)(const char *task, const char *pk, const char *dn, void *ctx);
    void *ctx;
} due_walk;

static int visit_due(const void *row, void *ctx)
{
    const due_row *d = row;
    const due_walk *w = ctx;
    w->each(d->task, d->pk, d->dn, w->ctx);
    return 0;
}

/* The pushed rows whose task's timeout (?2 when the task has none) is up at
 * ?1, task by task through the index of 0013_task_timeout_sweep.sql: only
 * those rows are read, not every pushed one (CROSS JOIN keeps tasks the
 * outer loop: SQLite would rather scan the whole index). A row's time is
 * when it came to 'pushed'; a push of the whole task again leaves the rows
 * still 'pushed' as they are (service_task_push), so their timeout counts
 * from the later of that time and the task's last push. */
#define TIMED_OUT_ROWS \
    "tasks t CROSS JOIN task_devices td ON td.task_id = t.task_id AND td.state = 'pushed' " \
    "AND td.updated_at <= ?1 - COALESCE(t.timeout_seconds, ?2) WHERE COALESCE(t.timeout_seconds, ?2) > 0 " \
    "AND COALESCE(t.pushed_at, 0) <= ?1 - COALESCE(t.timeout_seconds, ?2)"

store_status store_task_due_timeouts(int64_t now, int default_seconds,
                                     void (*each)(const char *task, const char *pk, const char *dn, void *ctx),
                                     void *ctx)
{
    due_row row;
    due_walk w = {each, ctx};
    return db_each("SELECT td.task_id, td.product_key, td.device_name FROM " TIMED_OUT_ROWS, read_due, &row,
                   visit_due, &w, "Ii", now, default_seconds);
}

store_status store_task_timeouts(int64_t now, int default_seconds, int *n)
{
    return db_write("UPDATE task_devices SET state = 'timedOut', updated_at = ?1 WHERE rowid IN "
                    "(SELECT td.rowid FROM " TIMED_OUT_ROWS ")", n, "Ii", now, default_seconds);
}

store_status store_task_get(const char *task_id, store_task *out, store_task_device_fn each, void *ctx)
{
    bool on_reader = db_snapshot_begin(); /* the row and its counts agree */
    store_status s = db_one("SELECT " TASK_COLUMNS " FROM tasks t WHERE t.task_id = ?1", read_task, out, "s", task_id);
    store_task_device row;
    member_walk w = {out, each, ctx};
    if (s == STORE_OK && !each)
        s = count_states(out);
    else if (s == STORE_OK)
        s = db_each("SELECT m.product_key, m.device_name, COALESCE(td.state, 'pending'), td.code, td.updated_at, "
                    "d.status FROM group_members m "
                    "JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name "
                    "LEFT JOIN task_devices td ON td.task_id = ?1 AND td.product_key = m.product_key "
                    "AND td.device_name = m.device_name WHERE m.group_id = ?2 ORDER BY m.product_key, m.device_name",
                    read_member, &row, count_member, &w, "ss", out->task_id, out->group_id);
    db_snapshot_end(on_reader);
    return s;
}

store_status store_task_list(const char *app_id, store_page *page)
{
    store_task row;
    return db_page("SELECT " TASK_COLUMNS " FROM tasks t WHERE (?1 IS NULL OR t.app_id = ?1) "
                   "ORDER BY t.created_at DESC, t.task_id LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM tasks WHERE (?1 IS NULL OR app_id = ?1)", read_task_counted, &row, page, "s",
                   app_id);
}

/* The total of a page of store_task_devices_page, from the kept counts. */
#define TASK_DEVICES_TOTAL \
    "SELECT CASE WHEN ?2 IS NULL THEN g.member_count " \
    "WHEN ?2 = 'pending' THEN g.member_count - " \
    "(SELECT COALESCE(SUM(n), 0) FROM task_state_counts c WHERE c.task_id = ?1) " \
    "ELSE (SELECT COALESCE(SUM(n), 0) FROM task_state_counts c WHERE c.task_id = ?1 AND c.state = ?2) " \
    "END FROM tasks t JOIN device_groups g ON g.group_id = t.group_id WHERE t.task_id = ?1"

/* A page of a task's members in the list's order (ASC) or from its end
 * (DESC). Without a state the page of members is found in group_members'
 * key alone, then joined (OFFSET skips index entries, not joined rows);
 * with one, every member before the page is looked at. */
#define TASK_MEMBER_COLUMNS "m.product_key, m.device_name, COALESCE(td.state, 'pending'), td.code, td.updated_at, d.status"
#define TASK_MEMBERS_PAGE(dir) \
    "SELECT " TASK_MEMBER_COLUMNS " FROM (SELECT g.product_key, g.device_name FROM tasks t JOIN group_members g " \
    "ON g.group_id = t.group_id WHERE t.task_id = ?1 AND ?2 IS NULL " \
    "ORDER BY g.product_key " dir ", g.device_name " dir " LIMIT :limit OFFSET :offset) m " \
    "JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name " \
    "LEFT JOIN task_devices td ON td.task_id = ?1 AND td.product_key = m.product_key " \
    "AND td.device_name = m.device_name ORDER BY m.product_key, m.device_name"
#define TASK_MEMBERS_IN_STATE_PAGE(dir) \
    "SELECT * FROM (SELECT " TASK_MEMBER_COLUMNS " FROM tasks t JOIN group_members m ON m.group_id = t.group_id " \
    "JOIN devices d ON d.product_key = m.product_key AND d.device_name = m.device_name " \
    "LEFT JOIN task_devices td ON td.task_id = t.task_id AND td.product_key = m.product_key " \
    "AND td.device_name = m.device_name " \
    "WHERE t.task_id = ?1 AND COALESCE(td.state, 'pending') = ?2 " \
    "ORDER BY m.product_key " dir ", m.device_name " dir " LIMIT :limit OFFSET :offset) ORDER BY 1, 2"

store_status store_task_devices_page(const char *task_id, const char *state, store_page *page)
{
    store_task_device row;
    if (!state)
        return db_page_from_ends(TASK_MEMBERS_PAGE("ASC"), TASK_MEMBERS_PAGE("DESC"), TASK_DEVICES_TOTAL, read_member,
                                 &row, page, "ss", task_id, state);
    return db_page_from_ends(TASK_MEMBERS_IN_STATE_PAGE("ASC"), TASK_MEMBERS_IN_STATE_PAGE("DESC"),
                             TASK_DEVICES_TOTAL, read_member, &row, page, "ss", task_id, state);
}
