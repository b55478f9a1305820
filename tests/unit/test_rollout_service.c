/*
 * test_rollout_service.c - unit tests of staged rollouts' rules and store
 * (service_rollouts.c, store_rollouts.c) on a fresh in-memory database
 * (store_fixture.h), with the clock given to each step: batch sizes by
 * count and percent, the start (now or scheduled), the next batch on the
 * success threshold, the pause on the error threshold with its reason, a
 * resume accepting the failures, timeouts and retries, the rate budget,
 * what device reports mean, dynamic members, cancel, and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "db.h"
#include "service_rollouts.h"
#include "store_fixture.h"
#include "store_firmwares.h"
#include "store_reports.h"

#define PK PK_A

#define assert_fails(call, st, c)           \
    do {                                    \
        assert_int_equal((call), (st));     \
        assert_int_equal(res.status, (st)); \
        assert_string_equal(res.code, (c)); \
    } while (0)

/* A product PK with devices dev-00..dev-(n-1) on firmware 1.0.0, and
 * firmware "fw" 1.0.1 from 1.0.0. */
static void world(int n)
{
    fx_product(PK);
    for (int i = 0; i < n; i++) {
        char dn[16];
        snprintf(dn, sizeof dn, "dev-%02d", i);
        fx_device(PK, dn);
        assert_int_equal(store_device_module_report(PK, dn, "default", "1.0.0", 1000), STORE_OK);
        assert_int_equal(store_report_online(PK, dn, 1000, "127.0.0.1"), STORE_OK);
    }
    store_firmware f = {.firmware_id = "fw", .product_key = PK, .module_name = "default", .version = "1.0.1",
                        .name = "fw", .object_key = "fw/fw.bin", .size = 10, .md5 = "m", .sha256 = "s",
                        .sign_method = "Md5", .src_versions = "1.0.0", .created_at = 1000};
    assert_int_equal(store_firmware_insert(&f), STORE_OK);
}

static void collect_row(const void *row, void *ctx) { fx_collect(row, ctx); }

static int64_t clock_now(void) { return (int64_t)time(NULL); }

/* A firmware rollout of spec's shape over the product; its id into id. */
static int create(service_rollout_spec *spec, char id[STORE_ID_SIZE])
{
    service_result res;
    int devices = -1;
    spec->kind = "firmware";
    spec->firmware_id = "fw";
    if (!spec->target_type)
        spec->target_type = "product";
    assert_int_equal(service_rollout_create(spec, id, &devices, &res), SERVICE_OK);
    return devices;
}

/* One step at now; the rollout after it into r. */
static void step(const char *id, int64_t now, store_rollout *r)
{
    service_result res;
    assert_int_equal(service_rollout_step(id, now, r, &res), SERVICE_OK);
}

/* Marks device dn of rollout id pushed (as the engine does). */
static void pushed(const char *id, const char *dn, int64_t now)
{
    assert_int_equal(store_rollout_move(id, PK, dn, 1u << RD_QUEUED, RD_PUSHED, NULL, -1, "attempt", now), STORE_OK);
}

/* Counts devices per batch. */
typedef struct {
    int batch_of[64];
    store_rollout_state state_of[64];
    int n;
} device_table;

static void table_row(const void *row, void *ctx)
{
    const store_rollout_device *d = row;
    device_table *t = ctx;
    int i = atoi(d->device_name + 4);
    t->batch_of[i] = d->batch;
    t->state_of[i] = d->state;
    t->n++;
}

static void table(const char *id, device_table *t)
{
    store_rollout r;
    memset(t, 0, sizeof *t);
    assert_int_equal(store_rollout_get(id, &r, table_row, t), STORE_OK);
}

