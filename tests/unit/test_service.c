/*
 * test_service.c - unit tests of the service layer (service_*.c): each
 * rule and each error a service answers with, on a fresh in-memory
 * database (store_fixture.h) and, for versions, real .tar.gz packages in a
 * temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "identifiers.h"
#include "service_apps.h"
#include "service_devices.h"
#include "service_groups.h"
#include "service_tasks.h"
#include "service_versions.h"
#include "store_fixture.h"
#include "store_push.h"
#include "store_reports.h"

#define PK PK_A
#define DN DN_A
#define DN2 DN_B
#define APP APP_A
#define APP2 "8800100099990001"
#define SECRET "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"
#define FILE_002 "python9000-" APP "-0.0.2.tar.gz"

static char tmp_dir[64]; /* packages are received here ... */
static char pkg_dir[80]; /* ... and stored here */

/* Asserts a call ended with status and code. */
#define assert_fails(call, st, c)                    \
    do {                                             \
        assert_int_equal((call), (st));              \
        assert_int_equal(res.status, (st));          \
        assert_string_equal(res.code, (c));          \
    } while (0)

/* ---- shared helpers ---- */

static int fail_make(char *id, size_t len)
{
    (void)id, (void)len;
    return -1;
}

static int fixed_make(char *id, size_t len)
{
    snprintf(id, len, "same");
    return 0;
}

static store_status count_inserts(const char *id, void *ctx)
{
    (void)id;
    return ++*(int *)ctx < 3 ? STORE_EXISTS : STORE_OK;
}

static store_status always_taken(const char *id, void *ctx)
{
    (void)id, (void)ctx;
    return STORE_EXISTS;
}

static void test_results_and_ids(void **state)
{
    (void)state;
    service_result res;
    assert_int_equal(service_fail(&res, SERVICE_INVALID, "Bad", "x=%d", 3), SERVICE_INVALID);
    assert_string_equal(res.message, "x=3");
    assert_int_equal(service_storage_error(&res, "store it"), SERVICE_ERROR);
    assert_string_equal(res.code, "StorageError");
    assert_string_equal(res.message, "cannot store it");
    assert_int_equal(service_ok(&res), SERVICE_OK);
    assert_null(res.code);
    char id[8];
    int tries = 0;
    assert_int_equal(service_insert_id(id, sizeof id, NULL, fixed_make, count_inserts, &tries), STORE_OK);
    assert_int_equal(tries, 3); /* generated ids are tried until one is free */
    assert_int_equal(service_insert_id(id, sizeof id, "given", fixed_make, always_taken, NULL), STORE_EXISTS);
    assert_string_equal(id, "given");
    assert_int_equal(service_insert_id(id, sizeof id, NULL, fixed_make, always_taken, NULL), STORE_ERROR);
    assert_int_equal(service_insert_id(id, sizeof id, NULL, fail_make, always_taken, NULL), STORE_ERROR);
}

/* ---- products and devices ---- */

static void test_product_create(void **state)
{
    (void)state;
    store_product p;
    service_result res;
    assert_fails(service_product_create(NULL, NULL, &p, &res), SERVICE_INVALID, "InvalidName");
    assert_fails(service_product_create(service_not_text, NULL, &p, &res), SERVICE_INVALID, "InvalidName");
    assert_fails(service_product_create("a\tb", NULL, &p, &res), SERVICE_INVALID, "InvalidName");
    assert_fails(service_product_create("ok", service_not_text, &p, &res), SERVICE_INVALID, "InvalidProductKey");
    assert_fails(service_product_create("ok", "short", &p, &res), SERVICE_INVALID, "InvalidProductKey");
    assert_int_equal(service_product_create("HaaS Core2", NULL, &p, &res), SERVICE_OK);
    assert_true(valid_product_key(p.product_key));
    assert_string_equal(p.name, "HaaS Core2");
    assert_int_equal(service_product_create("given", PK, &p, &res), SERVICE_OK);
    assert_string_equal(p.product_key, PK);
    assert_fails(service_product_create("again", PK, &p, &res), SERVICE_EXISTS, "ProductExists");
}

static void test_device_create(void **state)
{
    (void)state;
    store_device *d = malloc(sizeof *d);
    service_result res;
    assert_fails(service_device_create(PK, DN, NULL, d, &res), SERVICE_NOT_FOUND, "ProductNotFound");
    fx_product(PK);
    assert_fails(service_device_create(PK, "abc", NULL, d, &res), SERVICE_INVALID, "InvalidDeviceName");
    assert_fails(service_device_create(PK, service_not_text, NULL, d, &res), SERVICE_INVALID, "InvalidDeviceName");
    assert_fails(service_device_create(PK, DN, "short", d, &res), SERVICE_INVALID, "InvalidDeviceSecret");
    assert_fails(service_device_create(PK, DN, service_not_text, d, &res), SERVICE_INVALID, "InvalidDeviceSecret");
    assert_int_equal(service_device_create(PK, DN, SECRET, d, &res), SERVICE_OK);
    assert_string_equal(d->device_secret, SECRET);
    assert_string_equal(d->status, "inactive");
    assert_int_equal(service_device_create(PK, DN2, NULL, d, &res), SERVICE_OK);
    assert_true(valid_device_secret(d->device_secret)); /* generated */
    assert_fails(service_device_create(PK, DN, NULL, d, &res), SERVICE_EXISTS, "DeviceExists");
    assert_string_equal(res.message, "device " DN " already exists in product " PK);
    free(d);
}

