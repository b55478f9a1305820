/*
 * test_ota_service.c - unit tests of firmware OTA's rules and store
 * (service_firmwares.c, service_ota_jobs.c, store_firmwares.c,
 * store_ota_jobs.c) on a fresh in-memory database (store_fixture.h):
 * modules, firmware files, version lists, job targets and filters, and
 * every move of a device's state (pushed, downloading, failed with its
 * reason, succeeded, timedOut, canceled, superseded), with the job's end.
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

#include "db.h"
#include "service_firmwares.h"
#include "service_ota_jobs.h"
#include "store_device_ip.h"
#include "store_firmwares.h"
#include "store_fixture.h"
#include "store_groups.h"
#include "store_ota_jobs.h"
#include "store_reports.h"

#define PK PK_A
#define DN DN_A
#define DN2 DN_B

static char tmp_dir[64]; /* firmware is received here ... */
static char pkg_dir[80]; /* ... and stored here */

#define assert_fails(call, st, c)           \
    do {                                    \
        assert_int_equal((call), (st));     \
        assert_int_equal(res.status, (st)); \
        assert_string_equal(res.code, (c)); \
    } while (0)

/* store_row_fn: the row into the fx_rows ctx. */
static void collect_row(const void *row, void *ctx) { fx_collect(row, ctx); }

/* A finished temporary file holding text, as an upload leaves it. */
static package_file *file_of(const char *text)
{
    package_file *f = package_file_open(tmp_dir);
    assert_non_null(f);
    assert_int_equal(package_file_write(f, text, strlen(text)), 0);
    assert_int_equal(package_file_finish(f), 0);
    return f;
}

/* Adds firmware version of module (NULL default) with from-versions src; returns its id in id. */
static void add_firmware(const char *module, const char *version, const char *src, const char *method, char *id)
{
    service_firmware_spec spec = {PK, module, version, NULL, method, src, NULL};
    package_file *f = file_of(version);
    store_firmware out;
    service_result res;
    assert_int_equal(service_firmware_add(&spec, f, pkg_dir, &out, &res), SERVICE_OK);
    package_file_free(f);
    strcpy(id, out.firmware_id);
}

static store_ota_state state_of(const char *job, const char *dn)
{
    store_ota_job j;
    fx_rows rows = {0, sizeof(store_ota_job_device), {{0}}};
    assert_int_equal(store_ota_job_get(job, &j, collect_row, &rows), STORE_OK);
    for (int i = 0; i < rows.n; i++) {
        const store_ota_job_device *d = (const void *)rows.rows[i];
        if (!strcmp(d->device_name, dn))
            return d->state;
    }
    return OTA_STATES; /* not in the job */
}

static void job_get(const char *id, store_ota_job *j) { assert_int_equal(store_ota_job_get(id, j, NULL, NULL), STORE_OK); }

/* A job of firmware fw to the named devices (NULL: the whole product). */
static void make_job(const char *fw, const char *const *names, size_t n, char id[STORE_ID_SIZE], int *devices)
{
    service_job_spec spec = {fw, names ? "devices" : "product", names, n, NULL, NULL, 0, NULL};
    service_result res;
    assert_int_equal(service_ota_job_create(&spec, id, devices, &res), SERVICE_OK);
}

