/*
 * store_device_ip.c - which device a download came from (see
 * store_device_ip.h).
 */
#include "store_device_ip.h"
#include "db.h"

static void read_flag(sqlite3_stmt *st, void *out) { *(bool *)out = sqlite3_column_int(st, 0) != 0; }

typedef struct {
    char *task, *pk, *dn;
} owner;

static void read_owner(sqlite3_stmt *st, void *out)
{
    const owner *o = out;
    db_copy(o->task, STORE_ID_SIZE, st, 0);
    db_copy(o->pk, STORE_PK_SIZE, st, 1);
    db_copy(o->dn, STORE_DN_SIZE, st, 2);
}

store_status store_download_owner(const char *object, const char *ip, char task[STORE_ID_SIZE],
                                   char pk[STORE_PK_SIZE], char dn[STORE_DN_SIZE])
{
    owner o = {task, pk, dn};
    task[0] = pk[0] = dn[0] = '\0';
    store_status s = db_one("SELECT td.task_id, td.product_key, td.device_name FROM task_devices td "
                            "JOIN tasks t ON t.task_id = td.task_id "
                            "JOIN versions v ON v.app_id = t.app_id AND v.version = t.version "
                            "JOIN devices d ON d.product_key = td.product_key AND d.device_name = td.device_name "
                            "WHERE v.object_key = ?1 AND d.ip = ?2 AND td.state <> 'offline' "
                            "ORDER BY td.updated_at DESC LIMIT 1", read_owner, &o, "ss", object, ip);
    if (s == STORE_NOT_FOUND)
        s = db_one("SELECT jd.job_id, jd.product_key, jd.device_name FROM ota_job_devices jd "
                   "JOIN ota_jobs j ON j.job_id = jd.job_id JOIN firmwares f ON f.firmware_id = j.firmware_id "
                   "JOIN devices d ON d.product_key = jd.product_key AND d.device_name = jd.device_name "
                   "WHERE f.object_key = ?1 AND d.ip = ?2 ORDER BY jd.updated_at DESC LIMIT 1",
                   read_owner, &o, "ss", object, ip);
    return s == STORE_NOT_FOUND ? STORE_OK : s;
}

store_status store_device_at_ip(const char *pk, const char *dn, const char *ip, bool *match)
{
    *match = false;
    return db_one("SELECT EXISTS (SELECT 1 FROM devices WHERE product_key = ?1 AND (?2 IS NULL OR device_name = ?2) "
                  "AND ip = ?3)", read_flag, match, "sss", pk, dn, ip);
}