/* The names of the devices a batch added. */
typedef struct {
    int n;
    char names[8][STORE_DN_SIZE];
} batch_seen;

static void note_device(const store_device *d, void *ctx)
{
    batch_seen *b = ctx;
    if (b->n < 8)
        snprintf(b->names[b->n], sizeof b->names[0], "%s", d->device_name);
    b->n++;
}

static void test_device_batch_rules(void **state)
{
    (void)state;
    batch_seen seen = {0};
    service_result res;
    assert_fails(service_device_batch(PK, 1, NULL, note_device, &seen, &res), SERVICE_NOT_FOUND, "ProductNotFound");
    fx_product(PK);
    assert_fails(service_device_batch(PK, 0, NULL, note_device, &seen, &res), SERVICE_INVALID, "InvalidCount");
    assert_fails(service_device_batch(PK, SERVICE_MAX_BATCH + 1, NULL, note_device, &seen, &res), SERVICE_INVALID,
                 "InvalidCount");
    assert_fails(service_device_batch(PK, 1, "bad prefix", note_device, &seen, &res), SERVICE_INVALID,
                 "InvalidPrefix");
    assert_fails(service_device_batch(PK, 1, "abcdefghijklmnopqrstuvwxyz0", note_device, &seen, &res),
                 SERVICE_INVALID, "InvalidPrefix");
    assert_fails(service_device_batch(PK, 1, service_not_text, note_device, &seen, &res), SERVICE_INVALID,
                 "InvalidPrefix");
    assert_int_equal(seen.n, 0);
}

static void test_device_batch_names(void **state)
{
    (void)state;
    batch_seen seen = {0};
    service_result res;
    fx_product(PK);
    fx_device(PK, "core2-0002");
    assert_int_equal(service_device_batch(PK, 3, "core2-", note_device, &seen, &res), SERVICE_OK);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.names[0], "core2-0001");
    assert_string_equal(seen.names[1], "core2-0003"); /* taken names are skipped */
    assert_string_equal(seen.names[2], "core2-0004");
    seen.n = 0;
    assert_int_equal(service_device_batch(PK, 2, "", note_device, &seen, &res), SERVICE_OK);
    assert_int_equal(strlen(seen.names[0]), 20); /* random, as the real cloud makes them */
    assert_true(valid_device_name(seen.names[1]));
}

static void test_device_batch_exhausted(void **state)
{
    (void)state;
    batch_seen seen = {0};
    service_result res;
    fx_product(PK);
    /* Every name the batch may try is taken: nothing is added. (Made in
     * one statement: a hundred thousand store calls take seconds under the
     * sanitizers.) */
    char sql[300];
    snprintf(sql, sizeof sql, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld) "
             "INSERT INTO devices(product_key, device_name, device_secret, created_at) "
             "SELECT '" PK "', printf('p%%04d', i), '" SECRET "', 1 FROM n", 10L * SERVICE_MAX_BATCH);
    assert_int_equal(db_exec(db_lock(), sql), 0);
    db_unlock();
    assert_fails(service_device_batch(PK, 1, "p", note_device, &seen, &res), SERVICE_CONFLICT,
                 "DeviceNamesExhausted");
    assert_int_equal(store_device_exists(PK, "p100001"), STORE_NOT_FOUND);
}

/* ---- groups ---- */

static void test_group_create(void **state)
{
    (void)state;
    store_group g;
    service_result res;
    assert_fails(service_group_create(NULL, NULL, &g, &res), SERVICE_INVALID, "InvalidName");
    assert_fails(service_group_create("ok", "bad id", &g, &res), SERVICE_INVALID, "InvalidGroupId");
    assert_fails(service_group_create("ok", service_not_text, &g, &res), SERVICE_INVALID, "InvalidGroupId");
    assert_int_equal(service_group_create("测试分组", NULL, &g, &res), SERVICE_OK);
    assert_int_equal(strlen(g.group_id), 16);
    assert_memory_equal(g.group_id, "grp-", 4);
    assert_int_equal(service_group_create("fixed", "grp-ci", &g, &res), SERVICE_OK);
    assert_fails(service_group_create("fixed", "grp-ci", &g, &res), SERVICE_EXISTS, "GroupExists");
}

