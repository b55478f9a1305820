/*
 * aliyun_actions_devices.c - the IoT Platform API's products and devices
 * (aliyun_actions.h): CreateProduct, QueryProduct, QueryProductList,
 * DeleteProduct, RegisterDevice, BatchRegisterDevice with
 * QueryBatchRegisterDeviceStatus and QueryPageByApplyId, QueryDeviceDetail,
 * QueryDevice, GetDeviceStatus, BatchGetDeviceState, DisableThing,
 * EnableThing, DeleteDevice. The rules are service_devices.h's (and
 * service_applies.h's for batches); a deleted or disabled device is
 * disconnected at once (kick.h), as through the REST API.
 */
#include "aliyun_actions.h"
#include "kick.h"
#include "service_applies.h"
#include "service_devices.h"
#include "store_products.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX 50 /* PageSize of the list actions: 1..50 */

/* A device's status in the API's words. */
static const char *device_state(const store_device *d)
{
    if (!d->enabled)
        return "DISABLE";
    if (!strcmp(d->status, "online"))
        return "ONLINE";
    if (!strcmp(d->status, "offline"))
        return "OFFLINE";
    return "UNACTIVE";
}

/* The IotId of a device: its ProductKey and DeviceName (stable, unique). */
static const char *iot_id(const char *pk, const char *dn, char out[80])
{
    snprintf(out, 80, "%s%s", pk, dn);
    return out;
}

/* Reads the device ProductKey/DeviceName names; answers and returns NULL
 * when they are missing or it does not exist. Free the result. */
static store_device *named_device(aliyun_call *c, enum MHD_Result *ret)
{
    const char *pk = aliyun_get(c, "ProductKey"), *dn = aliyun_get(c, "DeviceName");
    if (!pk || !*pk || !dn || !*dn) {
        *ret = aliyun_missing(c, !pk || !*pk ? "ProductKey" : "DeviceName");
        return NULL;
    }
    store_device *d = malloc(sizeof *d);
    store_status s = d ? store_device_get(pk, dn, d) : STORE_ERROR;
    if (s == STORE_OK)
        return d;
    free(d);
    if (s == STORE_NOT_FOUND)
        *ret = aliyun_error(c, "iot.device.NotExistedDevice", "The device does not exist.");
    else
        *ret = aliyun_error(c, "iot.system.SystemException", "cannot read the device");
    return NULL;
}

/* ---- products ---- */

static cJSON *product_info(const store_product *p)
{
    char t[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ProductKey", p->product_key);
    cJSON_AddStringToObject(o, "ProductName", p->name);
    cJSON_AddNumberToObject(o, "DeviceCount", (double)p->device_count);
    cJSON_AddNumberToObject(o, "NodeType", 0);
    cJSON_AddNumberToObject(o, "DataFormat", 1);
    cJSON_AddStringToObject(o, "AuthType", "secret");
    cJSON_AddStringToObject(o, "ProductStatus", "DEVELOPMENT_STATUS");
    cJSON_AddNumberToObject(o, "GmtCreate", (double)p->created_at * 1000);
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(p->created_at, t));
    return o;
}

