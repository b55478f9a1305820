/*
 * db.c - open the database, apply migrations, serialise access (see db.h).
 */
#include "db.h"
#include "log.h"
#include "validate.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static sqlite3 *handle;
static pthread_mutex_t lock;
static pthread_once_t lock_once = PTHREAD_ONCE_INIT;

/* Recursive: a batch (db_batch_begin) holds the lock while the handlers it
 * runs take it again for each statement. */
static void init_lock(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&lock, &attr);
    pthread_mutexattr_destroy(&attr);
}

/* Prepared statements kept for reuse, keyed by the address of their SQL
 * text (callers pass string literals). Parsing a statement costs more than
 * running most of ours; the hot paths (device messages, pushes, db_int,
 * db_change) use the cache. Guarded by the database lock. */
#define STMT_CACHE_SIZE 64
static struct {
    const char *sql;
    sqlite3_stmt *st;
} stmt_cache[STMT_CACHE_SIZE];

int db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_msg(LOG_ERROR, "sqlite: %s (in: %.60s)", msg ? msg : "?", sql);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

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
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %s failed: %s", m->name, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_msg(LOG_INFO, "database migrated to schema version %d (%s)", m->version, m->name);
    }
    return 0;
}

/* SQL version_cmp(a, b): <0, 0, >0 comparing "x.y.z" numerically; NULL
 * when either is not a version. */
static void sql_version_cmp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    long a[3], b[3];
    const char *x = (const char *)sqlite3_value_text(argv[0]);
    const char *y = (const char *)sqlite3_value_text(argv[1]);
    if (!version_parse(x, a) || !version_parse(y, b))
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int(ctx, version_compare(a, b));
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
    sqlite3_create_function(handle, "version_cmp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_version_cmp,
                            NULL, NULL);
    if (migrate(handle, err, errlen) < 0) {
        db_close();
        return -1;
    }
    return 0;
}

void db_close(void)
{
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        sqlite3_finalize(stmt_cache[i].st);
        stmt_cache[i].sql = NULL;
        stmt_cache[i].st = NULL;
    }
    if (handle) {
        sqlite3_close_v2(handle);
        handle = NULL;
    }
}

sqlite3 *db_lock(void)
{
    pthread_once(&lock_once, init_lock);
    pthread_mutex_lock(&lock);
    return handle;
}

void db_unlock(void) { pthread_mutex_unlock(&lock); }

int db_get_setting(sqlite3 *db, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT value FROM settings WHERE key = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

int db_set_setting(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

const char *db_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

sqlite3_stmt *db_cached(sqlite3 *db, const char *sql)
{
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        if (stmt_cache[i].sql == sql)
            return stmt_cache[i].st;
        if (!stmt_cache[i].sql && free_slot < 0)
            free_slot = i;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERROR, "sqlite prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
        return NULL;
    }
    if (free_slot >= 0) {
        stmt_cache[free_slot].sql = sql;
        stmt_cache[free_slot].st = st;
    }
    return st;
}

void db_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        if (stmt_cache[i].st == st) {
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

int64_t db_int(sqlite3 *db, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st = db_cached(db, sql);
    if (!st)
        return -1;
    if (p1)
        sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
    if (p2)
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    db_done(st);
    return v;
}

int db_change(sqlite3 *db, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st = db_cached(db, sql);
    if (!st)
        return -1;
    if (p1)
        sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
    if (p2)
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    db_done(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERROR, "sqlite: %s (in: %.60s)", sqlite3_errmsg(db), sql);
        return -1;
    }
    return sqlite3_changes(db);
}
