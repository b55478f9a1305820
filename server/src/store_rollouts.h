/*
 * store_rollouts.h - staged rollouts (tables rollouts, rollout_devices,
 * rollout_history, migration 0006): a firmware or an app version sent to a
 * product's devices in batches. What each device of a rollout is doing,
 * and every state it went through. The rules (who is in it, when a batch
 * starts, when it pauses) are service_rollouts.h's; this file only says
 * what the database holds and moves rows as told.
 */
#ifndef HAAS_STORE_ROLLOUTS_H
#define HAAS_STORE_ROLLOUTS_H

#include "store.h"
#include "store_firmwares.h"

#include <stdbool.h>
#include <stdint.h>

#define ROLLOUT_BATCHES_MAX 20       /* batches of one rollout */
#define STORE_BATCHES_SIZE 128       /* "3,10%,100%" */
#define STORE_ROLLOUT_REASON_SIZE 200

typedef enum {
    RD_WAITING,
    RD_QUEUED,
    RD_PUSHED,
    RD_DOWNLOADING,
    RD_INSTALLING,
    RD_SUCCEEDED,
    RD_FAILED,
    RD_TIMED_OUT,
    RD_CANCELED,
    RD_STATES
} store_rollout_state;

/* The REST names of the states: "waiting", "queued", ... */
extern const char *const store_rollout_state_names[RD_STATES];

typedef struct {
    char rollout_id[STORE_ID_SIZE];
    char name[STORE_NAME_SIZE];
    char kind[STORE_WORD_SIZE];                 /* "firmware" or "app" */
    char product_key[STORE_PK_SIZE];
    char firmware_id[STORE_ID_SIZE];            /* kind firmware */
    char module_name[STORE_OTA_WORD_SIZE];      /* kind firmware */
    char app_id[STORE_APP_ID_SIZE];             /* kind app */
    char version[STORE_OTA_WORD_SIZE];          /* the target */
    char target_type[STORE_WORD_SIZE];          /* "product", "group", "devices" */
    char group_id[STORE_ID_SIZE];
    char src_versions[STORE_SRC_VERSIONS_SIZE];
    bool dynamic;
    char batches[STORE_BATCHES_SIZE];
    int batch_count;
    int success_percent, error_percent;
    int64_t start_at;
    int rate_per_minute, timeout_seconds, max_retries, retry_seconds;
    char status[STORE_WORD_SIZE];               /* scheduled running paused completed canceled */
    char pause_reason[STORE_ROLLOUT_REASON_SIZE];
    int current_batch;                          /* 0 before the start */
    int accepted_errors;
    int64_t created_at, ended_at;
    long counts[RD_STATES];                     /* devices per state, every batch */
} store_rollout;

typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    int batch;
    store_rollout_state state;
    int attempts;
    bool has_progress;
    int progress;
    bool has_code;
    int code;
    char reason[STORE_ROLLOUT_REASON_SIZE];
    char from_version[STORE_OTA_WORD_SIZE];
    int64_t pushed_at, retry_at, updated_at;
    char device_status[STORE_WORD_SIZE];
} store_rollout_device;

/* One batch's counts. */
typedef struct {
    int size, succeeded, errors, in_flight; /* errors: failed or timed out with no retry left */
} store_batch_counts;

typedef struct {
    int64_t at;
    char state[STORE_WORD_SIZE];
    bool has_code;
    int code;
    char detail[STORE_ROLLOUT_REASON_SIZE];
} store_rollout_event;

/* Adds rollout r (its settings; status scheduled). STORE_OK, STORE_EXISTS,
 * STORE_CONFLICT (no such product or firmware) or STORE_ERROR. */
store_status store_rollout_insert(const store_rollout *r);

/*
 * Looks whether any rollout is scheduled, running or paused, for the hint
 * that lets store_rollouts_of_device and store_rollouts_dynamic_for answer
 * "none" without a query while none is (store_rollout_insert sets it
 * again). Called by the rollout engine's tick. Returns STORE_OK or
 * STORE_ERROR.
 */
store_status store_rollouts_refresh_active(void);

