/*
 * store_fixture.c - the in-memory database of the store and service unit
 * tests (see store_fixture.h).
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
#include "identifiers.h"
#include "log.h"
#include "store_fixture.h"
#include "store_groups.h"
#include "store_products.h"
#include "store_apps.h"
#include "store_devices.h"
#include "store_tasks.h"

/* Opens the database at path for a test; 0 or -1 (said why). */
static int open_at(const char *path)
{
    char err[300];
    log_set_level(LOG_WARN); /* not the migrations of every test */
    if (db_open(path, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

int fixture_open(void **state)
{
    (void)state;
    return open_at(":memory:");
}

int fixture_close(void **state)
{
    (void)state;
    db_close();
    return 0;
}

static char file_dir[64], file_path[128];

int fixture_open_file(void **state)
{
    (void)state;
    snprintf(file_dir, sizeof file_dir, "/tmp/haas-unit-XXXXXX");
    if (!mkdtemp(file_dir))
        return -1;
    snprintf(file_path, sizeof file_path, "%s/haas.db", file_dir);
    return open_at(file_path);
}

int fixture_close_file(void **state)
{
    (void)state;
    db_close();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", file_dir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *fx_db_path(void) { return file_path; }

void fx_product(const char *pk) { assert_int_equal(store_product_insert(pk, "product", 1000), STORE_OK); }

void fx_device(const char *pk, const char *dn)
{
    assert_int_equal(store_device_insert(pk, dn, "s0123456789012345678901234567890", 1000), STORE_OK);
}

void fx_group(const char *gid) { assert_int_equal(store_group_insert(gid, "group", 1000), STORE_OK); }

void fx_member(const char *gid, const char *pk, const char *dn)
{
    assert_int_equal(store_group_add_member(gid, pk, dn, 1000), STORE_OK);
}

void fx_app(const char *app_id, const char *name) { assert_int_equal(store_app_insert(app_id, name, "", 1000), STORE_OK); }

void fx_version_row(store_version *v, const char *app_id, const char *version)
{
    memset(v, 0, sizeof *v);
    snprintf(v->app_id, sizeof v->app_id, "%s", app_id);
    snprintf(v->version, sizeof v->version, "%s", version);
    assert_true(version_parse(version, v->parts));
    snprintf(v->object_key, sizeof v->object_key, "%s/v%s", app_id, version);
    v->size = 100;
    snprintf(v->md5, sizeof v->md5, "m%s", version);
    snprintf(v->sha256, sizeof v->sha256, "s%s", version);
    v->created_at = 1000;
}

void fx_version(const char *app_id, const char *version)
{
    store_version v;
    fx_version_row(&v, app_id, version);
    assert_int_equal(store_version_insert(&v), STORE_OK);
}

void fx_task_world(void)
{
    fx_product(PK_A);
    fx_device(PK_A, DN_A);
    fx_device(PK_A, DN_B);
    fx_group("g1");
    fx_member("g1", PK_A, DN_A);
    fx_member("g1", PK_A, DN_B);
    fx_app(APP_A, "python9000");
    fx_version(APP_A, "0.0.2");
}

int fx_collect(const void *row, void *ctx)
{
    fx_rows *r = ctx;
    assert_true(r->n < 4 && r->row_size <= sizeof r->rows[0]);
    memcpy(r->rows[r->n++], row, r->row_size);
    return 0;
}

void fx_task(const char *task_id, const char *app_id, const char *version, const char *gid)
{
    assert_int_equal(store_task_insert(task_id, app_id, version, gid, -1, 1000), STORE_OK);
}