static void test_batches_by_count_and_percent(void **state)
{
    (void)state;
    world(10);
    service_rollout_spec spec;
    char id[STORE_ID_SIZE];
    service_rollout_defaults(&spec);
    spec.batches = "2,30%,100%";
    assert_int_equal(create(&spec, id), 10);
    device_table t;
    table(id, &t);
    assert_int_equal(t.n, 10);
    int size[4] = {0};
    for (int i = 0; i < 10; i++)
        size[t.batch_of[i]]++;
    assert_int_equal(size[1], 2); /* a count */
    assert_int_equal(size[2], 3); /* 30% of 10 */
    assert_int_equal(size[3], 5); /* the rest */
    assert_int_equal(t.batch_of[0], 1);
    assert_int_equal(t.batch_of[9], 3); /* by name */
    /* no schedule: batch 1 started at creation */
    store_rollout r;
    assert_int_equal(store_rollout_get(id, &r, NULL, NULL), STORE_OK);
    assert_string_equal(r.status, "running");
    assert_int_equal(r.current_batch, 1);
    assert_int_equal(t.state_of[0], RD_QUEUED);
    assert_int_equal(t.state_of[2], RD_WAITING);
}

static void test_schedule_success_threshold_and_completion(void **state)
{
    (void)state;
    world(4);
    service_rollout_spec spec;
    char id[STORE_ID_SIZE];
    store_rollout r;
    int64_t now = clock_now();
    service_rollout_defaults(&spec);
    spec.batches = "2,2";
    spec.success_percent = 50;
    spec.start_at = now + 100;
    create(&spec, id);
    step(id, now, &r);
    assert_string_equal(r.status, "scheduled");
    step(id, now + 100, &r);
    assert_string_equal(r.status, "running");
    pushed(id, "dev-00", now + 100);
    service_rollout_firmware_inform(PK, "dev-00", "default", "1.0.1"); /* 1 of 2: 50% */
    step(id, now + 101, &r);
    assert_int_equal(r.current_batch, 2);
    device_table t;
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_SUCCEEDED);
    assert_int_equal(t.state_of[1], RD_QUEUED); /* batch 1 still goes on */
    assert_int_equal(t.state_of[2], RD_QUEUED);
    for (int i = 1; i < 4; i++) {
        char dn[16];
        snprintf(dn, sizeof dn, "dev-%02d", i);
        pushed(id, dn, now + 101);
        service_rollout_firmware_progress(PK, dn, "default", 100, "");
        service_rollout_firmware_inform(PK, dn, "default", "1.0.1");
    }
    step(id, now + 102, &r);
    assert_string_equal(r.status, "completed");
    assert_int_equal(r.counts[RD_SUCCEEDED], 4);
    assert_true(r.ended_at > 0);
}

static void test_error_threshold_pauses_and_resume_accepts(void **state)
{
    (void)state;
    world(6);
    service_rollout_spec spec;
    char id[STORE_ID_SIZE];
    store_rollout r;
    service_result res;
    int64_t now = clock_now();
    service_rollout_defaults(&spec);
    spec.batches = "3,3";
    spec.error_percent = 30; /* 1 of 3 is 33%: pauses */
    create(&spec, id);
    for (int i = 0; i < 3; i++) {
        char dn[16];
        snprintf(dn, sizeof dn, "dev-%02d", i);
        pushed(id, dn, now);
    }
    service_rollout_firmware_inform(PK, "dev-00", "default", "1.0.1");
    service_rollout_firmware_progress(PK, "dev-01", "default", 40, "");
    service_rollout_firmware_progress(PK, "dev-02", "default", -3, "bad sign");
    device_table t;
    table(id, &t);
    assert_int_equal(t.state_of[1], RD_DOWNLOADING);
    assert_int_equal(t.state_of[2], RD_FAILED);
    step(id, now + 1, &r);
    assert_string_equal(r.status, "paused");
    assert_string_equal(r.pause_reason, "batch 1: 1 of 3 devices failed or timed out (more than the error threshold "
                                        "of 30%)");
    /* paused: no step moves it on, nothing is due */
    step(id, now + 2, &r);
    assert_string_equal(r.status, "paused");
    assert_fails(service_rollout_pause(id, &res), SERVICE_CONFLICT, "RolloutNotRunning");
    assert_int_equal(service_rollout_resume(id, &res), SERVICE_OK);
    assert_fails(service_rollout_resume(id, &res), SERVICE_CONFLICT, "RolloutNotPaused");
    service_rollout_firmware_inform(PK, "dev-01", "default", "1.0.1");
    step(id, now + 3, &r);
    assert_string_equal(r.status, "running");
    assert_int_equal(r.current_batch, 2); /* 2 succeeded + 1 accepted failure: 100% */
    assert_int_equal(r.accepted_errors, 0);
}

