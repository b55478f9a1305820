/*
 * store_device_ip.c - which device a download came from (see
 * store_device_ip.h).
 *
 * A download names only its object and comes from an address. Its owner is
 * the row, among those of the object's tasks (else firmware jobs) whose
 * device last connected from that address, that was moved on last; a task
 * row counts unless it is 'offline' (the push never reached the device).
 * There are two ways to it, and which is cheap depends on how many devices
 * share the address:
 *
 *   - few (a device of its own, a small NAT): from the devices at the
 *     address (devices_by_ip) to their rows of the object's tasks;
 *   - many (a fleet simulated on one host: thousands at 127.0.0.1): from
 *     each task of the object, its rows newest first (the partial index of
 *     0015_download_owner_moved_rows.sql) until one is at the address,
 *     which is at once when most devices are there.
 *
 * Each query takes the newest with SQLite's max() and bare columns, so it
 * needs no temporary table: the IN (subquery) of an earlier version built
 * one on every download, which was most of a small download's CPU.
 */
#include "store_device_ip.h"
#include "db.h"

/* An address with more devices than this is searched from the tasks. */
#define OWNER_FEW_AT_IP 16

typedef struct {
    char *task, *pk, *dn;
} owner;

/* The owner from a row of one of the queries below: NULLs (no row had the
 * maximum) leave it empty. */
static void read_owner(sqlite3_stmt *st, void *out)
{
    const owner *o = out;
    db_copy(o->task, STORE_ID_SIZE, st, 0);
    db_copy(o->pk, STORE_PK_SIZE, st, 1);
    db_copy(o->dn, STORE_DN_SIZE, st, 2);
}

/* How many devices (up to OWNER_FEW_AT_IP + 1) last connected from ip. */
static void read_count(sqlite3_stmt *st, void *out) { *(int *)out = sqlite3_column_int(st, 0); }

/* ?1 the object, ?2 the address. CROSS JOIN keeps SQLite to the order
 * given: without statistics it takes `ip = ?` for a rare value and would
 * start from the devices at the address, the very case the _BY_TIME
 * queries are for. */
static const char TASK_BY_DEVICES[] =
    "SELECT x.task_id, x.product_key, x.device_name, max(x.updated_at) FROM devices d "
    "CROSS JOIN task_devices x CROSS JOIN tasks t CROSS JOIN versions v "
    "WHERE d.ip = ?2 AND x.product_key = d.product_key AND x.device_name = d.device_name "
    "AND x.state <> 'offline' AND t.task_id = x.task_id AND v.app_id = t.app_id AND v.version = t.version "
    "AND v.object_key = ?1";
static const char TASK_BY_TIME[] =
    "SELECT x.task_id, x.product_key, x.device_name, max(x.updated_at) FROM versions v "
    "JOIN tasks t ON t.app_id = v.app_id AND t.version = v.version "
    "JOIN task_devices x ON x.rowid = (SELECT y.rowid FROM task_devices y CROSS JOIN devices d "
    "ON d.product_key = y.product_key AND d.device_name = y.device_name "
    "WHERE y.task_id = t.task_id AND y.state <> 'offline' AND d.ip = ?2 ORDER BY y.updated_at DESC LIMIT 1) "
    "WHERE v.object_key = ?1";
static const char JOB_BY_DEVICES[] =
    "SELECT x.job_id, x.product_key, x.device_name, max(x.updated_at) FROM devices d "
    "CROSS JOIN ota_job_devices x CROSS JOIN ota_jobs j CROSS JOIN firmwares f "
    "WHERE d.ip = ?2 AND x.product_key = d.product_key AND x.device_name = d.device_name "
    "AND j.job_id = x.job_id AND f.firmware_id = j.firmware_id AND f.object_key = ?1";
static const char JOB_BY_TIME[] =
    "SELECT x.job_id, x.product_key, x.device_name, max(x.updated_at) FROM firmwares f "
    "JOIN ota_jobs j ON j.firmware_id = f.firmware_id "
    "JOIN ota_job_devices x ON x.rowid = (SELECT y.rowid FROM ota_job_devices y CROSS JOIN devices d "
    "ON d.product_key = y.product_key AND d.device_name = y.device_name "
    "WHERE y.job_id = j.job_id AND d.ip = ?2 ORDER BY y.updated_at DESC LIMIT 1) "
    "WHERE f.object_key = ?1";

store_status store_download_owner(const char *object, const char *ip, char task[STORE_ID_SIZE],
                                   char pk[STORE_PK_SIZE], char dn[STORE_DN_SIZE])
{
    owner o = {task, pk, dn};
    task[0] = pk[0] = dn[0] = '\0';
    int at_ip = 0;
    store_status s = db_one("SELECT count(*) FROM (SELECT 1 FROM devices WHERE ip = ?1 LIMIT ?2)", read_count, &at_ip,
                            "si", ip, OWNER_FEW_AT_IP + 1);
    if (s != STORE_OK || at_ip == 0)
        return s;
    bool few = at_ip <= OWNER_FEW_AT_IP;
    s = db_one(few ? TASK_BY_DEVICES : TASK_BY_TIME, read_owner, &o, "ss", object, ip);
    if (s == STORE_OK && !task[0])
        s = db_one(few ? JOB_BY_DEVICES : JOB_BY_TIME, read_owner, &o, "ss", object, ip);
    return s == STORE_NOT_FOUND ? STORE_OK : s;
}

store_status store_device_at_ip(const char *pk, const char *dn, const char *ip, bool *match)
{
    *match = false;
    return db_one("SELECT EXISTS (SELECT 1 FROM devices WHERE product_key = ?1 AND (?2 IS NULL OR device_name = ?2) "
                  "AND ip = ?3)", db_read_bool, match, "sss", pk, dn, ip);
}
