/*
 * store_device_auth.h - the broker plugin's store: a read-only look-up of
 * device secrets in the emulator's SQLite database (the only SQL of the
 * plugin; haas-emu's own statements are in server/src/store_*.c).
 *
 * The emulator (server/src/db.c) owns and writes the database in WAL mode
 * while the broker runs; this module opens it with SQLITE_OPEN_READONLY,
 * lazily on the first look-up (so the broker may start before the database
 * exists), checks PRAGMA user_version >= 1 (schema 0001_init.sql applied),
 * and waits up to HAAS_DB_BUSY_MS on SQLITE_BUSY. On an error the
 * connection is closed and reopened at the next look-up.
 *
 * One read transaction per pass of the broker's loop: the first look-up of
 * a pass begins it, haas_device_db_end_pass() (called at MOSQ_EVT_TICK,
 * after each pass) ends it, so the logins of a pass (dozens while a fleet
 * connects) share one snapshot of the database. Beginning and ending a
 * read transaction (shared-memory read marks, two fcntl() locks, the WAL
 * header) cost as much as the look-up itself: about 6% of the broker's CPU
 * while 19,800 devices logged in, one transaction per look-up (perf,
 * bench-100k). A snapshot is never stale for a login: mosquitto reads a
 * connection's first packet (its CONNECT) only in a pass after the one
 * that accepted it (mosquitto 2.0 adds the accepted socket to epoll), and a
 * client connects only after what it waited for (a device made, its secret
 * changed, it was disabled or deleted) was committed. So the commit came
 * before the accept's pass ended, and the snapshot of a later pass has it.
 * A pass lasts milliseconds: the emulator's (passive) checkpoints are held
 * back no longer than that.
 * Secrets read are kept (secret_cache.h) and a device's next login is
 * answered from memory, as long as the number of migration 0018 (moved by
 * triggers on every change of a device's secret, enabled flag or key, and
 * every device deleted or added) is the one read before: the first look-up of each
 * pass reads it, in the pass's snapshot, and empties the cache when it
 * moved. A cached answer is thus the one the snapshot would give. A
 * database without the number, or without any trigger that moves it
 * (checked when the schema changed), is looked up every time.
 * The look-up is prepared once per connection; database pages are read
 * through a memory map (the emulator's writes empty the page cache between
 * look-ups); no SQLite mutexes (the broker calls the plugin from one thread).
 */
#ifndef HAAS_STORE_DEVICE_AUTH_H
#define HAAS_STORE_DEVICE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define HAAS_DB_BUSY_MS 1000

/* Result of a look-up. */
enum haas_db_result {
    HAAS_DB_FOUND = 0,  /* device exists; outputs filled */
    HAAS_DB_NOT_FOUND,  /* no such device */
    HAAS_DB_ERROR,      /* database missing, unreadable, wrong schema, busy... */
};

struct haas_device_db;

/*
 * Creates a handle for the database file at `path` (copied). Does not open
 * the file yet. Returns NULL on bad arguments or out of memory.
 */
struct haas_device_db *haas_device_db_new(const char *path);

/* Closes the database (if open) and frees the handle. NULL is a no-op. */
void haas_device_db_free(struct haas_device_db *db);

/*
 * Looks up device (pk, dn). On HAAS_DB_FOUND, `secret` (capacity
 * `secret_size`) receives device_secret and *enabled the `enabled` column
 * (non-zero = true). A secret that does not fit, or a NULL secret column,
 * gives HAAS_DB_ERROR. Errors are logged through `log_fn` when non-NULL.
 */
enum haas_db_result haas_device_db_lookup(struct haas_device_db *db, const char *pk,
                                          const char *dn, char *secret, size_t secret_size,
                                          bool *enabled,
                                          void (*log_fn)(const char *msg));

/*
 * Ends the read transaction the look-ups of this pass of the broker's loop
 * began (none: a no-op). The next look-up sees every commit made before.
 * On failure the connection is closed (which ends it too). NULL is a no-op.
 */
void haas_device_db_end_pass(struct haas_device_db *db);

#endif /* HAAS_STORE_DEVICE_AUTH_H */