static void test_group_add(void **state)
{
    (void)state;
    service_result res;
    int added;
    int64_t count;
    service_member good[] = {{PK, DN}, {PK, DN2}};
    service_member missing[] = {{PK, DN}, {PK, "device-9999"}};
    service_member unnamed[] = {{PK, DN}, {PK, NULL}};
    assert_fails(service_group_add("g1", good, 0, &added, &count, &res), SERVICE_INVALID, "InvalidDevices");
    assert_fails(service_group_add("g1", good, 2, &added, &count, &res), SERVICE_NOT_FOUND, "GroupNotFound");
    fx_product(PK);
    fx_device(PK, DN);
    fx_device(PK, DN2);
    fx_group("g1");
    assert_fails(service_group_add("g1", unnamed, 2, &added, &count, &res), SERVICE_INVALID, "InvalidDevices");
    assert_fails(service_group_add("g1", missing, 2, &added, &count, &res), SERVICE_NOT_FOUND, "DeviceNotFound");
    store_group g;
    assert_int_equal(store_group_get("g1", &g), STORE_OK);
    assert_int_equal(g.device_count, 0); /* all or nothing */
    assert_int_equal(service_group_add("g1", good, 1, &added, &count, &res), SERVICE_OK);
    assert_int_equal(service_group_add("g1", good, 2, &added, &count, &res), SERVICE_OK);
    assert_int_equal(added, 1); /* a member stays as it was */
    assert_int_equal(count, 2);
}

static void test_group_remove(void **state)
{
    (void)state;
    service_result res;
    assert_fails(service_group_remove("g1", PK, DN, &res), SERVICE_NOT_FOUND, "GroupNotFound");
    fx_product(PK);
    fx_device(PK, DN);
    fx_group("g1");
    assert_fails(service_group_remove("g1", PK, DN, &res), SERVICE_NOT_FOUND, "NotAMember");
    fx_member("g1", PK, DN);
    assert_int_equal(service_group_remove("g1", PK, DN, &res), SERVICE_OK);
}

/* ---- apps ---- */

static void test_app_create(void **state)
{
    (void)state;
    store_app a;
    service_result res;
    assert_fails(service_app_create("py_9000", APP, NULL, &a, &res), SERVICE_INVALID, "InvalidAppName");
    assert_fails(service_app_create("python9000", "8800200099990000", NULL, &a, &res), SERVICE_INVALID,
                 "InvalidAppId");
    assert_fails(service_app_create("python9000", APP, service_not_text, &a, &res), SERVICE_INVALID,
                 "InvalidDescription");
    assert_fails(service_app_create("python9000", APP, "a\001b", &a, &res), SERVICE_INVALID, "InvalidDescription");
    assert_int_equal(service_app_create("python9000", APP, NULL, &a, &res), SERVICE_OK);
    assert_string_equal(a.description, "");
    assert_fails(service_app_create("other", APP, "", &a, &res), SERVICE_EXISTS, "AppExists");
    assert_fails(service_app_create("python9000", APP2, "", &a, &res), SERVICE_EXISTS, "AppNameTaken");
}

static void test_app_get_delete(void **state)
{
    (void)state;
    store_app a;
    service_result res;
    assert_fails(service_app_get(APP, &a, &res), SERVICE_NOT_FOUND, "AppNotFound");
    assert_fails(service_app_delete(APP, &res), SERVICE_NOT_FOUND, "AppNotFound");
    fx_app(APP, "python9000");
    fx_version(APP, "0.0.1");
    assert_fails(service_app_delete(APP, &res), SERVICE_CONFLICT, "AppHasVersions");
    assert_non_null(strstr(res.message, "still has 1 version(s)"));
    assert_int_equal(store_version_delete(APP, "0.0.1"), STORE_OK);
    assert_int_equal(service_app_delete(APP, &res), SERVICE_OK);
    assert_fails(service_app_get(APP, &a, &res), SERVICE_NOT_FOUND, "AppNotFound");
}

/* ---- versions ---- */

/* A finished package file holding a .tar.gz with manifest.json for name,
 * app_id and version (none when name is NULL) and main.py. */
static package_file *package(const char *name, const char *app_id, const char *version)
{
    static char buf[64 * 1024];
    size_t used = 0;
    char manifest[200];
    snprintf(manifest, sizeof manifest, "{\"appName\":\"%s\",\"version\":\"%s\",\"appid\":\"%s\"}", name, version,
             app_id);
    struct archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_ustar(a);
    assert_int_equal(archive_write_open_memory(a, buf, sizeof buf, &used), ARCHIVE_OK);
    const char *names[] = {name ? "manifest.json" : "other.json", "main.py"};
    const char *texts[] = {manifest, "print('hi')\n"};
    for (int i = 0; i < 2; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(texts[i]));
        archive_write_header(a, e);
        archive_write_data(a, texts[i], strlen(texts[i]));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    package_file *f = package_file_open(tmp_dir);
    assert_non_null(f);
    assert_int_equal(package_file_write(f, buf, used), 0);
    assert_int_equal(package_file_finish(f), 0);
    return f;
}

