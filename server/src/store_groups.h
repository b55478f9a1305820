/*
 * store_groups.h - test device groups (table device_groups) and their
 * members (group_members). A task pushes to the online members of its group.
 * Deleting a group deletes its memberships and its tasks.
 */
#ifndef HAAS_STORE_GROUPS_H
#define HAAS_STORE_GROUPS_H

#include "store.h"

#include <stdint.h>

typedef struct {
    char group_id[STORE_ID_SIZE];
    char name[STORE_NAME_SIZE];
    int64_t created_at;   /* Unix seconds */
    int64_t device_count; /* members */
} store_group;

/*
 * Adds group gid named name, created at now (Unix seconds). Returns
 * STORE_OK, STORE_EXISTS (a group with that id exists; it is left as it is)
 * or STORE_ERROR.
 */
store_status store_group_insert(const char *gid, const char *name, int64_t now);

/* Reads group gid into out. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_group_get(const char *gid, store_group *out);

/* One page of the groups (store_group rows), oldest first. Returns STORE_OK or STORE_ERROR. */
store_status store_group_list(store_page *page);

/* Deletes group gid, its memberships and tasks. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_group_delete(const char *gid);

/*
 * Makes device dn of product pk a member of group gid, added at now.
 * Returns STORE_OK (added), STORE_EXISTS (it already was a member: left as
 * it is), STORE_CONFLICT (no such group or device) or STORE_ERROR.
 */
store_status store_group_add_member(const char *gid, const char *pk, const char *dn, int64_t now);

/*
 * Removes device dn of product pk from group gid. Returns STORE_OK,
 * STORE_NOT_FOUND (it was not a member) or STORE_ERROR.
 */
store_status store_group_remove_member(const char *gid, const char *pk, const char *dn);

#endif
