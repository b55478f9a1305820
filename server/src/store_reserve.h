/*
 * store_reserve.h - room held back on the disk so that deleting still
 * works when the disk is full.
 *
 * SQLite in WAL mode appends every change to the -wal file before it
 * reaches the database, a DELETE included: on a full disk even a delete
 * fails (SQLITE_FULL), and the user cannot free space through the API. So
 * the store keeps a file of STORE_RESERVE_BYTES next to the database
 * (<data>/haas.db-reserve, allocated, never written) and gives it up only
 * for writes that free space or need none (db.h: db_delete, a status flag),
 * when one of them fails for want of room; the write is then tried once
 * more. Every other write still finds the disk full and is answered 507.
 * Right after a write that used it, and then at most every
 * STORE_RESERVE_RETRY seconds until it is whole again, the reserve takes
 * back what room the disk has (a deleted package, the user's own clean-up),
 * up to STORE_RESERVE_BYTES: so a disk that was full stays full for the
 * other writes, and the next delete finds room again.
 *
 * All of these run under the database lock (db.h); no SQL here.
 */
#ifndef HAAS_STORE_RESERVE_H
#define HAAS_STORE_RESERVE_H

#include <stdbool.h>
#include <stdint.h>

#define STORE_RESERVE_BYTES (8 << 20) /* a delete of a product with 10,000 devices writes less */
#define STORE_RESERVE_STEP (64 << 10)  /* less than this is not worth an allocation */
#define STORE_RESERVE_RETRY 10

/* Keeps the reserve in file path (NULL or "": none, as for an in-memory
 * database) and makes it now as far as there is room. */
void store_reserve_init(const char *path);

/* Gives the reserve up (the file stays, empty). Returns true when there
 * was room held to give (a retry may then succeed). */
bool store_reserve_release(void);

/* Makes the reserve again when it is not whole: now when asked, else at
 * most every STORE_RESERVE_RETRY seconds. */
void store_reserve_restore(bool now);

/* Bytes held right now. */
int64_t store_reserve_held(void);

#endif
