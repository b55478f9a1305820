/*
 * service_devices.c - the rules for products and devices (see
 * service_devices.h).
 */
#include "clock.h"
#include "service_devices.h"
#include "identifiers.h"
#include "ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEVICE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@.:-"
#define MAX_PREFIX 26

static int make_product_key(char *id, size_t len)
{
    (void)len;
    return ids_product_key(id);
}

static store_status insert_product(const char *pk, void *name)
{
    return store_product_insert(pk, name, clock_now());
}

service_status service_product_create(const char *name, const char *pk, store_product *out, service_result *res)
{
    if (name == service_not_text || !valid_display_name(name, 64))
        return service_fail(res, SERVICE_INVALID, "InvalidName",
                            "name must be 1..64 bytes of text without control characters");
    if (pk && (pk == service_not_text || !valid_product_key(pk)))
        return service_fail(res, SERVICE_INVALID, "InvalidProductKey", "productKey must be 11 letters or digits");
    char key[STORE_PK_SIZE];
    store_status s = service_insert_id(key, sizeof key, pk, make_product_key, insert_product, (void *)name);
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "ProductExists", "product %s already exists", key);
    if (s != STORE_OK || store_product_get(key, out) != STORE_OK)
        return service_storage_error(res, "store the product");
    return service_ok(res);
}

/* Is there a product pk? SERVICE_OK, or the error in res. */
static service_status product_exists(const char *pk, service_result *res)
{
    store_product p;
    store_status s = store_product_get(pk, &p);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "ProductNotFound", "no product %s", pk);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the product");
}

/* Adds device dn with secret (NULL: generated): STORE_OK, STORE_EXISTS, ... */
static store_status insert_device(const char *pk, const char *dn, const char *secret)
{
    char generated[STORE_SECRET_SIZE];
    if (!secret) {
        if (ids_random_alnum(generated, HAAS_DS_LEN) < 0)
            return STORE_ERROR;
        secret = generated;
    }
    return store_device_insert(pk, dn, secret, clock_now());
}

service_status service_device_create(const char *pk, const char *dn, const char *secret, store_device *out,
                                     service_result *res)
{
    if (product_exists(pk, res) != SERVICE_OK)
        return res->status;
    if (dn == service_not_text || !valid_device_name(dn))
        return service_fail(res, SERVICE_INVALID, "InvalidDeviceName",
                            "deviceName must be 4..32 characters of A-Z a-z 0-9 _ @ . : -");
    if (secret && (secret == service_not_text || !valid_device_secret(secret)))
        return service_fail(res, SERVICE_INVALID, "InvalidDeviceSecret", "deviceSecret must be 32 letters or digits");
    store_status s = insert_device(pk, dn, secret);
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "DeviceExists", "device %s already exists in product %s", dn, pk);
    if (s != STORE_OK || store_device_get(pk, dn, out) != STORE_OK)
        return service_storage_error(res, "store the device");
    return service_ok(res);
}

/* The name of a batch's next candidate into dn: <prefix><next>, or random.
 * Returns 1, 0 when the names grew too long, -1 when randomness failed. */
static int batch_name(char dn[40], const char *prefix, long next)
{
    if (*prefix)
        snprintf(dn, 40, "%s%04ld", prefix, next);
    else if (ids_random_alnum(dn, 20) < 0)
        return -1;
    return strlen(dn) <= HAAS_DN_MAX;
}

/* Adds the batch's devices inside the open transaction; *made counts them.
 * Returns 0, or -1 on a storage error. */
static int add_batch(const char *pk, long count, const char *prefix, service_device_fn each, void *ctx, long *made)
{
    store_device d;
    for (long next = 1; *made < count && next < 10L * SERVICE_MAX_BATCH + count; next++) {
        char dn[40];
        int named = batch_name(dn, prefix, next);
        if (named <= 0)
            return named;
        store_status s = insert_device(pk, dn, NULL);
        if (s == STORE_EXISTS)
            continue;
        if (s != STORE_OK || store_device_get(pk, dn, &d) != STORE_OK)
            return -1;
        each(&d, ctx);
        (*made)++;
    }
    return 0;
}

