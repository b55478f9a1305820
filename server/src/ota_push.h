/*
 * ota_push.h - firmware upgrade notices (docs/protocol.md section 12): the
 * message on /ota/device/upgrade/{pk}/{dn} in the exact shape Link SDK C
 * 4.x parses, the same "data" in the reply to thing/ota/firmware/get, and
 * when they are sent: to a job's online devices when it is created, and to
 * a device with a job waiting when it comes online or asks.
 *
 * The download URL is signed under --firmware-url, which carries no port:
 * Link SDK C 4.x takes the host up to the first '/' and the port from its
 * own setting, so it must be served where the device looks (HTTPS on 443,
 * or HTTP on 80 for firmware built without TLS).
 */
#ifndef HAAS_OTA_PUSH_H
#define HAAS_OTA_PUSH_H

#include "store_ota_jobs.h"

#include <cjson/cJSON.h>

/* The "data" object of an upgrade notice of firmware f, with a freshly
 * signed URL: size, version, url, md5, sign, signMethod, module. NULL when
 * out of memory. */
cJSON *ota_upgrade_data(const store_firmware *f);

/* Publishes the upgrade notice of firmware f to device pk/dn (logged for
 * the console under ref_id, a job or a rollout). Returns 0 or -1. */
int ota_push_notice(const char *pk, const char *dn, const char *ref_id, const store_firmware *f);

/* Pushes job id to its online queued devices; *pushed gets how many.
 * Returns 0, or -1 when the MQTT link is down. */
int ota_push_job(const char *id, int *pushed);

/*
 * Device pk/dn came online, or asked (/ota/device/request): each module
 * with a job waiting for it (queued, or with again also pushed and
 * downloading) gets the newest job's notice. Returns how many were sent.
 */
int ota_push_due(const char *pk, const char *dn, int again);

/*
 * The reply data for thing/ota/firmware/get of device pk/dn for module:
 * the newest job waiting for it (now counted as pushed), else the newest
 * running rollout where it waits (rollout_engine.h), or {} when none.
 * *job_id gets the job's or rollout's id ("" when none).
 */
cJSON *ota_firmware_get_data(const char *pk, const char *dn, const char *module, char job_id[STORE_ID_SIZE]);

#endif
