/*
 * db_checkpoint.h - the database's WAL checkpoints, run by a thread of
 * their own instead of by the writer under the database lock.
 *
 * In WAL mode every commit appends to <db>-wal, and a checkpoint copies
 * the appended pages back into the database file and syncs it. SQLite's
 * own auto-checkpoint does that inside the commit that took the WAL past
 * 1,000 pages, on the committing connection: here the one writer, which
 * holds the database lock (db.h) meanwhile. Measured in the fleet
 * benchmark (1,000 devices, about seven checkpoints per upgrade round):
 * 6-16 ms each, and now and then 88-142 ms when the sync waited for the
 * disk (once a POST .../push answered after 1,014 ms). For all that time
 * the MQTT link's batch held the lock, and downloads, pushes and the
 * console's polls waited for it.
 *
 * So the main connection's commit hook only notes that the WAL has grown
 * past DB_CHECKPOINT_PAGES and wakes this thread, which runs a PASSIVE
 * checkpoint on a connection of its own. PASSIVE is what the
 * auto-checkpoint ran: it copies what no reader still needs and waits for
 * no one; in WAL mode it runs next to the writer and the readers, so
 * nothing here takes the database lock. The WAL is restarted from its
 * beginning by the first commit after a checkpoint that copied it all, as
 * before.
 *
 * One case needs the writer after all. A checkpoint copies the WAL as it
 * was when it began; a writer that commits without a pause (a push to
 * 100,000 devices) appends meanwhile, so no checkpoint ends with all of
 * the WAL copied, the WAL is never restarted and grows as long as the
 * writing lasts. So a commit that finds the WAL past DB_CHECKPOINT_INLINE_PAGES
 * checkpoints itself, as SQLite's auto-checkpoint did at 1,000 pages: the
 * writer waits for that one, and the next transaction restarts the WAL.
 *
 * Only db.c calls these, under the database lock.
 */
#ifndef HAAS_DB_CHECKPOINT_H
#define HAAS_DB_CHECKPOINT_H

#include <sqlite3.h>

/* WAL pages after which a commit asks for a checkpoint (SQLite's default
 * auto-checkpoint threshold). */
#define DB_CHECKPOINT_PAGES 1000

/* WAL pages (32 MiB of 4 KiB pages) after which a commit checkpoints
 * itself, waiting for it, so that the WAL stops growing. */
#define DB_CHECKPOINT_INLINE_PAGES 8000

/*
 * Starts the checkpoint thread for the database at path and hands writer's
 * commits to it (sqlite3_wal_hook: writer's own auto-checkpoint stops).
 * Returns 0, or -1 (logged) when the thread or its connection cannot be
 * had: writer then keeps SQLite's auto-checkpoint, which is only slower.
 * Nothing to do for ":memory:" (no WAL).
 */
int db_checkpoint_start(sqlite3 *writer, const char *path);

/* Stops the thread (a checkpoint running ends first) and closes its
 * connection; writer gets its auto-checkpoint back. Safe when not started. */
void db_checkpoint_stop(sqlite3 *writer);

/* Checkpoints completed by the thread, and by commits past
 * DB_CHECKPOINT_INLINE_PAGES, since the process started (for tests). */
unsigned long db_checkpoint_count(void);
unsigned long db_checkpoint_inline_count(void);

#endif
