/*
 * store_fixture.h - what the store and service unit tests share: a fresh
 * in-memory database per test (db_open(":memory:") applies the embedded
 * migrations), and rows made through the store, each asserted to succeed.
 */
#ifndef HAAS_STORE_FIXTURE_H
#define HAAS_STORE_FIXTURE_H

#include "store_devices.h"
#include "store_versions.h"

#include <stddef.h>

/* cmocka setup and teardown: opens and closes the in-memory database. */
int fixture_open(void **state);
int fixture_close(void **state);

/* The same on a database file in a fresh temporary folder, for what an
 * in-memory database lacks (the WAL, the read-only connection); the
 * folder goes at the close. fx_db_path() is the file's path. */
int fixture_open_file(void **state);
int fixture_close_file(void **state);
const char *fx_db_path(void);

/* Rows for a test, each asserted STORE_OK. */
void fx_product(const char *pk);
void fx_device(const char *pk, const char *dn);
void fx_group(const char *gid);
void fx_member(const char *gid, const char *pk, const char *dn);
void fx_app(const char *app_id, const char *name);
/* Version "a.b.c" of app_id, object key "<app_id>/v<version>", md5 "m<version>". */
void fx_version(const char *app_id, const char *version);
void fx_task(const char *task_id, const char *app_id, const char *version, const char *gid);

/* A version row as fx_version makes it, into v. */
void fx_version_row(store_version *v, const char *app_id, const char *version);

/* Product PK_A with devices DN_A and DN_B, both in group "g1"; app APP_A
 * ("python9000") with version 0.0.2. */
#define PK_A "a1Product01"
#define DN_A "device-0001"
#define DN_B "device-0002"
#define APP_A "8800100099990000"
void fx_task_world(void);

/* Rows a walk saw (a page, store_task_get, store_push_members): up to 4 of
 * them, each row_size bytes (at most a store_device). */
typedef struct {
    int n;
    size_t row_size;
    _Alignas(max_align_t) unsigned char rows[4][sizeof(store_device)];
} fx_rows;

/* Copies row (ctx->row_size bytes) into the fx_rows ctx; returns 0. */
int fx_collect(const void *row, void *ctx);

#endif
