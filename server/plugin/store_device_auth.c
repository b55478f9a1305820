/*
 * store_device_auth.c - read-only SQLite access to the `devices` table
 * (schema/migrations/0001_init.sql) and the number of migration 0018 that
 * says when device credentials changed. See store_device_auth.h.
 */
#include "store_device_auth.h"
#include "secret_cache.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 256 MiB of address space: the devices of 100,000 devices and more. */
#define HAAS_DB_MMAP_BYTES_STR "268435456"

static const char LOOKUP_SQL[] =
    "SELECT device_secret, enabled FROM devices WHERE product_key = ?1 AND device_name = ?2";

/* The number that moves with every change of device credentials (migration
 * 0018); a database without the table (an older schema) gets no cache. Read
 * once a pass, with the schema's own number (moved by any change of the
 * schema) from a statement of its own: the table-valued pragma_schema_version
 * in the same SELECT prepared a statement of its own at every step, a third
 * of the pass's cost (perf, bench_fleet.py). */
static const char VERSION_SQL[] = "SELECT n FROM device_auth_version WHERE id = 1";
static const char SCHEMA_SQL[] = "PRAGMA schema_version";

/* Whether the three triggers that move the number are there: a later
 * migration that made `devices` again and forgot them would leave the
 * number still and the kept secrets trusted. Read when the schema's number
 * moved (a look in sqlite_master each pass was 3-5% of the broker's CPU
 * while a fleet logged in). */
static const char TRIGGERS_SQL[] =
    "SELECT count(*) = 3 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'devices' "
    "AND name IN ('device_auth_changed', 'device_auth_removed', 'device_auth_added')";

/* Devices kept at most; more are looked up every time. Each costs the
 * broker about 350 bytes at its peak (bench-100k: VmHWM 99.5 -> 106.5 MiB
 * with 19,800 kept; the entry and its slot are about 120 of them), so some
 * 70 MB when full. */
#define SECRET_CACHE_MAX 200000

struct haas_device_db {
    char *path;
    sqlite3 *conn;        /* NULL until opened */
    sqlite3_stmt *lookup; /* prepared LOOKUP_SQL */
    sqlite3_stmt *begin;  /* BEGIN: the pass's read transaction */
    sqlite3_stmt *end;    /* COMMIT: its end (haas_device_db_end_pass) */
    sqlite3_stmt *version; /* prepared VERSION_SQL; NULL without the table */
    sqlite3_stmt *schema;  /* prepared SCHEMA_SQL */
    sqlite3_stmt *triggers; /* prepared TRIGGERS_SQL */
    long long schema_seen; /* the schema's number when triggers_ok was read, -1: never */
    bool triggers_ok;      /* the three triggers of 0018 were there */
    bool in_pass;         /* a read transaction is open */
    struct haas_secret_cache *cache; /* what look-ups read, while version holds */
    long long cache_version;         /* the number the cache belongs to, -1: none */
    bool cache_usable;               /* in this pass: the number was read */
};

/* Formats and forwards one log line. */
static void logf_(void (*log_fn)(const char *), const char *what, const char *detail)
{
    if (log_fn == NULL) {
        return;
    }
    char line[512];
    snprintf(line, sizeof(line), "haas_auth: database: %s: %s", what, detail ? detail : "");
    log_fn(line);
}

static void close_db(struct haas_device_db *db)
{
    sqlite3_stmt **stmts[] = {&db->lookup, &db->begin, &db->end, &db->version, &db->schema, &db->triggers};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        sqlite3_finalize(*stmts[i]); /* NULL is a no-op */
        *stmts[i] = NULL;
    }
    db->in_pass = false; /* closing ends the read transaction */
    haas_secret_cache_reset(db->cache); /* the file may not be the same one when reopened */
    db->cache_version = -1;
    db->cache_usable = false;
    db->schema_seen = -1;
    if (db->conn != NULL) {
        sqlite3_close_v2(db->conn);
        db->conn = NULL;
    }
}

