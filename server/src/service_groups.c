/*
 * service_groups.c - the rules for groups and their members (see
 * service_groups.h).
 */
#include "clock.h"
#include "service_groups.h"
#include "identifiers.h"
#include "ids.h"
#include "store_devices.h"

#include <stdio.h>
#include <time.h>

static int make_group_id(char *id, size_t len)
{
    snprintf(id, len, "grp-");
    return ids_random_hex(id + 4, 12);
}

static store_status insert_group(const char *gid, void *name)
{
    return store_group_insert(gid, name, clock_now());
}

service_status service_group_create(const char *name, const char *gid, store_group *out, service_result *res)
{
    if (name == service_not_text || !valid_display_name(name, 64))
        return service_fail(res, SERVICE_INVALID, "InvalidName",
                            "name must be 1..64 bytes of text without control characters");
    if (gid && (gid == service_not_text || !valid_token(gid)))
        return service_fail(res, SERVICE_INVALID, "InvalidGroupId", "groupId must be 1..40 of A-Z a-z 0-9 _ -");
    char id[STORE_ID_SIZE];
    store_status s = service_insert_id(id, sizeof id, gid, make_group_id, insert_group, (void *)name);
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "GroupExists", "group %s already exists", id);
    if (s != STORE_OK || store_group_get(id, out) != STORE_OK)
        return service_storage_error(res, "store the group");
    return service_ok(res);
}

/* The group gid into g: SERVICE_OK, or GroupNotFound / StorageError. */
static service_status find_group(const char *gid, store_group *g, service_result *res)
{
    store_status s = store_group_get(gid, g);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "GroupNotFound", "no group %s", gid);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the group");
}

/* Adds one member inside the open transaction; counts it in *added. */
static service_status add_member(const char *gid, const service_member *m, int *added, service_result *res)
{
    if (!m->product_key || !m->device_name)
        return service_fail(res, SERVICE_INVALID, "InvalidDevices",
                            "each device needs productKey and deviceName strings");
    store_status s = store_device_exists(m->product_key, m->device_name);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "DeviceNotFound", "no device %.40s in product %.16s",
                            m->device_name, m->product_key);
    if (s == STORE_OK)
        s = store_group_add_member(gid, m->product_key, m->device_name, clock_now());
    if (s == STORE_OK)
        (*added)++;
    else if (s != STORE_EXISTS)
        return service_storage_error(res, "store the members");
    return service_ok(res);
}

service_status service_group_add(const char *gid, const service_member *list, int n, int *added, int64_t *count,
                                 service_result *res)
{
    *added = 0;
    *count = 0;
    store_group g;
    if (n <= 0)
        return service_fail(res, SERVICE_INVALID, "InvalidDevices",
                            "devices must be a non-empty array of {productKey, deviceName}");
    if (find_group(gid, &g, res) != SERVICE_OK)
        return res->status;
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "store the members");
    for (int i = 0; i < n; i++) {
        if (add_member(gid, &list[i], added, res) != SERVICE_OK) {
            store_rollback();
            return res->status;
        }
    }
    if (store_commit() != STORE_OK || store_group_get(gid, &g) != STORE_OK)
        return service_storage_error(res, "store the members");
    *count = g.device_count;
    return service_ok(res);
}

service_status service_group_remove(const char *gid, const char *pk, const char *dn, service_result *res)
{
    store_group g;
    if (find_group(gid, &g, res) != SERVICE_OK)
        return res->status;
    store_status s = store_group_remove_member(gid, pk, dn);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "NotAMember", "device %s/%s is not in group %s", pk, dn, gid);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "remove the member");
}