static void test_timeout_retry_and_rate(void **state)
{
    (void)state;
    world(3);
    service_rollout_spec spec;
    char id[STORE_ID_SIZE];
    store_rollout r;
    int64_t now = clock_now();
    service_rollout_defaults(&spec);
    spec.timeout_seconds = 10;
    spec.max_retries = 1;
    spec.retry_seconds = 5;
    spec.error_percent = 100;
    spec.rate_per_minute = 2;
    create(&spec, id);
    step(id, now, &r);
    assert_int_equal(service_rollout_budget(&r, now), 2);
    pushed(id, "dev-00", now);
    pushed(id, "dev-01", now);
    assert_int_equal(service_rollout_budget(&r, now), 0); /* 2 in the last minute */
    assert_int_equal(service_rollout_budget(&r, now + 61), 2);
    step(id, now + 9, &r);
    device_table t;
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_PUSHED);
    step(id, now + 10, &r);
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_TIMED_OUT);
    step(id, now + 14, &r);
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_TIMED_OUT); /* the retry is due at +15 */
    step(id, now + 15, &r);
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_QUEUED);
    pushed(id, "dev-00", now + 15);
    step(id, now + 25, &r); /* the second timeout: no retry left */
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_TIMED_OUT);
    step(id, now + 100, &r);
    table(id, &t);
    assert_int_equal(t.state_of[0], RD_TIMED_OUT);
    store_batch_counts c;
    assert_int_equal(store_rollout_batch_counts(&r, 1, &c), STORE_OK);
    assert_int_equal(c.errors, 1); /* dev-00, twice timed out */
    assert_int_equal(t.state_of[1], RD_QUEUED); /* dev-01 timed out once: its retry waits for a push */
    assert_int_equal(c.in_flight, 2);             /* dev-01, and dev-02 never pushed */
}

static void test_app_results_dynamic_and_cancel(void **state)
{
    (void)state;
    fx_task_world(); /* PK with DN_A, DN_B; app APP_A version 0.0.2 */
    assert_int_equal(store_report_app(PK, DN_A, APP_A, "0.0.1"), STORE_OK);
    service_rollout_spec spec;
    service_result res;
    char id[STORE_ID_SIZE];
    int devices = 0;
    int64_t now = clock_now();
    store_rollout r;
    service_rollout_defaults(&spec);
    spec.kind = "app";
    spec.product_key = PK;
    spec.app_id = APP_A;
    spec.version = "0.0.2";
    spec.target_type = "product";
    spec.src_versions = "0.0.1";
    spec.dynamic = true;
    spec.error_percent = 100;
    assert_int_equal(service_rollout_create(&spec, id, &devices, &res), SERVICE_OK);
    assert_int_equal(devices, 1); /* DN_B never reported 0.0.1 */
    assert_int_equal(service_rollout_dynamic(PK, DN_B), 0);
    assert_int_equal(store_report_app(PK, DN_B, APP_A, "0.0.1"), STORE_OK);
    assert_int_equal(service_rollout_dynamic(PK, DN_B), 1); /* now it matches: taken in */
    assert_int_equal(service_rollout_dynamic(PK, DN_B), 0); /* once */
    assert_int_equal(store_rollout_move(id, PK, DN_A, 1u << RD_QUEUED, RD_PUSHED, NULL, -1, NULL, now), STORE_OK);
    assert_int_equal(store_rollout_move(id, PK, DN_B, 1u << RD_QUEUED, RD_PUSHED, NULL, -1, NULL, now), STORE_OK);
    service_rollout_app_result(PK, DN_A, APP_A, "0.0.9", 200); /* another version: nothing */
    service_rollout_app_result(PK, DN_A, APP_A, "0.0.2", 405);
    service_rollout_app_result(PK, DN_B, APP_A, "0.0.2", 200);
    fx_rows rows = {0, sizeof(store_rollout_device), {{0}}};
    assert_int_equal(store_rollout_get(id, &r, collect_row, &rows), STORE_OK);
    assert_int_equal(rows.n, 2);
    const store_rollout_device *a = (const void *)rows.rows[0], *b = (const void *)rows.rows[1];
    assert_int_equal(a->state, RD_FAILED);
    assert_int_equal(a->code, 405);
    assert_string_equal(a->reason, "install failed (405)");
    assert_int_equal(b->state, RD_SUCCEEDED);
    step(id, now + 1, &r);
    assert_string_equal(r.status, "running"); /* dynamic: it waits for more */
    assert_int_equal(service_rollout_cancel(id, &res), SERVICE_OK);
    assert_fails(service_rollout_cancel(id, &res), SERVICE_CONFLICT, "RolloutEnded");
    assert_fails(service_rollout_resume(id, &res), SERVICE_CONFLICT, "RolloutEnded");
    assert_fails(service_rollout_cancel("nope", &res), SERVICE_NOT_FOUND, "RolloutNotFound");
}

