/*
 * aliyun_actions.h - the IoT Platform API's actions (aliyun_api.h), one
 * file per group: products and devices (aliyun_actions_devices.c), groups
 * (aliyun_actions_groups.c), messaging (aliyun_actions_messaging.c) and
 * firmware OTA with its OSS upload (aliyun_actions_ota.c). Each handler
 * reads its parameters with aliyun_get*, calls the services (or reads the
 * store) and answers once with aliyun_ok*, aliyun_error or
 * aliyun_service_error.
 */
#ifndef HAAS_ALIYUN_ACTIONS_H
#define HAAS_ALIYUN_ACTIONS_H

#include "aliyun_api.h"

typedef enum MHD_Result (*aliyun_action_fn)(aliyun_call *c);

typedef struct {
    const char *name;
    aliyun_action_fn run;
} aliyun_action;

/* The action named name, or NULL. */
const aliyun_action *aliyun_action_find(const char *name);

/* products and devices */
enum MHD_Result aliyun_create_product(aliyun_call *c);
enum MHD_Result aliyun_query_product(aliyun_call *c);
enum MHD_Result aliyun_query_product_list(aliyun_call *c);
enum MHD_Result aliyun_delete_product(aliyun_call *c);
enum MHD_Result aliyun_register_device(aliyun_call *c);
enum MHD_Result aliyun_batch_register_device(aliyun_call *c);
enum MHD_Result aliyun_query_batch_register_status(aliyun_call *c);
enum MHD_Result aliyun_query_page_by_apply_id(aliyun_call *c);
enum MHD_Result aliyun_query_device_detail(aliyun_call *c);
enum MHD_Result aliyun_query_device(aliyun_call *c);
enum MHD_Result aliyun_get_device_status(aliyun_call *c);
enum MHD_Result aliyun_batch_get_device_state(aliyun_call *c);
enum MHD_Result aliyun_disable_thing(aliyun_call *c);
enum MHD_Result aliyun_enable_thing(aliyun_call *c);
enum MHD_Result aliyun_delete_device(aliyun_call *c);

/* groups */
enum MHD_Result aliyun_create_device_group(aliyun_call *c);
enum MHD_Result aliyun_batch_add_device_group_relations(aliyun_call *c);
enum MHD_Result aliyun_query_device_group_list(aliyun_call *c);

/* messaging */
enum MHD_Result aliyun_pub(aliyun_call *c);
enum MHD_Result aliyun_rrpc(aliyun_call *c);
enum MHD_Result aliyun_invoke_thing_service(aliyun_call *c);
enum MHD_Result aliyun_set_device_property(aliyun_call *c);
enum MHD_Result aliyun_query_device_property_status(aliyun_call *c);

/* firmware OTA */
enum MHD_Result aliyun_generate_ota_upload_url(aliyun_call *c);
enum MHD_Result aliyun_create_ota_firmware(aliyun_call *c);
enum MHD_Result aliyun_list_ota_firmware(aliyun_call *c);
enum MHD_Result aliyun_query_ota_firmware(aliyun_call *c);
enum MHD_Result aliyun_create_ota_static_upgrade_job(aliyun_call *c);
enum MHD_Result aliyun_create_ota_dynamic_upgrade_job(aliyun_call *c);
enum MHD_Result aliyun_query_ota_job(aliyun_call *c);
enum MHD_Result aliyun_list_ota_job_by_firmware(aliyun_call *c);
enum MHD_Result aliyun_list_ota_task_by_job(aliyun_call *c);
enum MHD_Result aliyun_cancel_ota_task_by_job(aliyun_call *c);
enum MHD_Result aliyun_cancel_ota_strategy_by_job(aliyun_call *c);

/* Between aliyun_actions_ota.c and aliyun_actions_ota_dynamic.c (dynamic
 * jobs are rollouts): ListOTATaskByJob's filter and page. */
typedef struct {
    const char *status;      /* TaskStatus, or NULL for any */
    const char *names[100];  /* DeviceNames.N (none: any) */
    size_t nnames;
    long skip, left;         /* tasks to skip before the page, and its room */
} aliyun_task_filter;

/* Does the task of device dn in status pass f? Counted in *total when it
 * does; true when it also belongs on the page (it takes a place). */
bool aliyun_task_wanted(aliyun_task_filter *f, const char *status, const char *dn, int64_t *total);

/* QueryOTAJob of a dynamic job (rollout id); iot.ota.NotExistedJob when
 * it is none. */
enum MHD_Result aliyun_dynamic_query_job(aliyun_call *c, const char *id);

/* The tasks of dynamic job id that pass f, onto items; *total all that
 * pass. false when it is no dynamic job. */
bool aliyun_dynamic_tasks(const char *id, aliyun_task_filter *f, cJSON *items, int64_t *total);

/* CancelOTATaskByJob of a dynamic job. */
enum MHD_Result aliyun_dynamic_cancel_tasks(aliyun_call *c, const char *id);

/* The dynamic jobs of firmware firmware_id of product pk, as
 * ListOTAJobByFirmware's entries, onto list. false when the store failed. */
bool aliyun_dynamic_jobs_of_firmware(const char *pk, const char *firmware_id, cJSON *list);

/* The OSS PostObject form upload of GenerateOTAUploadURL (POST
 * /<ALIYUN_OTA_BUCKET>, multipart/form-data). */
#define ALIYUN_OTA_BUCKET "iotx-ota"
enum MHD_Result aliyun_oss_post_object(http_request *r);

#endif