enum MHD_Result aliyun_create_product(aliyun_call *c)
{
    const char *name = aliyun_get(c, "ProductName");
    if (!name || !*name)
        return aliyun_missing(c, "ProductName");
    long node;
    if (!aliyun_get_int(c, "NodeType", 0, 0, 1, &node))
        return aliyun_invalid(c, "NodeType");
    store_product p;
    service_result res;
    if (service_product_create(name, NULL, &p, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "ProductKey", p.product_key);
    cJSON_AddStringToObject(data, "ProductName", p.name);
    cJSON_AddNumberToObject(data, "NodeType", (double)node);
    cJSON_AddNumberToObject(data, "DataFormat", 1);
    cJSON_AddStringToObject(data, "AuthType", "secret");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Data", data);
    cJSON_AddStringToObject(o, "ProductKey", p.product_key);
    return aliyun_ok(c, o);
}

/* The product named by ProductKey into p; answers and returns false when
 * missing or unknown. */
static bool named_product(aliyun_call *c, store_product *p, enum MHD_Result *ret)
{
    const char *pk = aliyun_get(c, "ProductKey");
    if (!pk || !*pk) {
        *ret = aliyun_missing(c, "ProductKey");
        return false;
    }
    store_status s = store_product_get(pk, p);
    if (s == STORE_OK)
        return true;
    *ret = s == STORE_NOT_FOUND ? aliyun_error(c, "iot.prod.NotExistedProduct", "The product does not exist.")
                                : aliyun_error(c, "iot.system.SystemException", "cannot read the product");
    return false;
}

enum MHD_Result aliyun_query_product(aliyun_call *c)
{
    store_product p;
    enum MHD_Result ret;
    if (!named_product(c, &p, &ret))
        return ret;
    return aliyun_ok_data(c, product_info(&p));
}

static void add_product(const void *row, void *list) { cJSON_AddItemToArray(list, product_info(row)); }

/* CurrentPage (from 1) and PageSize (1..max) into a store page; answers
 * iot.common.InvalidPageParams and returns false when out of range. */
static bool page_params(aliyun_call *c, long max, long *current, long *size, store_page *pg, enum MHD_Result *ret)
{
    if (!aliyun_get_int(c, "CurrentPage", 1, 1, 100000000, current) ||
        !aliyun_get_int(c, "PageSize", 10, 1, max, size)) {
        *ret = aliyun_error(c, "iot.common.InvalidPageParams", "CurrentPage must be 1 or more and PageSize 1..%ld.",
                            max);
        return false;
    }
    long long offset = (long long)(*current - 1) * *size; /* up to 10^8 pages of max rows */
    pg->offset = offset > INT_MAX ? INT_MAX : (int)offset; /* past any list: an empty page */
    pg->limit = (int)*size;
    return true;
}

/* The paging members of a list answer. */
static void add_paging(cJSON *o, long current, long size, int64_t total)
{
    cJSON_AddNumberToObject(o, "CurrentPage", (double)current);
    cJSON_AddNumberToObject(o, "PageSize", (double)size);
    cJSON_AddNumberToObject(o, "PageCount", (double)((total + size - 1) / size));
    cJSON_AddNumberToObject(o, "Total", (double)total);
}

enum MHD_Result aliyun_query_product_list(aliyun_call *c)
{
    long current, size;
    store_page pg = {0};
    enum MHD_Result ret;
    if (!page_params(c, 200, &current, &size, &pg, &ret))
        return ret;
    cJSON *items = cJSON_CreateArray();
    pg.each = add_product;
    pg.ctx = items;
    if (store_product_list(&pg) != STORE_OK) {
        cJSON_Delete(items);
        return aliyun_error(c, "iot.system.SystemException", "cannot list the products");
    }
    cJSON *data = cJSON_CreateObject();
    add_paging(data, current, size, pg.total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(data, "List"), "ProductInfo", items);
    return aliyun_ok_data(c, data);
}

enum MHD_Result aliyun_delete_product(aliyun_call *c)
{
    const char *pk = aliyun_get(c, "ProductKey");
    if (!pk || !*pk)
        return aliyun_missing(c, "ProductKey");
    service_result res;
    if (service_product_delete(pk, kick_devices, NULL, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    return aliyun_ok(c, cJSON_CreateObject());
}

/* ---- devices ---- */

static cJSON *register_data(const store_device *d)
{
    char id[80];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "IotId", iot_id(d->product_key, d->device_name, id));
    cJSON_AddStringToObject(o, "ProductKey", d->product_key);
    cJSON_AddStringToObject(o, "DeviceName", d->device_name);
    cJSON_AddStringToObject(o, "DeviceSecret", d->device_secret);
    cJSON_AddStringToObject(o, "DeviceStatus", device_state(d));
    cJSON_AddStringToObject(o, "Nickname", "");
    return o;
}

enum MHD_Result aliyun_register_device(aliyun_call *c)
{
    const char *pk = aliyun_get(c, "ProductKey"), *dn = aliyun_get(c, "DeviceName");
    if (!pk || !*pk)
        return aliyun_missing(c, "ProductKey");
    store_device *d = malloc(sizeof *d);
    if (!d)
        return aliyun_error(c, "iot.system.SystemException", "out of memory");
    service_result res;
    enum MHD_Result ret;
    /* Without a DeviceName the cloud makes one: a batch of one here. */
    if (dn && *dn)
        service_device_create(pk, dn, NULL, d, &res);
    else
        service_device_one_generated(pk, d, &res);
    ret = res.status == SERVICE_OK ? aliyun_ok_data(c, register_data(d)) : aliyun_service_error(c, &res);
    free(d);
    return ret;
}

enum MHD_Result aliyun_batch_register_device(aliyun_call *c)
{
    const char *pk = aliyun_get(c, "ProductKey");
    long count;
    if (!pk || !*pk)
        return aliyun_missing(c, "ProductKey");
    if (!aliyun_get(c, "Count"))
        return aliyun_missing(c, "Count");
    if (!aliyun_get_int(c, "Count", 0, 1, SERVICE_MAX_BATCH, &count))
        return aliyun_invalid(c, "Count");
    int64_t apply_id;
    service_result res;
    if (service_apply_batch(pk, count, &apply_id, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    cJSON *data = cJSON_CreateObject();
    cJSON_AddNumberToObject(data, "ApplyId", (double)apply_id);
    return aliyun_ok_data(c, data);
}

/* The ApplyId parameter, an apply of the cloud's (a batch) into a; answers
 * and returns false when missing or unknown. */
static bool named_apply(aliyun_call *c, store_apply *a, enum MHD_Result *ret)
{
    long id;
    if (!aliyun_get(c, "ApplyId")) {
        *ret = aliyun_missing(c, "ApplyId");
        return false;
    }
    if (!aliyun_get_int(c, "ApplyId", 0, 1, 2000000000, &id)) {
        *ret = aliyun_invalid(c, "ApplyId");
        return false;
    }
    service_result res;
    if (service_apply_get(id, a, &res) != SERVICE_OK) {
        *ret = aliyun_error(c, "iot.device.InvalidFormattedApplyId", "%s", res.message);
        return false;
    }
    return true;
}

static void add_name(const void *row, void *list)
{
    const store_apply_device *d = row;
    cJSON_AddItemToArray(list, cJSON_CreateString(d->device_name));
}

enum MHD_Result aliyun_query_batch_register_status(aliyun_call *c)
{
    store_apply a;
    enum MHD_Result ret;
    if (!named_apply(c, &a, &ret))
        return ret;
    const char *pk = aliyun_get(c, "ProductKey");
    if (pk && *pk && strcmp(pk, a.product_key) != 0)
        return aliyun_error(c, "iot.device.InvalidFormattedApplyId", "The ApplyId is not of this product.");
    cJSON *valid = cJSON_CreateArray();
    store_page pg = {.offset = 0, .limit = SERVICE_MAX_BATCH, .each = add_name, .ctx = valid};
    if (store_apply_devices(a.apply_id, &pg) != STORE_OK) {
        cJSON_Delete(valid);
        return aliyun_error(c, "iot.system.SystemException", "cannot read the batch");
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "Status", "CREATE_SUCCESS");
    cJSON_AddItemToObject(cJSON_AddObjectToObject(data, "ValidList"), "Name", valid);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(data, "InvalidList"), "Name", cJSON_CreateArray());
    return aliyun_ok_data(c, data);
}

static void add_apply_device(const void *row, void *list)
{
    const store_apply_device *d = row;
    char id[80];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "DeviceId", iot_id(d->product_key, d->device_name, id));
    cJSON_AddStringToObject(o, "IotId", id);
    cJSON_AddStringToObject(o, "DeviceName", d->device_name);
    cJSON_AddStringToObject(o, "DeviceSecret", d->device_secret);
    cJSON_AddItemToArray(list, o);
}

enum MHD_Result aliyun_query_page_by_apply_id(aliyun_call *c)
{
    store_apply a;
    long current, size;
    store_page pg = {0};
    enum MHD_Result ret;
    if (!named_apply(c, &a, &ret) || !page_params(c, PAGE_MAX, &current, &size, &pg, &ret))
        return ret;
    cJSON *items = cJSON_CreateArray();
    pg.each = add_apply_device;
    pg.ctx = items;
    if (store_apply_devices(a.apply_id, &pg) != STORE_OK) {
        cJSON_Delete(items);
        return aliyun_error(c, "iot.system.SystemException", "cannot read the batch");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "Page", (double)current);
    add_paging(o, current, size, pg.total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "ApplyDeviceList"), "ApplyDeviceInfo", items);
    return aliyun_ok(c, o);
}

enum MHD_Result aliyun_query_device_detail(aliyun_call *c)
{
    enum MHD_Result ret;
    store_device *d = named_device(c, &ret);
    if (!d)
        return ret;
    char t[32], id[80];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "IotId", iot_id(d->product_key, d->device_name, id));
    cJSON_AddStringToObject(o, "ProductKey", d->product_key);
    cJSON_AddStringToObject(o, "DeviceName", d->device_name);
    cJSON_AddStringToObject(o, "DeviceSecret", d->device_secret);
    cJSON_AddStringToObject(o, "Status", device_state(d));
    cJSON_AddStringToObject(o, "FirmwareVersion", d->has_firmware ? d->firmware_version : "");
    cJSON_AddStringToObject(o, "IpAddress", d->has_ip ? d->ip : "");
    cJSON_AddNumberToObject(o, "NodeType", 0);
    cJSON_AddStringToObject(o, "Nickname", "");
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(d->created_at, t));
    cJSON_AddStringToObject(o, "GmtCreate", aliyun_gmt(d->created_at, t));
    cJSON_AddStringToObject(o, "UtcActive", aliyun_utc(d->last_online_at, t));
    cJSON_AddStringToObject(o, "GmtActive", aliyun_gmt(d->last_online_at, t));
    cJSON_AddStringToObject(o, "UtcOnline", aliyun_utc(d->last_online_at, t));
    cJSON_AddStringToObject(o, "GmtOnline", aliyun_gmt(d->last_online_at, t));
    free(d);
    return aliyun_ok_data(c, o);
}

