/*
 * api_devices.c - /api/v1/products/{pk}/devices: add one device or a batch,
 * list, get, delete.
 *
 * Device secrets are generated (32 characters, like the real cloud's) unless
 * a fixed one is given, which seeded CI runs need. A batch is all or nothing.
 */
#include "api_shared.h"
#include "db.h"
#include "ids.h"
#include "routes.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 10000
#define DEVICE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@.:-"

cJSON *device_json(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", db_text(st, 0));
    cJSON_AddStringToObject(o, "deviceName", db_text(st, 1));
    cJSON_AddStringToObject(o, "deviceSecret", db_text(st, 2));
    cJSON_AddStringToObject(o, "status", db_text(st, 3));
    cJSON_AddItemToObject(o, "lastOnlineAt", json_time(sqlite3_column_int64(st, 4)));
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "ip");
    else
        cJSON_AddStringToObject(o, "ip", db_text(st, 5));
    cJSON_AddItemToObject(o, "createdAt", json_time(sqlite3_column_int64(st, 6)));
    cJSON *apps = cJSON_Parse(db_text(st, 7));
    cJSON_AddItemToObject(o, "apps", apps ? apps : cJSON_CreateArray());
    if (sqlite3_column_type(st, 8) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "firmwareVersion");
    else
        cJSON_AddStringToObject(o, "firmwareVersion", db_text(st, 8));
    /* The last thing/deviceinfo/update payload, as the device sent it. */
    if (sqlite3_column_type(st, 9) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "deviceInfo");
    else
        cJSON_AddStringToObject(o, "deviceInfo", db_text(st, 9));
    cJSON_AddItemToObject(o, "deviceInfoAt", json_time(sqlite3_column_int64(st, 10)));
    /* Why the broker last refused its login (the plugin's notice), or null. */
    cJSON *refusal = sqlite3_column_type(st, 11) == SQLITE_NULL ? NULL : cJSON_Parse(db_text(st, 11));
    cJSON_AddItemToObject(o, "lastRefusal", refusal ? refusal : cJSON_CreateNull());
    return o;
}

int device_exists(sqlite3 *db, const char *pk, const char *dn)
{
    return db_int(db, "SELECT 1 FROM devices WHERE product_key = ? AND device_name = ?", pk, dn) == 1;
}

static cJSON *load_device(sqlite3 *db, const char *pk, const char *dn)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.product_key = ? AND d.device_name = ?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? device_json(db, st) : NULL;
    sqlite3_finalize(st);
    return o;
}

