/*
 * test_db_checkpoint.c - the WAL checkpoints of db_checkpoint.c, on a real
 * database file in a temporary directory (an in-memory database has no
 * WAL): they happen once the WAL passes DB_CHECKPOINT_PAGES, without the
 * database lock (a thread holding it does not stop them); a writer that
 * never pauses checkpoints itself past DB_CHECKPOINT_INLINE_PAGES, so the
 * WAL stays bounded; closing stops the thread with nothing lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "db.h"
#include "db_checkpoint.h"
#include "log.h"
#include "store_fixture.h"

#define ROW_BYTES 3000      /* one row a page or so */
#define DEADLINE_MS 10000   /* for a checkpoint to be seen */
#define PAGE_BYTES 4096

static char path[128], wal[140];

static int open_file_db(void **state)
{
    if (fixture_open_file(state) < 0)
        return -1;
    snprintf(path, sizeof path, "%s", fx_db_path());
    snprintf(wal, sizeof wal, "%s-wal", path);
    sqlite3 *db = db_lock();
    int rc = db_exec(db, "CREATE TABLE filler (b BLOB)");
    db_unlock();
    return rc;
}

/* Commits n rows of ROW_BYTES, one transaction each (as the link's batches
 * and the API's writes do). */
static void commit_rows(int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3 *db = db_lock();
        assert_int_equal(db_exec(db, "INSERT INTO filler VALUES (zeroblob(3000))"), 0);
        db_unlock();
    }
}

/* Waits until more than `before` checkpoints have completed; returns
 * whether that happened before the deadline. */
static bool checkpoint_after(unsigned long before)
{
    int64_t deadline = clock_monotonic_ms() + DEADLINE_MS;
    while (db_checkpoint_count() <= before) {
        if (clock_monotonic_ms() > deadline)
            return false;
        usleep(1000);
    }
    return true;
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static long long rows(void)
{
    sqlite3 *db = db_lock();
    sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM filler");
    long long n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    db_unlock();
    return n;
}

/* Below the threshold nothing is checkpointed; past it the thread does
 * it while this thread holds the database lock the whole time. */
static void test_checkpoint_past_threshold_without_the_lock(void **state)
{
    (void)state;
    unsigned long before = db_checkpoint_count();
    commit_rows(DB_CHECKPOINT_PAGES / 4);
    usleep(50 * 1000);
    assert_int_equal(db_checkpoint_count(), before);

    db_lock();
    commit_rows(DB_CHECKPOINT_PAGES); /* recursive: taken again inside */
    assert_true(checkpoint_after(before));
    db_unlock();
}

/* A writer that never pauses: no checkpoint of the thread copies all of
 * the WAL before more is appended, so it is never restarted; commits past
 * DB_CHECKPOINT_INLINE_PAGES checkpoint themselves and the WAL stops
 * there (without them it reaches about 120 MB here). */
static void test_wal_bounded_under_a_writer_without_pause(void **state)
{
    (void)state;
    unsigned long before = db_checkpoint_inline_count();
    int n = 0;
    for (; n < 30000; n++) {
        sqlite3 *db = db_lock();
        assert_int_equal(db_exec(db, "INSERT INTO filler VALUES (zeroblob(100))"), 0);
        db_unlock();
    }
    assert_true(db_checkpoint_inline_count() > before);
    long long size = file_size(wal);
    assert_true(size > 0);
    assert_true(size < (DB_CHECKPOINT_INLINE_PAGES + 2000LL) * (PAGE_BYTES + 24));
    assert_int_equal(rows(), n);
}

/* Closing with a checkpoint wanted stops the thread; every committed row
 * is there after reopening, and the WAL was folded in at the close. */
static void test_close_and_reopen(void **state)
{
    (void)state;
    commit_rows(DB_CHECKPOINT_PAGES + 10);
    db_close();
    assert_int_equal(file_size(wal), -1); /* the last connection closed removed it */
    char err[300];
    assert_int_equal(db_open(path, err, sizeof err), 0);
    assert_int_equal(rows(), DB_CHECKPOINT_PAGES + 10);
    unsigned long before = db_checkpoint_count();
    commit_rows(DB_CHECKPOINT_PAGES + 10);
    assert_true(checkpoint_after(before)); /* the thread runs again */
}

#define T(f) cmocka_unit_test_setup_teardown(f, open_file_db, fixture_close_file)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_checkpoint_past_threshold_without_the_lock),
        T(test_wal_bounded_under_a_writer_without_pause),
        T(test_close_and_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