static void add_device_info(const void *row, void *list)
{
    const store_device *d = row;
    char t[32], id[80];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "DeviceId", iot_id(d->product_key, d->device_name, id));
    cJSON_AddStringToObject(o, "IotId", id);
    cJSON_AddStringToObject(o, "ProductKey", d->product_key);
    cJSON_AddStringToObject(o, "DeviceName", d->device_name);
    cJSON_AddStringToObject(o, "DeviceSecret", d->device_secret);
    cJSON_AddStringToObject(o, "DeviceStatus", device_state(d));
    cJSON_AddStringToObject(o, "DeviceType", "");
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(d->created_at, t));
    cJSON_AddStringToObject(o, "GmtCreate", aliyun_gmt(d->created_at, t));
    cJSON_AddStringToObject(o, "UtcModified", aliyun_utc(d->created_at, t));
    cJSON_AddItemToArray(list, o);
}

enum MHD_Result aliyun_query_device(aliyun_call *c)
{
    store_product p;
    long current, size;
    store_page pg = {0};
    enum MHD_Result ret;
    if (!named_product(c, &p, &ret) || !page_params(c, PAGE_MAX, &current, &size, &pg, &ret))
        return ret;
    cJSON *items = cJSON_CreateArray();
    pg.each = add_device_info;
    pg.ctx = items;
    if (store_device_list(p.product_key, NULL, &pg) != STORE_OK) {
        cJSON_Delete(items);
        return aliyun_error(c, "iot.system.SystemException", "cannot list the devices");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "Page", (double)current);
    add_paging(o, current, size, pg.total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "Data"), "DeviceInfo", items);
    return aliyun_ok(c, o);
}

