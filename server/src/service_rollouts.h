/*
 * service_rollouts.h - the rules for staged rollouts (docs/protocol.md
 * section 13): one engine for firmware (the standard OTA notice) and for
 * app releases (the HaaS upgrade push) to a product's devices beyond test
 * groups.
 *
 * Who: every device of the product, a group's, or a device list, kept to
 * those on given versions (src_versions) and not on the target; a dynamic
 * rollout also takes devices that match later (they join the last batch).
 * When: from start_at, batch after batch: batch n+1 starts once batch n's
 * succeeded devices (plus the failures a resume accepted) reach
 * success_percent of it; more than error_percent of a batch failed or
 * timed out with no retry left pauses the rollout, with the reason. A
 * device without a result timeout_seconds after its push is timed out; a
 * failed or timed-out device is pushed again after retry_seconds, at most
 * max_retries times. rate_per_minute (0: no limit) caps pushes in any 60
 * seconds. The pushes themselves are rollout_engine.h's.
 */
#ifndef HAAS_SERVICE_ROLLOUTS_H
#define HAAS_SERVICE_ROLLOUTS_H

#include "service.h"
#include "store_rollouts.h"

#include <stdbool.h>
#include <stddef.h>

#define SERVICE_ROLLOUT_DEVICES_MAX 1000 /* devices named in one rollout */

typedef struct {
    const char *kind;            /* "firmware" or "app" (required) */
    const char *firmware_id;     /* firmware */
    const char *product_key;     /* app (a firmware's product is its own) */
    const char *app_id, *version;/* app */
    const char *name;            /* NULL: "" */
    const char *target_type;     /* "product", "group" or "devices" */
    const char *group_id;        /* group */
    const char *const *devices;  /* devices */
    size_t device_count;
    const char *src_versions;    /* comma-separated; NULL: any (firmware: the firmware's own) */
    bool dynamic;
    const char *batches;         /* "3,10%,100%"; NULL: "100%" (one batch) */
    int success_percent;         /* 1..100 */
    int error_percent;           /* 0..100 */
    int64_t start_at;            /* 0: now */
    int rate_per_minute;         /* 0: no limit */
    int timeout_seconds;         /* 0: none */
    int max_retries;             /* 0..10 */
    int retry_seconds;           /* 1..86400 */
    const char *rollout_id;      /* NULL: generated */
} service_rollout_spec;

/* The defaults of a spec (thresholds 100/0, retry after 60 s, ...). */
void service_rollout_defaults(service_rollout_spec *spec);

/*
 * Creates the rollout and chooses its devices, in batches, in one
 * transaction. id gets its id; *devices how many it has now. Errors:
 * SERVICE_INVALID InvalidRollout; SERVICE_NOT_FOUND ProductNotFound,
 * FirmwareNotFound, AppNotFound, VersionNotFound, GroupNotFound,
 * DeviceNotFound; SERVICE_EXISTS RolloutExists.
 */
service_status service_rollout_create(const service_rollout_spec *spec, char id[STORE_ID_SIZE], int *devices,
                                      service_result *res);

/* Pause (running or scheduled), resume (paused: its failures so far are
 * accepted) and cancel. Errors: SERVICE_NOT_FOUND RolloutNotFound;
 * SERVICE_CONFLICT RolloutNotRunning, RolloutNotPaused, RolloutEnded. */
service_status service_rollout_pause(const char *id, service_result *res);
service_status service_rollout_resume(const char *id, service_result *res);
service_status service_rollout_cancel(const char *id, service_result *res);

/*
 * One step of rollout id at time now: starts it when scheduled and due,
 * times out and retries devices, starts the next batch, pauses on too
 * many errors, completes it. out gets the rollout after the step; the
 * engine then pushes what is due (store_rollout_due). Errors:
 * SERVICE_NOT_FOUND RolloutNotFound.
 */
service_status service_rollout_step(const char *id, int64_t now, store_rollout *out, service_result *res);

/* How many pushes rollout r may still make now under its rate (a large
 * number when it has none). */
int service_rollout_budget(const store_rollout *r, int64_t now);

/* What devices report, applied to the rollouts where they wait. */
void service_rollout_firmware_progress(const char *pk, const char *dn, const char *module, int step, const char *desc);
void service_rollout_firmware_inform(const char *pk, const char *dn, const char *module, const char *version);
void service_rollout_app_result(const char *pk, const char *dn, const char *app_id, const char *version, int code);

/* Device pk/dn is online or told what it runs: dynamic rollouts it now
 * matches take it in (the last batch). Returns how many took it. */
int service_rollout_dynamic(const char *pk, const char *dn);

#endif