/* Adds fname, made of a package for version, to APP. */
static service_status add(const char *fname, const char *version, store_version *v, service_result *res)
{
    const service_packages where = {pkg_dir, {1 << 20, 100, 100}};
    package_file *f = package("python9000", APP, version);
    service_status s = service_version_add(APP, fname, f, &where, v, res);
    package_file_free(f);
    return s;
}

static void test_version_add_refusals(void **state)
{
    (void)state;
    store_version v;
    service_result res;
    const service_packages where = {pkg_dir, {1 << 20, 100, 100}};
    assert_fails(add("python9000.tar.gz", "0.0.2", &v, &res), SERVICE_INVALID, "InvalidFileName");
    assert_fails(add("python9000-" APP "-0.2.tar.gz", "0.0.2", &v, &res), SERVICE_INVALID, "InvalidVersion");
    assert_fails(add(FILE_002, "0.0.2", &v, &res), SERVICE_NOT_FOUND, "AppNotFound");
    fx_app(APP, "python9000");
    assert_fails(add("other-" APP "-0.0.2.tar.gz", "0.0.2", &v, &res), SERVICE_INVALID, "FileNameMismatch");
    assert_fails(add(FILE_002, "0.0.3", &v, &res), SERVICE_INVALID, "ManifestMismatch");
    package_file *f = package(NULL, APP, "0.0.2");
    assert_fails(service_version_add(APP, FILE_002, f, &where, &v, &res), SERVICE_INVALID, "ManifestMissing");
    assert_int_equal(access(package_file_path(f), F_OK), 0); /* refused: the file stays where it was */
    package_file_free(f);
    fx_version(APP, "0.0.2");
    assert_fails(add("python9000-" APP "-0.0.02.tar.gz", "0.0.02", &v, &res), SERVICE_EXISTS, "VersionExists");
    assert_string_equal(res.message, "version 0.0.2 of app " APP " already exists");
}

static void test_version_add_stores(void **state)
{
    (void)state;
    store_version v, got;
    service_result res;
    char stored[200];
    fx_app(APP, "python9000");
    const service_packages where = {pkg_dir, {1 << 20, 100, 100}};
    package_file *f = package("python9000", APP, "0.0.2");
    char md5[STORE_MD5_SIZE], tmp_path[700];
    snprintf(md5, sizeof md5, "%s", package_file_md5(f));
    snprintf(tmp_path, sizeof tmp_path, "%s", package_file_path(f));
    assert_int_equal(service_version_add(APP, FILE_002, f, &where, &v, &res), SERVICE_OK);
    package_file_free(f); /* kept: moved into the package store */
    assert_string_equal(v.object_key, APP "/" FILE_002);
    assert_string_equal(v.md5, md5);
    assert_string_equal(v.status, "testing");
    snprintf(stored, sizeof stored, "%s/" APP "/" FILE_002, pkg_dir);
    assert_int_equal(access(stored, F_OK), 0);
    assert_int_equal(access(tmp_path, F_OK), -1);
    assert_int_equal(store_version_get(APP, "0.0.2", &got), STORE_OK);
    assert_int_equal(got.size, v.size);
}

static void test_version_get_deprecate(void **state)
{
    (void)state;
    store_version v;
    service_result res;
    assert_fails(service_version_get(APP, "0.0.1", &v, &res), SERVICE_NOT_FOUND, "AppNotFound");
    assert_fails(service_version_deprecate(APP, "0.0.1", &v, &res), SERVICE_NOT_FOUND, "AppNotFound");
    fx_app(APP, "python9000");
    assert_fails(service_version_get(APP, "0.0.1", &v, &res), SERVICE_NOT_FOUND, "VersionNotFound");
    assert_fails(service_version_deprecate(APP, "0.0.1", &v, &res), SERVICE_NOT_FOUND, "VersionNotFound");
    fx_version(APP, "0.0.1");
    assert_int_equal(service_version_get(APP, "0.0.1", &v, &res), SERVICE_OK);
    assert_string_equal(v.status, "testing");
    assert_int_equal(service_version_deprecate(APP, "0.0.1", &v, &res), SERVICE_OK);
    assert_string_equal(v.status, "deprecated");
}

static void test_version_delete(void **state)
{
    (void)state;
    store_version v;
    service_result res;
    char stored[200];
    fx_app(APP, "python9000");
    assert_fails(service_version_delete(APP, "0.0.2", pkg_dir, &res), SERVICE_NOT_FOUND, "VersionNotFound");
    assert_int_equal(add(FILE_002, "0.0.2", &v, &res), SERVICE_OK);
    assert_fails(service_version_delete(APP, "0.0.2", pkg_dir, &res), SERVICE_CONFLICT, "VersionNotDeprecated");
    assert_int_equal(service_version_deprecate(APP, "0.0.2", &v, &res), SERVICE_OK);
    assert_int_equal(service_version_delete(APP, "0.0.2", pkg_dir, &res), SERVICE_OK);
    snprintf(stored, sizeof stored, "%s/" APP "/" FILE_002, pkg_dir);
    assert_int_equal(access(stored, F_OK), -1); /* the file went with it */
    assert_fails(service_version_get(APP, "0.0.2", &v, &res), SERVICE_NOT_FOUND, "VersionNotFound");
}