/*
 * Adds to rollout r the devices of its product that match it now: device
 * dn (when not NULL), members of its group (target "group"), running one
 * of its src_versions of the module (firmware) or app (app), not on its
 * version; all in batch `batch`, waiting. *added: how many.
 */
store_status store_rollout_add_devices(const store_rollout *r, const char *dn, int batch, int64_t now, int *added);

/* Moves the devices of rollout id to batches: the first sizes[0] (by
 * name) stay in batch 1, the next sizes[1] go to batch 2, ...; n sizes. */
store_status store_rollout_assign_batches(const char *id, const int *sizes, int n);

/* Rollout id into out with its counts; each (not NULL) gets every device
 * (row: store_rollout_device), by batch and name. */
store_status store_rollout_get(const char *id, store_rollout *out, store_row_fn each, void *ctx);

/* Reads r's counts (devices per state) again. */
store_status store_rollout_count(store_rollout *r);

/* Rollouts, newest first, of product pk (NULL any). */
store_status store_rollout_list(const char *pk, store_page *page);

/* The counts of batch of rollout r (errors: failed or timed out with
 * attempts > max_retries). */
store_status store_rollout_batch_counts(const store_rollout *r, int batch, store_batch_counts *out);

/* Sets the status (and pause reason, current batch, accepted errors, the
 * end time when ended) of rollout r as in r. */
store_status store_rollout_save(const store_rollout *r, int64_t now);

/* The ids of rollouts in status (e.g. "running"), each to each(id, ctx). */
store_status store_rollout_ids(const char *status, void (*each)(const char *id, void *ctx), void *ctx);

/* Devices of batch batch of rollout id that are waiting become queued. */
store_status store_rollout_start_batch(const char *id, int batch, int64_t now);

/*
 * Device pk/dn of rollout id moves to state (history kept): code (when
 * has_code), progress (>= 0 to set), reason. A push counts an attempt and
 * sets pushed_at; a failure or timeout with retries left gets retry_at =
 * now + the rollout's retry_seconds. Only a device in one of the states
 * of mask `from` moves: STORE_NOT_FOUND otherwise.
 */
store_status store_rollout_move(const char *id, const char *pk, const char *dn, unsigned from, store_rollout_state to,
                                 const int *code, int progress, const char *reason, int64_t now);

/* Up to max devices of rollout r due a push now: queued, of a started
 * batch, online, and (after a failure) past their retry time. each(row). */
store_status store_rollout_due(const store_rollout *r, int max, int64_t now, store_row_fn each, void *ctx);

/* Failed or timed-out devices of r with a retry left whose time came
 * become queued again (history: "retry"); *n how many. */
store_status store_rollout_retries(const store_rollout *r, int64_t now, int *n);

/* Pushed, downloading or installing devices of r past its timeout become
 * timedOut; *n how many. */
store_status store_rollout_timeouts(const store_rollout *r, int64_t now, int *n);

/* How many pushes rollout id made since `since`. */
store_status store_rollout_pushes_since(const char *id, int64_t since, int *n);

/* The rollouts (running or paused, of kind) where device pk/dn waits for a
 * result: queued, pushed, downloading or installing, and their ids to
 * each(id, ctx). */
store_status store_rollouts_of_device(const char *pk, const char *dn, const char *kind,
                                      void (*each)(const char *id, void *ctx), void *ctx);

/* Dynamic rollouts (scheduled, running or paused) of product pk that device dn is not
 * in yet: their ids to each(id, ctx). */
store_status store_rollouts_dynamic_for(const char *pk, const char *dn, void (*each)(const char *id, void *ctx),
                                        void *ctx);

/* The history of device pk/dn in rollout id, oldest first (row:
 * store_rollout_event). */
store_status store_rollout_history(const char *id, const char *pk, const char *dn, store_row_fn each, void *ctx);

/* Cancels rollout id: every device not ended becomes canceled. STORE_OK,
 * STORE_NOT_FOUND, STORE_CONFLICT (ended already) or STORE_ERROR. */
store_status store_rollout_cancel(const char *id, int64_t now);

#endif
