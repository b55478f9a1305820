/*
 * store_groups.c - the device_groups and group_members tables (see
 * store_groups.h).
 */
#include "store_groups.h"
#include "db.h"

/* member_count: kept by the triggers of 0009_task_counts.sql */
#define GROUP_COLUMNS "g.group_id, g.name, g.created_at, g.member_count"

static void read_group(sqlite3_stmt *st, void *out)
{
    store_group *g = out;
    db_copy(g->group_id, sizeof g->group_id, st, 0);
    db_copy(g->name, sizeof g->name, st, 1);
    g->created_at = sqlite3_column_int64(st, 2);
    g->device_count = sqlite3_column_int64(st, 3);
}

store_status store_group_insert(const char *gid, const char *name, int64_t now)
{
    return db_insert("INSERT OR IGNORE INTO device_groups(group_id, name, created_at) VALUES (?1, ?2, ?3)", "ssI",
                     gid, name, now);
}

store_status store_group_get(const char *gid, store_group *out)
{
    return db_one("SELECT " GROUP_COLUMNS " FROM device_groups g WHERE g.group_id = ?1", read_group, out, "s", gid);
}

store_status store_group_list(store_page *page)
{
    store_group row;
    return db_page("SELECT " GROUP_COLUMNS " FROM device_groups g ORDER BY g.created_at, g.group_id "
                   "LIMIT :limit OFFSET :offset",
                   "SELECT COUNT(*) FROM device_groups", read_group, &row, page, "");
}

store_status store_group_delete(const char *gid)
{
    return db_delete("DELETE FROM device_groups WHERE group_id = ?1", "s", gid);
}

store_status store_group_add_member(const char *gid, const char *pk, const char *dn, int64_t now)
{
    return db_insert("INSERT OR IGNORE INTO group_members(group_id, product_key, device_name, added_at) "
                     "VALUES (?1, ?2, ?3, ?4)", "sssI", gid, pk, dn, now);
}

store_status store_group_remove_member(const char *gid, const char *pk, const char *dn)
{
    return db_delete("DELETE FROM group_members WHERE group_id = ?1 AND product_key = ?2 AND device_name = ?3", "sss",
                     gid, pk, dn);
}
