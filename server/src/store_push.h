/*
 * store_push.h - what pushing a task reads and writes: the task's package,
 * the members of its group with the version of the app they run and their
 * state in the task, the per-device states (task_devices), and the pushed
 * task a device asking for its version is still due (docs/protocol.md section 7).
 *
 * These run on the hot paths (a push to thousands of devices, device
 * messages): each is one cached statement.
 */
#ifndef HAAS_STORE_PUSH_H
#define HAAS_STORE_PUSH_H

#include "store.h"
#include "store_tasks.h"
#include "store_versions.h"

#include <stdbool.h>
#include <stdint.h>

/* A member of the group a task pushes to. */
typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    bool online;                          /* its status is "online" */
    bool has_version;                     /* online, and it reported a version of the task's app: */
    char version[STORE_VERSION_SIZE];
    store_task_state state;               /* its state in the task so far */
    bool has_code;                        /* and the result code it gave, if any */
    int code;
} store_push_member;

/* Called for each member by store_push_members; non-zero stops. It must not
 * call the store. */
typedef int (*store_push_member_fn)(const store_push_member *m, void *ctx);

/*
 * Reads the package task task_id pushes into pkg (its version row) and the
 * task's group into group_id. Returns STORE_OK, STORE_NOT_FOUND (no such
 * task) or STORE_ERROR.
 */
store_status store_push_package(const char *task_id, char group_id[STORE_ID_SIZE], store_version *pkg);

/*
 * Calls each(member, ctx) for the members of group group_id after product
 * key after_pk and device name after_dn ("" and "" for the first), by
 * product key and device name, at most limit of them, with the version of
 * app app_id each reported and its state in task task_id. Returns STORE_OK
 * or STORE_ERROR.
 */
store_status store_push_members(const char *task_id, const char *group_id, const char *app_id, const char *after_pk,
                                const char *after_dn, int limit, store_push_member_fn each, void *ctx);

/*
 * store_push_members for the first of two smaller walks of the same
 * members, in the same order (service_task_push): the members that are
 * online, read from the online devices.
 */
store_status store_push_online_members(const char *task_id, const char *group_id, const char *app_id,
                                       const char *after_pk, const char *after_dn, int limit, store_push_member_fn each,
                                       void *ctx);

/* Called by store_push_moved_members for each key it walks; true when the
 * member is wanted. It must not call the store. */
typedef bool (*store_push_key_fn)(const char *pk, const char *dn, void *ctx);

/*
 * The second walk: the rows of task task_id that are not 'offline'
 * (task_devices_moved) after after_pk/after_dn, at most limit of them, in
 * order. Calls walked(pk, dn, ctx) for each; then, for those it wanted,
 * each(member, ctx) with the member read as store_push_members does (none
 * for a device that left group group_id). Only the index is read for the
 * keys: at a push after the first, most of these rows are the online
 * members the first walk has just planned, and reading only their keys
 * made this walk 5-6 times cheaper (bench-100k, 19,800 of them: 48-52 ms
 * -> 7.5-9.8 ms of CPU a push). Returns
 * STORE_OK or STORE_ERROR (also out of memory).
 */
store_status store_push_moved_members(const char *task_id, const char *group_id, const char *app_id,
                                      const char *after_pk, const char *after_dn, int limit,
                                      store_push_key_fn walked, store_push_member_fn each, void *ctx);

/*
 * Sets device dn of product pk to state in task task_id, with its result
 * code (has_code false = none), the trace id of the push it was sent (NULL
 * = none) and the time now (Unix seconds), replacing the state it had.
 * Returns STORE_OK, STORE_CONFLICT (no such task or device) or STORE_ERROR.
 */
store_status store_push_set(const char *task_id, const char *pk, const char *dn, store_task_state state,
                            bool has_code, int code, const char *trace, int64_t now);

/* A device's state in a task, as a push records it. */
typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    store_task_state state;
    bool has_code; /* the result code it keeps, if any */
    int code;
    store_task_state was; /* its state before (TASK_PENDING: no row), for the counts */
} store_push_state;

/*
 * Sets the n devices of rows to their states in task task_id at time now,
 * without trace ids, replacing the states they had: what store_push_set
 * does for one, in a few statements for thousands. Every device must be a
 * member of the task's group whose state was rows[i].was (as
 * store_push_members read them in the same transaction): the task's kept
 * counts move by those states, not row by row. Returns STORE_OK,
 * STORE_CONFLICT (no such task, or a device that is not there) or
 * STORE_ERROR; inside a transaction, a failure may leave some rows
 * written (roll it back).
 */
store_status store_push_record(const char *task_id, const store_push_state *rows, size_t n, int64_t now);

/*
 * Marks task task_id pushed once more, now. Returns STORE_OK,
 * STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_push_done(const char *task_id);

/*
 * The task device dn of product pk is due: of the pushed tasks of its groups
 * for app app_id whose version is still being tested and that the device has
 * not finished (succeeded or failed), the one with the highest version, the
 * latest pushed of those. Its id goes to task_id. Returns STORE_OK,
 * STORE_NOT_FOUND (none due) or STORE_ERROR.
 */
store_status store_push_due(const char *pk, const char *dn, const char *app_id, char task_id[STORE_ID_SIZE]);

/*
 * A device's result for version of app app_id: sets the device's row of the
 * newest task that pushed it this version (preferring a row still "pushed")
 * to state, with code, and the time now; that task's id goes to task_id.
 * Returns STORE_OK, STORE_NOT_FOUND (no task pushed it that version) or
 * STORE_ERROR.
 */
store_status store_push_result(const char *pk, const char *dn, const char *app_id, const char *version,
                               store_task_state state, int code, char task_id[STORE_ID_SIZE]);

/*
 * Device dn of product pk runs version of app app_id: every row of it still
 * "pushed" in a task of that app and version becomes "succeeded" (code 200,
 * the time now); *changed gets how many. The id of the newest such task goes
 * to task_id ("" when none). Returns STORE_OK (also when none changed) or
 * STORE_ERROR.
 */
store_status store_push_reached(const char *pk, const char *dn, const char *app_id, const char *version,
                                int *changed, char task_id[STORE_ID_SIZE]);

#endif
