/*
 * test_store.c - unit tests of the store layer (store_*.c on db.c), one or
 * more per store function and per status it returns, on a fresh in-memory
 * database each (store_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "store_apps.h"
#include "store_device_ip.h"
#include "store_devices.h"
#include "store_fixture.h"
#include "store_groups.h"
#include "store_products.h"
#include "store_push.h"
#include "store_reports.h"
#include "store_settings.h"
#include "store_tasks.h"
#include "store_versions.h"

#define PK PK_A
#define PK2 "a1Product02"
#define DN DN_A
#define DN2 DN_B
#define APP APP_A
#define APP2 "8800100099990001"
#define SECRET "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"

/* The rows of the last page (page_of) and the page itself. */
static fx_rows seen;
static store_page page;

static void collect_row(const void *row, void *ctx) { fx_collect(row, ctx); }

/* A page from offset of at most limit rows of row_size bytes, into seen. */
static store_page *page_of(int offset, int limit, size_t row_size)
{
    seen.n = 0;
    seen.row_size = row_size;
    page = (store_page){offset, limit, collect_row, &seen, -1};
    return &page;
}

/* Row i of the last page, as a type. */
#define ROW(type, i) ((const type *)seen.rows[i])

/* Asserts a list call gave want_n rows of want_total. */
#define assert_page(call, want_n, want_total)       \
    do {                                            \
        assert_int_equal((call), STORE_OK);         \
        assert_int_equal(seen.n, (want_n));         \
        assert_int_equal(page.total, (want_total)); \
    } while (0)

/* ---- products ---- */

static void test_product_insert_get(void **state)
{
    (void)state;
    store_product p;
    assert_int_equal(store_product_get(PK, &p), STORE_NOT_FOUND);
    assert_int_equal(store_product_insert(PK, "HaaS Core2", 1234), STORE_OK);
    assert_int_equal(store_product_insert(PK, "other", 1235), STORE_EXISTS);
    assert_int_equal(store_product_get(PK, &p), STORE_OK);
    assert_string_equal(p.product_key, PK);
    assert_string_equal(p.name, "HaaS Core2"); /* the existing one is left as it is */
    assert_int_equal(p.created_at, 1234);
    assert_int_equal(p.device_count, 0);
    fx_device(PK, DN);
    assert_int_equal(store_product_get(PK, &p), STORE_OK);
    assert_int_equal(p.device_count, 1);
}

static void test_product_list_pages(void **state)
{
    (void)state;
    assert_page(store_product_list(page_of(0, 2, sizeof(store_product))), 0, 0);
    assert_int_equal(store_product_insert(PK2, "b", 2), STORE_OK);
    assert_int_equal(store_product_insert(PK, "a", 1), STORE_OK);
    assert_int_equal(store_product_insert("a1Product03", "c", 3), STORE_OK);
    assert_page(store_product_list(page_of(0, 2, sizeof(store_product))), 2, 3);
    assert_string_equal(ROW(store_product, 0)->product_key, PK); /* oldest first */
    assert_string_equal(ROW(store_product, 1)->product_key, PK2);
    assert_page(store_product_list(page_of(2, 2, sizeof(store_product))), 1, 3);
    assert_string_equal(ROW(store_product, 0)->product_key, "a1Product03");
}

static void test_product_delete_cascades(void **state)
{
    (void)state;
    assert_int_equal(store_product_delete(PK), STORE_NOT_FOUND);
    fx_product(PK);
    fx_device(PK, DN);
    assert_int_equal(store_product_delete(PK), STORE_OK);
    assert_int_equal(store_device_exists(PK, DN), STORE_NOT_FOUND);
}

/* ---- devices ---- */

static void test_device_insert_get_exists(void **state)
{
    (void)state;
    store_device *d = malloc(sizeof *d);
    assert_int_equal(store_device_insert(PK, DN, SECRET, 5), STORE_CONFLICT); /* no such product */
    fx_product(PK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_NOT_FOUND);
    assert_int_equal(store_device_exists(PK, DN), STORE_NOT_FOUND);
    assert_int_equal(store_device_insert(PK, DN, SECRET, 5), STORE_OK);
    assert_int_equal(store_device_exists(PK, DN), STORE_OK);
    assert_int_equal(store_device_exists(PK2, DN), STORE_NOT_FOUND);
    assert_int_equal(store_device_insert(PK, DN, "x", 6), STORE_EXISTS);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_string_equal(d->device_name, DN);
    assert_string_equal(d->device_secret, SECRET);
    assert_string_equal(d->status, "inactive");
    assert_int_equal(d->created_at, 5);
    assert_int_equal(d->last_online_at, 0);
    assert_false(d->has_ip);
    assert_false(d->has_firmware);
    assert_false(d->has_device_info);
    assert_false(d->has_refusal);
    assert_int_equal(d->app_count, 0);
    free(d);
}

static void test_device_lists(void **state)
{
    (void)state;
    fx_product(PK);
    fx_product(PK2);
    fx_device(PK, DN2);
    fx_device(PK, DN);
    fx_device(PK2, DN);
    assert_int_equal(store_report_online(PK, DN2, 99, "10.0.0.2"), STORE_OK);
    assert_page(store_device_list(PK, NULL, page_of(0, 3, sizeof(store_device))), 2, 2);
    assert_string_equal(ROW(store_device, 0)->device_name, DN); /* by name */
    assert_string_equal(ROW(store_device, 1)->device_name, DN2);
    assert_page(store_device_list(PK, "online", page_of(0, 3, sizeof(store_device))), 1, 1);
    assert_string_equal(ROW(store_device, 0)->ip, "10.0.0.2");
    assert_page(store_device_list(PK, NULL, page_of(1, 1, sizeof(store_device))), 1, 2);
    assert_string_equal(ROW(store_device, 0)->device_name, DN2);
    assert_page(store_device_list("a1NoProduct", NULL, page_of(0, 3, sizeof(store_device))), 0, 0);
    /* every product's (GET /api/v1/devices): by product key, then name */
    assert_page(store_device_list(NULL, NULL, page_of(0, 4, sizeof(store_device))), 3, 3);
    assert_string_equal(ROW(store_device, 0)->product_key, strcmp(PK, PK2) < 0 ? PK : PK2);
    assert_string_equal(ROW(store_device, 2)->product_key, strcmp(PK, PK2) < 0 ? PK2 : PK);
    assert_page(store_device_list(NULL, "online", page_of(0, 4, sizeof(store_device))), 1, 1);
    assert_string_equal(ROW(store_device, 0)->device_name, DN2);
    /* a group's devices */
    fx_group("g1");
    fx_member("g1", PK2, DN);
    fx_member("g1", PK, DN2);
    assert_page(store_device_list_group("g1", page_of(0, 3, sizeof(store_device))), 2, 2);
    assert_string_equal(ROW(store_device, 0)->product_key, PK); /* by product key, then name */
    assert_string_equal(ROW(store_device, 0)->device_name, DN2);
    assert_string_equal(ROW(store_device, 1)->product_key, PK2);
    assert_page(store_device_list_group("g2", page_of(0, 3, sizeof(store_device))), 0, 0);
    assert_page(store_device_list_group("g1", page_of(1, 3, sizeof(store_device))), 1, 2);
    assert_string_equal(ROW(store_device, 0)->product_key, PK2);
    /* pages of one status, past the first */
    assert_int_equal(store_report_online(PK2, DN, 100, "10.0.0.3"), STORE_OK);
    assert_page(store_device_list(NULL, "online", page_of(1, 4, sizeof(store_device))), 1, 2);
    assert_string_equal(ROW(store_device, 0)->product_key, strcmp(PK, PK2) < 0 ? PK2 : PK);
    assert_page(store_device_list(PK, "inactive", page_of(0, 4, sizeof(store_device))), 1, 1);
    assert_string_equal(ROW(store_device, 0)->device_name, DN);
    assert_page(store_device_list(PK, "inactive", page_of(1, 4, sizeof(store_device))), 0, 1);
}