enum MHD_Result aliyun_get_device_status(aliyun_call *c)
{
    enum MHD_Result ret;
    store_device *d = named_device(c, &ret);
    if (!d)
        return ret;
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "Status", device_state(d));
    free(d);
    return aliyun_ok_data(c, data);
}

enum MHD_Result aliyun_batch_get_device_state(aliyun_call *c)
{
    store_product p;
    enum MHD_Result ret;
    if (!named_product(c, &p, &ret))
        return ret;
    store_device *d = malloc(sizeof *d);
    cJSON *list = cJSON_CreateArray();
    char name[24], t[32], id[80];
    for (int i = 1; d && i <= 100; i++) {
        snprintf(name, sizeof name, "DeviceName.%d", i);
        const char *dn = aliyun_get(c, name);
        if (!dn)
            break;
        if (store_device_get(p.product_key, dn, d) != STORE_OK)
            continue; /* the cloud leaves out names it does not know */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "IotId", iot_id(d->product_key, d->device_name, id));
        cJSON_AddStringToObject(o, "DeviceName", d->device_name);
        cJSON_AddStringToObject(o, "Status", device_state(d));
        cJSON_AddStringToObject(o, "LastOnlineTime", aliyun_gmt(d->last_online_at, t));
        cJSON_AddStringToObject(o, "AsAddress", d->has_ip ? d->ip : "");
        cJSON_AddItemToArray(list, o);
    }
    free(d);
    if (!aliyun_get(c, "DeviceName.1")) {
        cJSON_Delete(list);
        return aliyun_missing(c, "DeviceName.1");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "DeviceStatusList"), "DeviceStatus", list);
    return aliyun_ok(c, o);
}

