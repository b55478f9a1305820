/*
 * db.c - open the database, apply migrations, serialise access, and run the
 * store's statements (see db.h); transactions of store.h.
 */
#include "db.h"
#include "copy_text.h"
#include "db_checkpoint.h"
#include "log.h"
#include "store_reserve.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static sqlite3 *handle;
static pthread_mutex_t lock;
static pthread_once_t lock_once = PTHREAD_ONCE_INIT;

/* Threads blocked in db_lock right now (store_let_others_in waits for
 * them; db_lock_wanted tells the link's batch to end). */
static atomic_int lock_waiters;

/*
 * The reader: a second, read-only connection for the statements of API
 * reads (store_reads_begin: GET requests), under a lock of its own. In WAL
 * mode it reads the last committed state while the writer works, so a page
 * of the console is not held up by a push to 100,000 devices or a fleet's
 * messages holding the database lock. A statement that writes, and every
 * statement of a thread that holds the database lock (a transaction, a
 * store function reading under it), runs on the main connection as before.
 * None for ":memory:" (another connection would be another database).
 */
static sqlite3 *reader;
static pthread_mutex_t reader_lock;
static _Thread_local int lock_depth;    /* db_lock calls of this thread not yet undone */
static _Thread_local bool reads_only;   /* store_reads_begin is in force */

/* Did this thread's last store call fail for want of disk space? (errno-
 * like: store_disk_full of store.h) */
static _Thread_local bool last_full;

/* The open transaction of store_begin has made no write but ones that free
 * space (db_free_one): once it committed, the reserve is made again at
 * once. Guarded by the lock. */
static bool txn_frees;

/* Recursive: a batch (db_batch_begin) holds the lock while the handlers it
 * runs take it again for each statement. */
static void init_lock(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&lock, &attr);
    pthread_mutex_init(&reader_lock, &attr);
    pthread_mutexattr_destroy(&attr);
}

/* Prepared statements kept for reuse, keyed by the address of their SQL
 * text (callers pass string literals). Parsing a statement costs more than
 * running most of ours; every statement of the store goes through the
 * cache (db_one, db_write, db_each, db_page). One cache per connection:
 * stmt_cache for the main one, guarded by the database lock, and
 * reader_cache for the read-only one of GET requests, guarded by
 * reader_lock. */
#define STMT_CACHE_SIZE 128
typedef struct {
    const char *sql;
    sqlite3_stmt *st;
} cached_stmt;
static cached_stmt stmt_cache[STMT_CACHE_SIZE], reader_cache[STMT_CACHE_SIZE];

/* The cache of db's statements (the reader's or the main connection's). */
static cached_stmt *cache_of(sqlite3 *db) { return db && db == reader ? reader_cache : stmt_cache; }

/* Runs sql; returns SQLite's result code (an error logged). */
static int exec_code(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        log_msg(LOG_ERROR, "sqlite: %s (in: %.60s)", msg ? msg : "?", sql);
    sqlite3_free(msg);
    return rc;
}

int db_exec(sqlite3 *db, const char *sql)
{
    return exec_code(db, sql) == SQLITE_OK ? 0 : -1;
}

/* Did a call that returned rc fail for want of disk space? */
static bool is_full(sqlite3 *db, int rc)
{
    return (rc & 0xff) == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC);
}

bool store_disk_full(void) { return last_full; }

sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERROR, "sqlite prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
        return NULL;
    }
    return st;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st = db_prepare(db, "PRAGMA user_version");
    int v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_schema_version(void)
{
    sqlite3 *db = db_lock();
    int v = user_version(db);
    db_unlock();
    return v;
}

