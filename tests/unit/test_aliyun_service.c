/*
 * test_aliyun_service.c - unit tests of the rules and store the Alibaba
 * Cloud IoT API added (service_applies.c, store_applies.c,
 * service_ota_tasks.c, store_ota_tasks.c, service_ota_dynamic.c,
 * store_rollout_strategy.c) on a fresh in-memory database
 * (store_fixture.h): device batches and their ApplyId, a device registered
 * without a name, canceling a firmware job's devices by state, and a
 * dynamic firmware rollout's strategy ended and its devices canceled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service_applies.h"
#include "service_firmwares.h"
#include "service_ota_dynamic.h"
#include "service_ota_jobs.h"
#include "service_ota_tasks.h"
#include "service_rollouts.h"
#include "store_fixture.h"
#include "store_ota_jobs.h"

#define assert_fails(call, st, c)           \
    do {                                    \
        assert_int_equal((call), (st));     \
        assert_int_equal(res.status, (st)); \
        assert_string_equal(res.code, (c)); \
    } while (0)

static char tmp_dir[64];
static char pkg_dir[80];

static void collect_row(const void *row, void *ctx) { fx_collect(row, ctx); }

static bool random_name(const char *dn)
{
    return strlen(dn) == 20 && strspn(dn, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 20;
}

static void test_applies(void **state)
{
    (void)state;
    service_result res;
    int64_t id = 0, id2 = 0;
    store_apply a;
    fx_product(PK_A);
    assert_fails(service_apply_batch("a1NoProduct", 2, &id, &res), SERVICE_NOT_FOUND, "ProductNotFound");
    assert_fails(service_apply_batch(PK_A, 0, &id, &res), SERVICE_INVALID, "InvalidCount");
    assert_int_equal(service_apply_batch(PK_A, 3, &id, &res), SERVICE_OK);
    assert_int_equal(service_apply_batch(PK_A, 1, &id2, &res), SERVICE_OK);
    assert_int_equal(id, 1);
    assert_int_equal(id2, 2);
    assert_int_equal(service_apply_get(1, &a, &res), SERVICE_OK);
    assert_string_equal(a.product_key, PK_A);
    assert_fails(service_apply_get(99, &a, &res), SERVICE_NOT_FOUND, "ApplyNotFound");

    fx_rows rows = {0, sizeof(store_apply_device), {{0}}};
    store_page pg = {.offset = 0, .limit = 4, .each = collect_row, .ctx = &rows};
    assert_int_equal(store_apply_devices(1, &pg), STORE_OK);
    assert_int_equal(pg.total, 3);
    assert_int_equal(rows.n, 3);
    const store_apply_device *first = (const void *)rows.rows[0];
    assert_true(random_name(first->device_name));
    assert_int_equal(strlen(first->device_secret), 32);
    /* a device deleted leaves its batch */
    assert_int_equal(store_device_delete(PK_A, first->device_name), STORE_OK);
    pg.total = 0;
    rows.n = 0;
    assert_int_equal(store_apply_devices(1, &pg), STORE_OK);
    assert_int_equal(pg.total, 2);
    assert_int_equal(store_apply_insert("a1NoProduct", 1, &id), STORE_CONFLICT);
}

static void test_one_generated(void **state)
{
    (void)state;
    service_result res;
    store_device *d = malloc(sizeof *d);
    fx_product(PK_A);
    assert_int_equal(service_device_one_generated(PK_A, d, &res), SERVICE_OK);
    assert_true(random_name(d->device_name));
    assert_int_equal(store_device_exists(PK_A, d->device_name), STORE_OK);
    assert_fails(service_device_one_generated("a1NoProduct", d, &res), SERVICE_NOT_FOUND, "ProductNotFound");
    free(d);
}

/* A firmware of PK_A (from any version); its id into id. */
static void firmware(const char *version, char id[STORE_ID_SIZE])
{
    package_file *f = package_file_open(tmp_dir);
    assert_non_null(f);
    assert_int_equal(package_file_write(f, version, strlen(version)), 0);
    assert_int_equal(package_file_finish(f), 0);
    service_firmware_spec spec = {PK_A, NULL, version, NULL, NULL, NULL, NULL};
    store_firmware out;
    service_result res;
    assert_int_equal(service_firmware_add(&spec, f, pkg_dir, &out, &res), SERVICE_OK);
    package_file_free(f);
    strcpy(id, out.firmware_id);
}

static store_ota_state job_state(const char *job, const char *dn)
{
    store_ota_job j;
    fx_rows rows = {0, sizeof(store_ota_job_device), {{0}}};
    assert_int_equal(store_ota_job_get(job, &j, collect_row, &rows), STORE_OK);
    for (int i = 0; i < rows.n; i++) {
        const store_ota_job_device *d = (const void *)rows.rows[i];
        if (!strcmp(d->device_name, dn))
            return d->state;
    }
    return OTA_STATES;
}

