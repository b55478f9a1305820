/*
 * service_ota_jobs.h - the rules for firmware upgrade jobs (docs/protocol.md
 * section 12), as the Aliyun IoT console has them: a job sends one
 * firmware to a list of devices, to the devices of a group, or to every
 * device of the firmware's product, optionally only those running given
 * versions of its module; devices already on the target version are left
 * out. A device waiting in an older job of the same module is moved to the
 * new one. What a device reports moves its state (store_ota_jobs.h); the
 * pushes themselves are ota_push.h's.
 */
#ifndef HAAS_SERVICE_OTA_JOBS_H
#define HAAS_SERVICE_OTA_JOBS_H

#include "service.h"
#include "store_ota_jobs.h"

#include <stddef.h>

#define SERVICE_JOB_TIMEOUT_MAX 1440 /* minutes, as the cloud's TimeoutInMinutes */
#define SERVICE_JOB_DEVICES_MAX 1000 /* devices named in one job */

/* A job to create; NULL fields take their defaults. */
typedef struct {
    const char *firmware_id;   /* required */
    const char *target_type;   /* "devices", "group" or "product" (required) */
    const char *const *devices;/* device names of the firmware's product ("devices") */
    size_t device_count;
    const char *group_id;      /* "group" */
    const char *src_versions;  /* comma-separated; NULL: the firmware's own list ("" for "devices") */
    int timeout_minutes;       /* 0: none; else 1..SERVICE_JOB_TIMEOUT_MAX */
    const char *job_id;        /* NULL: generated */
} service_job_spec;

/*
 * Creates the job and chooses its devices (queued), in one transaction.
 * id gets its id; *devices how many it has. Errors: SERVICE_INVALID
 * InvalidJob; SERVICE_NOT_FOUND FirmwareNotFound, GroupNotFound,
 * DeviceNotFound (a named device is not of the product); SERVICE_EXISTS
 * JobExists (a given id is taken).
 */
service_status service_ota_job_create(const service_job_spec *spec, char id[STORE_ID_SIZE], int *devices,
                                      service_result *res);

/* Cancels job id. Errors: SERVICE_NOT_FOUND JobNotFound; SERVICE_CONFLICT
 * JobEnded (completed or canceled already). */
service_status service_ota_job_cancel(const char *id, service_result *res);

/*
 * A device reported (inform) that module runs version: kept, and its
 * waiting entries for that version succeed. *succeeded gets how many.
 * Errors: SERVICE_INVALID InvalidVersion; SERVICE_NOT_FOUND DeviceNotFound.
 */
service_status service_ota_inform(const char *pk, const char *dn, const char *module, const char *version,
                                  int *succeeded, service_result *res);

/*
 * A device reported progress step (0..100, or -1..-4 with desc) for module.
 * job_id gets the job it counts for ("" when none). Errors:
 * SERVICE_INVALID InvalidStep.
 */
service_status service_ota_progress(const char *pk, const char *dn, const char *module, int step, const char *desc,
                                    char job_id[STORE_ID_SIZE], service_result *res);

/* What a negative progress step means: "upgrade failed", "download
 * failed", "verify failed", "burn failed"; NULL for another step. */
const char *service_ota_step_meaning(int step);

/* Ends pushed entries past their job's timeout (timedOut) and completes
 * jobs with nobody waiting. *n gets how many timed out. */
service_status service_ota_tick(int64_t now, int *n, service_result *res);

#endif
