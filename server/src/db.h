/*
 * db.h - the emulator's SQLite database: opening, migrations, locking, and
 * the helpers the store layer (store_*.c, store.h) runs its statements with.
 * Only db.c and store_*.c use SQLite.
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

#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
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
 * (store_begin, store_commit and store_rollback of store.h are defined in
 * db.c too.)
 */
void db_batch_begin(void);
void db_batch_end(void);

/*
 * Is another thread waiting for the database lock right now? A holder that
 * may keep it for long by choice (the MQTT link gathering a batch) ends
 * its transaction early when this says yes.
 */
bool db_lock_wanted(void);

/*
 * Several reads that must agree (a row and its counts, a page and its
 * total) as one snapshot: for API reads (store_reads_begin) a read
 * transaction on the reader, so that they do not wait for the database
 * lock, which the MQTT link's batches and the writes hold; otherwise under
 * that lock. The store's calls in between run there. Returns what to hand
 * to db_snapshot_end (whether it is the reader).
 */
bool db_snapshot_begin(void);
void db_snapshot_end(bool on_reader);

/* Copies column col of st (its text, "" when NULL) into out of size n. */
void db_copy(char *out, size_t n, sqlite3_stmt *st, int col);

/* Is column col of st SQL NULL? */
int db_null(sqlite3_stmt *st, int col);

/* Reads the current row of a statement into a struct of the caller's. */
typedef void (*db_read_fn)(sqlite3_stmt *st, void *out);

/* db_read_fns of a row of one column: into a bool (not 0) or an int. */
void db_read_bool(sqlite3_stmt *st, void *out);
void db_read_int(sqlite3_stmt *st, void *out);

/*
 * The helpers below run one statement each under the database lock (they
 * take it themselves). sql must be a string literal: it is prepared once and
 * kept (db_cached). Its parameters ?1, ?2, ... come from the arguments after
 * types, one letter of types for each:
 *   's'  const char *   text (NULL binds SQL NULL)
 *   't'  const char *, int   text of that many bytes
 *   'I'  int64_t
 *   'i'  int
 * The values must stay valid until the call returns (they are not copied).
 */

/*
 * Runs sql for at most one row; a row found is read into out with read.
 * Returns STORE_OK (a row), STORE_NOT_FOUND (none) or STORE_ERROR.
 */
store_status db_one(const char *sql, db_read_fn read, void *out, const char *types, ...);

/*
 * Runs sql (a write); *changes (when not NULL) gets the number of rows it
 * changed. Returns STORE_OK, STORE_EXISTS (a PRIMARY KEY or UNIQUE
 * constraint failed), STORE_CONFLICT (a FOREIGN KEY constraint failed) or
 * STORE_ERROR.
 */
store_status db_write(const char *sql, int *changes, const char *types, ...);

/* Like db_write, but returns unchanged when no row changed. */
store_status db_write_one(const char *sql, store_status unchanged, const char *types, ...);

/* An UPDATE or DELETE of one row: STORE_NOT_FOUND when there was none. */
#define db_update(sql, ...) db_write_one(sql, STORE_NOT_FOUND, __VA_ARGS__)

/* An INSERT OR IGNORE (cheaper than a failed constraint inside a
 * transaction): STORE_EXISTS when the row was there already. */
#define db_insert(sql, ...) db_write_one(sql, STORE_EXISTS, __VA_ARGS__)

/*
 * Like db_update, for a write that frees space or needs none (a DELETE, a
 * status flag set): on a full disk it may use the room held back for this
 * (store_reserve.h), so deleting still works. A transaction (store_begin)
 * whose writes are all of this kind may use it at its commit.
 */
store_status db_free_one(const char *sql, const char *types, ...);

/* A DELETE of one row (or of one row and what cascades from it), which
 * works on a full disk too: STORE_NOT_FOUND when there was none. */
#define db_delete(sql, ...) db_free_one(sql, __VA_ARGS__)

/* Called for each row of db_each, read into row; non-zero stops the walk.
 * It must not call the store (the statement is still running). */
typedef int (*db_visit_fn)(const void *row, void *ctx);

/* The visit for db_each that hands every row on to a store_row_fn:
 * db_each(..., db_visit_rows, &(db_rows){each, ctx}, ...). */
typedef struct {
    store_row_fn each;
    void *ctx;
} db_rows;
int db_visit_rows(const void *row, void *ctx);

/* The visit for db_each that only reads every row (read did the work). */
int db_visit_all(const void *row, void *ctx);

/*
 * Runs sql and, for each row, reads it into row with read and calls
 * visit(row, ctx). Returns STORE_OK (also when there was no row, or the
 * visit stopped the walk) or STORE_ERROR.
 */
store_status db_each(const char *sql, db_read_fn read, void *row, db_visit_fn visit, void *ctx,
                     const char *types, ...);

/*
 * One page of a list (store.h). items_sql takes the parameters of types and
 * ends with "LIMIT :limit OFFSET :offset"; count_sql counts the same rows
 * with the same parameters into page->total. Each row of the page is read
 * into row with read and handed to page->each. Both run under one lock.
 * Returns STORE_OK or STORE_ERROR.
 */
store_status db_page(const char *items_sql, const char *count_sql, db_read_fn read, void *row, store_page *page,
                     const char *types, ...);

/*
 * db_page for long lists: from_end_sql is items_sql with its inner ORDER BY
 * reversed (the same rows, last first) and the same outer ORDER BY, so that
 * a page in the second half of the list is found by walking from the end
 * (OFFSET walks every row it skips). count_sql must count exactly the rows
 * of items_sql: the page's place from the end is reckoned from it.
 */
store_status db_page_from_ends(const char *items_sql, const char *from_end_sql, const char *count_sql,
                               db_read_fn read, void *row, store_page *page, const char *types, ...);
/*
 * A hint kept in memory that a table may hold rows of some kind (firmware
 * jobs in progress, active rollouts), so that a device's every message does
 * not query for rows a database has none of. db_hint_set before such a row
 * is inserted; db_hint_maybe reads it (a reader that saw it clear ran
 * before that insert); db_hint_refresh clears it when ask says there
 * are none and nothing was set meanwhile. It starts set: unknown.
 */
typedef struct {
    atomic_bool maybe;
    unsigned sets;        /* db_hint_set calls, guarded by lock */
    pthread_mutex_t lock;
} db_hint;
#define DB_HINT_INIT {true, 0, PTHREAD_MUTEX_INITIALIZER}

void db_hint_set(db_hint *h);
bool db_hint_maybe(db_hint *h);
/* ask(&any) returns STORE_OK with any set, or a failure (the hint stays). */
store_status db_hint_refresh(db_hint *h, store_status (*ask)(bool *any));

#endif
