/*
 * db_checkpoint.c - WAL checkpoints on a thread and a connection of their
 * own, off the database lock (why: db_checkpoint.h).
 *
 * The writer's WAL hook runs inside each commit with the database lock
 * held, so it does no I/O: it sets `wanted` and signals. The thread wakes,
 * clears `wanted` and checkpoints; commits made meanwhile set `wanted`
 * again, so a WAL that grows faster than one checkpoint copies it is
 * checkpointed again at once, as often as the writer's commits ask; past
 * DB_CHECKPOINT_INLINE_PAGES the hook checkpoints itself (db_checkpoint.h).
 */
#include "db_checkpoint.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool wanted;   /* a commit found the WAL past DB_CHECKPOINT_PAGES */
static bool stopping; /* db_checkpoint_stop was called */
static pthread_t thread;
static bool running;  /* the thread exists (db.c's lock orders start and stop) */
static sqlite3 *conn; /* the thread's connection */
static atomic_ulong done, done_inline;

/* sqlite3_wal_hook: called after each commit of the writer with the WAL's
 * size in pages. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)arg;
    if (pages >= DB_CHECKPOINT_INLINE_PAGES) {
        /* BUSY while the thread's checkpoint runs: the next commit tries again. */
        if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
            atomic_fetch_add(&done_inline, 1);
    } else if (pages >= DB_CHECKPOINT_PAGES) {
        pthread_mutex_lock(&mutex);
        wanted = true;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&mutex);
    }
    return SQLITE_OK;
}

/* One PASSIVE checkpoint; a failure is logged when it differs from the
 * last one (a full disk fails every checkpoint until room is made). */
static void checkpoint(int *last_rc)
{
    int rc = sqlite3_wal_checkpoint_v2(conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc == SQLITE_OK)
        atomic_fetch_add(&done, 1);
    else if (rc != SQLITE_BUSY && rc != *last_rc)
        log_msg(LOG_WARN, "database checkpoint: %s (the WAL grows until one succeeds)", sqlite3_errmsg(conn));
    *last_rc = rc;
}

static void *run(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "db-checkpoint");
    int last_rc = SQLITE_OK;
    pthread_mutex_lock(&mutex);
    while (!stopping) {
        if (!wanted) {
            pthread_cond_wait(&wake, &mutex);
            continue;
        }
        wanted = false;
        pthread_mutex_unlock(&mutex);
        checkpoint(&last_rc);
        pthread_mutex_lock(&mutex);
    }
    pthread_mutex_unlock(&mutex);
    return NULL;
}

int db_checkpoint_start(sqlite3 *writer, const char *path)
{
    if (running || path[0] == ':')
        return 0;
    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        log_msg(LOG_WARN, "no checkpoint connection (%s): commits checkpoint themselves",
                conn ? sqlite3_errmsg(conn) : "out of memory");
        sqlite3_close(conn);
        conn = NULL;
        return -1;
    }
    stopping = wanted = false;
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        log_msg(LOG_WARN, "no checkpoint thread: commits checkpoint themselves");
        sqlite3_close(conn);
        conn = NULL;
        return -1;
    }
    running = true;
    sqlite3_wal_hook(writer, on_commit, NULL);
    return 0;
}

void db_checkpoint_stop(sqlite3 *writer)
{
    if (!running)
        return;
    sqlite3_wal_autocheckpoint(writer, DB_CHECKPOINT_PAGES); /* replaces on_commit */
    pthread_mutex_lock(&mutex);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&mutex);
    pthread_join(thread, NULL);
    running = false;
    sqlite3_close(conn);
    conn = NULL;
}

unsigned long db_checkpoint_count(void) { return atomic_load(&done); }

unsigned long db_checkpoint_inline_count(void) { return atomic_load(&done_inline); }