static void test_cancel_job_devices_by_state(void **state)
{
    (void)state;
    service_result res;
    char fw[STORE_ID_SIZE], job[STORE_ID_SIZE];
    int devices = 0, n = -1;
    fx_task_world();
    firmware("2.0.0", fw);
    const char *names[] = {DN_A, DN_B};
    service_job_spec spec = {fw, "devices", names, 2, NULL, NULL, 0, NULL};
    assert_int_equal(service_ota_job_create(&spec, job, &devices, &res), SERVICE_OK);
    assert_int_equal(devices, 2);
    assert_int_equal(store_ota_mark_pushed(job, PK_A, DN_B, 10), STORE_OK);

    assert_fails(service_ota_cancel_states(job, 0, &n, &res), SERVICE_INVALID, "InvalidStates");
    assert_fails(service_ota_cancel_states(job, 1u << OTA_SUCCEEDED, &n, &res), SERVICE_INVALID, "InvalidStates");
    assert_fails(service_ota_cancel_states("nosuchjob", 1u << OTA_QUEUED, &n, &res), SERVICE_NOT_FOUND,
                 "JobNotFound");
    assert_int_equal(service_ota_cancel_states(job, 1u << OTA_QUEUED, &n, &res), SERVICE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(job_state(job, DN_A), OTA_CANCELED);
    assert_int_equal(job_state(job, DN_B), OTA_PUSHED);
    store_ota_job j;
    assert_int_equal(store_ota_job_get(job, &j, NULL, NULL), STORE_OK);
    assert_string_equal(j.status, "inProgress");
    assert_int_equal(service_ota_cancel_states(job, (1u << OTA_PUSHED) | (1u << OTA_DOWNLOADING), &n, &res),
                     SERVICE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_ota_job_get(job, &j, NULL, NULL), STORE_OK);
    assert_string_equal(j.status, "completed"); /* nobody waits any more */
    assert_fails(service_ota_cancel_states(job, 1u << OTA_QUEUED, &n, &res), SERVICE_CONFLICT, "JobEnded");
}

static void test_dynamic_rollout(void **state)
{
    (void)state;
    service_result res;
    char fw[STORE_ID_SIZE], id[STORE_ID_SIZE];
    int devices = 0, n = -1;
    fx_task_world();
    firmware("3.0.0", fw);
    service_rollout_spec spec;
    service_rollout_defaults(&spec);
    spec.kind = "firmware";
    spec.firmware_id = fw;
    spec.target_type = "product";
    spec.dynamic = true;
    assert_int_equal(service_rollout_create(&spec, id, &devices, &res), SERVICE_OK);
    assert_int_equal(devices, 2);

    assert_fails(service_rollout_cancel_states(id, 1u << RD_SUCCEEDED, &n, &res), SERVICE_INVALID, "InvalidStates");
    assert_fails(service_rollout_cancel_states("nosuch", 1u << RD_WAITING, &n, &res), SERVICE_NOT_FOUND,
                 "RolloutNotFound");
    assert_int_equal(service_rollout_end_dynamic(id, &res), SERVICE_OK);
    store_rollout r;
    assert_int_equal(store_rollout_get(id, &r, NULL, NULL), STORE_OK);
    assert_false(r.dynamic);
    assert_fails(service_rollout_end_dynamic(id, &res), SERVICE_CONFLICT, "NotDynamic");
    assert_fails(service_rollout_end_dynamic("nosuch", &res), SERVICE_NOT_FOUND, "RolloutNotFound");

    assert_int_equal(service_rollout_cancel_states(id, (1u << RD_WAITING) | (1u << RD_QUEUED), &n, &res), SERVICE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_rollout_get(id, &r, NULL, NULL), STORE_OK);
    assert_int_equal(r.counts[RD_CANCELED], 2);
    assert_int_equal(service_rollout_cancel(id, &res), SERVICE_OK);
    assert_fails(service_rollout_end_dynamic(id, &res), SERVICE_CONFLICT, "RolloutEnded");
    assert_fails(service_rollout_cancel_states(id, 1u << RD_WAITING, &n, &res), SERVICE_CONFLICT, "RolloutEnded");
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_open, fixture_close)

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test-aliyun-service-XXXXXX");
    if (!mkdtemp(tmp_dir))
        return 1;
    snprintf(pkg_dir, sizeof pkg_dir, "%s/packages", tmp_dir);
    mkdir(pkg_dir, 0755);
    const struct CMUnitTest tests[] = {
        T(test_applies),
        T(test_one_generated),
        T(test_cancel_job_devices_by_state),
        T(test_dynamic_rollout),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
