/*
 * store_tasks.h - test tasks (table tasks) and how far each member of the
 * task's group got (task_devices): a task names an app version and a test
 * device group. What a push writes is store_push.h's.
 */
#ifndef HAAS_STORE_TASKS_H
#define HAAS_STORE_TASKS_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* A device's state in a task (docs/architecture.md, "Task states"):
 * TASK_PENDING until a push of the task reached it. */
typedef enum {
    TASK_PENDING,
    TASK_OFFLINE,    /* not online at push time */
    TASK_UP_TO_DATE, /* already had this version or a newer one */
    TASK_PUSHED,     /* push published */
    TASK_SUCCEEDED,  /* result event argInt 200 */
    TASK_FAILED,     /* result event argInt 404, 405, ... */
    TASK_TIMED_OUT,  /* pushed, and no result within the task's timeout */
    TASK_STATES
} store_task_state;

/* The states' names, as the API and the database spell them. */
extern const char *const store_task_state_names[TASK_STATES];

/* The state called name; TASK_PENDING for a name that is none of them. */
store_task_state store_task_state_named(const char *name);

typedef struct {
    char task_id[STORE_ID_SIZE];
    char app_id[STORE_APP_ID_SIZE];
    char app_name[STORE_APP_NAME_SIZE];
    char version[STORE_VERSION_SIZE];
    char group_id[STORE_ID_SIZE];
    char group_name[STORE_NAME_SIZE];
    int64_t created_at;        /* Unix seconds */
    int64_t pushed_at;         /* last push, 0 = never pushed */
    int push_count;
    int timeout_seconds;       /* -1: the server's --task-timeout */
    long counts[TASK_STATES];  /* current members of the group in each state */
} store_task;

/* A current member of a task's group, with its state in the task. */
typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    store_task_state state;
    bool has_code;                        /* the device's result code: */
    int code;
    int64_t updated_at;                   /* of the state, 0 = pending */
    char device_status[STORE_WORD_SIZE];  /* "inactive", "online" or "offline" */
} store_task_device;

/* Called for each member by store_task_get; non-zero stops. It must not
 * call the store. */
typedef int (*store_task_device_fn)(const store_task_device *d, void *ctx);

/*
 * Adds task task_id for version of app app_id and group group_id, created at
 * now (Unix seconds). Returns STORE_OK, STORE_EXISTS (a task with that id
 * exists; left as it is), STORE_CONFLICT (no such version or group) or
 * STORE_ERROR.
 */
store_status store_task_insert(const char *task_id, const char *app_id, const char *version, const char *group_id,
                               int timeout_seconds, int64_t now);

/*
 * Devices pushed by a task and without a result for longer than the task's
 * timeout (its own, or default_seconds when it has none; 0 = never) at
 * now become timedOut; *n gets how many. STORE_OK or STORE_ERROR.
 */
store_status store_task_timeouts(int64_t now, int default_seconds, int *n);

/* The devices store_task_timeouts(now, default_seconds) would time out,
 * each to each(task_id, pk, dn, ctx) (which must not call the store). */
store_status store_task_due_timeouts(int64_t now, int default_seconds,
                                     void (*each)(const char *task, const char *pk, const char *dn, void *ctx),
                                     void *ctx);

/*
 * Reads task task_id into out, counts included. With each (not NULL), also
 * calls each(member, ctx) for every current member of its group, by product
 * key and device name; the counts are those of the members walked. Returns
 * STORE_OK, STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_task_get(const char *task_id, store_task *out, store_task_device_fn each, void *ctx);

/*
 * One page of task task_id's members (store_task_device rows) by product
 * key and device name; with state (not NULL, a name of
 * store_task_state_names) only those in that state. The total comes from
 * the kept counts, not a walk. The caller has checked the task exists (its
 * total is 0 otherwise). Returns STORE_OK or STORE_ERROR.
 */
store_status store_task_devices_page(const char *task_id, const char *state, store_page *page);

/*
 * One page of the tasks of app app_id (NULL = all apps), newest first
 * (store_task rows, counts included). Returns STORE_OK or STORE_ERROR.
 */
store_status store_task_list(const char *app_id, store_page *page);

#endif
