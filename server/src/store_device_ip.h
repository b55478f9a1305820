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

/* The task (or firmware job) and device a download of object from ip most
 * likely belongs to: of the rows of the object's tasks whose device last
 * connected from ip and which the task moved on (not 'offline'), the one
 * moved last; failing that, of the object's firmware jobs (task, pk, dn;
 * "" when none). Cheap whether one device or thousands share ip (see
 * store_device_ip.c). STORE_OK or STORE_ERROR. */
store_status store_download_owner(const char *object, const char *ip, char task[STORE_ID_SIZE],
                                   char pk[STORE_PK_SIZE], char dn[STORE_DN_SIZE]);

#endif