static void test_device_delete(void **state)
{
    (void)state;
    fx_product(PK);
    assert_int_equal(store_device_delete(PK, DN), STORE_NOT_FOUND);
    fx_device(PK, DN);
    fx_group("g1");
    fx_member("g1", PK, DN);
    assert_int_equal(store_device_delete(PK, DN), STORE_OK);
    store_group g;
    assert_int_equal(store_group_get("g1", &g), STORE_OK);
    assert_int_equal(g.device_count, 0); /* its membership went with it */
}

/* ---- device reports ---- */

static void test_report_online_offline(void **state)
{
    (void)state;
    store_device *d = malloc(sizeof *d);
    assert_int_equal(store_report_online(PK, DN, 10, "1.2.3.4"), STORE_NOT_FOUND);
    assert_int_equal(store_report_offline(PK, DN), STORE_NOT_FOUND);
    fx_product(PK);
    fx_device(PK, DN);
    assert_int_equal(store_report_online(PK, DN, 10, "1.2.3.4"), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_string_equal(d->status, "online");
    assert_int_equal(d->last_online_at, 10);
    assert_true(d->has_ip);
    assert_string_equal(d->ip, "1.2.3.4");
    assert_int_equal(store_report_offline(PK, DN), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_string_equal(d->status, "offline");
    /* again from the same address (the address is not rewritten), then
     * from another, then from an unknown one */
    assert_int_equal(store_report_online(PK, DN, 11, "1.2.3.4"), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_string_equal(d->status, "online");
    assert_int_equal(d->last_online_at, 11);
    assert_string_equal(d->ip, "1.2.3.4");
    assert_int_equal(store_report_offline(PK, DN), STORE_OK);
    assert_int_equal(store_report_online(PK, DN, 12, "5.6.7.8"), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_string_equal(d->status, "online");
    assert_int_equal(d->last_online_at, 12);
    assert_string_equal(d->ip, "5.6.7.8");
    bool match = false;
    assert_int_equal(store_device_at_ip(PK, DN, "5.6.7.8", &match), STORE_OK); /* through devices_by_ip */
    assert_true(match);
    assert_int_equal(store_device_at_ip(PK, DN, "1.2.3.4", &match), STORE_OK);
    assert_false(match);
    assert_int_equal(store_report_online(PK, DN, 13, NULL), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_false(d->has_ip);
    assert_int_equal(d->last_online_at, 13);
    free(d);
}

static void test_report_all_offline(void **state)
{
    (void)state;
    int n = -1;
    assert_int_equal(store_report_all_offline(&n), STORE_OK);
    assert_int_equal(n, 0);
    fx_product(PK);
    fx_device(PK, DN);
    fx_device(PK, DN2);
    assert_int_equal(store_report_online(PK, DN, 10, NULL), STORE_OK);
    assert_int_equal(store_report_all_offline(&n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_report_all_offline(&n), STORE_OK);
    assert_int_equal(n, 0);
}

static void read_int64(sqlite3_stmt *st, void *out) { *(int64_t *)out = sqlite3_column_int64(st, 0); }

/* device_apps.updated_at of DN's row for app_id (0: none). */
static int64_t app_reported_at(const char *app_id)
{
    int64_t at = 0;
    assert_true(db_one("SELECT updated_at FROM device_apps WHERE product_key = ?1 AND device_name = ?2 AND app_id = ?3",
                       read_int64, &at, "sss", PK, DN, app_id) != STORE_ERROR);
    return at;
}

static void test_report_app(void **state)
{
    (void)state;
    store_device *d = malloc(sizeof *d);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.1"), STORE_NOT_FOUND); /* nothing stored */
    fx_product(PK);
    fx_device(PK, DN);
    assert_int_equal(store_report_app(PK, DN, APP2, "1.0.0"), STORE_OK);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.1"), STORE_OK);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.2"), STORE_OK); /* replaces */
    /* the version it has already: not written again, its time kept */
    assert_int_equal(db_write("UPDATE device_apps SET updated_at = 5 WHERE app_id = ?1", NULL, "s", APP), STORE_OK);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.2"), STORE_OK);
    assert_int_equal(app_reported_at(APP), 5);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.3"), STORE_OK);
    assert_true(app_reported_at(APP) > 5);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.2"), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_int_equal(d->app_count, 2);
    assert_string_equal(d->apps[0].app_id, APP); /* by appId */
    assert_string_equal(d->apps[0].version, "0.0.2");
    assert_string_equal(d->apps[1].app_id, APP2);
    assert_string_equal(d->apps[1].version, "1.0.0");
    free(d);
}

static void test_report_firmware_info_refusal(void **state)
{
    (void)state;
    store_device *d = malloc(sizeof *d);
    char big[STORE_DEVICE_INFO_MAX + 100];
    memset(big, 'x', sizeof big);
    assert_int_equal(store_report_firmware(PK, DN, "1.0"), STORE_NOT_FOUND);
    assert_int_equal(store_report_info(PK, DN, "{}", 2), STORE_NOT_FOUND);
    assert_int_equal(store_report_refusal(PK, DN, "{}", 2), STORE_NOT_FOUND);
    fx_product(PK);
    fx_device(PK, DN);
    assert_int_equal(store_report_firmware(PK, DN, "HaaS-1.0"), STORE_OK);
    assert_int_equal(store_report_firmware(PK, DN, "HaaS-1.0"), STORE_OK); /* the same again: nothing to write */
    assert_int_equal(store_report_info(PK, DN, "{\"a\":1}trailing", 7), STORE_OK); /* len bytes only */
    assert_int_equal(store_report_refusal(PK, DN, "{\"code\":\"WrongPassword\"}", 24), STORE_OK);
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_string_equal(d->firmware_version, "HaaS-1.0");
    assert_true(d->has_device_info);
    assert_string_equal(d->device_info, "{\"a\":1}");
    assert_true(d->device_info_at > 0);
    assert_true(d->has_refusal);
    assert_string_equal(d->last_refusal, "{\"code\":\"WrongPassword\"}");
    assert_int_equal(store_report_info(PK, DN, big, (int)sizeof big), STORE_OK); /* cut to the maximum */
    assert_int_equal(store_device_get(PK, DN, d), STORE_OK);
    assert_int_equal(strlen(d->device_info), STORE_DEVICE_INFO_MAX);
    free(d);
}

/* ---- groups ---- */

static void test_group_insert_get_list_delete(void **state)
{
    (void)state;
    store_group g;
    assert_int_equal(store_group_get("g1", &g), STORE_NOT_FOUND);
    assert_int_equal(store_group_insert("g2", "second", 2), STORE_OK);
    assert_int_equal(store_group_insert("g1", "first", 1), STORE_OK);
    assert_int_equal(store_group_insert("g1", "again", 3), STORE_EXISTS);
    assert_int_equal(store_group_get("g1", &g), STORE_OK);
    assert_string_equal(g.name, "first");
    assert_int_equal(g.created_at, 1);
    assert_page(store_group_list(page_of(0, 3, sizeof(store_group))), 2, 2);
    assert_string_equal(ROW(store_group, 0)->group_id, "g1");
    assert_int_equal(store_group_delete("g1"), STORE_OK);
    assert_int_equal(store_group_delete("g1"), STORE_NOT_FOUND);
}

static void test_group_members(void **state)
{
    (void)state;
    store_group g;
    fx_product(PK);
    fx_device(PK, DN);
    fx_group("g1");
    assert_int_equal(store_group_add_member("g1", PK, DN2, 1), STORE_CONFLICT); /* no such device */
    assert_int_equal(store_group_add_member("g9", PK, DN, 1), STORE_CONFLICT);  /* no such group */
    assert_int_equal(store_group_add_member("g1", PK, DN, 1), STORE_OK);
    assert_int_equal(store_group_add_member("g1", PK, DN, 2), STORE_EXISTS);
    assert_int_equal(store_group_get("g1", &g), STORE_OK);
    assert_int_equal(g.device_count, 1);
    assert_int_equal(store_group_remove_member("g1", PK, DN), STORE_OK);
    assert_int_equal(store_group_remove_member("g1", PK, DN), STORE_NOT_FOUND);
}

/* ---- apps ---- */

static void test_app_insert_get(void **state)
{
    (void)state;
    store_app a;
    assert_int_equal(store_app_get(APP, &a), STORE_NOT_FOUND);
    assert_int_equal(store_app_insert(APP, "python9000", "the app", 7), STORE_OK);
    assert_int_equal(store_app_insert(APP, "other", "", 8), STORE_EXISTS);
    assert_int_equal(store_app_insert(APP2, "python9000", "", 8), STORE_CONFLICT); /* the name is taken */
    assert_int_equal(store_app_get(APP2, &a), STORE_NOT_FOUND);
    assert_int_equal(store_app_get(APP, &a), STORE_OK);
    assert_string_equal(a.app_name, "python9000");
    assert_string_equal(a.description, "the app");
    assert_int_equal(a.version_count, 0);
    assert_false(a.has_latest);
    fx_version(APP, "0.0.9");
    fx_version(APP, "0.0.10");
    assert_int_equal(store_app_get(APP, &a), STORE_OK);
    assert_int_equal(a.version_count, 2);
    assert_true(a.has_latest);
    assert_string_equal(a.latest_version, "0.0.10"); /* numerically */
}

static void test_app_list_and_delete(void **state)
{
    (void)state;
    assert_int_equal(store_app_delete(APP), STORE_NOT_FOUND);
    fx_app(APP, "python9000");
    fx_app(APP2, "other");
    assert_page(store_app_list(page_of(1, 2, sizeof(store_app))), 1, 2);
    fx_version(APP, "0.0.1");
    assert_int_equal(store_app_delete(APP), STORE_CONFLICT); /* it has a version */
    assert_int_equal(store_app_delete(APP2), STORE_OK);
}

/* ---- versions ---- */

static void test_version_insert_get_find(void **state)
{
    (void)state;
    store_version v, got;
    fx_version_row(&v, APP, "1.2.3");
    assert_int_equal(store_version_insert(&v), STORE_CONFLICT); /* no such app */
    fx_app(APP, "python9000");
    assert_int_equal(store_version_get(APP, "1.2.3", &got), STORE_NOT_FOUND);
    assert_int_equal(store_version_insert(&v), STORE_OK);
    fx_version_row(&v, APP, "1.02.3");
    assert_int_equal(store_version_insert(&v), STORE_EXISTS); /* the same numbers */
    assert_int_equal(store_version_get(APP, "1.2.3", &got), STORE_OK);
    assert_string_equal(got.object_key, APP "/v1.2.3");
    assert_string_equal(got.md5, "m1.2.3");
    assert_string_equal(got.status, "testing");
    assert_int_equal(got.parts[1], 2);
    assert_int_equal(got.size, 100);
    long parts[3] = {1, 2, 3};
    assert_int_equal(store_version_find(APP, parts, &got), STORE_OK);
    assert_string_equal(got.version, "1.2.3");
    parts[2] = 4;
    assert_int_equal(store_version_find(APP, parts, &got), STORE_NOT_FOUND);
}

static void test_version_by_object(void **state)
{
    (void)state;
    store_version got;
    fx_app(APP, "python9000");
    assert_int_equal(store_version_by_object(APP "/v0.0.1", &got), STORE_NOT_FOUND);
    fx_version(APP, "0.0.1");
    assert_int_equal(store_version_by_object(APP "/v0.0.1", &got), STORE_OK);
    assert_string_equal(got.version, "0.0.1");
}

static void test_version_list_is_numeric(void **state)
{
    (void)state;
    fx_app(APP, "python9000");
    fx_version(APP, "0.0.9");
    fx_version(APP, "0.0.10");
    fx_version(APP, "0.1.0");
    assert_page(store_version_list(APP, page_of(0, 3, sizeof(store_version))), 3, 3);
    assert_string_equal(ROW(store_version, 0)->version, "0.1.0");
    assert_string_equal(ROW(store_version, 1)->version, "0.0.10");
    assert_string_equal(ROW(store_version, 2)->version, "0.0.9");
    assert_page(store_version_list(APP2, page_of(0, 3, sizeof(store_version))), 0, 0);
}

static void test_version_deprecate_delete(void **state)
{
    (void)state;
    store_version got;
    store_task t;
    assert_int_equal(store_version_deprecate(APP, "0.0.1"), STORE_NOT_FOUND);
    assert_int_equal(store_version_delete(APP, "0.0.1"), STORE_NOT_FOUND);
    fx_app(APP, "python9000");
    fx_version(APP, "0.0.1");
    fx_group("g1");
    fx_task("t1", APP, "0.0.1", "g1");
    assert_int_equal(store_version_deprecate(APP, "0.0.1"), STORE_OK);
    assert_int_equal(store_version_get(APP, "0.0.1", &got), STORE_OK);
    assert_string_equal(got.status, "deprecated");
    assert_int_equal(store_version_delete(APP, "0.0.1"), STORE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_NOT_FOUND); /* its tasks went with it */
}

/* ---- tasks ---- */

static int collect(const store_task_device *d, void *ctx) { return fx_collect(d, ctx); }

static void test_task_insert_get(void **state)
{
    (void)state;
    store_task t;
    fx_task_world();
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_task_insert("t1", APP, "0.0.9", "g1", -1, 5), STORE_CONFLICT); /* no such version */
    assert_int_equal(store_task_insert("t1", APP, "0.0.2", "g9", -1, 5), STORE_CONFLICT); /* no such group */
    assert_int_equal(store_task_insert("t1", APP, "0.0.2", "g1", -1, 5), STORE_OK);
    assert_int_equal(store_task_insert("t1", APP, "0.0.2", "g1", -1, 6), STORE_EXISTS);
    assert_int_equal(store_push_set("t1", PK, DN2, TASK_FAILED, true, 404, NULL, 9), STORE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_string_equal(t.app_name, "python9000");
    assert_string_equal(t.group_name, "group");
    assert_int_equal(t.created_at, 5);
    assert_int_equal(t.pushed_at, 0);
    assert_int_equal(t.counts[TASK_PENDING], 1);
    assert_int_equal(t.counts[TASK_FAILED], 1);
    static fx_rows walk = {.row_size = sizeof(store_task_device)};
    assert_int_equal(store_task_get("t1", &t, collect, &walk), STORE_OK);
    assert_int_equal(walk.n, 2);
    const store_task_device *first = (const void *)walk.rows[0], *second = (const void *)walk.rows[1];
    assert_string_equal(first->device_name, DN);
    assert_int_equal(first->state, TASK_PENDING);
    assert_false(first->has_code);
    assert_string_equal(first->device_status, "inactive");
    assert_int_equal(second->state, TASK_FAILED);
    assert_true(second->has_code);
    assert_int_equal(second->code, 404);
    assert_int_equal(second->updated_at, 9);
    assert_int_equal(t.counts[TASK_FAILED], 1);
}

/* ---- the kept task counts (0009_task_counts.sql) against a walk ---- */

#define COUNT_DEVICES 8
#define COUNT_OPS 3000

/* Counts store_task_get walked (store_task_device rows) by state. */
static int count_walked(const store_task_device *d, void *ctx)
{
    long *counts = ctx;
    counts[d->state]++;
    return 0;
}

/* The kept counts of task id and those of a walk over its group agree, and
 * so do the group's kept member count and its member list's total. */
static void assert_counts_agree(const char *task_id, const char *gid)
{
    store_task kept, walked;
    long by_walk[TASK_STATES] = {0};
    assert_int_equal(store_task_get(task_id, &kept, NULL, NULL), STORE_OK);
    assert_int_equal(store_task_get(task_id, &walked, count_walked, by_walk), STORE_OK);
    for (int i = 0; i < TASK_STATES; i++) {
        if (kept.counts[i] != by_walk[i])
            fail_msg("task %s, state %s: kept %ld, walked %ld", task_id, store_task_state_names[i],
                     (long)kept.counts[i], by_walk[i]);
    }
    store_group g;
    assert_int_equal(store_group_get(gid, &g), STORE_OK);
    long members = 0;
    for (int i = 0; i < TASK_STATES; i++)
        members += by_walk[i];
    assert_int_equal(g.device_count, members);
}

/* A repeatable stream of small numbers (a fixed LCG: the run repeats). */
static unsigned next_pick(unsigned *seed, unsigned n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) % n;
}

/* A push's record of the members of a group: each with a new state drawn
 * from seed, and the state it had. */
typedef struct {
    store_push_state rows[COUNT_DEVICES + 2]; /* and DN, DN2 */
    size_t n;
    unsigned *seed;
} bulk_plan;

static int plan_bulk_row(const store_push_member *m, void *ctx)
{
    bulk_plan *p = ctx;
    store_push_state *r = &p->rows[p->n++];
    snprintf(r->product_key, sizeof r->product_key, "%s", m->product_key);
    snprintf(r->device_name, sizeof r->device_name, "%s", m->device_name);
    r->state = (store_task_state)(1 + next_pick(p->seed, TASK_STATES - 1));
    r->has_code = false;
    r->code = 0;
    r->was = m->state;
    return 0;
}

/* What a push does: reads the members and records states for all of them
 * in one transaction (store_push_record keeps the counts itself). */
static void record_in_bulk(const char *task_id, const char *gid, unsigned *seed, int64_t now)
{
    bulk_plan plan = {.n = 0, .seed = seed};
    assert_int_equal(store_begin(), STORE_OK);
    assert_int_equal(store_push_members(task_id, gid, APP, "", "", COUNT_DEVICES + 2, plan_bulk_row, &plan), STORE_OK);
    assert_int_equal(store_push_record(task_id, plan.rows, plan.n, now), STORE_OK);
    assert_int_equal(store_commit(), STORE_OK);
}

/* Random member changes, state changes, timeouts, device deletes and
 * re-creates over two groups and three tasks: after every step the kept
 * counts equal a walk's. */
static void test_task_counts_follow_every_change(void **state)
{
    (void)state;
    static const char *const tasks[][2] = {{"t1", "g1"}, {"t2", "g1"}, {"t3", "g2"}};
    char names[COUNT_DEVICES][24];
    fx_task_world();
    fx_group("g2");
    fx_version(APP, "0.0.3");
    for (int i = 0; i < COUNT_DEVICES; i++) {
        snprintf(names[i], sizeof names[i], "count-%02d", i);
        fx_device(PK, names[i]);
    }
    fx_task("t1", APP, "0.0.2", "g1");
    fx_task("t2", APP, "0.0.3", "g1");
    fx_task("t3", APP, "0.0.2", "g2");
    unsigned seed = 2026;
    for (int op = 0; op < COUNT_OPS; op++) {
        const char *dn = names[next_pick(&seed, COUNT_DEVICES)];
        const char *const *task = tasks[next_pick(&seed, 3)];
        switch (next_pick(&seed, 7)) {
        case 6: /* a push's bulk record */
            record_in_bulk(task[0], task[1], &seed, op);
            break;
        case 0:
            store_group_add_member(task[1], PK, dn, op);
            break;
        case 1:
            store_group_remove_member(task[1], PK, dn);
            break;
        case 2:
        case 3: /* a state, member or not: rows of non-members must not count */
            assert_int_equal(store_push_set(task[0], PK, dn, (store_task_state)(1 + next_pick(&seed, TASK_STATES - 1)),
                                            false, 0, NULL, op),
                             STORE_OK);
            break;
        case 4:
            assert_int_equal(store_task_timeouts(op + 1000, 1, NULL), STORE_OK);
            break;
        default: /* deleted with its rows (both cascades), then made again */
            assert_int_equal(store_device_delete(PK, dn), STORE_OK);
            fx_device(PK, dn);
            break;
        }
        for (int t = 0; t < 3; t++)
            assert_counts_agree(tasks[t][0], tasks[t][1]);
    }
    /* a deleted task takes its kept counts along */
    assert_int_equal(store_group_delete("g2"), STORE_OK);
    assert_int_equal(store_task_get("t3", &(store_task){0}, NULL, NULL), STORE_NOT_FOUND);
    assert_counts_agree("t1", "g1");
}

/* ---- the kept device counts (0011_device_counts.sql) against a walk ---- */

static void count_row(const void *row, void *ctx)
{
    (void)row;
    (*(int64_t *)ctx)++;
}

/* The total a device list gives (kept counts) equals the rows it walks. */
static void assert_device_total(const char *pk, const char *status)
{
    int64_t walked = 0;
    store_page all = {0, 1000, count_row, &walked, -1};
    assert_int_equal(store_device_list(pk, status, &all), STORE_OK);
    if (all.total != walked)
        fail_msg("devices of %s, status %s: kept %lld, walked %lld", pk ? pk : "all", status ? status : "any",
                 (long long)all.total, (long long)walked);
}

static void test_device_counts_follow_every_change(void **state)
{
    (void)state;
    static const char *const products[] = {PK, PK2};
    static const char *const statuses[] = {NULL, "inactive", "online", "offline"};
    fx_product(PK);
    fx_product(PK2);
    unsigned seed = 7;
    for (int op = 0; op < 2000; op++) {
        const char *pk = products[next_pick(&seed, 2)];
        char dn[24];
        snprintf(dn, sizeof dn, "counted-%02u", next_pick(&seed, 12));
        switch (next_pick(&seed, 5)) {
        case 0:
            store_device_insert(pk, dn, SECRET, op); /* STORE_EXISTS when it is there */
            break;
        case 1:
            store_device_delete(pk, dn); /* STORE_NOT_FOUND when it is not */
            break;
        case 2:
            store_report_online(pk, dn, op, "127.0.0.1"); /* STORE_NOT_FOUND without the device */
            break;
        case 3:
            store_report_offline(pk, dn);
            break;
        default:
            if (next_pick(&seed, 10) == 0)
                assert_int_equal(store_report_all_offline(NULL), STORE_OK);
            break;
        }
        for (int s = 0; s < 4; s++) {
            assert_device_total(NULL, statuses[s]);
            assert_device_total(pk, statuses[s]);
        }
    }
    store_product p;
    assert_int_equal(store_product_get(PK, &p), STORE_OK);
    int64_t walked = 0;
    store_page all = {0, 1000, count_row, &walked, -1};
    assert_int_equal(store_device_list(PK, NULL, &all), STORE_OK);
    assert_int_equal(p.device_count, walked);
}

/* ---- pages found from the list's end (db_page_from_ends) ---- */

/* The "productKey/deviceName" of each row of a page, in order. */
typedef struct {
    char key[40][STORE_PK_SIZE + STORE_DN_SIZE];
    int n;
} page_keys;

static void keys_add(page_keys *k, const char *pk, const char *dn)
{
    assert_true(k->n < 40);
    snprintf(k->key[k->n++], sizeof k->key[0], "%s/%s", pk, dn);
}

static void key_of_device(const void *row, void *ctx)
{
    const store_device *d = row;
    keys_add(ctx, d->product_key, d->device_name);
}

static void key_of_member(const void *row, void *ctx)
{
    const store_task_device *d = row;
    keys_add(ctx, d->product_key, d->device_name);
}

/* One of the lists that find their deep pages from the end. */
typedef struct {
    const char *name;
    int kind; /* 0 devices (of pk, in status), 1 a group's devices, 2 a task's members (in state) */
    const char *pk, *status;
} paged_list;

static store_status list_page(const paged_list *l, int offset, int limit, page_keys *k, int64_t *total)
{
    k->n = 0;
    store_page p = {offset, limit, l->kind == 2 ? key_of_member : key_of_device, k, -1};
    store_status s = l->kind == 0   ? store_device_list(l->pk, l->status, &p)
                     : l->kind == 1 ? store_device_list_group("g1", &p)
                                    : store_task_devices_page("t1", l->status, &p);
    *total = p.total;
    return s;
}

/* Every page, from either end, is the slice of the whole list at its offset. */
static void test_pages_from_either_end(void **state)
{
    (void)state;
    fx_task_world();
    fx_product(PK2);
    unsigned seed = 11;
    for (unsigned i = 0; i < 24; i++) { /* names inserted out of order */
        char dn[24];
        const char *pk = i % 3 ? PK : PK2;
        snprintf(dn, sizeof dn, "paged-%02u", (i * 7) % 24);
        fx_device(pk, dn);
        if (next_pick(&seed, 3) == 0)
            assert_int_equal(store_report_online(pk, dn, 5, NULL), STORE_OK);
        if (i % 4 != 1)
            fx_member("g1", pk, dn);
    }
    fx_task("t1", APP, "0.0.2", "g1");
    for (unsigned i = 0; i < 24; i += 2) {
        char dn[24];
        snprintf(dn, sizeof dn, "paged-%02u", (i * 7) % 24);
        store_push_set("t1", i % 3 ? PK : PK2, dn, i % 4 ? TASK_SUCCEEDED : TASK_PUSHED, false, 0, NULL, 9);
    }
    static const paged_list lists[] = {
        {"all devices", 0, NULL, NULL},          {"devices of PK", 0, PK, NULL},
        {"online devices", 0, NULL, "online"},   {"offline of PK2", 0, PK2, "inactive"},
        {"group g1", 1, NULL, NULL},             {"task t1", 2, NULL, NULL},
        {"task t1 pending", 2, NULL, "pending"}, {"task t1 succeeded", 2, NULL, "succeeded"},
    };
    static const int limits[] = {1, 2, 3, 7, 50};
    static page_keys whole, part;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        int64_t total, part_total;
        assert_int_equal(list_page(&lists[l], 0, 40, &whole, &total), STORE_OK);
        assert_int_equal(total, whole.n);
        assert_true(whole.n >= 3); /* long enough to have a second half */
        for (int i = 1; i < whole.n; i++)
            assert_true(strcmp(whole.key[i - 1], whole.key[i]) < 0);
        for (size_t li = 0; li < sizeof limits / sizeof limits[0]; li++) {
            for (int offset = 0; offset <= whole.n + 2; offset++) {
                assert_int_equal(list_page(&lists[l], offset, limits[li], &part, &part_total), STORE_OK);
                int want = offset >= whole.n ? 0 : whole.n - offset < limits[li] ? whole.n - offset : limits[li];
                if (part.n != want || part_total != total)
                    fail_msg("%s, offset %d, limit %d: %d rows of %lld, not %d of %lld", lists[l].name, offset,
                             limits[li], part.n, (long long)part_total, want, (long long)total);
                for (int i = 0; i < want; i++)
                    if (strcmp(part.key[i], whole.key[offset + i]) != 0)
                        fail_msg("%s, offset %d, limit %d: row %d is %s, not %s", lists[l].name, offset, limits[li],
                                 i, part.key[i], whole.key[offset + i]);
            }
        }
    }
}

/* Whose download is it: owner(object, ip) as "task pk dn", or "" for none. */
static const char *owner(const char *object, const char *ip)
{
    static char out[STORE_ID_SIZE + STORE_PK_SIZE + STORE_DN_SIZE + 2];
    char task[STORE_ID_SIZE], pk[STORE_PK_SIZE], dn[STORE_DN_SIZE];
    assert_int_equal(store_download_owner(object, ip, task, pk, dn), STORE_OK);
    snprintf(out, sizeof out, "%s%s%s%s%s", task, task[0] ? " " : "", pk, pk[0] ? " " : "", dn);
    return out;
}

/* A download is owned by the row, among those of the object's tasks whose
 * device is at the download's address and which the task moved on (not
 * 'offline'), that moved last. Both ways of finding it are covered: from
 * the devices at the address (a few) and from the tasks' newest rows (many
 * devices at one address, a fleet simulated on one host). */
static void test_download_owner(void **state)
{
    (void)state;
    fx_task_world(); /* PK: DN, DN2 in g1; APP 0.0.2 (object APP/v0.0.2) */
    fx_version(APP, "0.0.3");
    fx_task("t1", APP, "0.0.2", "g1");
    fx_task("t2", APP, "0.0.2", "g1");
    fx_task("t3", APP, "0.0.3", "g1");
    const char *obj2 = APP "/v0.0.2", *obj3 = APP "/v0.0.3";
    assert_string_equal(owner(obj2, "10.0.0.1"), ""); /* no device at the address */

    /* one device at its own address */
    assert_int_equal(store_report_online(PK, DN, 5, "10.0.0.1"), STORE_OK);
    assert_string_equal(owner(obj2, "10.0.0.1"), "");  /* in no task yet */
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, NULL, 10), STORE_OK);
    assert_int_equal(store_push_set("t2", PK, DN, TASK_PUSHED, false, 0, NULL, 20), STORE_OK);
    assert_string_equal(owner(obj2, "10.0.0.1"), "t2 " PK " " DN); /* the newest */
    assert_string_equal(owner(obj3, "10.0.0.1"), "");                /* t3 has not moved it */
    assert_int_equal(store_push_set("t3", PK, DN, TASK_PUSHED, false, 0, NULL, 40), STORE_OK);
    assert_string_equal(owner(obj3, "10.0.0.1"), "t3 " PK " " DN);
    assert_string_equal(owner(obj2, "10.0.0.1"), "t2 " PK " " DN);   /* another object's task is not it */
    assert_int_equal(store_push_set("t2", PK, DN, TASK_OFFLINE, false, 0, NULL, 50), STORE_OK);
    assert_string_equal(owner(obj2, "10.0.0.1"), "t1 " PK " " DN);   /* an offline row owns nothing */
    assert_int_equal(store_push_set("t2", PK, DN, TASK_FAILED, true, 404, NULL, 60), STORE_OK);
    assert_string_equal(owner(obj2, "10.0.0.1"), "t2 " PK " " DN);   /* a failed one does (a retry) */
    assert_string_equal(owner("nope/v1", "10.0.0.1"), "");
    assert_string_equal(owner(obj2, "10.0.0.9"), "");

    /* a fleet on one host: 40 devices at 127.0.0.1 */
    char names[40][24];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "fleet-%02d", i);
        fx_device(PK, names[i]);
        assert_int_equal(store_report_online(PK, names[i], 5, "127.0.0.1"), STORE_OK);
    }
    assert_string_equal(owner(obj2, "127.0.0.1"), "");
    for (int i = 0; i < 40; i++) /* t1 moves them on at 100 + i, the newest offline */
        assert_int_equal(store_push_set("t1", PK, names[i], i >= 37 ? TASK_OFFLINE : TASK_PUSHED, false, 0, NULL,
                                        100 + i), STORE_OK);
    assert_string_equal(owner(obj2, "127.0.0.1"), "t1 " PK " fleet-36");
    assert_int_equal(store_push_set("t2", PK, names[3], TASK_SUCCEEDED, true, 200, NULL, 150), STORE_OK);
    assert_string_equal(owner(obj2, "127.0.0.1"), "t2 " PK " fleet-03");
    assert_string_equal(owner(obj3, "127.0.0.1"), "");
    assert_string_equal(owner(obj2, "10.0.0.1"), "t2 " PK " " DN);  /* the lone device is still its own */
}