/* Inserts one device; returns 1 inserted, 0 name taken, -1 error. */
static int insert_device(sqlite3 *db, const char *pk, const char *dn, const char *secret)
{
    char generated[33];
    if (!secret) {
        if (ids_random_alnum(generated, 32) < 0)
            return -1;
        secret = generated;
    }
    sqlite3_stmt *st = db_prepare(db, "INSERT OR IGNORE INTO devices(product_key, device_name, device_secret, created_at) "
                                      "VALUES (?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, time(NULL));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes(db);
}

static int valid_secret(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

static enum MHD_Result create_one(http_request *r, sqlite3 *db, const char *pk, cJSON *in)
{
    cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "deviceName");
    cJSON *secret = cJSON_GetObjectItemCaseSensitive(in, "deviceSecret");
    if (!cJSON_IsString(name) || !valid_device_name(name->valuestring))
        return reply_error(r, 400, "InvalidDeviceName", "deviceName must be 4..32 characters of A-Z a-z 0-9 _ @ . : -");
    if (secret && (!cJSON_IsString(secret) || !valid_secret(secret->valuestring)))
        return reply_error(r, 400, "InvalidDeviceSecret", "deviceSecret must be 32 letters or digits");
    int rc = insert_device(db, pk, name->valuestring, secret ? secret->valuestring : NULL);
    if (rc == 0)
        return reply_error(r, 409, "DeviceExists", "device %s already exists in product %s", name->valuestring, pk);
    cJSON *out = rc == 1 ? load_device(db, pk, name->valuestring) : NULL;
    if (!out)
        return reply_error(r, 500, "StorageError", "cannot store the device");
    return reply_json(r, 201, out);
}

/*
 * {"count":N,"prefix":"p"}: N new devices named <prefix><number>, numbers
 * counting up from 1 and skipping names already taken, at least 4 digits
 * wide; without a prefix the names are 20 random characters, as the real
 * cloud generates them.
 */
static enum MHD_Result create_batch(http_request *r, sqlite3 *db, const char *pk, cJSON *in)
{
    cJSON *count = cJSON_GetObjectItemCaseSensitive(in, "count");
    cJSON *prefix = cJSON_GetObjectItemCaseSensitive(in, "prefix");
    if (!cJSON_IsNumber(count) || count->valuedouble != (double)count->valueint || count->valueint < 1 ||
        count->valueint > MAX_BATCH)
        return reply_error(r, 400, "InvalidCount", "count must be an integer 1..%d", MAX_BATCH);
    const char *pfx = "";
    if (prefix && !cJSON_IsNull(prefix)) {
        if (!cJSON_IsString(prefix) || strlen(prefix->valuestring) > 26 ||
            strspn(prefix->valuestring, DEVICE_NAME_CHARS) != strlen(prefix->valuestring))
            return reply_error(r, 400, "InvalidPrefix", "prefix must be at most 26 characters of A-Z a-z 0-9 _ @ . : -");
        pfx = prefix->valuestring;
    }
    int n = count->valueint;
    if (db_exec(db, "BEGIN IMMEDIATE") < 0)
        return reply_error(r, 500, "StorageError", "cannot start a transaction");
    cJSON *items = cJSON_CreateArray();
    int made = 0, failed = 0;
    for (long next = 1; made < n && !failed && next < 10L * MAX_BATCH + n; next++) {
        char dn[40];
        if (*pfx)
            snprintf(dn, sizeof dn, "%s%04ld", pfx, next);
        else if (ids_random_alnum(dn, 20) < 0)
            failed = 1;
        if (failed || strlen(dn) > 32)
            break;
        int rc = insert_device(db, pk, dn, NULL);
        if (rc < 0)
            failed = 1;
        else if (rc == 1) {
            cJSON *d = load_device(db, pk, dn);
            if (!d)
                failed = 1;
            cJSON_AddItemToArray(items, d);
            made++;
        }
    }
    if (made < n || failed || db_exec(db, "COMMIT") < 0) {
        db_exec(db, "ROLLBACK");
        cJSON_Delete(items);
        if (!failed)
            return reply_error(r, 409, "DeviceNamesExhausted", "cannot make %d new names with prefix \"%s\"", n, pfx);
        return reply_error(r, 500, "StorageError", "cannot store the devices");
    }
    return reply_json(r, 201, http_list(items, made, 0, made));
}

enum MHD_Result api_device_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    const char *pk = r->params[0];
    sqlite3 *db = db_lock();
    if (db_int(db, "SELECT 1 FROM products WHERE product_key = ?", pk, NULL) != 1)
        ret = reply_error(r, 404, "ProductNotFound", "no product %s", pk);
    else if (cJSON_GetObjectItemCaseSensitive(in, "count"))
        ret = create_batch(r, db, pk, in);
    else
        ret = create_one(r, db, pk, in);
    db_unlock();
    cJSON_Delete(in);
    return ret;
}

enum MHD_Result api_device_list(http_request *r)
{
    const char *pk = r->params[0];
    const char *status = http_query(r, "status");
    if (status && strcmp(status, "online") && strcmp(status, "offline") && strcmp(status, "inactive"))
        return reply_error(r, 400, "InvalidParameter", "status must be online, offline or inactive");
    sqlite3 *db = db_lock();
    int exists = db_int(db, "SELECT 1 FROM products WHERE product_key = ?", pk, NULL) == 1;
    db_unlock();
    if (!exists)
        return reply_error(r, 404, "ProductNotFound", "no product %s", pk);
    return api_page(r, "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.product_key = ?1 "
                       "AND (?2 IS NULL OR d.status = ?2) ORDER BY d.device_name LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM devices WHERE product_key = ?1 AND (?2 IS NULL OR status = ?2)",
                    pk, status, device_json);
}

enum MHD_Result api_device_get(http_request *r)
{
    sqlite3 *db = db_lock();
    cJSON *o = load_device(db, r->params[0], r->params[1]);
    db_unlock();
    if (!o)
        return reply_error(r, 404, "DeviceNotFound", "no device %s in product %s", r->params[1], r->params[0]);
    return reply_json(r, 200, o);
}

enum MHD_Result api_device_delete(http_request *r)
{
    sqlite3 *db = db_lock();
    int changed = db_change(db, "DELETE FROM devices WHERE product_key = ? AND device_name = ?",
                            r->params[0], r->params[1]);
    db_unlock();
    if (changed < 0)
        return reply_error(r, 500, "StorageError", "cannot delete the device");
    if (!changed)
        return reply_error(r, 404, "DeviceNotFound", "no device %s in product %s", r->params[1], r->params[0]);
    return reply_json(r, 204, NULL);
}
