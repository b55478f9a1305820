/*
 * routes.h - the table that maps a method and a path to a handler, and the
 * handlers it names (implemented in api_*.c, web.c and download.c).
 *
 * Patterns are literal segments and {name} captures; {*} as the last segment
 * captures the rest of the path (slashes included). The first match wins.
 */
#ifndef HAAS_ROUTES_H
#define HAAS_ROUTES_H

#include "http.h"

typedef enum {
    BODY_NONE,   /* a body, if any, is ignored */
    BODY_JSON,   /* collected up to HTTP_MAX_JSON_BODY into r->body */
    BODY_UPLOAD, /* streamed to a temporary file (upload.c) */
    BODY_FORM,   /* a form, collected like JSON into r->body, any Content-Type (aliyun_api.c checks it) */
} body_kind;

typedef enum MHD_Result (*route_handler)(http_request *r);

typedef struct route {
    const char *method;
    const char *pattern;
    body_kind body;
    route_handler handler;
} route;

/*
 * Finds the route for method and path and fills r->params. Returns NULL when
 * none matches; then *path_known tells whether the path exists with another
 * method (405 rather than 404).
 */
const route *routes_match(http_request *r, const char *method, const char *path, int *path_known);

/* Handlers. */
enum MHD_Result api_health(http_request *r);
enum MHD_Result api_root(http_request *r);
enum MHD_Result api_ca_pem(http_request *r);
enum MHD_Result api_rev(http_request *r);
enum MHD_Result api_messages(http_request *r);
enum MHD_Result web_index(http_request *r);
enum MHD_Result web_file(http_request *r);

enum MHD_Result api_product_create(http_request *r);
enum MHD_Result api_product_list(http_request *r);
enum MHD_Result api_product_get(http_request *r);
enum MHD_Result api_product_delete(http_request *r);

enum MHD_Result api_device_create(http_request *r);
enum MHD_Result api_device_list(http_request *r);
enum MHD_Result api_device_get(http_request *r);
enum MHD_Result api_device_delete(http_request *r);
enum MHD_Result api_device_disable(http_request *r);
enum MHD_Result api_device_enable(http_request *r);
enum MHD_Result api_device_list_all(http_request *r);

enum MHD_Result api_group_create(http_request *r);
enum MHD_Result api_group_list(http_request *r);
enum MHD_Result api_group_get(http_request *r);
enum MHD_Result api_group_delete(http_request *r);
enum MHD_Result api_group_add_devices(http_request *r);
enum MHD_Result api_group_list_devices(http_request *r);
enum MHD_Result api_group_remove_device(http_request *r);

enum MHD_Result api_app_create(http_request *r);
enum MHD_Result api_app_list(http_request *r);
enum MHD_Result api_app_get(http_request *r);
enum MHD_Result api_app_delete(http_request *r);

enum MHD_Result api_version_upload(http_request *r);
enum MHD_Result api_version_list(http_request *r);
enum MHD_Result api_version_get(http_request *r);
enum MHD_Result api_version_deprecate(http_request *r);
enum MHD_Result api_version_delete(http_request *r);

enum MHD_Result api_task_create(http_request *r);
enum MHD_Result api_task_list(http_request *r);
enum MHD_Result api_task_get(http_request *r);
enum MHD_Result api_task_devices(http_request *r);
enum MHD_Result api_task_push(http_request *r);

/* api_firmwares.c: OTA modules and firmware */
enum MHD_Result api_module_create(http_request *r);
enum MHD_Result api_module_list(http_request *r);
enum MHD_Result api_module_delete(http_request *r);
enum MHD_Result api_firmware_upload(http_request *r);
enum MHD_Result api_firmware_list(http_request *r);
enum MHD_Result api_firmware_get(http_request *r);
enum MHD_Result api_firmware_delete(http_request *r);

/* api_ota_jobs.c: firmware upgrade jobs */
enum MHD_Result api_ota_job_create(http_request *r);
enum MHD_Result api_ota_job_list(http_request *r);
enum MHD_Result api_ota_job_get(http_request *r);
enum MHD_Result api_ota_job_cancel(http_request *r);

/* api_timeline.c: what happened, in order */
enum MHD_Result api_task_timeline(http_request *r);
enum MHD_Result api_device_timeline(http_request *r);

/* api_faults.c: fault injection rules */
enum MHD_Result api_fault_create(http_request *r);
enum MHD_Result api_fault_list(http_request *r);
enum MHD_Result api_fault_get(http_request *r);
enum MHD_Result api_fault_enable(http_request *r);
enum MHD_Result api_fault_disable(http_request *r);
enum MHD_Result api_fault_delete(http_request *r);

/* api_clock.c: the (virtual) clock */
enum MHD_Result api_clock_get(http_request *r);
enum MHD_Result api_clock_move(http_request *r);

/* api_rollouts.c: staged rollouts */
enum MHD_Result api_rollout_create(http_request *r);
enum MHD_Result api_rollout_list(http_request *r);
enum MHD_Result api_rollout_get(http_request *r);
enum MHD_Result api_rollout_device(http_request *r);
enum MHD_Result api_rollout_pause(http_request *r);
enum MHD_Result api_rollout_resume(http_request *r);
enum MHD_Result api_rollout_cancel(http_request *r);

enum MHD_Result download_package(http_request *r);

#endif
