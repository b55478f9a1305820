/*
 * store_ota_jobs.h - firmware upgrade jobs (tables ota_jobs and
 * ota_job_devices, migration 0005): which devices a job has, and where
 * each of them is: queued (not pushed yet: offline, or waiting), pushed,
 * downloading (with the progress it reported), succeeded (it reported the
 * target version), failed (a negative progress step, code and reason),
 * timedOut, canceled. A job is inProgress while any device is queued,
 * pushed or downloading; then completed (store_ota_jobs_settle), unless
 * canceled. The rules (who gets a job, when to push) are
 * service_ota_jobs.h's.
 */
#ifndef HAAS_STORE_OTA_JOBS_H
#define HAAS_STORE_OTA_JOBS_H

#include "store.h"
#include "store_firmwares.h"

#include <stdbool.h>
#include <stdint.h>

#define STORE_REASON_SIZE 129 /* why a device failed: at most 128 bytes */

typedef enum {
    OTA_QUEUED,
    OTA_PUSHED,
    OTA_DOWNLOADING,
    OTA_SUCCEEDED,
    OTA_FAILED,
    OTA_TIMED_OUT,
    OTA_CANCELED,
    OTA_STATES
} store_ota_state;

/* The REST names of the states: "queued", "pushed", ... */
extern const char *const store_ota_state_names[OTA_STATES];

typedef struct {
    char job_id[STORE_ID_SIZE];
    char firmware_id[STORE_ID_SIZE];
    char product_key[STORE_PK_SIZE];           /* the firmware's */
    char module_name[STORE_OTA_WORD_SIZE];     /* the firmware's */
    char version[STORE_OTA_WORD_SIZE];         /* the firmware's: the target */
    char target_type[STORE_WORD_SIZE];         /* "devices", "group" or "product" */
    char group_id[STORE_ID_SIZE];              /* "" unless target_type is "group" */
    char src_versions[STORE_SRC_VERSIONS_SIZE];/* "" = any */
    int timeout_minutes;                       /* 0 = none */
    char status[STORE_WORD_SIZE];              /* "inProgress", "completed", "canceled" */
    int64_t created_at, ended_at;              /* ended_at 0 while in progress */
    long counts[OTA_STATES];                   /* devices per state */
} store_ota_job;

typedef struct {
    char job_id[STORE_ID_SIZE];
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    store_ota_state state;
    bool has_progress;
    int progress;                              /* 0..100 */
    bool has_code;
    int code;                                  /* -1..-4 */
    char reason[STORE_REASON_SIZE];
    char from_version[STORE_OTA_WORD_SIZE];    /* what it ran when the job began ("" unknown) */
    int64_t pushed_at, updated_at;
    int push_count;
    char device_status[STORE_WORD_SIZE];       /* "online", "offline", "inactive" */
} store_ota_job_device;

/* A push a device is due: the job and its firmware. */
typedef struct {
    char job_id[STORE_ID_SIZE];
    store_ota_state state;
    store_firmware firmware;
} store_ota_due;

/* Adds job j (job_id, firmware_id, target_type, group_id, src_versions,
 * timeout_minutes, created_at). STORE_OK, STORE_EXISTS (the id is taken),
 * STORE_CONFLICT (no such firmware) or STORE_ERROR. */
store_status store_ota_job_insert(const store_ota_job *j);

/*
 * Looks whether any job is in progress, for the hint that lets
 * store_ota_due_for and store_ota_reached answer "none" without a query
 * while no job is (store_ota_job_insert sets it again). Called by the
 * emulator's tick (service_ota_tick). Returns STORE_OK or STORE_ERROR.
 */
store_status store_ota_refresh_active(void);

/*
 * Adds to job_id, queued, the devices of product pk that are: device dn
 * (when not NULL), members of group_id (when not NULL), running one of
 * src_versions (comma-separated; "" = any, a device that never reported
 * counts as "") of the job's module, and not already on its target
 * version. *added gets how many were added. STORE_OK or STORE_ERROR.
 */
store_status store_ota_job_add_devices(const store_ota_job *j, const char *dn, const char *group_id, int64_t now,
                                       int *added);

/* The devices of job j still waiting in other jobs of the same module are
 * taken out of those (canceled, "superseded by job ..."). */
store_status store_ota_job_supersede(const store_ota_job *j, int64_t now);

/* Job id into out, with its counts; each (when not NULL) is called with
 * every device (row: store_ota_job_device). STORE_OK, STORE_NOT_FOUND or
 * STORE_ERROR. */
store_status store_ota_job_get(const char *id, store_ota_job *out, store_row_fn each, void *ctx);

/* Jobs, newest first, of firmware_id and/or product pk (NULL = any). */
store_status store_ota_job_list(const char *firmware_id, const char *pk, store_page *page);

/* Cancels job id: its queued, pushed and downloading devices become
 * canceled. STORE_OK, STORE_NOT_FOUND, STORE_CONFLICT (it had ended) or STORE_ERROR. */
store_status store_ota_job_cancel(const char *id, int64_t now);

/* Ends (completed) every in-progress job with no device left waiting. */
store_status store_ota_jobs_settle(int64_t now);

/* How many in-progress jobs firmware id has, into *n. */
store_status store_ota_firmware_active_jobs(const char *id, int *n);

/*
 * Calls each(row, ctx) (row: store_ota_due) for the entries of device
 * pk/dn in in-progress jobs whose state is in states (a mask of 1 <<
 * store_ota_state), of module (NULL = any), newest job first. each must
 * not call the store. STORE_OK or STORE_ERROR.
 */
store_status store_ota_due_for(const char *pk, const char *dn, const char *module, unsigned states, store_row_fn each,
                               void *ctx);

/* The online devices of job id that are queued: each(row, ctx) with a
 * store_ota_job_device (name fields only). */
store_status store_ota_job_online_queued(const char *id, store_row_fn each, void *ctx);

/* Records a push of job id to pk/dn at now: queued becomes pushed;
 * pushed_at and push_count follow. STORE_OK, STORE_NOT_FOUND (not waiting
 * in that job) or STORE_ERROR. */
store_status store_ota_mark_pushed(const char *id, const char *pk, const char *dn, int64_t now);

/*
 * Progress step (0..100, or -1..-4 for a failure, with reason) of device
 * pk/dn for module: applied to its newest pushed or downloading entry in
 * an in-progress job, whose id goes to job_id ("" when none).
 * STORE_OK (also when none), STORE_ERROR.
 */
store_status store_ota_progress(const char *pk, const char *dn, const char *module, int step, const char *reason,
                                int64_t now, char job_id[STORE_ID_SIZE]);

/* Device pk/dn runs version of module: its waiting entries in in-progress
 * jobs with that target become succeeded; *n gets how many. */
store_status store_ota_reached(const char *pk, const char *dn, const char *module, const char *version, int64_t now,
                               int *n);

/* Pushed or downloading entries older than their job's timeout become
 * timedOut; *n gets how many. */
store_status store_ota_timeouts(int64_t now, int *n);

#endif