static void test_task_list(void **state)
{
    (void)state;
    fx_task_world();
    fx_app(APP2, "other");
    fx_version(APP2, "1.0.0");
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_task_insert("t2", APP2, "1.0.0", "g1", 30, 2000), STORE_OK);
    assert_page(store_task_list(NULL, page_of(0, 3, sizeof(store_task))), 2, 2);
    assert_string_equal(ROW(store_task, 0)->task_id, "t2"); /* newest first */
    assert_int_equal(ROW(store_task, 0)->counts[TASK_PENDING], 2);
    assert_page(store_task_list(APP, page_of(0, 3, sizeof(store_task))), 1, 1);
    assert_string_equal(ROW(store_task, 0)->task_id, "t1");
}

static void test_task_state_names(void **state)
{
    (void)state;
    assert_string_equal(store_task_state_names[TASK_UP_TO_DATE], "upToDate");
    assert_int_equal(store_task_state_named("succeeded"), TASK_SUCCEEDED);
    assert_int_equal(store_task_state_named("nonsense"), TASK_PENDING);
}

/* ---- push ---- */

static void test_push_package(void **state)
{
    (void)state;
    char group[STORE_ID_SIZE];
    store_version pkg;
    assert_int_equal(store_push_package("t1", group, &pkg), STORE_NOT_FOUND);
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_push_package("t1", group, &pkg), STORE_OK);
    assert_string_equal(group, "g1");
    assert_string_equal(pkg.version, "0.0.2");
    assert_string_equal(pkg.md5, "m0.0.2");
}