service_status service_device_batch(const char *pk, long count, const char *prefix, service_device_fn each, void *ctx,
                                    service_result *res)
{
    if (product_exists(pk, res) != SERVICE_OK)
        return res->status;
    if (count < 1 || count > SERVICE_MAX_BATCH)
        return service_fail(res, SERVICE_INVALID, "InvalidCount", "count must be an integer 1..%d", SERVICE_MAX_BATCH);
    if (!prefix)
        prefix = "";
    if (prefix == service_not_text || strlen(prefix) > MAX_PREFIX ||
        strspn(prefix, DEVICE_NAME_CHARS) != strlen(prefix))
        return service_fail(res, SERVICE_INVALID, "InvalidPrefix",
                            "prefix must be at most 26 characters of A-Z a-z 0-9 _ @ . : -");
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "start a transaction");
    long made = 0;
    if (add_batch(pk, count, prefix, each, ctx, &made) < 0) {
        store_rollback();
        return service_storage_error(res, "store the devices");
    }
    if (made < count) {
        store_rollback();
        return service_fail(res, SERVICE_CONFLICT, "DeviceNamesExhausted",
                            "cannot make %ld new names with prefix \"%s\"", count, prefix);
    }
    if (store_commit() != STORE_OK)
        return service_storage_error(res, "store the devices");
    return service_ok(res);
}

/* The devices a product delete removes, kept until it committed. */
typedef struct {
    store_device_id *ids;
    size_t count, cap;
    bool failed; /* out of memory */
} id_list;

static void keep_id(const store_device_id *id, void *ctx)
{
    id_list *l = ctx;
    if (l->count == l->cap && !l->failed) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        store_device_id *more = realloc(l->ids, cap * sizeof *more);
        l->failed = !more;
        l->ids = more ? more : l->ids;
        l->cap = more ? cap : l->cap;
    }
    if (!l->failed)
        l->ids[l->count++] = *id;
}

/* service_product_delete in one transaction: the devices into l. */
static service_status delete_product(const char *pk, id_list *l, service_result *res)
{
    l->count = 0;
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "delete the product");
    store_status s = store_device_ids(pk, keep_id, l);
    if (s == STORE_OK && !l->failed)
        s = store_product_delete(pk);
    if (s != STORE_OK || l->failed) {
        store_rollback();
        if (s == STORE_NOT_FOUND)
            return service_fail(res, SERVICE_NOT_FOUND, "ProductNotFound", "no product %s", pk);
        return l->failed ? service_fail(res, SERVICE_ERROR, "OutOfMemory", "out of memory")
                         : service_storage_error(res, "delete the product");
    }
    if (store_commit() != STORE_OK)
        return service_storage_error(res, "delete the product");
    return service_ok(res);
}

service_status service_product_delete(const char *pk, service_devices_fn gone, void *ctx, service_result *res)
{
    id_list l = {0};
    /* on a full disk, once more with the room held back for deletes */
    if (delete_product(pk, &l, res) == SERVICE_FULL && store_give_reserve())
        delete_product(pk, &l, res);
    if (res->status == SERVICE_OK)
        gone(l.ids, l.count, ctx);
    free(l.ids);
    return res->status;
}

service_status service_device_set_enabled(const char *pk, const char *dn, bool enabled, store_device *out,
                                          service_result *res)
{
    store_status s = store_device_set_enabled(pk, dn, enabled);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "DeviceNotFound", "no device %s in product %s", dn, pk);
    if (s != STORE_OK || store_device_get(pk, dn, out) != STORE_OK)
        return service_storage_error(res, enabled ? "enable the device" : "disable the device");
    return service_ok(res);
}
