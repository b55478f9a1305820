/*
 * db.h - the emulator's SQLite database: opening, migrations, locking.
 *
 * One connection, shared by the HTTP threads under one mutex: the emulator's
 * writes are small and SQLite serialises writers anyway, so a pool would buy
 * nothing but complexity. The database runs in WAL mode with foreign keys on,
 * so the broker plugin can read it from another process while we write.
 *
 * Schema changes are numbered migration files in schema/migrations/, embedded
 * at build time (server/gen-migrations.sh) and applied in order at start-up;
 * PRAGMA user_version records how far a database has come.
 */
#ifndef HAAS_DB_H
#define HAAS_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int version;       /* schema version this migration leads to */
    const char *name;  /* file name, for messages */
    const char *sql;
} db_migration;

extern const db_migration db_migrations[];
extern const int db_migration_count;

/*
 * Opens (creating if needed) the database at path, sets WAL and foreign keys,
 * applies pending migrations. Returns 0, or -1 with a message in err.
 */
int db_open(const char *path, char *err, size_t errlen);

/* Closes the database (after every user is done). */
void db_close(void);

/* Takes the database mutex and returns the connection; pair with db_unlock. */
sqlite3 *db_lock(void);
void db_unlock(void);

/*
 * Reads setting key into out (NUL-terminated). Returns 1 found, 0 absent,
 * -1 on error. The caller holds the lock.
 */
int db_get_setting(sqlite3 *db, const char *key, char *out, size_t outlen);

/* Inserts or replaces a setting. Returns 0 or -1. The caller holds the lock. */
int db_set_setting(sqlite3 *db, const char *key, const char *value);

/* Runs sql without results (BEGIN, COMMIT, ...). Returns 0 or -1 (logged). */
int db_exec(sqlite3 *db, const char *sql);

/*
 * Prepares sql, logging and returning NULL on error. Bind, step and finalize
 * as usual; the caller holds the lock.
 */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);

/* Current schema version of the open database. */
int db_schema_version(void);



/* Column text, or "" when NULL. */
const char *db_text(sqlite3_stmt *st, int col);

/*
 * Like db_prepare, but the statement is kept and reused: sql must be a
 * string literal (it is the cache key), and the caller ends with
 * db_done(st), never sqlite3_finalize. The caller holds the lock.
 */
sqlite3_stmt *db_cached(sqlite3 *db, const char *sql);

/* Ends a use of a db_cached statement (reset, bindings cleared). */
void db_done(sqlite3_stmt *st);

/*
 * Runs the work between begin and end as one transaction under the lock
 * (the lock is recursive, so code inside may take it again): many small
 * writes, one commit. Used by the MQTT link for each batch of messages.
 */
void db_batch_begin(void);
void db_batch_end(void);

/* Runs a one-row, one-integer query (a string literal: it is cached) with
 * up to two text parameters (NULL = unused); returns the integer, or -1 when
 * there is no row or on error. */
int64_t db_int(sqlite3 *db, const char *sql, const char *p1, const char *p2);

/* Runs a statement with up to two text parameters (NULL = unused); returns
 * the number of rows it changed, or -1 on error. */
int db_change(sqlite3 *db, const char *sql, const char *p1, const char *p2);
#endif