/* Opens the database if needed. Returns false (and logs) on failure. */
static bool ensure_open(struct haas_device_db *db, void (*log_fn)(const char *))
{
    if (db->conn != NULL && db->lookup != NULL && db->begin != NULL && db->end != NULL) {
        return true;
    }
    close_db(db);
    /* NOMUTEX: mosquitto calls the plugin from its main thread only. */
    int rc = sqlite3_open_v2(db->path, &db->conn, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        logf_(log_fn, "cannot open", db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
        close_db(db);
        return false;
    }
    sqlite3_busy_timeout(db->conn, HAAS_DB_BUSY_MS);

    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL);
    int version = -1;
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        version = sqlite3_column_int(st, 0);
    }
    const char *err = sqlite3_errmsg(db->conn);
    if (version < 1) {
        logf_(log_fn, "schema not applied yet (user_version < 1)", version < 0 ? err : "");
        sqlite3_finalize(st);
        close_db(db);
        return false;
    }
    sqlite3_finalize(st);

    /* Pages read through a memory map instead of read() into the page
     * cache: the emulator writes the database all the time (every online
     * status), and any write empties this connection's page cache, so each
     * look-up reads its B-tree pages again. Best effort: ignored on failure. */
    sqlite3_exec(db->conn, "PRAGMA mmap_size=" HAAS_DB_MMAP_BYTES_STR, NULL, NULL, NULL);

    rc = sqlite3_prepare_v3(db->conn, LOOKUP_SQL, -1, SQLITE_PREPARE_PERSISTENT, &db->lookup, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v3(db->conn, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &db->begin, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v3(db->conn, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &db->end, NULL);
    }
    if (rc != SQLITE_OK) {
        logf_(log_fn, "cannot prepare look-up", sqlite3_errmsg(db->conn));
        close_db(db);
        return false;
    }
    if (sqlite3_prepare_v3(db->conn, VERSION_SQL, -1, SQLITE_PREPARE_PERSISTENT, &db->version, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->conn, SCHEMA_SQL, -1, SQLITE_PREPARE_PERSISTENT, &db->schema, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->conn, TRIGGERS_SQL, -1, SQLITE_PREPARE_PERSISTENT, &db->triggers, NULL) != SQLITE_OK) {
        sqlite3_finalize(db->version); /* an older schema: every login is looked up */
        db->version = NULL;
    }
    return true;
}

/*
 * At the start of a pass (its read transaction begun): reads the number of
 * migration 0018 and empties the cache when it is not the one the cache
 * belongs to. Without the number (no table, an error) or without any of
 * its triggers, the cache is emptied and not used in this pass.
 */
static void check_cache(struct haas_device_db *db)
{
    db->cache_usable = false;
    if (db->version == NULL) {
        return;
    }
    long long n = 0, schema = -1;
    if (sqlite3_step(db->version) == SQLITE_ROW && sqlite3_step(db->schema) == SQLITE_ROW) {
        n = sqlite3_column_int64(db->version, 0);
        schema = sqlite3_column_int64(db->schema, 0);
    }
    sqlite3_reset(db->version);
    sqlite3_reset(db->schema);
    if (schema >= 0 && schema != db->schema_seen) {
        db->triggers_ok = sqlite3_step(db->triggers) == SQLITE_ROW && sqlite3_column_int(db->triggers, 0) == 1;
        sqlite3_reset(db->triggers);
        db->schema_seen = schema; /* putting a trigger back moves it again */
    }
    if (schema < 0 || !db->triggers_ok) {
        haas_secret_cache_reset(db->cache);
        db->cache_version = -1;
        return;
    }
    if (n != db->cache_version) {
        haas_secret_cache_reset(db->cache);
        db->cache_version = n;
    }
    db->cache_usable = true;
}

struct haas_device_db *haas_device_db_new(const char *path)
{
    if (path == NULL || path[0] == '\0') {
        return NULL;
    }
    struct haas_device_db *db = calloc(1, sizeof(*db));
    if (db == NULL) {
        return NULL;
    }
    db->path = strdup(path);
    db->cache = haas_secret_cache_new(SECRET_CACHE_MAX);
    db->cache_version = -1;
    db->schema_seen = -1;
    if (db->path == NULL || db->cache == NULL) {
        haas_secret_cache_free(db->cache);
        free(db->path);
        free(db);
        return NULL;
    }
    return db;
}