/* ---- tasks ---- */

static void test_task_create(void **state)
{
    (void)state;
    char id[STORE_ID_SIZE];
    service_result res;
    assert_fails(service_task_create(NULL, "0.0.2", "g1", NULL, id, &res), SERVICE_INVALID, "InvalidTask");
    assert_fails(service_task_create(APP, service_not_text, "g1", NULL, id, &res), SERVICE_INVALID, "InvalidTask");
    assert_fails(service_task_create(APP, "0.0.2", "g1", "bad id", id, &res), SERVICE_INVALID, "InvalidTask");
    assert_fails(service_task_create(APP, "0.0.2", "g1", NULL, id, &res), SERVICE_NOT_FOUND, "AppNotFound");
    fx_task_world();
    assert_fails(service_task_create(APP, "0.0.9", "g1", NULL, id, &res), SERVICE_NOT_FOUND, "VersionNotFound");
    assert_fails(service_task_create(APP, "0.0.2", "g9", NULL, id, &res), SERVICE_NOT_FOUND, "GroupNotFound");
    assert_int_equal(service_task_create(APP, "0.0.2", "g1", NULL, id, &res), SERVICE_OK);
    assert_memory_equal(id, "task-", 5);
    assert_int_equal(service_task_create(APP, "0.0.2", "g1", "task-ci", id, &res), SERVICE_OK);
    assert_fails(service_task_create(APP, "0.0.2", "g1", "task-ci", id, &res), SERVICE_EXISTS, "TaskExists");
    assert_int_equal(store_version_deprecate(APP, "0.0.2"), STORE_OK);
    assert_fails(service_task_create(APP, "0.0.2", "g1", NULL, id, &res), SERVICE_CONFLICT, "VersionDeprecated");
}

/* What a push sent: the devices, and which one to fail. */
typedef struct {
    int n;
    char sent[4][STORE_DN_SIZE];
    const char *fail_dn;
} sends;

static int send_push(const store_version *pkg, const char *pk, const char *dn, const char *task_id, void *ctx)
{
    sends *s = ctx;
    (void)pk;
    assert_string_equal(pkg->version, "0.0.2");
    assert_string_equal(task_id, "t1");
    snprintf(s->sent[s->n++], STORE_DN_SIZE, "%s", dn);
    return s->fail_dn && !strcmp(dn, s->fail_dn) ? -1 : 0;
}

static void test_task_push(void **state)
{
    (void)state;
    service_result res;
    service_push_counts c;
    sends s = {.fail_dn = "device-0003"};
    assert_fails(service_task_push("t1", send_push, &s, &c, &res), SERVICE_NOT_FOUND, "TaskNotFound");
    fx_task_world();
    fx_device(PK, "device-0003");
    fx_device(PK, "device-0004");
    fx_member("g1", PK, "device-0003");
    fx_member("g1", PK, "device-0004");
    fx_task("t1", APP, "0.0.2", "g1");
    /* DN offline; DN2 online, unknown version; 0003 online with 0.0.1; 0004 online with 0.0.10 */
    assert_int_equal(store_report_online(PK, DN2, 1, NULL), STORE_OK);
    assert_int_equal(store_report_online(PK, "device-0003", 1, NULL), STORE_OK);
    assert_int_equal(store_report_online(PK, "device-0004", 1, NULL), STORE_OK);
    assert_int_equal(store_report_app(PK, "device-0003", APP, "0.0.1"), STORE_OK);
    assert_int_equal(store_report_app(PK, "device-0004", APP, "0.0.10"), STORE_OK);
    assert_int_equal(service_task_push("t1", send_push, &s, &c, &res), SERVICE_OK);
    assert_int_equal(c.offline, 1);
    assert_int_equal(c.pushed, 2);
    assert_int_equal(c.up_to_date, 1);
    assert_int_equal(c.failed_to_send, 1);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.sent[0], DN2);
    assert_string_equal(s.sent[1], "device-0003");
    store_task t;
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.push_count, 1);
    assert_int_equal(t.counts[TASK_OFFLINE], 1);
    assert_int_equal(t.counts[TASK_PUSHED], 2);
    assert_int_equal(t.counts[TASK_UP_TO_DATE], 1);
}

