/*
 * service_tasks.h - the rules for test tasks (tutorial 5.4-5.6): a task
 * names an app version that is still being tested and a test device group;
 * pushing it decides each member's state (docs/architecture.md, task states) and sends
 * the push to the online members that do not run that version or a newer
 * one; a device that reports an older version later gets the push then; a
 * device's result ends its part of the task. Sending is the caller's
 * (push.c); reading and listing tasks are the store's (store_tasks.h).
 */
#ifndef HAAS_SERVICE_TASKS_H
#define HAAS_SERVICE_TASKS_H

#include "service.h"
#include "store_tasks.h"
#include "store_versions.h"

/* What a push did. */
typedef struct {
    int pushed;         /* online members the push was sent to */
    int offline;        /* members not online */
    int up_to_date;     /* online members that run the version or a newer one */
    int failed_to_send; /* pushes that could not be published (counted in pushed too) */
} service_push_counts;

/* Sends the push of task_id carrying package pkg to device dn of product
 * pk; returns 0, or -1 when it could not be sent. It must not call the store. */
typedef int (*service_push_fn)(const store_version *pkg, const char *pk, const char *dn, const char *task_id,
                               void *ctx);

/*
 * Adds task task_id (NULL: "task-" and 12 random hex digits) for version of
 * app app_id and group group_id; any may be service_not_text. On
 * SERVICE_OK, id holds the task's id. Errors: SERVICE_INVALID InvalidTask;
 * SERVICE_NOT_FOUND AppNotFound, VersionNotFound, GroupNotFound;
 * SERVICE_CONFLICT VersionDeprecated; SERVICE_EXISTS TaskExists (task_id
 * given and taken); SERVICE_ERROR StorageError.
 */
service_status service_task_create(const char *app_id, const char *version, const char *group_id,
                                   const char *task_id, char id[STORE_ID_SIZE], service_result *res);

#define SERVICE_TASK_TIMEOUT_MAX (7 * 24 * 3600) /* seconds */

/* Like service_task_create, with the task's own timeout: a pushed device
 * without a result after timeout_seconds is timedOut (0: never; -1: the
 * server's --task-timeout). Errors also InvalidTask for a timeout out of
 * 0..SERVICE_TASK_TIMEOUT_MAX. */
service_status service_task_create_timed(const char *app_id, const char *version, const char *group_id,
                                         const char *task_id, int timeout_seconds, char id[STORE_ID_SIZE],
                                         service_result *res);

/* Times out the pushed task devices past their task's timeout
 * (default_seconds for tasks without their own) at now; *n how many;
 * each (may be NULL) is told every device first. */
service_status service_task_timeouts(int64_t now, int default_seconds, int *n, service_result *res,
                                     void (*each)(const char *task, const char *pk, const char *dn, void *ctx),
                                     void *ctx);

/*
 * Pushes task task_id to every member of its group, in one transaction:
 * members not online are recorded "offline", online ones that reported the
 * task's version or a newer one "upToDate" (one that already succeeded in
 * this task stays "succeeded"), and every other one is sent the push with
 * send(pkg, pk, dn, task_id, ctx) and recorded "pushed". Pushes go out
 * before the states are written. *counts says what happened. Errors:
 * SERVICE_NOT_FOUND TaskNotFound; SERVICE_ERROR StorageError (nothing
 * recorded).
 */
service_status service_task_push(const char *task_id, service_push_fn send, void *ctx, service_push_counts *counts,
                                 service_result *res);

/*
 * Device dn of product pk reported running version of app app_id: is a push
 * due? One is when a pushed task of one of its groups offers that app in a
 * version still being tested that is newer than version, and the device has
 * not finished that task (store_push_due picks the task). Then task_id and
 * pkg get the task and its package: SERVICE_OK. SERVICE_NOT_FOUND when none
 * is due (or version is not a version); SERVICE_ERROR StorageError.
 */
service_status service_task_due(const char *pk, const char *dn, const char *app_id, const char *version,
                                char task_id[STORE_ID_SIZE], store_version *pkg, service_result *res);

/*
 * Records that the push of task task_id with trace id trace was sent to
 * device dn of product pk (its state becomes "pushed"). Errors:
 * SERVICE_ERROR StorageError.
 */
service_status service_task_pushed(const char *task_id, const char *pk, const char *dn, const char *trace,
                                   service_result *res);

/*
 * Device dn of product pk reports the result of upgrading app app_id to
 * version (hli_event app.result): code 200 means it succeeded, and it runs
 * that version now; any other code means it failed. The newest task that
 * pushed it that version records the state and code; its id goes to
 * task_id ("" when there is none). Returns SERVICE_OK when a task recorded
 * it; SERVICE_NOT_FOUND (no task pushed it that version) or SERVICE_ERROR
 * StorageError otherwise.
 */
service_status service_task_result(const char *pk, const char *dn, const char *app_id, const char *version, int code,
                                   char task_id[STORE_ID_SIZE], service_result *res);

/*
 * Device dn of product pk reports (its upgrade query) that it runs version
 * of app app_id. A task that pushed it that version and still shows it
 * "pushed" has its answer: the upgrade succeeded, even if its app.result
 * never arrived (it went to a broker that died, say). Those rows become
 * "succeeded" with code 200; *reconciled gets how many and task_id the
 * newest task's id. SERVICE_OK, or SERVICE_ERROR StorageError.
 */
service_status service_task_reached(const char *pk, const char *dn, const char *app_id, const char *version,
                                    int *reconciled, char task_id[STORE_ID_SIZE], service_result *res);

#endif