/* Rows PRAGMA foreign_key_check finds (0: every key holds), or -1. */
static int broken_keys(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        n++;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

/*
 * Applies the migrations after the database's user_version, each in its own
 * transaction, with every foreign key checked before its commit: a
 * migration that left one broken is rolled back (run_migrations has the
 * keys off).
 */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    int current = user_version(db);
    int latest = db_migrations[db_migration_count - 1].version;
    if (current < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (current > latest) {
        snprintf(err, errlen, "the database has schema version %d, made by a newer haas-emu "
                              "(this one knows up to %d)", current, latest);
        return -1;
    }
    for (int i = 0; i < db_migration_count; i++) {
        const db_migration *m = &db_migrations[i];
        if (m->version <= current)
            continue;
        char *msg = NULL;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
        int broken = 0;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK || (broken = broken_keys(db)) != 0 ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            if (broken > 0)
                snprintf(err, errlen, "migration %s failed: it leaves %d rows with a broken foreign key", m->name,
                         broken);
            else
                snprintf(err, errlen, "migration %s failed: %s", m->name, msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_msg(LOG_INFO, "database migrated to schema version %d (%s)", m->version, m->name);
    }
    return 0;
}

/*
 * Runs migrate() with foreign keys off, as SQLite's procedure for making a
 * table again asks (https://sqlite.org/lang_altertable.html, the 12 steps):
 * dropping a parent table with them on deletes the rows of its children.
 * They are on again after, whatever happened.
 */
static int run_migrations(sqlite3 *db, char *err, size_t errlen)
{
    if (db_exec(db, "PRAGMA foreign_keys = OFF") < 0) {
        snprintf(err, errlen, "cannot turn foreign keys off for the migrations: %s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = migrate(db, err, errlen);
    if (db_exec(db, "PRAGMA foreign_keys = ON") < 0 && rc == 0) {
        snprintf(err, errlen, "cannot turn foreign keys on after the migrations: %s", sqlite3_errmsg(db));
        rc = -1;
    }
    return rc;
}

/* Opens the reader on path (after the migrations); without it every
 * statement runs on the main connection, which is only slower. */
static void open_reader(const char *path)
{
    if (path[0] == ':')
        return;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        db_exec(db, "PRAGMA query_only = 1") < 0) {
        log_msg(LOG_WARN, "no read-only connection (%s): API reads share the writer's", db ? sqlite3_errmsg(db) : "");
        sqlite3_close(db);
        return;
    }
    sqlite3_busy_timeout(db, 5000);
    pthread_once(&lock_once, init_lock);
    reader = db;
}

int db_open(const char *path, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, handle ? sqlite3_errmsg(handle) : "out of memory");
        sqlite3_close(handle);
        handle = NULL;
        return -1;
    }
    sqlite3_busy_timeout(handle, 5000);
    if (db_exec(handle, "PRAGMA journal_mode = WAL") < 0 ||
        db_exec(handle, "PRAGMA foreign_keys = ON") < 0 ||
        db_exec(handle, "PRAGMA synchronous = NORMAL") < 0) {
        snprintf(err, errlen, "cannot configure %s: %s", path, sqlite3_errmsg(handle));
        db_close();
        return -1;
    }
    if (run_migrations(handle, err, errlen) < 0) {
        db_close();
        return -1;
    }
    char reserve[800];
    snprintf(reserve, sizeof reserve, "%s-reserve", path);
    store_reserve_init(path[0] == ':' ? NULL : reserve); /* ":memory:" has no disk */
    open_reader(path);
    db_checkpoint_start(handle, path);
    return 0;
}

void db_close(void)
{
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        sqlite3_finalize(stmt_cache[i].st);
        sqlite3_finalize(reader_cache[i].st);
        stmt_cache[i] = reader_cache[i] = (cached_stmt){NULL, NULL};
    }
    if (reader) {
        sqlite3_close_v2(reader);
        reader = NULL;
    }
    if (handle) {
        db_checkpoint_stop(handle);
        sqlite3_close_v2(handle);
        handle = NULL;
    }
}

