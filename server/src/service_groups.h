/*
 * service_groups.h - the rules for test device groups (tutorial 2.4): their
 * names and ids (generated unless given: seeded runs need fixed ones), and
 * their members, added all or nothing. Reading, listing and deleting are
 * the store's (store_groups.h).
 */
#ifndef HAAS_SERVICE_GROUPS_H
#define HAAS_SERVICE_GROUPS_H

#include "service.h"
#include "store_groups.h"

#include <stdint.h>

/* A device to add to a group; a NULL field was not given as text. */
typedef struct {
    const char *product_key;
    const char *device_name;
} service_member;

/*
 * Adds a group named name with id gid (NULL: "grp-" and 12 random hex
 * digits). Either may be service_not_text. On SERVICE_OK, out holds the
 * group. Errors: SERVICE_INVALID InvalidName, InvalidGroupId; SERVICE_EXISTS
 * GroupExists (gid given and taken); SERVICE_ERROR StorageError.
 */
service_status service_group_create(const char *name, const char *gid, store_group *out, service_result *res);

/*
 * Adds the n devices of list to group gid, all or none; devices already in
 * it stay as they are. On SERVICE_OK, *added is how many were new and
 * *count how many members the group has. Errors: SERVICE_INVALID
 * InvalidDevices (an empty list, a member without both names); SERVICE_NOT_FOUND
 * GroupNotFound, DeviceNotFound; SERVICE_ERROR StorageError.
 */
service_status service_group_add(const char *gid, const service_member *list, int n, int *added, int64_t *count,
                                 service_result *res);

/*
 * Removes device dn of product pk from group gid. Errors: SERVICE_NOT_FOUND
 * GroupNotFound, NotAMember; SERVICE_ERROR StorageError.
 */
service_status service_group_remove(const char *gid, const char *pk, const char *dn, service_result *res);

#endif