static int collect_member(const store_push_member *m, void *ctx) { return fx_collect(m, ctx); }

static void test_push_members(void **state)
{
    (void)state;
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_report_online(PK, DN2, 1, NULL), STORE_OK);
    assert_int_equal(store_report_app(PK, DN2, APP, "0.0.1"), STORE_OK);
    assert_int_equal(store_report_app(PK, DN, APP, "0.0.1"), STORE_OK); /* offline: its version is not read */
    assert_int_equal(store_push_set("t1", PK, DN2, TASK_SUCCEEDED, true, 200, "trace", 3), STORE_OK);
    static fx_rows walk = {.row_size = sizeof(store_push_member)};
    assert_int_equal(store_push_members("t1", "g1", APP, "", "", 10, collect_member, &walk), STORE_OK);
    assert_int_equal(walk.n, 2);
    const store_push_member *first = (const void *)walk.rows[0], *second = (const void *)walk.rows[1];
    assert_string_equal(first->device_name, DN);
    assert_false(first->online);
    assert_false(first->has_version);
    assert_int_equal(first->state, TASK_PENDING);
    assert_true(second->online);
    assert_true(second->has_version);
    assert_string_equal(second->version, "0.0.1");
    assert_int_equal(second->state, TASK_SUCCEEDED);
    assert_int_equal(second->code, 200);
    /* a chunk at a time: the first member, then those after it */
    walk.n = 0;
    assert_int_equal(store_push_members("t1", "g1", APP, "", "", 1, collect_member, &walk), STORE_OK);
    assert_int_equal(walk.n, 1);
    assert_string_equal(((const store_push_member *)(const void *)walk.rows[0])->device_name, DN);
    walk.n = 0;
    assert_int_equal(store_push_members("t1", "g1", APP, PK, DN, 10, collect_member, &walk), STORE_OK);
    assert_int_equal(walk.n, 1);
    assert_string_equal(((const store_push_member *)(const void *)walk.rows[0])->device_name, DN2);
    walk.n = 0;
    assert_int_equal(store_push_members("t1", "g1", APP, PK, DN2, 10, collect_member, &walk), STORE_OK);
    assert_int_equal(walk.n, 0);
}