static void test_version_lists(void **state)
{
    (void)state;
    char out[STORE_SRC_VERSIONS_SIZE];
    assert_true(service_version_list("1.0.0, 1.0.1 ,V2_beta", out));
    assert_string_equal(out, "1.0.0,1.0.1,V2_beta");
    assert_true(service_version_list("", out));
    assert_string_equal(out, "");
    static const char *const bad[] = {"1.0,,2", "1.0,", ",1.0", "1.0,1.0", "a b", "1/0", " , "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (service_version_list(bad[i], out))
            fail_msg("accepted: %s", bad[i]);
    char many[STORE_SRC_VERSIONS_SIZE * 2] = "";
    for (int i = 0; strlen(many) < STORE_SRC_VERSIONS_SIZE + 10; i++)
        sprintf(many + strlen(many), "%s%d.0.0", i ? "," : "", i);
    assert_false(service_version_list(many, out)); /* never past the buffer */
}

static void test_modules(void **state)
{
    (void)state;
    fx_product(PK);
    store_ota_module m;
    service_result res;
    assert_int_equal(service_module_add(PK, "MCU", "co-cpu", NULL, &m, &res), SERVICE_OK);
    assert_string_equal(m.alias, "co-cpu");
    assert_fails(service_module_add(PK, "MCU", NULL, NULL, &m, &res), SERVICE_EXISTS, "ModuleExists");
    assert_fails(service_module_add(PK, "default", NULL, NULL, &m, &res), SERVICE_EXISTS, "ModuleExists");
    assert_fails(service_module_add(PK, "a b", NULL, NULL, &m, &res), SERVICE_INVALID, "InvalidModule");
    assert_fails(service_module_add(PK, service_not_text, NULL, NULL, &m, &res), SERVICE_INVALID, "InvalidModule");
    assert_fails(service_module_add(PK, "X", "\x01", NULL, &m, &res), SERVICE_INVALID, "InvalidModule");
    assert_fails(service_module_add("a1NoProduct", "X", NULL, NULL, &m, &res), SERVICE_NOT_FOUND, "ProductNotFound");
    assert_int_equal(service_module_get(PK, "default", &m, &res), SERVICE_OK);
    assert_int_equal(m.created_at, 1000); /* the product's */
    assert_fails(service_module_get(PK, "GPU", &m, &res), SERVICE_NOT_FOUND, "ModuleNotFound");
    char id[STORE_ID_SIZE];
    add_firmware("MCU", "1.0", NULL, NULL, id);
    assert_fails(service_module_delete(PK, "MCU", &res), SERVICE_CONFLICT, "ModuleInUse");
    assert_fails(service_module_delete(PK, "default", &res), SERVICE_CONFLICT, "ModuleDefault");
    assert_int_equal(service_firmware_delete(id, pkg_dir, &res), SERVICE_OK);
    assert_int_equal(service_module_delete(PK, "MCU", &res), SERVICE_OK);
    assert_fails(service_module_delete(PK, "MCU", &res), SERVICE_NOT_FOUND, "ModuleNotFound");
}

static void test_firmware_add(void **state)
{
    (void)state;
    fx_product(PK);
    service_result res;
    store_firmware out;
    char id[STORE_ID_SIZE], path[300];
    add_firmware(NULL, "1.0.0", "0.9, 0.9.1", "sha256", id);
    assert_int_equal(service_firmware_get(id, &out, &res), SERVICE_OK);
    assert_int_equal((int)strlen(out.firmware_id), 26);
    assert_string_equal(out.module_name, "default");
    assert_string_equal(out.sign_method, "SHA256");
    assert_string_equal(out.src_versions, "0.9,0.9.1");
    assert_string_equal(out.name, "1.0.0"); /* the version when no name is given */
    assert_string_equal(out.md5, "47cd76e43f74bbc2e1baaf194d07e1fa"); /* md5("1.0.0") */
    snprintf(path, sizeof path, "%s/%s", pkg_dir, out.object_key);
    assert_int_equal(access(path, R_OK), 0);
    const struct {
        service_firmware_spec spec;
        service_status status;
        const char *code;
    } refused[] = {
        {{PK, NULL, NULL, NULL, NULL, NULL, NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, NULL, "1 0", NULL, NULL, NULL, NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, NULL, "2.0", NULL, "crc", NULL, NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, NULL, "2.0", NULL, service_not_text, NULL, NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, "M/1", "2.0", NULL, NULL, NULL, NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, NULL, "2.0", "\x02", NULL, NULL, NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, NULL, "2.0", NULL, NULL, "1,1", NULL}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, NULL, "2.0", NULL, NULL, NULL, "a b"}, SERVICE_INVALID, "InvalidFirmware"},
        {{PK, "GPU", "2.0", NULL, NULL, NULL, NULL}, SERVICE_NOT_FOUND, "ModuleNotFound"},
        {{"a1NoProduct", NULL, "2.0", NULL, NULL, NULL, NULL}, SERVICE_NOT_FOUND, "ProductNotFound"},
        {{PK, NULL, "1.0.0", NULL, NULL, NULL, NULL}, SERVICE_EXISTS, "FirmwareExists"},
        {{PK, NULL, "2.0", NULL, NULL, NULL, id}, SERVICE_EXISTS, "FirmwareExists"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        package_file *f = file_of("bytes");
        assert_fails(service_firmware_add(&refused[i].spec, f, pkg_dir, &out, &res), refused[i].status,
                     refused[i].code);
        package_file_free(f); /* and the refused file is gone */
    }
    package_file *empty = file_of("");
    service_firmware_spec spec = {PK, NULL, "3.0", NULL, NULL, NULL, NULL};
    assert_fails(service_firmware_add(&spec, empty, pkg_dir, &out, &res), SERVICE_INVALID, "InvalidFirmware");
    package_file_free(empty);
    fx_rows rows = {0, sizeof(store_firmware), {{0}}};
    store_page page = {0, 10, collect_row, &rows, 0};
    assert_int_equal(store_firmware_list(PK, &page), STORE_OK);
    assert_int_equal(page.total, 1); /* only the first one */
    assert_int_equal(service_firmware_delete(id, pkg_dir, &res), SERVICE_OK);
    assert_int_equal(access(path, F_OK), -1);
    assert_fails(service_firmware_delete(id, pkg_dir, &res), SERVICE_NOT_FOUND, "FirmwareNotFound");
}

static void test_job_targets(void **state)
{
    (void)state;
    fx_task_world(); /* PK with DN and DN2 in group g1 */
    fx_device(PK, "device-0003");
    service_result res;
    char fw[STORE_ID_SIZE], id[STORE_ID_SIZE];
    int devices = 0;
    add_firmware(NULL, "2.0", "1.0", NULL, fw);
    assert_int_equal(store_device_module_report(PK, DN, "default", "1.0", 1000), STORE_OK);
    assert_int_equal(store_device_module_report(PK, DN2, "default", "2.0", 1000), STORE_OK);
    /* the product, by the firmware's from-versions: only DN runs 1.0 */
    make_job(fw, NULL, 0, id, &devices);
    assert_int_equal(devices, 1);
    assert_int_equal(state_of(id, DN), OTA_QUEUED);
    /* a group, from any version: DN2 is on the target already */
    service_job_spec group = {fw, "group", NULL, 0, "g1", "", 0, NULL};
    assert_int_equal(service_ota_job_create(&group, id, &devices, &res), SERVICE_OK);
    assert_int_equal(devices, 1);
    /* named devices are taken as named, even one that never reported */
    const char *names[] = {"device-0003"};
    make_job(fw, names, 1, id, &devices);
    assert_int_equal(devices, 1);
    struct {
        service_job_spec spec;
        service_status status;
        const char *code;
    } refused[] = {
        {{fw, "all", NULL, 0, NULL, NULL, 0, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{fw, "devices", NULL, 0, NULL, NULL, 0, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{fw, "group", NULL, 0, NULL, NULL, 0, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{fw, "product", NULL, 0, NULL, NULL, 1441, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{fw, "product", NULL, 0, NULL, NULL, -1, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{fw, "product", NULL, 0, NULL, "1,1", 0, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{fw, "product", NULL, 0, NULL, NULL, 0, "a/b"}, SERVICE_INVALID, "InvalidJob"},
        {{service_not_text, "product", NULL, 0, NULL, NULL, 0, NULL}, SERVICE_INVALID, "InvalidJob"},
        {{"nope", "product", NULL, 0, NULL, NULL, 0, NULL}, SERVICE_NOT_FOUND, "FirmwareNotFound"},
        {{fw, "group", NULL, 0, "g9", NULL, 0, NULL}, SERVICE_NOT_FOUND, "GroupNotFound"},
        {{fw, "product", NULL, 0, NULL, NULL, 0, id}, SERVICE_EXISTS, "JobExists"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_fails(service_ota_job_create(&refused[i].spec, id, &devices, &res), refused[i].status,
                     refused[i].code);
    const char *unknown[] = {"device-0009"}, *bad[] = {"a/b"};
    service_job_spec spec = {fw, "devices", unknown, 1, NULL, NULL, 0, NULL};
    assert_fails(service_ota_job_create(&spec, id, &devices, &res), SERVICE_NOT_FOUND, "DeviceNotFound");
    spec.devices = bad;
    assert_fails(service_ota_job_create(&spec, id, &devices, &res), SERVICE_INVALID, "InvalidJob");
}

static void test_progress_failure_and_success(void **state)
{
    (void)state;
    fx_task_world();
    service_result res;
    char fw[STORE_ID_SIZE], id[STORE_ID_SIZE], job_of[STORE_ID_SIZE];
    int devices = 0, n = 0;
    add_firmware(NULL, "2.0", NULL, NULL, fw);
    const char *names[] = {DN, DN2};
    make_job(fw, names, 2, id, &devices);
    assert_int_equal(devices, 2);
    /* progress before any push counts for nothing */
    assert_int_equal(service_ota_progress(PK, DN, "default", 10, "", job_of, &res), SERVICE_OK);
    assert_string_equal(job_of, "");
    assert_int_equal(store_ota_mark_pushed(id, PK, DN, 2000), STORE_OK);
    assert_int_equal(store_ota_mark_pushed(id, PK, DN2, 2000), STORE_OK);
    assert_int_equal(state_of(id, DN), OTA_PUSHED);
    assert_int_equal(service_ota_progress(PK, DN, "default", 40, "", job_of, &res), SERVICE_OK);
    assert_string_equal(job_of, id);
    assert_int_equal(state_of(id, DN), OTA_DOWNLOADING);
    assert_fails(service_ota_progress(PK, DN, "default", 101, "", job_of, &res), SERVICE_INVALID, "InvalidStep");
    assert_fails(service_ota_progress(PK, DN, "default", -5, "", job_of, &res), SERVICE_INVALID, "InvalidStep");
    assert_fails(service_ota_progress(PK, DN, "a b", 5, "", job_of, &res), SERVICE_INVALID, "InvalidStep");
    /* another module's progress is not this job's */
    assert_int_equal(service_ota_progress(PK, DN2, "MCU", -2, "", job_of, &res), SERVICE_OK);
    assert_string_equal(job_of, "");
    assert_int_equal(service_ota_progress(PK, DN2, "default", -3, "sha mismatch", job_of, &res), SERVICE_OK);
    assert_int_equal(state_of(id, DN2), OTA_FAILED);
    store_ota_job j;
    fx_rows rows = {0, sizeof(store_ota_job_device), {{0}}};
    assert_int_equal(store_ota_job_get(id, &j, collect_row, &rows), STORE_OK);
    const store_ota_job_device *failed = (const void *)rows.rows[1];
    assert_string_equal(failed->reason, "verify failed: sha mismatch");
    assert_int_equal(failed->code, -3);
    assert_string_equal(j.status, "inProgress"); /* DN is still downloading */
    /* an inform of another version changes nothing; the target is success */
    assert_int_equal(service_ota_inform(PK, DN, "default", "1.9", &n, &res), SERVICE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(service_ota_inform(PK, DN, "default", "2.0", &n, &res), SERVICE_OK);
    assert_int_equal(n, 1);
    job_get(id, &j);
    assert_string_equal(j.status, "completed");
    assert_int_equal(j.counts[OTA_SUCCEEDED], 1);
    assert_int_equal(j.counts[OTA_FAILED], 1);
    assert_true(j.ended_at > 0);
    assert_fails(service_ota_inform(PK, "device-0404", "default", "2.0", &n, &res), SERVICE_NOT_FOUND,
                 "DeviceNotFound");
    assert_fails(service_ota_inform(PK, DN, "default", "", &n, &res), SERVICE_INVALID, "InvalidVersion");
    for (int step = -4; step <= -1; step++)
        assert_non_null(service_ota_step_meaning(step));
    assert_null(service_ota_step_meaning(0));
    assert_null(service_ota_step_meaning(-5));
}

static void test_cancel_timeout_supersede(void **state)
{
    (void)state;
    fx_task_world();
    service_result res;
    char fw[STORE_ID_SIZE], fw2[STORE_ID_SIZE], first[STORE_ID_SIZE], second[STORE_ID_SIZE];
    int devices = 0, n = 0;
    add_firmware(NULL, "2.0", NULL, NULL, fw);
    add_firmware(NULL, "2.1", NULL, NULL, fw2);
    const char *names[] = {DN, DN2};
    service_job_spec spec = {fw, "devices", names, 2, NULL, NULL, 1, "job-first"};
    assert_int_equal(service_ota_job_create(&spec, first, &devices, &res), SERVICE_OK);
    assert_string_equal(first, "job-first");
    assert_int_equal(store_ota_mark_pushed(first, PK, DN, 1000), STORE_OK);
    /* a minute after the push, DN times out; DN2 (never pushed) waits on */
    assert_int_equal(service_ota_tick(1059, &n, &res), SERVICE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(service_ota_tick(1060, &n, &res), SERVICE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(state_of(first, DN), OTA_TIMED_OUT);
    assert_int_equal(state_of(first, DN2), OTA_QUEUED);
    /* a newer job of the module takes DN2 over; the first job ends */
    const char *dn2[] = {DN2};
    make_job(fw2, dn2, 1, second, &devices);
    assert_int_equal(state_of(first, DN2), OTA_CANCELED);
    store_ota_job j;
    job_get(first, &j);
    assert_string_equal(j.status, "completed");
    assert_fails(service_firmware_delete(fw2, pkg_dir, &res), SERVICE_CONFLICT, "FirmwareInUse");
    assert_int_equal(service_ota_job_cancel(second, &res), SERVICE_OK);
    assert_int_equal(state_of(second, DN2), OTA_CANCELED);
    assert_fails(service_ota_job_cancel(second, &res), SERVICE_CONFLICT, "JobEnded");
    assert_fails(service_ota_job_cancel("nope", &res), SERVICE_NOT_FOUND, "JobNotFound");
    assert_int_equal(store_ota_mark_pushed(second, PK, DN2, 1000), STORE_NOT_FOUND); /* nothing after a cancel */
    assert_int_equal(service_firmware_delete(fw2, pkg_dir, &res), SERVICE_OK);
    assert_int_equal(store_ota_job_get(second, &j, NULL, NULL), STORE_NOT_FOUND); /* its jobs went with it */
}

static void count_due(const void *row, void *ctx)
{
    (void)row;
    (*(int *)ctx)++;
}

/* The in-memory hint that no job is in progress (store_ota_refresh_active)
 * never hides a job made after it was taken. */
/* A download of firmware is owned by the job's device at the download's
 * address that the job moved last, when no task of an app package owns it
 * (store_download_owner; the task side is in test_store.c). */
static void test_download_owner_of_firmware(void **state)
{
    (void)state;
    fx_task_world();
    char fw[STORE_ID_SIZE], id[STORE_ID_SIZE], task[STORE_ID_SIZE], pk[STORE_PK_SIZE], dn[STORE_DN_SIZE];
    int devices = 0;
    add_firmware(NULL, "2.0", NULL, NULL, fw);
    store_firmware f;
    assert_int_equal(store_firmware_get(fw, &f), STORE_OK);
    const char *names[] = {DN, DN2};
    make_job(fw, names, 2, id, &devices);
    assert_int_equal(store_report_online(PK, DN, 5, "10.0.0.1"), STORE_OK);
    assert_int_equal(store_report_online(PK, DN2, 5, "10.0.0.2"), STORE_OK);
    assert_int_equal(store_ota_mark_pushed(id, PK, DN, 2000), STORE_OK);
    assert_int_equal(store_download_owner(f.object_key, "10.0.0.1", task, pk, dn), STORE_OK);
    assert_string_equal(task, id);
    assert_string_equal(pk, PK);
    assert_string_equal(dn, DN);
    assert_int_equal(store_download_owner(f.object_key, "10.0.0.2", task, pk, dn), STORE_OK);
    assert_string_equal(dn, DN2); /* in the job, though not pushed yet: a job's rows all count */
    assert_int_equal(store_download_owner(f.object_key, "10.0.0.3", task, pk, dn), STORE_OK);
    assert_string_equal(task, "");
    assert_string_equal(dn, "");
    assert_int_equal(store_download_owner("fw/none.bin", "10.0.0.1", task, pk, dn), STORE_OK);
    assert_string_equal(task, "");

    /* a fleet on one host (more devices at 127.0.0.1 than are looked up one by one) */
    char fleet[24][24], job2[STORE_ID_SIZE];
    const char *fleet_names[24];
    for (int i = 0; i < 24; i++) {
        snprintf(fleet[i], sizeof fleet[i], "fleet-%02d", i);
        fleet_names[i] = fleet[i];
        fx_device(PK, fleet[i]);
        assert_int_equal(store_report_online(PK, fleet[i], 5, "127.0.0.1"), STORE_OK);
    }
    make_job(fw, fleet_names, 24, job2, &devices);
    for (int i = 23; i >= 0; i--) /* fleet-00 moved last */
        assert_int_equal(store_ota_mark_pushed(job2, PK, fleet[i], 3000 + (23 - i)), STORE_OK);
    assert_int_equal(store_download_owner(f.object_key, "127.0.0.1", task, pk, dn), STORE_OK);
    assert_string_equal(task, job2);
    assert_string_equal(dn, "fleet-00");
}

static void test_no_job_hint(void **state)
{
    (void)state;
    fx_task_world();
    service_result res;
    char fw[STORE_ID_SIZE], id[STORE_ID_SIZE];
    int devices = 0, n = 0, due = 0;
    add_firmware(NULL, "2.0", NULL, NULL, fw);
    assert_int_equal(service_ota_tick(1000, &n, &res), SERVICE_OK); /* no job: the hint says none */
    assert_int_equal(store_ota_due_for(PK, DN, NULL, 1u << OTA_QUEUED, count_due, &due), STORE_OK);
    assert_int_equal(due, 0);
    const char *names[] = {DN};
    make_job(fw, names, 1, id, &devices);
    assert_int_equal(store_ota_due_for(PK, DN, NULL, 1u << OTA_QUEUED, count_due, &due), STORE_OK);
    assert_int_equal(due, 1);
    assert_int_equal(service_ota_tick(1001, &n, &res), SERVICE_OK); /* still in progress: the hint stays */
    due = 0;
    assert_int_equal(store_ota_due_for(PK, DN, NULL, 1u << OTA_QUEUED, count_due, &due), STORE_OK);
    assert_int_equal(due, 1);
    assert_int_equal(service_ota_inform(PK, DN, "default", "2.0", &n, &res), SERVICE_OK);
    assert_int_equal(n, 1); /* reached while the hint says jobs may be in progress */
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_open, fixture_close)

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test-ota-service-XXXXXX");
    if (!mkdtemp(tmp_dir))
        return 1;
    snprintf(pkg_dir, sizeof pkg_dir, "%s/packages", tmp_dir);
    mkdir(pkg_dir, 0755);
    const struct CMUnitTest tests[] = {
        T(test_version_lists),         T(test_modules),          T(test_firmware_add),
        T(test_job_targets),           T(test_progress_failure_and_success),
        T(test_cancel_timeout_supersede),   T(test_no_job_hint), T(test_download_owner_of_firmware),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