sqlite3 *db_lock(void)
{
    pthread_once(&lock_once, init_lock);
    if (pthread_mutex_trylock(&lock) != 0) {
        atomic_fetch_add(&lock_waiters, 1);
        pthread_mutex_lock(&lock);
        atomic_fetch_sub(&lock_waiters, 1);
    }
    lock_depth++;
    return handle;
}

bool db_lock_wanted(void) { return atomic_load(&lock_waiters) > 0; }

void store_reads_begin(void) { reads_only = true; }
void store_reads_end(void) { reads_only = false; }

/* The connection this thread's next statement runs on, locked: the reader
 * (*on_reader true) for API reads outside the database lock, else the main
 * connection under the lock. */
static sqlite3 *acquire(bool *on_reader)
{
    *on_reader = reader && reads_only && lock_depth == 0;
    if (!*on_reader)
        return db_lock();
    pthread_mutex_lock(&reader_lock);
    return reader;
}

/* The main connection, locked (*on_reader false). */
static sqlite3 *acquire_main(bool *on_reader)
{
    *on_reader = false;
    return db_lock();
}

static void release(bool on_reader)
{
    if (on_reader)
        pthread_mutex_unlock(&reader_lock);
    else
        db_unlock();
}

bool db_snapshot_begin(void)
{
    bool on_reader;
    sqlite3 *db = acquire(&on_reader);
    if (on_reader)
        db_exec(db, "BEGIN");
    return on_reader;
}

void db_snapshot_end(bool on_reader)
{
    if (on_reader)
        db_exec(reader, "COMMIT");
    release(on_reader);
}

/* How long the long work waits for the waiters at most before it goes on
 * anyway: a waiter on a busy core may need a time slice to run. It first
 * yields (the waiter may be on this core), then sleeps in short steps
 * (freeing this core for it). */
#define LET_IN_MAX_NS (20 * 1000 * 1000L)
#define LET_IN_YIELDS 50

void store_let_others_in(void)
{
    struct timespec start, now, step = {0, 100 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; atomic_load(&lock_waiters) > 0; i++) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) > LET_IN_MAX_NS)
            return;
        if (i < LET_IN_YIELDS)
            sched_yield();
        else
            nanosleep(&step, NULL);
    }
}

/* store_generation's number, and the main connection's count of changed
 * rows when it last moved (under the lock). */
static atomic_uint_fast64_t generation = 1;
static int64_t changes_counted;

uint64_t store_generation(void) { return atomic_load(&generation); }

void db_unlock(void)
{
    /* The outermost unlock after a write: it has committed (or rolled
     * back: a needless move). Inside a transaction or a batch, nothing is
     * committed yet. */
    if (lock_depth == 1 && handle && sqlite3_get_autocommit(handle)) {
        int64_t changes = sqlite3_total_changes64(handle);
        if (changes != changes_counted) {
            changes_counted = changes;
            atomic_fetch_add(&generation, 1);
        }
    }
    lock_depth--;
    pthread_mutex_unlock(&lock);
}

const char *db_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

sqlite3_stmt *db_cached(sqlite3 *db, const char *sql)
{
    cached_stmt *cache = cache_of(db);
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        if (cache[i].sql == sql)
            return cache[i].st;
        if (!cache[i].sql && free_slot < 0)
            free_slot = i;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERROR, "sqlite prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
        return NULL;
    }
    if (free_slot >= 0) {
        cache[free_slot].sql = sql;
        cache[free_slot].st = st;
    }
    return st;
}

void db_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    cached_stmt *cache = cache_of(sqlite3_db_handle(st));
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        if (cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    }
    sqlite3_finalize(st); /* the cache was full */
}

void db_batch_begin(void)
{
    sqlite3 *db = db_lock();
    db_exec(db, "BEGIN");
}

void db_batch_end(void)
{
    db_exec(handle, "COMMIT");
    db_unlock();
}

