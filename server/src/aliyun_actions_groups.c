/*
 * aliyun_actions_groups.c - the IoT Platform API's device groups
 * (aliyun_actions.h) on haas-emu's test device groups: CreateDeviceGroup,
 * BatchAddDeviceGroupRelations, QueryDeviceGroupList. The rules are
 * service_groups.h's.
 */
#include "aliyun_actions.h"
#include "service_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELATIONS_MAX 1000

enum MHD_Result aliyun_create_device_group(aliyun_call *c)
{
    const char *name = aliyun_get(c, "GroupName");
    if (!name || !*name)
        return aliyun_missing(c, "GroupName");
    store_group g;
    service_result res;
    if (service_group_create(name, NULL, &g, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    const char *desc = aliyun_get(c, "GroupDesc");
    char t[32];
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "GroupId", g.group_id);
    cJSON_AddStringToObject(data, "GroupName", g.name);
    cJSON_AddStringToObject(data, "GroupDesc", desc ? desc : "");
    cJSON_AddStringToObject(data, "UtcCreate", aliyun_utc(g.created_at, t));
    return aliyun_ok_data(c, data);
}

enum MHD_Result aliyun_batch_add_device_group_relations(aliyun_call *c)
{
    const char *gid = aliyun_get(c, "GroupId");
    if (!gid || !*gid)
        return aliyun_missing(c, "GroupId");
    service_member *list = calloc(RELATIONS_MAX, sizeof *list);
    if (!list)
        return aliyun_error(c, "iot.system.SystemException", "out of memory");
    int n = 0;
    char pk_key[40], dn_key[40];
    for (; n < RELATIONS_MAX; n++) {
        snprintf(pk_key, sizeof pk_key, "Device.%d.ProductKey", n + 1);
        snprintf(dn_key, sizeof dn_key, "Device.%d.DeviceName", n + 1);
        list[n].product_key = aliyun_get(c, pk_key);
        list[n].device_name = aliyun_get(c, dn_key);
        if (!list[n].product_key && !list[n].device_name)
            break;
    }
    int added = 0;
    int64_t count = 0;
    service_result res;
    enum MHD_Result ret;
    if (n == 0)
        ret = aliyun_missing(c, "Device.1.ProductKey");
    else if (service_group_add(gid, list, n, &added, &count, &res) != SERVICE_OK)
        ret = aliyun_service_error(c, &res);
    else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "ValidDeviceCount", n);
        cJSON_AddNumberToObject(o, "SuccessAddedDeviceCount", added);
        cJSON_AddNumberToObject(o, "ExceedTenGroupDeviceCount", 0);
        cJSON_AddNumberToObject(o, "AlreadyRelatedGroupDeviceCount", n - added);
        ret = aliyun_ok(c, o);
    }
    free(list);
    return ret;
}

static void add_group(const void *row, void *list)
{
    const store_group *g = row;
    char t[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "GroupId", g->group_id);
    cJSON_AddStringToObject(o, "GroupName", g->name);
    cJSON_AddStringToObject(o, "GroupDesc", "");
    cJSON_AddNumberToObject(o, "DeviceCount", (double)g->device_count);
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(g->created_at, t));
    cJSON_AddItemToArray(list, o);
}

enum MHD_Result aliyun_query_device_group_list(aliyun_call *c)
{
    long current, size;
    if (!aliyun_get_int(c, "CurrentPage", 1, 1, 100000000, &current) ||
        !aliyun_get_int(c, "PageSize", 10, 1, 200, &size))
        return aliyun_error(c, "iot.common.InvalidPageParams", "CurrentPage must be 1 or more and PageSize 1..200.");
    cJSON *items = cJSON_CreateArray();
    store_page pg = {.offset = (int)((current - 1) * size), .limit = (int)size, .each = add_group, .ctx = items};
    if (store_group_list(&pg) != STORE_OK) {
        cJSON_Delete(items);
        return aliyun_error(c, "iot.system.SystemException", "cannot list the groups");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "CurrentPage", (double)current);
    cJSON_AddNumberToObject(o, "PageSize", (double)size);
    cJSON_AddNumberToObject(o, "PageCount", (double)((pg.total + size - 1) / size));
    cJSON_AddNumberToObject(o, "Total", (double)pg.total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "Data"), "GroupInfo", items);
    return aliyun_ok(c, o);
}