static void test_push_set_and_done(void **state)
{
    (void)state;
    store_task t;
    fx_task_world();
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, NULL, 1), STORE_CONFLICT); /* no task */
    assert_int_equal(store_push_done("t1"), STORE_NOT_FOUND);
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(store_push_set("t1", PK, DN, TASK_OFFLINE, false, 0, NULL, 2), STORE_OK); /* replaces */
    assert_int_equal(store_push_done("t1"), STORE_OK);
    assert_int_equal(store_push_done("t1"), STORE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.push_count, 2);
    assert_true(t.pushed_at > 0);
    assert_int_equal(t.counts[TASK_OFFLINE], 1);
    assert_int_equal(t.counts[TASK_PUSHED], 0);
}

static void test_push_record(void **state)
{
    (void)state;
    store_task t;
    enum { N = 70, RECORD_ROWS_PER_STATEMENT = 64 }; /* a full statement of 64 rows and 6 one by one */
    store_push_state *rows = calloc(N, sizeof *rows);
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    for (int i = 0; i < N; i++) {
        snprintf(rows[i].product_key, sizeof rows[i].product_key, PK);
        snprintf(rows[i].device_name, sizeof rows[i].device_name, "dev-%04d", i);
        rows[i].state = i % 2 ? TASK_PUSHED : TASK_SUCCEEDED;
        rows[i].has_code = i % 2 == 0;
        rows[i].code = 200;
        if (i >= 2) { /* DN and DN2 are members already */
            fx_device(PK, rows[i].device_name);
            fx_member("g1", PK, rows[i].device_name);
        }
    }
    snprintf(rows[0].device_name, sizeof rows[0].device_name, DN);
    snprintf(rows[1].device_name, sizeof rows[1].device_name, DN2);
    assert_int_equal(store_push_record("t1", rows, N, 7), STORE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], N / 2);
    assert_int_equal(t.counts[TASK_SUCCEEDED], N / 2);
    /* pushed again: every row is there, updated in place (64, then 6 one by one) */
    for (int i = 0; i < N; i++) {
        rows[i].was = rows[i].state;
        rows[i].state = TASK_PUSHED;
        rows[i].has_code = false;
    }
    assert_int_equal(store_push_record("t1", rows, N, 8), STORE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], N);
    assert_int_equal(t.counts[TASK_SUCCEEDED], 0);
    assert_page(store_task_devices_page("t1", NULL, page_of(0, 4, sizeof(store_task_device))), 4, N);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ROW(store_task_device, i)->state, TASK_PUSHED);
        assert_false(ROW(store_task_device, i)->has_code);
        assert_int_equal(ROW(store_task_device, i)->updated_at, 8);
    }
    /* a row said to be there that is not: STORE_CONFLICT (the caller rolls back) */
    char kept_name[STORE_DN_SIZE];
    snprintf(kept_name, sizeof kept_name, "%s", rows[5].device_name);
    snprintf(rows[5].device_name, sizeof rows[5].device_name, "dev-none");
    assert_int_equal(store_begin(), STORE_OK);
    assert_int_equal(store_push_record("t1", rows, RECORD_ROWS_PER_STATEMENT, 9), STORE_CONFLICT);
    store_rollback();
    assert_int_equal(store_begin(), STORE_OK); /* the same, as one of the rows written one by one */
    assert_int_equal(store_push_record("t1", rows + 5, 1, 9), STORE_CONFLICT);
    store_rollback();
    snprintf(rows[5].device_name, sizeof rows[5].device_name, "%s", kept_name);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], N);
    for (int i = 0; i < N; i++)
        rows[i].was = TASK_PUSHED;
    rows[0].state = TASK_OFFLINE; /* replaces */
    rows[0].has_code = false;
    assert_int_equal(store_push_record("t1", rows, 1, 8), STORE_OK);
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_OFFLINE], 1);
    assert_int_equal(store_push_record("t9", rows, N, 9), STORE_CONFLICT); /* no such task */
    assert_int_equal(store_push_record("t9", rows, 1, 9), STORE_CONFLICT);
    free(rows);
}