store_status store_begin(void)
{
    sqlite3 *db = db_lock();
    int rc = exec_code(db, "BEGIN IMMEDIATE");
    last_full = is_full(db, rc);
    if (rc != SQLITE_OK) {
        db_unlock();
        return STORE_ERROR;
    }
    txn_frees = true;
    return STORE_OK;
}

store_status store_commit_with(store_done_fn done, void *ctx)
{
    int rc = exec_code(handle, "COMMIT");
    bool ok = rc == SQLITE_OK;
    last_full = !ok && is_full(handle, rc);
    if (!ok && !sqlite3_get_autocommit(handle))
        db_exec(handle, "ROLLBACK");
    if (done)
        done(ok, ctx);
    if (ok)
        store_reserve_restore(txn_frees); /* after done: a removed package is room again */
    db_unlock();
    return ok ? STORE_OK : STORE_ERROR;
}

store_status store_commit(void) { return store_commit_with(NULL, NULL); }

bool store_give_reserve(void)
{
    db_lock();
    bool given = store_reserve_release();
    db_unlock();
    return given;
}

void store_rollback(void)
{
    db_exec(handle, "ROLLBACK");
    db_unlock();
}

void db_copy(char *out, size_t n, sqlite3_stmt *st, int col) { copy_text(out, n, db_text(st, col)); }

int db_null(sqlite3_stmt *st, int col) { return sqlite3_column_type(st, col) == SQLITE_NULL; }

void db_read_bool(sqlite3_stmt *st, void *out) { *(bool *)out = sqlite3_column_int(st, 0) != 0; }

void db_read_int(sqlite3_stmt *st, void *out) { *(int *)out = sqlite3_column_int(st, 0); }

/* Binds the parameters described by types (see db.h) from ap, from ?1 on. */
static void bind_args(sqlite3_stmt *st, const char *types, va_list ap)
{
    for (int i = 1; types && *types; types++, i++) {
        switch (*types) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s)
                sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
            break;
        }
        case 't': {
            const char *s = va_arg(ap, const char *);
            int len = va_arg(ap, int);
            sqlite3_bind_text(st, i, s ? s : "", len, SQLITE_STATIC);
            break;
        }
        case 'I':
            sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'i':
            sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        }
    }
}

/* Called for each row of run(); non-zero stops. */
typedef int (*row_fn)(sqlite3_stmt *st, void *ctx);

/* How run() runs its statement, beyond the SQL and its parameters. */
typedef struct {
    const int *paged; /* not NULL: :limit and :offset from paged[0] and paged[1] */
    row_fn row;       /* called for each row until it returns non-zero (NULL: the first row stops) */
    void *ctx;        /* passed to row */
    int *changes;     /* not NULL: gets the rows a write changed */
    bool frees;       /* a write that frees space or needs none: may use the reserve */
} run_how;

/* Steps st to its end, or until how->row says stop; returns the last code. */
static int step_rows(sqlite3_stmt *st, const run_how *how)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && how->row && !how->row(st, how->ctx))
        ;
    return rc;
}

/* The store status of a statement whose last step returned rc (logged
 * when it failed; store_disk_full set). */
static store_status outcome(sqlite3 *db, int rc, const char *sql)
{
    int ext = sqlite3_extended_errcode(db);
    last_full = is_full(db, rc);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return STORE_EXISTS;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY || ext == SQLITE_CONSTRAINT_TRIGGER) /* RESTRICT: TRIGGER */
        return STORE_CONFLICT;
    log_msg(LOG_ERROR, "sqlite: %s (in: %.80s)", sqlite3_errmsg(db), sql);
    return STORE_ERROR;
}

/* Steps st; a write that frees space and failed for want of it outside a
 * transaction takes the reserve and runs once more. Notes, inside a
 * transaction, whether it still only frees space. */