static void test_task_push_keeps_success(void **state)
{
    (void)state;
    sends s = {0};
    service_result res;
    service_push_counts c;
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_report_online(PK, DN, 1, NULL), STORE_OK);
    assert_int_equal(service_task_push("t1", send_push, &s, &c, &res), SERVICE_OK);
    char task[STORE_ID_SIZE];
    assert_int_equal(service_task_result(PK, DN, APP, "0.0.2", 200, task, &res), SERVICE_OK);
    s.n = 0;
    assert_int_equal(service_task_push("t1", send_push, &s, &c, &res), SERVICE_OK);
    assert_int_equal(c.up_to_date, 1); /* it runs 0.0.2 now */
    assert_int_equal(s.n, 0);
    store_task t;
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_SUCCEEDED], 1); /* and stays succeeded */
    assert_int_equal(t.push_count, 2);
}

/* Every device once, in order, whatever the chunks (service_task_push goes
 * through the group 200 members at a time). */
typedef struct {
    int n;
    char last[STORE_DN_SIZE];
    bool out_of_order;
} big_sends;

static int send_in_order(const store_version *pkg, const char *pk, const char *dn, const char *task_id, void *ctx)
{
    big_sends *s = ctx;
    (void)pkg, (void)pk, (void)task_id;
    if (strcmp(s->last, dn) >= 0)
        s->out_of_order = true;
    snprintf(s->last, sizeof s->last, "%s", dn);
    s->n++;
    return 0;
}

static void test_task_push_in_chunks(void **state)
{
    (void)state;
    enum { DEVICES = 1201 }; /* two full chunks and one of a single device */
    fx_task_world();
    for (int i = 0; i < DEVICES - 2; i++) {
        char dn[STORE_DN_SIZE];
        snprintf(dn, sizeof dn, "chunk-%05d", i);
        fx_device(PK, dn);
        fx_member("g1", PK, dn);
        assert_int_equal(store_report_online(PK, dn, 1, NULL), STORE_OK);
    }
    fx_task("t1", APP, "0.0.2", "g1");
    big_sends s = {0};
    service_push_counts c;
    service_result res;
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, DEVICES - 2);
    assert_false(s.out_of_order);
    assert_int_equal(c.pushed, DEVICES - 2);
    assert_int_equal(c.offline, 2); /* DN and DN2 never came online */
    store_task t;
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.push_count, 1); /* one push, however many chunks */
    assert_int_equal(t.counts[TASK_PUSHED], DEVICES - 2);
    assert_int_equal(t.counts[TASK_OFFLINE], 2);
    assert_int_equal(t.counts[TASK_PENDING], 0);
    /* all offline now: whole chunks whose rows need no writing still move
     * the walk on, and every member is counted */
    assert_int_equal(store_report_all_offline(NULL), STORE_OK);
    s = (big_sends){0};
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(c.offline, DEVICES);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_OFFLINE], DEVICES);
    assert_int_equal(t.counts[TASK_PUSHED], 0);
    assert_int_equal(t.push_count, 2);
    /* and once more: nothing to write, still all offline */
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(c.offline, DEVICES);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_OFFLINE], DEVICES);
    assert_int_equal(t.push_count, 3);
}

static void read_state(sqlite3_stmt *st, void *out) { *(store_task_state *)out = store_task_state_named(db_text(st, 0)); }

/* The state of dn in task t1 (pending without a row). */
static store_task_state state_in_t1(const char *dn)
{
    store_task_state st = TASK_PENDING;
    assert_true(db_one("SELECT state FROM task_devices WHERE task_id = 't1' AND product_key = ?1 AND device_name = ?2",
                       read_state, &st, "ss", PK, dn) != STORE_ERROR);
    return st;
}

static void read_time(sqlite3_stmt *st, void *out) { *(int64_t *)out = sqlite3_column_int64(st, 0); }

/* The time of dn's row in task t1 (0 without a row). */
static int64_t time_in_t1(const char *dn)
{
    int64_t at = 0;
    assert_true(db_one("SELECT updated_at FROM task_devices WHERE task_id = 't1' AND product_key = ?1 "
                       "AND device_name = ?2", read_time, &at, "ss", PK, dn) != STORE_ERROR);
    return at;
}

/* A push again leaves the rows that keep their state as they are, their
 * time included; a device still 'pushed' times out that long after the
 * task's last push all the same, and one that moves gets a new time. */