static void test_push_due(void **state)
{
    (void)state;
    char task[STORE_ID_SIZE];
    fx_task_world();
    fx_version(APP, "0.0.3");
    fx_task("t1", APP, "0.0.2", "g1");
    fx_task("t2", APP, "0.0.3", "g1");
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_NOT_FOUND); /* nothing pushed yet */
    assert_int_equal(store_push_done("t1"), STORE_OK);
    assert_int_equal(store_push_done("t2"), STORE_OK);
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_OK);
    assert_string_equal(task, "t2"); /* the highest version */
    assert_int_equal(store_push_set("t2", PK, DN, TASK_FAILED, true, 405, NULL, 1), STORE_OK);
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_OK);
    assert_string_equal(task, "t1"); /* t2 is finished for this device */
    assert_int_equal(store_version_deprecate(APP, "0.0.2"), STORE_OK);
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_NOT_FOUND);
    assert_int_equal(store_push_due(PK, DN, APP2, task), STORE_NOT_FOUND);
}

static void test_push_result(void **state)
{
    (void)state;
    char task[STORE_ID_SIZE] = "";
    store_task t;
    fx_task_world();
    fx_task("t1", APP, "0.0.2", "g1");
    assert_int_equal(store_push_result(PK, DN, APP, "0.0.2", TASK_SUCCEEDED, 200, task), STORE_NOT_FOUND);
    assert_string_equal(task, "");
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, "tr", 1), STORE_OK);
    assert_int_equal(store_push_result(PK, DN, APP, "0.0.2", TASK_FAILED, 404, task), STORE_OK);
    assert_string_equal(task, "t1");
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_FAILED], 1);
}

