/*
 * store_reports.h - what devices tell about themselves over MQTT, kept on
 * their rows: online/offline (lifecycle messages of the broker plugin), the
 * app versions they run (device_apps), their firmware version, their last
 * deviceinfo payload, and the broker's last refusal of their login.
 *
 * These run for every device message, inside the MQTT link's batch
 * transaction: each is one cached statement.
 */
#ifndef HAAS_STORE_REPORTS_H
#define HAAS_STORE_REPORTS_H

#include "store.h"

#include <stdint.h>

/*
 * Device dn of product pk came online at time at (Unix seconds) from ip
 * (NULL = unknown). Returns STORE_OK, STORE_NOT_FOUND (no such device) or
 * STORE_ERROR.
 */
store_status store_report_online(const char *pk, const char *dn, int64_t at, const char *ip);

/* Device dn of product pk went offline. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_report_offline(const char *pk, const char *dn);

/*
 * Every device marked online becomes offline (the broker forgot them).
 * *n gets how many. Returns STORE_OK or STORE_ERROR.
 */
store_status store_report_all_offline(int *n);

/*
 * Device dn of product pk runs version of app app_id (reported, or reached
 * by an upgrade), replacing the version it had. Returns STORE_OK,
 * STORE_NOT_FOUND (no such device: nothing stored) or STORE_ERROR.
 */
store_status store_report_app(const char *pk, const char *dn, const char *app_id, const char *version);

/* The device's firmware version. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_report_firmware(const char *pk, const char *dn, const char *firmware);

/*
 * The device's deviceinfo payload: len bytes of text, kept as received
 * (cut to STORE_DEVICE_INFO_MAX bytes), with the time now. Returns
 * STORE_OK, STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_report_info(const char *pk, const char *dn, const char *payload, int len);

/*
 * The broker refused the device's login: its notice, len bytes of JSON text
 * (cut to STORE_REFUSAL_MAX bytes), kept with the time now. Returns STORE_OK,
 * STORE_NOT_FOUND (no such device: nothing kept) or STORE_ERROR.
 */
store_status store_report_refusal(const char *pk, const char *dn, const char *notice, int len);

#endif
