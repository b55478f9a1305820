/*
 * store_device_ip.c - which device a download came from (see
 * store_device_ip.h).
 */
#include "store_device_ip.h"
#include "db.h"

static void read_flag(sqlite3_stmt *st, void *out) { *(bool *)out = sqlite3_column_int(st, 0) != 0; }

store_status store_device_at_ip(const char *pk, const char *dn, const char *ip, bool *match)
{
    *match = false;
    return db_one("SELECT EXISTS (SELECT 1 FROM devices WHERE product_key = ?1 AND (?2 IS NULL OR device_name = ?2) "
                  "AND ip = ?3)", read_flag, match, "sss", pk, dn, ip);
}