void haas_device_db_free(struct haas_device_db *db)
{
    if (db == NULL) {
        return;
    }
    close_db(db);
    haas_secret_cache_free(db->cache);
    free(db->path);
    free(db);
}

/* The secret and enabled flag of the look-up's row (device dn, for the
 * log): HAAS_DB_FOUND, or HAAS_DB_ERROR for a secret that is NULL or does
 * not fit. */
static enum haas_db_result read_found(sqlite3_stmt *st, const char *dn, char *secret, size_t secret_size,
                                      bool *enabled, void (*log_fn)(const char *))
{
    const unsigned char *s = sqlite3_column_text(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    if (s == NULL || len < 0 || (size_t)len >= secret_size) {
        logf_(log_fn, "unusable device_secret for device", dn);
        return HAAS_DB_ERROR;
    }
    memcpy(secret, s, (size_t)len);
    secret[len] = '\0';
    *enabled = sqlite3_column_int64(st, 1) != 0;
    return HAAS_DB_FOUND;
}

/* Begins the pass's read transaction, if not yet, and checks the kept
 * secrets against it; false (logged, closed) on failure. */
static bool begin_pass(struct haas_device_db *db, void (*log_fn)(const char *))
{
    if (db->in_pass) {
        return true;
    }
    /* Deferred: the read transaction starts at the first read, the number's. */
    int brc = sqlite3_step(db->begin);
    sqlite3_reset(db->begin);
    if (brc != SQLITE_DONE) {
        logf_(log_fn, "cannot begin a read transaction", sqlite3_errmsg(db->conn));
        close_db(db);
        return false;
    }
    db->in_pass = true;
    check_cache(db);
    return true;
}

enum haas_db_result haas_device_db_lookup(struct haas_device_db *db, const char *pk,
                                          const char *dn, char *secret, size_t secret_size,
                                          bool *enabled,
                                          void (*log_fn)(const char *msg))
{
    if (db == NULL || pk == NULL || dn == NULL || secret == NULL || secret_size == 0 ||
        enabled == NULL) {
        return HAAS_DB_ERROR;
    }
    secret[0] = '\0';
    *enabled = false;
    if (!ensure_open(db, log_fn) || !begin_pass(db, log_fn)) {
        return HAAS_DB_ERROR;
    }
    if (db->cache_usable && haas_secret_cache_get(db->cache, pk, dn, secret, secret_size, enabled)) {
        return HAAS_DB_FOUND;
    }
    sqlite3_stmt *st = db->lookup;
    /* SQLITE_STATIC: pk and dn outlive the statement's use (reset and
     * cleared below before returning), so SQLite need not copy them. */
    if (sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC) != SQLITE_OK) {
        logf_(log_fn, "bind failed", sqlite3_errmsg(db->conn));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        close_db(db);
        return HAAS_DB_ERROR;
    }
    enum haas_db_result result;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        result = read_found(st, dn, secret, secret_size, enabled, log_fn);
        if (result == HAAS_DB_FOUND && db->cache_usable) {
            (void)haas_secret_cache_put(db->cache, pk, dn, secret, *enabled); /* not kept: looked up again */
        }
    } else if (rc == SQLITE_DONE) {
        result = HAAS_DB_NOT_FOUND;
    } else {
        logf_(log_fn, "look-up failed", sqlite3_errmsg(db->conn));
        result = HAAS_DB_ERROR;
    }
    /* The read transaction stays open until the pass ends. */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (result == HAAS_DB_ERROR && rc != SQLITE_ROW) {
        close_db(db); /* reopen next time (file replaced, schema changed, ...) */
    }
    return result;
}

void haas_device_db_end_pass(struct haas_device_db *db)
{
    if (db == NULL || !db->in_pass) {
        return;
    }
    int rc = sqlite3_step(db->end);
    sqlite3_reset(db->end);
    db->in_pass = false;
    if (rc != SQLITE_DONE) {
        close_db(db); /* closing ends it; reopened at the next look-up */
    }
}
