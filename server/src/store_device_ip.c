/*
 * store_device_ip.c - which device a download came from (see
 * store_device_ip.h).
 */
#include "store_device_ip.h"
#include "db.h"

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
    /* per task (or job) of the object, its newest row at ip; of those, the
     * newest (indexes of 0010_download_owner.sql) */
    store_status s = db_one("SELECT td.task_id, td.product_key, td.device_name FROM task_devices td WHERE td.rowid IN "
                            "(SELECT (SELECT x.rowid FROM task_devices x JOIN devices d "
                            "ON d.product_key = x.product_key AND d.device_name = x.device_name "
                            "WHERE x.task_id = t.task_id AND x.state <> 'offline' AND d.ip = ?2 "
                            "ORDER BY x.updated_at DESC LIMIT 1) "
                            "FROM versions v JOIN tasks t ON t.app_id = v.app_id AND t.version = v.version "
                            "WHERE v.object_key = ?1 AND EXISTS (SELECT 1 FROM devices WHERE ip = ?2)) "
                            "ORDER BY td.updated_at DESC LIMIT 1", read_owner, &o, "ss", object, ip);
    if (s == STORE_NOT_FOUND)
        s = db_one("SELECT jd.job_id, jd.product_key, jd.device_name FROM ota_job_devices jd WHERE jd.rowid IN "
                   "(SELECT (SELECT x.rowid FROM ota_job_devices x JOIN devices d "
                   "ON d.product_key = x.product_key AND d.device_name = x.device_name "
                   "WHERE x.job_id = j.job_id AND d.ip = ?2 ORDER BY x.updated_at DESC LIMIT 1) "
                   "FROM firmwares f JOIN ota_jobs j ON j.firmware_id = f.firmware_id "
                   "WHERE f.object_key = ?1 AND EXISTS (SELECT 1 FROM devices WHERE ip = ?2)) "
                   "ORDER BY jd.updated_at DESC LIMIT 1", read_owner, &o, "ss", object, ip);
    return s == STORE_NOT_FOUND ? STORE_OK : s;
}

store_status store_device_at_ip(const char *pk, const char *dn, const char *ip, bool *match)
{
    *match = false;
    return db_one("SELECT EXISTS (SELECT 1 FROM devices WHERE product_key = ?1 AND (?2 IS NULL OR device_name = ?2) "
                  "AND ip = ?3)", db_read_bool, match, "sss", pk, dn, ip);
}