static void test_task_push_again_keeps_times(void **state)
{
    (void)state;
    enum { TIMEOUT = 60 };
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_report_online(PK, DN, 1, NULL), STORE_OK);
    assert_int_equal(store_report_online(PK, DN2, 1, NULL), STORE_OK);
    big_sends s = {0};
    service_push_counts c;
    service_result res;
    int n;
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(c.pushed, 2);
    /* DN's push long ago, DN2 timed out */
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, NULL, 5), STORE_OK);
    assert_int_equal(store_push_set("t1", PK, DN2, TASK_TIMED_OUT, false, 0, NULL, 5), STORE_OK);
    int64_t before = clock_now();
    s = (big_sends){0};
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 2); /* both get the push */
    assert_int_equal(state_in_t1(DN), TASK_PUSHED);
    assert_int_equal(time_in_t1(DN), 5); /* kept */
    assert_int_equal(state_in_t1(DN2), TASK_PUSHED);
    assert_true(time_in_t1(DN2) >= before); /* moved on: a new time */
    store_task t;
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_true(t.pushed_at >= before);
    assert_int_equal(t.counts[TASK_PUSHED], 2);
    /* not timed out until TIMEOUT after the task's last push */
    assert_int_equal(service_task_timeouts(t.pushed_at + TIMEOUT - 1, TIMEOUT, &n, &res, NULL, NULL), SERVICE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(state_in_t1(DN), TASK_PUSHED);
    assert_int_equal(service_task_timeouts(t.pushed_at + TIMEOUT, TIMEOUT, &n, &res, NULL, NULL), SERVICE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(state_in_t1(DN), TASK_TIMED_OUT);
}

/* A big group, mostly offline: the push walks the online members first,
 * then the rest (or, once every member has a row, only the rows that are
 * not 'offline'), and ends where one walk of the group would. */
static void test_task_push_online_first(void **state)
{
    (void)state;
    enum { WALKED = 500 }; /* and DN, DN2 of the fixture, offline */
    fx_task_world();
    for (int i = 0; i < WALKED; i++) {
        char dn[STORE_DN_SIZE];
        snprintf(dn, sizeof dn, "walk-%04d", i);
        fx_device(PK, dn);
        fx_member("g1", PK, dn);
        if (i % 10 == 0)
            assert_int_equal(store_report_online(PK, dn, 1, NULL), STORE_OK);
    }
    fx_task("t1", APP, "0.0.2", "g1");
    big_sends s = {0};
    service_push_counts c;
    service_result res;
    store_task t;
    /* 1. no rows yet: one walk of the group */
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 50);
    assert_false(s.out_of_order);
    assert_int_equal(c.pushed, 50);
    assert_int_equal(c.offline, WALKED + 2 - 50);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], 50);
    assert_int_equal(t.counts[TASK_OFFLINE], WALKED + 2 - 50);
    assert_int_equal(t.counts[TASK_PENDING], 0);
    /* 2. walk-0000 (pushed) goes offline, walk-0001 (offline) comes
     * online: the moved rows' walk records the first offline, the online
     * walk pushes the second, the other 49 are pushed again */
    assert_int_equal(store_report_offline(PK, "walk-0000"), STORE_OK);
    assert_int_equal(store_report_online(PK, "walk-0001", 1, NULL), STORE_OK);
    s = (big_sends){0};
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 50);
    assert_false(s.out_of_order);
    assert_int_equal(c.pushed, 50);
    assert_int_equal(c.offline, WALKED + 2 - 50);
    assert_int_equal(state_in_t1("walk-0000"), TASK_OFFLINE);
    assert_int_equal(state_in_t1("walk-0001"), TASK_PUSHED);
    assert_int_equal(state_in_t1("walk-0010"), TASK_PUSHED);
    assert_int_equal(state_in_t1("walk-0002"), TASK_OFFLINE);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], 50);
    assert_int_equal(t.counts[TASK_OFFLINE], WALKED + 2 - 50);
    /* 3. walk-0010 succeeded, then went offline: recorded offline, as one
     * walk of the group did */
    char task[STORE_ID_SIZE];
    assert_int_equal(service_task_result(PK, "walk-0010", APP, "0.0.2", 200, task, &res), SERVICE_OK);
    assert_int_equal(store_report_offline(PK, "walk-0010"), STORE_OK);
    s = (big_sends){0};
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 49);
    assert_int_equal(c.offline, WALKED + 2 - 49);
    assert_int_equal(state_in_t1("walk-0010"), TASK_OFFLINE);
    /* 4. a new member, offline, without a row: the whole group is walked
     * once again, and it is recorded offline */
    fx_device(PK, "walk-new");
    fx_member("g1", PK, "walk-new");
    s = (big_sends){0};
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 49);
    assert_int_equal(c.offline, WALKED + 3 - 49);
    assert_int_equal(state_in_t1("walk-new"), TASK_OFFLINE);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PENDING], 0);
    assert_int_equal(t.counts[TASK_OFFLINE], WALKED + 3 - 49);
    assert_int_equal(t.push_count, 4);
    /* 5. walk-0020 (pushed) goes offline and leaves the group: the moved
     * rows' walk comes to its row, finds no member, and leaves the row */
    assert_int_equal(store_report_offline(PK, "walk-0020"), STORE_OK);
    assert_int_equal(store_group_remove_member("g1", PK, "walk-0020"), STORE_OK);
    s = (big_sends){0};
    assert_int_equal(service_task_push("t1", send_in_order, &s, &c, &res), SERVICE_OK);
    assert_int_equal(s.n, 48);
    assert_false(s.out_of_order);
    assert_int_equal(c.offline, WALKED + 2 - 48);
    assert_int_equal(state_in_t1("walk-0020"), TASK_PUSHED);
    assert_int_equal(state_in_t1("walk-0030"), TASK_PUSHED);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_OFFLINE], WALKED + 2 - 48);
    assert_int_equal(t.counts[TASK_PUSHED], 48);
}

