/*
 * store_device_auth.c - read-only SQLite access to the `devices` table
 * (schema/migrations/0001_init.sql). See store_device_auth.h.
 */
#include "store_device_auth.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 256 MiB of address space: the devices of 100,000 devices and more. */
#define HAAS_DB_MMAP_BYTES_STR "268435456"

static const char LOOKUP_SQL[] =
    "SELECT device_secret, enabled FROM devices WHERE product_key = ?1 AND device_name = ?2";

struct haas_device_db {
    char *path;
    sqlite3 *conn;        /* NULL until opened */
    sqlite3_stmt *lookup; /* prepared LOOKUP_SQL */
    sqlite3_stmt *begin;  /* BEGIN: the pass's read transaction */
    sqlite3_stmt *end;    /* COMMIT: its end (haas_device_db_end_pass) */
    bool in_pass;         /* a read transaction is open */
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
    sqlite3_stmt **stmts[] = {&db->lookup, &db->begin, &db->end};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        sqlite3_finalize(*stmts[i]); /* NULL is a no-op */
        *stmts[i] = NULL;
    }
    db->in_pass = false; /* closing ends the read transaction */
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
    return true;
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
    if (db->path == NULL) {
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
    free(db->path);
    free(db);
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
    if (!ensure_open(db, log_fn)) {
        return HAAS_DB_ERROR;
    }
    if (!db->in_pass) {
        /* Deferred: the read transaction starts at the look-up's first read. */
        int brc = sqlite3_step(db->begin);
        sqlite3_reset(db->begin);
        if (brc != SQLITE_DONE) {
            logf_(log_fn, "cannot begin a read transaction", sqlite3_errmsg(db->conn));
            close_db(db);
            return HAAS_DB_ERROR;
        }
        db->in_pass = true;
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
        const unsigned char *s = sqlite3_column_text(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        if (s == NULL || len < 0 || (size_t)len >= secret_size) {
            logf_(log_fn, "unusable device_secret for device", dn);
            result = HAAS_DB_ERROR;
        } else {
            memcpy(secret, s, (size_t)len);
            secret[len] = '\0';
            *enabled = sqlite3_column_int64(st, 1) != 0;
            result = HAAS_DB_FOUND;
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
