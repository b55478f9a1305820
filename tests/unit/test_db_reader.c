/*
 * test_db_reader.c - API reads that must agree (a task and its counts, a
 * page and its total) run as one snapshot on the read-only connection
 * (db_snapshot_begin), so they do not wait for the database lock that the
 * MQTT link's batches hold; reads outside a GET still run under the lock.
 * On a real database file in a temporary directory (an in-memory database
 * has no second connection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "store_fixture.h"
#include "store_reports.h"
#include "store_tasks.h"

#define HOLD_MS 3000 /* how long the holder keeps the lock at most */

static int open_file_db(void **state)
{
    if (fixture_open_file(state) < 0)
        return -1;
    fx_task_world();
    fx_task("t1", APP_A, "0.0.2", "g1");
    return 0;
}

/* Another thread holding the database lock (as the link's batch does)
 * until the reads are done or HOLD_MS passed. */
typedef struct {
    atomic_int locked, reads_done;
    int done_while_held; /* the reads finished before the lock was let go */
} holder;

static void *hold_lock(void *arg)
{
    holder *h = arg;
    db_lock();
    atomic_store(&h->locked, 1);
    int64_t deadline = clock_monotonic_ms() + HOLD_MS;
    while (!atomic_load(&h->reads_done) && clock_monotonic_ms() < deadline)
        usleep(1000);
    h->done_while_held = atomic_load(&h->reads_done);
    db_unlock();
    return NULL;
}

/* Runs reads() while another thread holds the database lock; returns
 * whether they finished before it let go. */
static int reads_while_locked(void (*reads)(void))
{
    holder h = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold_lock, &h), 0);
    while (!atomic_load(&h.locked))
        usleep(100);
    reads();
    atomic_store(&h.reads_done, 1);
    pthread_join(t, NULL);
    return h.done_while_held;
}

static void task_with_counts(void)
{
    store_task t;
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_string_equal(t.group_id, "g1");
}

static void api_task_with_counts(void)
{
    store_reads_begin(); /* as a GET request does */
    task_with_counts();
    store_reads_end();
}

static void count_row(const void *row, void *ctx)
{
    (void)row;
    (*(int *)ctx)++;
}

static void api_task_page(void)
{
    int rows = 0;
    store_page page = {.offset = 0, .limit = 10, .each = count_row, .ctx = &rows};
    store_reads_begin();
    assert_int_equal(store_task_list(NULL, &page), STORE_OK);
    store_reads_end();
    assert_int_equal(page.total, 1);
    assert_int_equal(rows, 1);
}

static void test_a_get_reads_a_task_while_the_lock_is_held(void **state)
{
    (void)state;
    assert_true(reads_while_locked(api_task_with_counts));
}

static void test_a_get_reads_a_page_while_the_lock_is_held(void **state)
{
    (void)state;
    assert_true(reads_while_locked(api_task_page));
}

/* Outside a GET (a service, the link) the reads wait for the lock. */
static void test_other_reads_wait_for_the_lock(void **state)
{
    (void)state;
    assert_false(reads_while_locked(task_with_counts));
}

/* store_generation moves on after a commit that changed rows: not after
 * reads, not for a write inside a transaction before its commit, not for
 * a write that changed nothing. */
static void test_the_generation_moves_with_committed_changes(void **state)
{
    (void)state;
    uint64_t g = store_generation();
    assert_int_equal(store_task_get("t1", &(store_task){0}, NULL, NULL), STORE_OK);
    assert_true(store_generation() == g); /* a read */
    assert_int_equal(store_report_app(PK_A, DN_A, APP_A, "0.0.1"), STORE_OK);
    uint64_t after_write = store_generation();
    assert_true(after_write != g);
    assert_int_equal(store_report_app(PK_A, "no-such-device", APP_A, "0.0.1"), STORE_NOT_FOUND);
    assert_true(store_generation() == after_write); /* nothing changed */
    assert_int_equal(store_begin(), STORE_OK);
    assert_int_equal(store_report_app(PK_A, DN_A, APP_A, "0.0.2"), STORE_OK);
    assert_true(store_generation() == after_write); /* not committed yet */
    assert_int_equal(store_commit(), STORE_OK);
    assert_true(store_generation() != after_write);
}

#define T(f) cmocka_unit_test_setup_teardown(f, open_file_db, fixture_close_file)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_get_reads_a_task_while_the_lock_is_held),
        T(test_a_get_reads_a_page_while_the_lock_is_held),
        T(test_other_reads_wait_for_the_lock),
        T(test_the_generation_moves_with_committed_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
