/*
 * store_reports.c - device reports on the devices and device_apps tables
 * (see store_reports.h).
 */
#include "store_reports.h"
#include "clock.h"
#include "db.h"
#include "store_devices.h"

store_status store_report_online(const char *pk, const char *dn, int64_t at, const char *ip)
{
    return db_update("UPDATE devices SET status = 'online', last_online_at = ?1, ip = ?2 "
                     "WHERE product_key = ?3 AND device_name = ?4", "Isss", at, ip, pk, dn);
}

store_status store_report_offline(const char *pk, const char *dn)
{
    return db_update("UPDATE devices SET status = 'offline' WHERE product_key = ?1 AND device_name = ?2", "ss", pk,
                     dn);
}

store_status store_report_all_offline(int *n)
{
    return db_write("UPDATE devices SET status = 'offline' WHERE status = 'online'", n, "");
}

store_status store_report_app(const char *pk, const char *dn, const char *app_id, const char *version)
{
    return db_update("INSERT OR REPLACE INTO device_apps(product_key, device_name, app_id, version, updated_at) "
                     "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS "
                     "(SELECT 1 FROM devices WHERE product_key = ?1 AND device_name = ?2)",
                     "ssssI", pk, dn, app_id, version, clock_now());
}

store_status store_report_firmware(const char *pk, const char *dn, const char *firmware)
{
    return db_update("UPDATE devices SET firmware_version = ?1 WHERE product_key = ?2 AND device_name = ?3", "sss",
                     firmware, pk, dn);
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
