/*
 * api_groups.c - /api/v1/groups: test device groups (tutorial 2.4) and their
 * members. A push reaches the online members of the task's group. The rules
 * are service_groups.h's.
 */
#include "api_shared.h"
#include "routes.h"
#include "service_groups.h"

#include <stdlib.h>

static cJSON *group_json(const store_group *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "groupId", g->group_id);
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddItemToObject(o, "createdAt", json_time(g->created_at));
    cJSON_AddNumberToObject(o, "deviceCount", (double)g->device_count);
    return o;
}

static cJSON *group_row(const void *row) { return group_json(row); }

static cJSON *device_row(const void *row) { return device_json(row); }

enum MHD_Result api_group_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    store_group g;
    service_result res;
    /* groupId is generated unless given (seeded CI runs need fixed ids). */
    service_group_create(api_text(in, "name", 0), api_text(in, "groupId", 0), &g, &res);
    cJSON_Delete(in);
    return res.status == SERVICE_OK ? reply_json(r, 201, group_json(&g)) : api_fail(r, &res);
}

enum MHD_Result api_group_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, group_row))
        return pg.ret;
    return api_page_end(r, &pg, store_group_list(&pg.page));
}

enum MHD_Result api_group_get(http_request *r)
{
    store_group g;
    store_status s = store_group_get(r->params[0], &g);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the group", "GroupNotFound", "no group %s", r->params[0]);
    return reply_json(r, 200, group_json(&g));
}

enum MHD_Result api_group_delete(http_request *r)
{
    store_status s = store_group_delete(r->params[0]);
    if (s != STORE_OK)
        return api_store_fail(r, s, "delete the group", "GroupNotFound", "no group %s", r->params[0]);
    return reply_json(r, 204, NULL);
}

/* The members of {"devices":[{"productKey","deviceName"},...]} (NULL for a
 * name that is not a string); *n is 0 when devices is not an array. */
static service_member *members_of(cJSON *in, int *n)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(in, "devices"), *item;
    *n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    service_member *m = calloc(*n > 0 ? (size_t)*n : 1, sizeof *m);
    if (!m || *n == 0)
        return m;
    int i = 0;
    cJSON_ArrayForEach(item, list) {
        cJSON *pk = cJSON_GetObjectItemCaseSensitive(item, "productKey");
        cJSON *dn = cJSON_GetObjectItemCaseSensitive(item, "deviceName");
        m[i].product_key = cJSON_IsString(pk) ? pk->valuestring : NULL;
        m[i].device_name = cJSON_IsString(dn) ? dn->valuestring : NULL;
        i++;
    }
    return m;
}

/* All or nothing; devices already in the group are left as they are. */
enum MHD_Result api_group_add_devices(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    int n, added;
    int64_t count;
    service_member *members = members_of(in, &n);
    service_result res;
    if (!members)
        ret = reply_error(r, 500, "OutOfMemory", "out of memory");
    else if (service_group_add(r->params[0], members, n, &added, &count, &res) != SERVICE_OK)
        ret = api_fail(r, &res);
    else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "added", added);
        cJSON_AddNumberToObject(out, "deviceCount", (double)count);
        ret = reply_json(r, 200, out);
    }
    free(members);
    cJSON_Delete(in);
    return ret;
}

enum MHD_Result api_group_list_devices(http_request *r)
{
    const char *gid = r->params[0];
    store_group g;
    store_status s = store_group_get(gid, &g);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the group", "GroupNotFound", "no group %s", gid);
    api_page pg;
    if (!api_page_begin(r, &pg, device_row))
        return pg.ret;
    return api_page_end(r, &pg, store_device_list_group(gid, &pg.page));
}

enum MHD_Result api_group_remove_device(http_request *r)
{
    service_result res;
    if (service_group_remove(r->params[0], r->params[1], r->params[2], &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 204, NULL);
}
