/*
 * api_devices.c - /api/v1/products/{pk}/devices: add one device or a batch,
 * list, get, delete, disable, enable; /api/v1/devices: the devices of every
 * product. The rules (names, generated or fixed secrets, batches all or
 * nothing) are service_devices.h's. A deleted or disabled device is
 * disconnected at once (kick.h).
 */
#include "api_shared.h"
#include "store_firmwares.h"
#include "kick.h"
#include "routes.h"
#include "service_devices.h"
#include "store_products.h"

#include <stdlib.h>
#include <string.h>

cJSON *device_json(const store_device *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", d->product_key);
    cJSON_AddStringToObject(o, "deviceName", d->device_name);
    cJSON_AddStringToObject(o, "deviceSecret", d->device_secret);
    cJSON_AddStringToObject(o, "status", d->status);
    cJSON_AddBoolToObject(o, "enabled", d->enabled);
    cJSON_AddItemToObject(o, "lastOnlineAt", json_time(d->last_online_at));
    cJSON_AddItemToObject(o, "ip", api_text_or_null(d->has_ip, d->ip));
    cJSON_AddItemToObject(o, "createdAt", json_time(d->created_at));
    cJSON *apps = cJSON_AddArrayToObject(o, "apps");
    for (int i = 0; i < d->app_count; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "appId", d->apps[i].app_id);
        cJSON_AddStringToObject(a, "version", d->apps[i].version);
        cJSON_AddItemToArray(apps, a);
    }
    cJSON_AddItemToObject(o, "firmwareVersion", api_text_or_null(d->has_firmware, d->firmware_version));
    /* The last thing/deviceinfo/update payload, as the device sent it. */
    cJSON_AddItemToObject(o, "deviceInfo", api_text_or_null(d->has_device_info, d->device_info));
    cJSON_AddItemToObject(o, "deviceInfoAt", json_time(d->device_info_at));
    /* Why the broker last refused its login (the plugin's notice), or null. */
    cJSON *refusal = d->has_refusal ? cJSON_Parse(d->last_refusal) : NULL;
    cJSON_AddItemToObject(o, "lastRefusal", refusal ? refusal : cJSON_CreateNull());
    return o;
}

static cJSON *device_row(const void *row) { return device_json(row); }

static enum MHD_Result create_one(http_request *r, const char *pk, cJSON *in)
{
    store_device *d = malloc(sizeof *d);
    service_result res;
    if (!d)
        return reply_error(r, 500, "OutOfMemory", "out of memory");
    service_device_create(pk, api_text(in, "deviceName", 0), api_text(in, "deviceSecret", 0), d, &res);
    enum MHD_Result ret = res.status == SERVICE_OK ? reply_json(r, 201, device_json(d)) : api_fail(r, &res);
    free(d);
    return ret;
}

static void add_to_list(const store_device *d, void *items) { cJSON_AddItemToArray(items, device_json(d)); }

/* {"count":N,"prefix":"p"}: N new devices (service_device_batch). */
static enum MHD_Result create_batch(http_request *r, const char *pk, cJSON *in)
{
    cJSON *count = cJSON_GetObjectItemCaseSensitive(in, "count");
    long n = cJSON_IsNumber(count) && count->valuedouble == (double)count->valueint ? count->valueint : 0;
    cJSON *items = cJSON_CreateArray();
    service_result res;
    if (service_device_batch(pk, n, api_text(in, "prefix", 1), add_to_list, items, &res) != SERVICE_OK) {
        cJSON_Delete(items);
        return api_fail(r, &res);
    }
    return reply_json(r, 201, http_list(items, n, 0, (int)n));
}

enum MHD_Result api_device_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    if (cJSON_GetObjectItemCaseSensitive(in, "count"))
        ret = create_batch(r, r->params[0], in);
    else
        ret = create_one(r, r->params[0], in);
    cJSON_Delete(in);
    return ret;
}