static int step_write(sqlite3 *db, sqlite3_stmt *st, const run_how *how)
{
    bool in_txn = !sqlite3_get_autocommit(db), writes = !sqlite3_stmt_readonly(st);
    int rc = step_rows(st, how);
    if (how->frees && !in_txn && is_full(db, rc) && store_reserve_release()) {
        sqlite3_reset(st);
        rc = step_rows(st, how);
    }
    if (in_txn && writes && !how->frees)
        txn_frees = false;
    if (!in_txn && writes && rc == SQLITE_DONE)
        store_reserve_restore(how->frees);
    return rc;
}

/*
 * Runs cached sql with the parameters of types from ap under the lock, as
 * how says. Returns STORE_OK, STORE_EXISTS or STORE_CONFLICT for a failed
 * constraint, or STORE_ERROR (logged).
 */
static store_status run(const char *sql, const char *types, va_list ap, const run_how *how)
{
    bool on_reader;
    sqlite3 *db = acquire(&on_reader);
    sqlite3_stmt *st = db_cached(db, sql);
    if (on_reader && (!st || !sqlite3_stmt_readonly(st))) { /* a write: the main connection's */
        release(on_reader);
        db = acquire_main(&on_reader);
        st = db_cached(db, sql);
    }
    store_status s = STORE_ERROR;
    if (how->changes)
        *how->changes = 0;
    if (st) {
        bind_args(st, types, ap);
        if (how->paged) {
            sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":limit"), how->paged[0]);
            sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":offset"), how->paged[1]);
        }
        s = outcome(db, step_write(db, st, how), sql);
        if (s == STORE_OK && how->changes)
            *how->changes = sqlite3_changes(db);
        db_done(st);
    }
    release(on_reader);
    return s;
}

/* A row read into out by read; found says whether there was one. */
typedef struct {
    db_read_fn read;
    void *out;
    int found;
} one_row;

static int read_one(sqlite3_stmt *st, void *ctx)
{
    one_row *o = ctx;
    if (o->read)
        o->read(st, o->out);
    o->found = 1;
    return 1;
}

store_status db_one(const char *sql, db_read_fn read, void *out, const char *types, ...)
{
    one_row o = {read, out, 0};
    const run_how how = {.row = read_one, .ctx = &o};
    va_list ap;
    va_start(ap, types);
    store_status s = run(sql, types, ap, &how);
    va_end(ap);
    return s == STORE_OK && !o.found ? STORE_NOT_FOUND : s;
}

store_status db_write(const char *sql, int *changes, const char *types, ...)
{
    const run_how how = {.changes = changes};
    va_list ap;
    va_start(ap, types);
    store_status s = run(sql, types, ap, &how);
    va_end(ap);
    return s;
}

store_status db_write_one(const char *sql, store_status unchanged, const char *types, ...)
{
    int changes;
    const run_how how = {.changes = &changes};
    va_list ap;
    va_start(ap, types);
    store_status s = run(sql, types, ap, &how);
    va_end(ap);
    return s == STORE_OK && changes == 0 ? unchanged : s;
}

store_status db_free_one(const char *sql, const char *types, ...)
{
    int changes;
    const run_how how = {.changes = &changes, .frees = true};
    va_list ap;
    va_start(ap, types);
    store_status s = run(sql, types, ap, &how);
    va_end(ap);
    return s == STORE_OK && changes == 0 ? STORE_NOT_FOUND : s;
}

/* Each row read into row by read, then visited. */
typedef struct {
    db_read_fn read;
    void *row;
    db_visit_fn visit;
    void *ctx;
} walk;

static int read_and_visit(sqlite3_stmt *st, void *ctx)
{
    walk *w = ctx;
    w->read(st, w->row);
    return w->visit(w->row, w->ctx);
}

store_status db_each(const char *sql, db_read_fn read, void *row, db_visit_fn visit, void *ctx,
                     const char *types, ...)
{
    walk w = {read, row, visit, ctx};
    const run_how how = {.row = read_and_visit, .ctx = &w};
    va_list ap;
    va_start(ap, types);
    store_status s = run(sql, types, ap, &how);
    va_end(ap);
    return s;
}

