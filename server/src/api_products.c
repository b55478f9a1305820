/*
 * api_products.c - /api/v1/products: create, list, get, delete.
 *
 * A product groups devices, like a product of Alibaba Cloud IoT Platform
 * linked to the HaaS console (tutorial 2.2-2.3). Deleting a product deletes
 * its devices and their group memberships.
 */
#include "api_shared.h"
#include "db.h"
#include "ids.h"
#include "routes.h"
#include "validate.h"

#include <string.h>
#include <time.h>

#define PRODUCT_COLUMNS \
    "p.product_key, p.name, p.created_at, " \
    "(SELECT COUNT(*) FROM devices d WHERE d.product_key = p.product_key)"

static cJSON *product_json(sqlite3 *db, sqlite3_stmt *st)
{
    (void)db;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", db_text(st, 0));
    cJSON_AddStringToObject(o, "name", db_text(st, 1));
    cJSON_AddItemToObject(o, "createdAt", json_time(sqlite3_column_int64(st, 2)));
    cJSON_AddNumberToObject(o, "deviceCount", (double)sqlite3_column_int64(st, 3));
    return o;
}

/* The product with key pk as JSON, or NULL. Caller holds the lock. */
static cJSON *load_product(sqlite3 *db, const char *pk)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " PRODUCT_COLUMNS " FROM products p WHERE p.product_key = ?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? product_json(db, st) : NULL;
    sqlite3_finalize(st);
    return o;
}

enum MHD_Result api_product_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
    cJSON *key = cJSON_GetObjectItemCaseSensitive(in, "productKey");
    char pk[16] = "";
    if (!cJSON_IsString(name) || !valid_display_name(name->valuestring, 64)) {
        cJSON_Delete(in);
        return reply_error(r, 400, "InvalidName", "name must be 1..64 bytes of text without control characters");
    }
    if (key && !cJSON_IsNull(key)) {
        if (!cJSON_IsString(key) || !valid_product_key(key->valuestring)) {
            cJSON_Delete(in);
            return reply_error(r, 400, "InvalidProductKey", "productKey must be 11 letters or digits");
        }
        strcpy(pk, key->valuestring);
    }

    sqlite3 *db = db_lock();
    cJSON *out = NULL;
    int exists = 0;
    for (int attempt = 0; attempt < 10 && !out && !exists; attempt++) {
        if (!key || cJSON_IsNull(key))
            ids_product_key(pk);
        sqlite3_stmt *st = db_prepare(db, "INSERT OR IGNORE INTO products(product_key, name, created_at) VALUES (?, ?, ?)");
        if (!st)
            break;
        sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, time(NULL));
        int ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok)
            break;
        if (sqlite3_changes(db) == 1)
            out = load_product(db, pk);
        else if (key && !cJSON_IsNull(key))
            exists = 1;
    }
    db_unlock();
    cJSON_Delete(in);
    if (exists)
        return reply_error(r, 409, "ProductExists", "product %s already exists", pk);
    if (!out)
        return reply_error(r, 500, "StorageError", "cannot store the product");
    return reply_json(r, 201, out);
}

enum MHD_Result api_product_list(http_request *r)
{
    return api_page(r, "SELECT " PRODUCT_COLUMNS " FROM products p ORDER BY p.created_at, p.product_key LIMIT ?3 OFFSET ?4",
                    "SELECT COUNT(*) FROM products", NULL, NULL, product_json);
}

enum MHD_Result api_product_get(http_request *r)
{
    sqlite3 *db = db_lock();
    cJSON *o = load_product(db, r->params[0]);
    db_unlock();
    if (!o)
        return reply_error(r, 404, "ProductNotFound", "no product %s", r->params[0]);
    return reply_json(r, 200, o);
}

enum MHD_Result api_product_delete(http_request *r)
{
    sqlite3 *db = db_lock();
    int changed = db_change(db, "DELETE FROM products WHERE product_key = ?", r->params[0], NULL);
    db_unlock();
    if (changed < 0)
        return reply_error(r, 500, "StorageError", "cannot delete the product");
    if (!changed)
        return reply_error(r, 404, "ProductNotFound", "no product %s", r->params[0]);
    return reply_json(r, 204, NULL);
}