static enum MHD_Result set_enabled(aliyun_call *c, bool enabled)
{
    enum MHD_Result ret;
    store_device *d = named_device(c, &ret);
    if (!d)
        return ret;
    service_result res;
    service_device_set_enabled(d->product_key, d->device_name, enabled, d, &res);
    if (res.status == SERVICE_OK && !enabled)
        kick_device(d->product_key, d->device_name);
    ret = res.status == SERVICE_OK ? aliyun_ok(c, cJSON_CreateObject()) : aliyun_service_error(c, &res);
    free(d);
    return ret;
}

enum MHD_Result aliyun_disable_thing(aliyun_call *c) { return set_enabled(c, false); }
enum MHD_Result aliyun_enable_thing(aliyun_call *c) { return set_enabled(c, true); }

enum MHD_Result aliyun_delete_device(aliyun_call *c)
{
    enum MHD_Result ret;
    store_device *d = named_device(c, &ret);
    if (!d)
        return ret;
    service_result res;
    store_status s = store_device_delete(d->product_key, d->device_name);
    if (s == STORE_OK)
        service_ok(&res);
    else
        service_fail(&res, s == STORE_NOT_FOUND ? SERVICE_NOT_FOUND : SERVICE_ERROR, s == STORE_NOT_FOUND ? "DeviceNotFound" : "StorageError", "cannot delete the device");
    if (res.status == SERVICE_OK)
        kick_device(d->product_key, d->device_name);
    ret = res.status == SERVICE_OK ? aliyun_ok(c, cJSON_CreateObject()) : aliyun_service_error(c, &res);
    free(d);
    return ret;
}