static void test_refusals(void **state)
{
    (void)state;
    world(1);
    service_result res;
    char id[STORE_ID_SIZE];
    int devices = 0;
    static const char *const bad_batches[] = {"", "0", "1,", ",1", "1,,2", "101%", "x", "1%%", "-1",
                                              "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21"};
    for (size_t i = 0; i < sizeof bad_batches / sizeof bad_batches[0]; i++) {
        service_rollout_spec spec;
        service_rollout_defaults(&spec);
        spec.kind = "firmware", spec.firmware_id = "fw", spec.target_type = "product", spec.batches = bad_batches[i];
        if (service_rollout_create(&spec, id, &devices, &res) != SERVICE_INVALID)
            fail_msg("batches accepted: %s", bad_batches[i]);
    }
    service_rollout_spec spec;
    service_rollout_defaults(&spec);
    spec.kind = "firmware", spec.firmware_id = "nope", spec.target_type = "product";
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_NOT_FOUND, "FirmwareNotFound");
    spec.firmware_id = "fw", spec.target_type = "group", spec.group_id = "g9";
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_NOT_FOUND, "GroupNotFound");
    const char *names[] = {"dev-99"};
    spec.target_type = "devices", spec.devices = names, spec.device_count = 1;
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_NOT_FOUND, "DeviceNotFound");
    spec.dynamic = true; /* named devices are never dynamic */
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_INVALID, "InvalidRollout");
    service_rollout_defaults(&spec);
    spec.kind = "app", spec.product_key = PK, spec.app_id = APP_A, spec.version = "0.0.9";
    spec.target_type = "product";
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_NOT_FOUND, "VersionNotFound");
    spec.product_key = "a1NoProduct";
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_NOT_FOUND, "ProductNotFound");
    service_rollout_defaults(&spec);
    spec.kind = "firmware", spec.firmware_id = "fw", spec.target_type = "product", spec.rollout_id = "fixed";
    assert_int_equal(service_rollout_create(&spec, id, &devices, &res), SERVICE_OK);
    assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_EXISTS, "RolloutExists");
    int numbers[][2] = {{0, 0}, {101, 0}, {100, -1}, {100, 101}};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        service_rollout_defaults(&spec);
        spec.kind = "firmware", spec.firmware_id = "fw", spec.target_type = "product";
        spec.success_percent = numbers[i][0], spec.error_percent = numbers[i][1];
        assert_fails(service_rollout_create(&spec, id, &devices, &res), SERVICE_INVALID, "InvalidRollout");
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_open, fixture_close)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_batches_by_count_and_percent), T(test_schedule_success_threshold_and_completion),
        T(test_error_threshold_pauses_and_resume_accepts), T(test_timeout_retry_and_rate),
        T(test_app_results_dynamic_and_cancel), T(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
