/*
 * store.h - what every part of the store layer shares: the status each store
 * function returns, the sizes of the identifiers it hands out, and
 * transactions that span several store calls.
 *
 * The store owns every SQL statement of haas-emu: one store_<tables>.c file
 * per group of tables, each with its header. Store functions take plain C
 * arguments, fill plain structs (fixed-size text fields sized by the
 * identifier rules of identifiers.h, docs/protocol.md sections 1 and 9) and take
 * the database lock themselves (db.h), so callers never see SQLite. Rules
 * (what is allowed, what an error is called) are the service layer's
 * (service_*.c); the store only says what the database holds.
 *
 * Lists come in pages (store_page): the store hands each row of the page to
 * the caller's function, one after the other in one struct, and says how
 * many rows the whole list has. (A device row is over 20 KiB: a page of 500
 * of them is never held at once.)
 */
#ifndef HAAS_STORE_H
#define HAAS_STORE_H

#include "identifiers.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    STORE_OK,        /* done; or the row was found */
    STORE_NOT_FOUND, /* no such row (nothing changed) */
    STORE_EXISTS,    /* a row with that key already exists (nothing changed) */
    STORE_CONFLICT,  /* other rows forbid it (a reference, a unique name) */
    STORE_ERROR      /* the database failed (logged) */
} store_status;

/* Text field sizes, terminating NUL included. */
#define STORE_PK_SIZE (HAAS_PK_LEN + 1)             /* ProductKey */
#define STORE_DN_SIZE (HAAS_DN_MAX + 1)             /* DeviceName */
#define STORE_SECRET_SIZE (HAAS_DS_LEN + 1)         /* DeviceSecret */
#define STORE_NAME_SIZE 65                          /* product or group name: 1..64 bytes */
#define STORE_ID_SIZE 41                            /* groupId, taskId: 1..40 of [A-Za-z0-9_-] */
#define STORE_APP_NAME_SIZE (HAAS_APP_NAME_MAX + 1) /* appName */
#define STORE_APP_ID_SIZE (HAAS_APP_ID_LEN + 1)     /* appId */
#define STORE_DESC_SIZE 513                         /* an app's description: at most 512 bytes */
#define STORE_VERSION_SIZE 32                       /* "a.b.c", each part 1..9 digits */
#define STORE_OBJECT_SIZE 128                       /* "<appId>/<appName>-<appId>-<version>.tar.gz" */
#define STORE_MD5_SIZE 33                           /* lower-case hex */
#define STORE_SHA256_SIZE 65                        /* lower-case hex */
#define STORE_WORD_SIZE 16                          /* a status or state ("online", "testing", ...) */

/* Called with each row of a page: row points to the list's row type
 * (store_product, store_device, ...) and is valid during the call only. It
 * must not call the store. */
typedef void (*store_row_fn)(const void *row, void *ctx);

/* One page of a list: what to read, where the rows go, and the total. */
typedef struct {
    int offset;          /* rows skipped */
    int limit;           /* rows read at most */
    store_row_fn each;   /* called with each row read */
    void *ctx;           /* passed to each */
    int64_t total;       /* set by the store: how many rows the list has */
} store_page;

/*
 * Starts a transaction that the following store calls of this thread join
 * (BEGIN IMMEDIATE), holding the database lock until store_commit or
 * store_rollback: other threads' store calls wait. Not inside another
 * transaction (nor inside an MQTT batch, db_batch_begin). Returns STORE_OK,
 * or STORE_ERROR (no transaction, no lock held).
 */
store_status store_begin(void);

/*
 * Commits the transaction of store_begin and releases the lock. Returns
 * STORE_OK, or STORE_ERROR when the commit failed (then everything is rolled
 * back).
 */
store_status store_commit(void);

/* Rolls back the transaction of store_begin and releases the lock. */
void store_rollback(void);

/*
 * Between store_reads_begin and store_reads_end this thread only reads (an
 * API GET): its statements may run on a read-only connection that sees the
 * last committed state without waiting for the database lock (db.c). A
 * statement that writes still runs on the main connection.
 */
void store_reads_begin(void);
void store_reads_end(void);

/*
 * A number that moves on after every commit that changed rows, and only
 * then: what a thread read when it was g (read before the reads) still
 * holds while it is g. For answers worth keeping between requests (a
 * download's package and owner, download.c).
 */
uint64_t store_generation(void);

/*
 * For long work done as a run of transactions (a push to a large group, a
 * chunk at a time): called between two of them, without the lock, it waits
 * until every thread that was waiting for the lock has had it (at most a
 * few milliseconds), so that API requests are answered between the chunks
 * instead of after the whole run. A mutex alone would let this thread take
 * the lock straight back.
 */
void store_let_others_in(void);

/* Called by store_commit_with, still under the lock, with whether the
 * commit succeeded. */
typedef void (*store_done_fn)(bool committed, void *ctx);

/*
 * Like store_commit, but calls done(committed, ctx) before the lock is
 * released: for a change outside the database that must go with the
 * commit (a package file moved in, or removed), so that no other thread
 * ever sees the rows and the files disagree.
 */
store_status store_commit_with(store_done_fn done, void *ctx);

/*
 * For a transaction whose writes all free space (db.h: db_free_one) that
 * failed because the disk is full (store_disk_full; SQLite rolled it
 * back): gives up the room held back for deletes (store_reserve.h), so
 * that running it once more may succeed. Returns false when none is held.
 * (A single such write outside a transaction does this by itself.)
 */
bool store_give_reserve(void);

/*
 * Did this thread's last store call fail because the disk is full
 * (SQLITE_FULL)? Like errno: set by every store call, read right after one
 * failed (store_rollback leaves it as it is). The services answer such a
 * failure as SERVICE_FULL (507 InsufficientStorage).
 */
bool store_disk_full(void);

#endif