/* Each row of a page read into row, then handed on. */
typedef struct {
    db_read_fn read;
    void *row;
    store_page *page;
} page_walk;

static int read_into_page(sqlite3_stmt *st, void *ctx)
{
    page_walk *w = ctx;
    w->read(st, w->row);
    w->page->each(w->row, w->page->ctx);
    return 0;
}

static void read_count(sqlite3_stmt *st, void *out) { *(int64_t *)out = sqlite3_column_int64(st, 0); }

/*
 * The page of db_page and db_page_from_ends. SQLite's OFFSET walks every row
 * it skips, so a page near the end of a long list costs a walk of the whole
 * list. With from_end_sql (the same rows in the opposite order), a page in
 * the list's second half is found from its end instead: the ascending rows
 * [offset, offset + limit) are the descending rows [total - offset - limit,
 * total - offset), and the outer ORDER BY of both statements puts them back
 * in the list's order. So no page walks more than half the list (the last
 * page of 100,000 devices: 15 ms -> 1 ms). The total must come from the same
 * read and count exactly the rows the items walk.
 */
static store_status page_of(const char *items_sql, const char *from_end_sql, const char *count_sql, db_read_fn read,
                            void *row, store_page *page, const char *types, va_list ap)
{
    page_walk w = {read, row, page};
    one_row count = {read_count, &page->total, 0};
    int paged[2] = {page->limit, page->offset};
    const run_how count_how = {.row = read_one, .ctx = &count}, items_how = {.paged = paged, .row = read_into_page,
                                                                              .ctx = &w};
    page->total = 0;
    bool on_reader = db_snapshot_begin(); /* both statements in one read */
    va_list again;
    va_copy(again, ap);
    store_status s = run(count_sql, types, ap, &count_how);
    if (s == STORE_OK && from_end_sql && page->limit > 0 && (int64_t)page->offset * 2 > page->total) {
        int64_t end = page->total - page->offset; /* rows after the page's start, counted from the end */
        int64_t start = end - page->limit;
        paged[1] = start > 0 ? (int)start : 0;
        paged[0] = end > 0 ? (int)(end - paged[1]) : 0;
        items_sql = from_end_sql;
    }
    if (s == STORE_OK)
        s = run(items_sql, types, again, &items_how);
    va_end(again);
    db_snapshot_end(on_reader);
    return s;
}

store_status db_page(const char *items_sql, const char *count_sql, db_read_fn read, void *row, store_page *page,
                     const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    store_status s = page_of(items_sql, NULL, count_sql, read, row, page, types, ap);
    va_end(ap);
    return s;
}

store_status db_page_from_ends(const char *items_sql, const char *from_end_sql, const char *count_sql,
                               db_read_fn read, void *row, store_page *page, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    store_status s = page_of(items_sql, from_end_sql, count_sql, read, row, page, types, ap);
    va_end(ap);
    return s;
}

int db_visit_rows(const void *row, void *ctx)
{
    const db_rows *rows = ctx;
    rows->each(row, rows->ctx);
    return 0;
}

int db_visit_all(const void *row, void *ctx)
{
    (void)row, (void)ctx;
    return 0;
}

void db_hint_set(db_hint *h)
{
    pthread_mutex_lock(&h->lock);
    h->sets++;
    atomic_store(&h->maybe, true);
    pthread_mutex_unlock(&h->lock);
}

bool db_hint_maybe(db_hint *h) { return atomic_load(&h->maybe); }

store_status db_hint_refresh(db_hint *h, store_status (*ask)(bool *any))
{
    pthread_mutex_lock(&h->lock);
    unsigned before = h->sets;
    pthread_mutex_unlock(&h->lock);
    bool any = true;
    store_status s = ask(&any);
    pthread_mutex_lock(&h->lock);
    if (s == STORE_OK && !any && h->sets == before)
        atomic_store(&h->maybe, false);
    pthread_mutex_unlock(&h->lock);
    return s;
}