static void test_push_reached(void **state)
{
    (void)state;
    char task[STORE_ID_SIZE] = "x";
    int n = -1;
    store_task t;
    fx_task_world();
    fx_version(APP, "0.0.3");
    fx_task("t1", APP, "0.0.2", "g1");
    fx_task("t2", APP, "0.0.3", "g1");
    /* nothing pushed yet: nothing to reconcile */
    assert_int_equal(store_push_reached(PK, DN, APP, "0.0.2", &n, task), STORE_OK);
    assert_int_equal(n, 0);
    assert_string_equal(task, "");
    assert_int_equal(store_push_set("t1", PK, DN, TASK_PUSHED, false, 0, "tr", 1), STORE_OK);
    assert_int_equal(store_push_set("t2", PK, DN, TASK_PUSHED, false, 0, "tr", 1), STORE_OK);
    /* another version, another app: untouched */
    assert_int_equal(store_push_reached(PK, DN, APP, "0.0.9", &n, task), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_push_reached(PK, DN, APP, "0.0.2", &n, task), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(task, "t1");
    assert_int_equal(store_task_get("t1", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_SUCCEEDED], 1);
    assert_int_equal(store_task_get("t2", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_PUSHED], 1);
    /* a row that failed stays failed */
    assert_int_equal(store_push_result(PK, DN, APP, "0.0.3", TASK_FAILED, 405, task), STORE_OK);
    assert_int_equal(store_push_reached(PK, DN, APP, "0.0.3", &n, task), STORE_OK);
    assert_int_equal(n, 0);
}

/* Sets when task_id was last pushed (NULL, left unbound: never). */
static void fx_pushed_at(const char *task_id, const char *at)
{
    assert_int_equal(db_write("UPDATE tasks SET pushed_at = CAST(?2 AS INTEGER) WHERE task_id = ?1", NULL, "ss",
                              task_id, at),
                     STORE_OK);
}

/* Several pushed tasks of one app for a device: each look-up picks its
 * one row by the rules of store_push.h, whatever the order of the rows
 * (the tasks are made in both orders). */
static void test_push_picks_one_row(void **state)
{
    (void)state;
    char task[STORE_ID_SIZE];
    int n;
    fx_task_world();
    fx_version(APP, "0.0.3");
    fx_version(APP, "0.0.10");
    /* due: the highest version (0.0.10 above 0.0.3, by number), then the latest pushed */
    fx_task("v3-late", APP, "0.0.3", "g1");
    fx_task("v10-early", APP, "0.0.10", "g1");
    fx_task("v10-late", APP, "0.0.10", "g1");
    fx_task("v3-early", APP, "0.0.3", "g1");
    fx_pushed_at("v3-late", "40");
    fx_pushed_at("v10-early", "10");
    fx_pushed_at("v10-late", "30");
    fx_pushed_at("v3-early", "20");
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_OK);
    assert_string_equal(task, "v10-late");
    assert_int_equal(store_push_set("v10-late", PK, DN, TASK_SUCCEEDED, true, 200, NULL, 1), STORE_OK);
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_OK);
    assert_string_equal(task, "v10-early");
    assert_int_equal(store_push_set("v10-early", PK, DN, TASK_FAILED, true, 405, NULL, 1), STORE_OK);
    assert_int_equal(store_push_due(PK, DN, APP, task), STORE_OK);
    assert_string_equal(task, "v3-late");

    /* a result: a row still "pushed" first, then the latest pushed task, a
     * task never pushed last */
    fx_task("r-never", APP, "0.0.2", "g1");
    fx_task("r-early", APP, "0.0.2", "g1");
    fx_task("r-late", APP, "0.0.2", "g1");
    fx_pushed_at("r-never", NULL);
    fx_pushed_at("r-early", "10");
    fx_pushed_at("r-late", "30");
    assert_int_equal(store_push_set("r-never", PK, DN, TASK_TIMED_OUT, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(store_push_set("r-early", PK, DN, TASK_PUSHED, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(store_push_set("r-late", PK, DN, TASK_TIMED_OUT, false, 0, NULL, 1), STORE_OK);
    assert_int_equal(store_push_result(PK, DN, APP, "0.0.2", TASK_FAILED, 404, task), STORE_OK);
    assert_string_equal(task, "r-early"); /* still pushed, though pushed earlier */
    assert_int_equal(store_push_result(PK, DN, APP, "0.0.2", TASK_FAILED, 405, task), STORE_OK);
    assert_string_equal(task, "r-late"); /* none pushed: the latest */
    store_task t;
    assert_int_equal(store_task_get("r-early", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_FAILED], 1);
    assert_int_equal(store_task_get("r-late", &t, NULL, NULL), STORE_OK);
    assert_int_equal(t.counts[TASK_FAILED], 1);
    assert_int_equal(t.counts[TASK_TIMED_OUT], 0);
    fx_pushed_at("r-late", NULL);
    assert_int_equal(store_push_result(PK, DN, APP, "0.0.2", TASK_SUCCEEDED, 200, task), STORE_OK);
    assert_string_equal(task, "r-early"); /* a task never pushed comes last */

    /* reached: every row "pushed" or "timedOut" of the version succeeds;
     * the task named is the latest pushed of them */
    fx_pushed_at("r-late", "30");
    assert_int_equal(store_push_set("r-never", PK, DN, TASK_PUSHED, false, 0, NULL, 2), STORE_OK);
    assert_int_equal(store_push_set("r-early", PK, DN, TASK_TIMED_OUT, false, 0, NULL, 2), STORE_OK);
    assert_int_equal(store_push_set("r-late", PK, DN, TASK_PUSHED, false, 0, NULL, 2), STORE_OK);
    assert_int_equal(store_push_reached(PK, DN, APP, "0.0.2", &n, task), STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(task, "r-late");
    assert_int_equal(store_push_reached(PK, DN, APP, "0.0.2", &n, task), STORE_OK);
    assert_int_equal(n, 0);
    assert_string_equal(task, "");
}

/* ---- settings and transactions ---- */

static void test_settings(void **state)
{
    (void)state;
    char value[8];
    assert_int_equal(store_setting_get("k", value, sizeof value), STORE_NOT_FOUND);
    assert_int_equal(store_setting_set("k", "one"), STORE_OK);
    assert_int_equal(store_setting_set("k", "two-long-value"), STORE_OK);
    assert_int_equal(store_setting_get("k", value, sizeof value), STORE_OK);
    assert_string_equal(value, "two-lon"); /* cut to fit */
}

static void test_transactions(void **state)
{
    (void)state;
    store_product p;
    assert_int_equal(store_begin(), STORE_OK);
    fx_product(PK);
    store_rollback();
    assert_int_equal(store_product_get(PK, &p), STORE_NOT_FOUND);
    assert_int_equal(store_begin(), STORE_OK);
    fx_product(PK);
    assert_int_equal(store_commit(), STORE_OK);
    assert_int_equal(store_product_get(PK, &p), STORE_OK);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_open, fixture_close)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_product_insert_get),         T(test_product_list_pages),
        T(test_product_delete_cascades),    T(test_device_insert_get_exists),
        T(test_device_lists),               T(test_device_delete),
        T(test_report_online_offline),      T(test_report_all_offline),
        T(test_report_app),                 T(test_report_firmware_info_refusal),
        T(test_group_insert_get_list_delete), T(test_group_members),
        T(test_app_insert_get),             T(test_app_list_and_delete),
        T(test_version_insert_get_find),    T(test_version_by_object),
        T(test_version_list_is_numeric),    T(test_version_deprecate_delete),
        T(test_task_insert_get),            T(test_task_list),
        T(test_pages_from_either_end), T(test_download_owner),
        T(test_task_counts_follow_every_change), T(test_device_counts_follow_every_change),
        T(test_task_state_names),           T(test_push_package),
        T(test_push_members),               T(test_push_set_and_done),
        T(test_push_record),                T(test_push_due),
        T(test_push_result),
        T(test_push_reached),               T(test_push_picks_one_row),
        T(test_settings),                   T(test_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