/* ?status= of a device list: NULL (any) or a status; false for another value. */
static bool status_filter(http_request *r, const char **status)
{
    *status = http_query(r, "status");
    return !*status || !strcmp(*status, "online") || !strcmp(*status, "offline") || !strcmp(*status, "inactive");
}

enum MHD_Result api_device_list(http_request *r)
{
    const char *pk = r->params[0];
    const char *status;
    if (!status_filter(r, &status))
        return reply_error(r, 400, "InvalidParameter", "status must be online, offline or inactive");
    store_product p;
    store_status s = store_product_get(pk, &p);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the product", "ProductNotFound", "no product %s", pk);
    api_page pg;
    if (!api_page_begin(r, &pg, device_row))
        return pg.ret;
    return api_page_end(r, &pg, store_device_list(pk, status, &pg.page));
}

/* GET /api/v1/devices: every product's devices, ?productKey= and ?status=
 * narrowing the list (an unknown ProductKey lists none). */
enum MHD_Result api_device_list_all(http_request *r)
{
    const char *pk = http_query(r, "productKey");
    const char *status;
    if (!status_filter(r, &status))
        return reply_error(r, 400, "InvalidParameter", "status must be online, offline or inactive");
    api_page pg;
    if (!api_page_begin(r, &pg, device_row))
        return pg.ret;
    return api_page_end(r, &pg, store_device_list(pk && *pk ? pk : NULL, status, &pg.page));
}

/* A module version the device reported, into the array ctx. */
static void add_module(const void *row, void *list)
{
    const store_device_module *m = row;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "moduleName", m->module_name);
    cJSON_AddStringToObject(o, "version", m->version);
    cJSON_AddItemToObject(o, "reportedAt", json_time(m->reported_at));
    cJSON_AddItemToArray(list, o);
}

/* One device: its JSON, with the firmware module versions it reported. */
enum MHD_Result api_device_get(http_request *r)
{
    store_device *d = malloc(sizeof *d);
    if (!d)
        return reply_error(r, 500, "OutOfMemory", "out of memory");
    store_status s = store_device_get(r->params[0], r->params[1], d);
    cJSON *modules = cJSON_CreateArray();
    if (s == STORE_OK)
        s = store_device_modules(r->params[0], r->params[1], add_module, modules);
    cJSON *o = s == STORE_OK ? device_json(d) : NULL;
    if (o)
        cJSON_AddItemToObject(o, "modules", modules);
    else
        cJSON_Delete(modules);
    enum MHD_Result ret = o ? reply_json(r, 200, o)
                            : api_store_fail(r, s, "read the device", "DeviceNotFound",
                                             "no device %s in product %s", r->params[1], r->params[0]);
    free(d);
    return ret;
}

enum MHD_Result api_device_delete(http_request *r)
{
    store_status s = store_device_delete(r->params[0], r->params[1]);
    if (s != STORE_OK)
        return api_store_fail(r, s, "delete the device", "DeviceNotFound", "no device %s in product %s",
                              r->params[1], r->params[0]);
    kick_device(r->params[0], r->params[1]);
    return reply_json(r, 204, NULL);
}

/* POST .../disable and .../enable: the device as it is now. */
static enum MHD_Result set_enabled(http_request *r, bool enabled)
{
    store_device *d = malloc(sizeof *d);
    service_result res;
    if (!d)
        return reply_error(r, 500, "OutOfMemory", "out of memory");
    service_device_set_enabled(r->params[0], r->params[1], enabled, d, &res);
    if (res.status == SERVICE_OK && !enabled)
        kick_device(r->params[0], r->params[1]);
    enum MHD_Result ret = res.status == SERVICE_OK ? reply_json(r, 200, device_json(d)) : api_fail(r, &res);
    free(d);
    return ret;
}

enum MHD_Result api_device_disable(http_request *r) { return set_enabled(r, false); }

enum MHD_Result api_device_enable(http_request *r) { return set_enabled(r, true); }
