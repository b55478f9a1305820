/*
 * store_reports.c - device reports on the devices and device_apps tables
 * (see store_reports.h).
 */
#include "store_reports.h"
#include "clock.h"
#include "db.h"
#include "store_devices.h"

/*
 * The lifecycle's updates are UPDATE OR FAIL. A statement that may write
 * more than one row (here the trigger device_recounted, 0011, also
 * writes device_counts) and may end on a constraint is run by SQLite in a
 * statement transaction, which copies every page the statement touches
 * into a statement journal in memory first, to undo the statement alone.
 * With OR FAIL a failing constraint keeps what the statement wrote before
 * it, so no statement journal is kept. Nothing here can fail that way:
 * the status is a constant its CHECK allows, and neither the devices'
 * keys nor the counts' change. Every login and logout of a device comes
 * through here: the journal's copies and allocations were about a sixth
 * of the MQTT link's CPU while a fleet logged in (perf).
 */
store_status store_report_online(const char *pk, const char *dn, int64_t at, const char *ip)
{
    /* Most logins come from the address the device had: then the address
     * is not written, for writing it moves the device's entry in
     * devices_by_ip even when it is the same (about 12 µs of a 55 µs update
     * with 20,000 devices behind one address, Python, batches of 200). */
    store_status s = db_update("UPDATE OR FAIL devices SET status = 'online', last_online_at = ?1 "
                               "WHERE product_key = ?3 AND device_name = ?4 AND ip IS ?2", "Isss", at, ip, pk, dn);
    if (s != STORE_NOT_FOUND)
        return s;
    /* a new address (or no such device) */
    return db_update("UPDATE OR FAIL devices SET status = 'online', last_online_at = ?1, ip = ?2 "
                     "WHERE product_key = ?3 AND device_name = ?4", "Isss", at, ip, pk, dn);
}

store_status store_report_offline(const char *pk, const char *dn)
{
    return db_update("UPDATE OR FAIL devices SET status = 'offline' WHERE product_key = ?1 AND device_name = ?2",
                     "ss", pk, dn);
}

store_status store_report_all_offline(int *n)
{
    return db_write("UPDATE devices SET status = 'offline' WHERE status = 'online'", n, "");
}

store_status store_report_app(const char *pk, const char *dn, const char *app_id, const char *version)
{
    /* An upsert, not INSERT OR REPLACE: REPLACE deletes the row and its
     * key and inserts them again; updating in place costs SQLite about 12 µs
     * less a report (16-17 µs against 28-30 µs, 10,000 devices, batches of
     * 100), and the link makes two a device upgrade (the result, then the
     * query). The version it has already (the second of those two) is
     * not written again: updated_at is when the device came to it. */
    store_status s = db_update("INSERT INTO device_apps(product_key, device_name, app_id, version, updated_at) "
                               "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS "
                               "(SELECT 1 FROM devices WHERE product_key = ?1 AND device_name = ?2) "
                               "ON CONFLICT(product_key, device_name, app_id) DO UPDATE SET version = excluded.version, "
                               "updated_at = excluded.updated_at WHERE device_apps.version IS NOT excluded.version",
                               "ssssI", pk, dn, app_id, version, clock_now());
    return s == STORE_NOT_FOUND ? store_device_exists(pk, dn) : s; /* nothing changed: no device, or its version kept */
}

store_status store_report_firmware(const char *pk, const char *dn, const char *firmware)
{
    /* every upgrade query carries it, mostly the same: not written again */
    store_status s = db_update("UPDATE devices SET firmware_version = ?1 WHERE product_key = ?2 AND device_name = ?3 "
                               "AND firmware_version IS NOT ?1", "sss", firmware, pk, dn);
    return s == STORE_NOT_FOUND ? store_device_exists(pk, dn) : s;
}

store_status store_report_info(const char *pk, const char *dn, const char *payload, int len)
{
    if (len > STORE_DEVICE_INFO_MAX)
        len = STORE_DEVICE_INFO_MAX;
    return db_update("UPDATE devices SET device_info = ?1, device_info_at = ?4 "
                     "WHERE product_key = ?2 AND device_name = ?3", "tssI", payload, len, pk, dn, clock_now());
}

store_status store_report_refusal(const char *pk, const char *dn, const char *notice, int len)
{
    if (len > STORE_REFUSAL_MAX)
        len = STORE_REFUSAL_MAX;
    return db_update("UPDATE devices SET last_refusal = ?1, last_refusal_at = ?4 "
                     "WHERE product_key = ?2 AND device_name = ?3", "tssI", notice, len, pk, dn, clock_now());
}