static void test_task_due_and_pushed(void **state)
{
    (void)state;
    service_result res;
    char task[STORE_ID_SIZE];
    store_version pkg;
    store_task t;
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_fails(service_task_due(PK, DN, APP, "x.y", task, &pkg, &res), SERVICE_NOT_FOUND, "NothingDue");
    assert_fails(service_task_due(PK, DN, APP, "0.0.1", task, &pkg, &res), SERVICE_NOT_FOUND, "NothingDue");
    assert_int_equal(store_push_done("t1"), STORE_OK); /* pushed once */
    assert_int_equal(service_task_due(PK, DN, APP, "0.0.1", task, &pkg, &res), SERVICE_OK);
    assert_string_equal(task, "t1");
    assert_string_equal(pkg.version, "0.0.2");
    assert_fails(service_task_due(PK, DN, APP, "0.0.2", task, &pkg, &res), SERVICE_NOT_FOUND, "NothingDue");
    assert_int_equal(service_task_pushed("t1", PK, DN, "trace-1", &res), SERVICE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], 1);
    assert_fails(service_task_pushed("t9", PK, DN, "trace-1", &res), SERVICE_ERROR, "StorageError");
}

/* A device that reports the pushed version has its answer, result or not. */
static void test_task_reached(void **state)
{
    (void)state;
    service_result res;
    char task[STORE_ID_SIZE];
    int n = 0;
    store_task t;
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(service_task_reached(PK, DN, APP, "0.0.1", &n, task, &res), SERVICE_OK);
    assert_int_equal(n, 0); /* still on the old version: still waiting */
    assert_int_equal(service_task_reached(PK, DN, APP, "0.0.2", &n, task, &res), SERVICE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(task, "t1");
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_SUCCEEDED], 1);
    assert_int_equal(t.counts[TASK_PUSHED], 0);
    /* the late result, if it ever comes, changes nothing, its time included */
    assert_int_equal(store_push_set("t1", PK, DN, TASK_SUCCEEDED, true, 200, NULL, 5), STORE_OK);
    assert_int_equal(service_task_result(PK, DN, APP, "0.0.2", 200, task, &res), SERVICE_OK);
    assert_string_equal(task, "t1");
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_SUCCEEDED], 1);
    assert_int_equal(time_in_t1(DN), 5);
    /* another code moves it: a new time */
    assert_int_equal(service_task_result(PK, DN, APP, "0.0.2", 201, task, &res), SERVICE_OK);
    assert_true(time_in_t1(DN) > 5);
}

static void test_task_result(void **state)
{
    (void)state;
    service_result res;
    char task[STORE_ID_SIZE];
    store_task t;
    store_device *d = malloc(sizeof *d);
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_fails(service_task_result(PK, DN, APP, "0.0.2", 404, task, &res), SERVICE_NOT_FOUND, "NoTaskPushedIt");
    assert_string_equal(task, "");
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(store_push_set("t1", PK, DN2, TASK_PUSHED, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(service_task_result(PK, DN, APP, "0.0.2", 405, task, &res), SERVICE_OK);
    assert_string_equal(task, "t1");
    assert_int_equal(service_task_result(PK, DN2, APP, "0.0.2", 200, task, &res), SERVICE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_FAILED], 1);
    assert_int_equal(t.counts[TASK_SUCCEEDED], 1);
    assert_int_equal(store_device_get(PK, DN2, d), STORE_OK);
    assert_int_equal(d->app_count, 1); /* a success: it runs that version now */
    assert_string_equal(d->apps[0].version, "0.0.2");
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_int_equal(d->app_count, 0);
    free(d);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_open, fixture_close)

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test-service-XXXXXX");
    if (!mkdtemp(tmp_dir))
        return 1;
    snprintf(pkg_dir, sizeof pkg_dir, "%s/packages", tmp_dir);
    mkdir(pkg_dir, 0755);
    const struct CMUnitTest tests[] = {
        T(test_results_and_ids),       T(test_product_create),      T(test_device_create),
        T(test_device_batch_rules),    T(test_device_batch_names),  T(test_device_batch_exhausted),
        T(test_group_create),          T(test_group_add),           T(test_group_remove),
        T(test_app_create),            T(test_app_get_delete),      T(test_version_add_refusals),
        T(test_version_add_stores),    T(test_version_get_deprecate), T(test_version_delete),
        T(test_task_create),           T(test_task_push),           T(test_task_push_keeps_success),
        T(test_task_push_in_chunks),
        T(test_task_push_online_first),
        T(test_task_push_again_keeps_times),
        T(test_task_due_and_pushed),   T(test_task_result), T(test_task_reached),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
