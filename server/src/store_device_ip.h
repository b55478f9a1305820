/*
 * store_device_ip.h - which device a download came from: a download names
 * only its package, so a fault scoped to a device or a product is matched
 * by the address the device last connected from (devices.ip, written by
 * store_reports.h).
 */
#ifndef HAAS_STORE_DEVICE_IP_H
#define HAAS_STORE_DEVICE_IP_H

#include "store.h"

#include <stdbool.h>

/* Did device dn of product pk (dn NULL: any device of pk) last connect
 * from ip? *match says. STORE_OK or STORE_ERROR. */
store_status store_device_at_ip(const char *pk, const char *dn, const char *ip, bool *match);

#endif
