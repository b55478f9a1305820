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

/* The OSS PostObject form upload of GenerateOTAUploadURL (POST
 * /<ALIYUN_OTA_BUCKET>, multipart/form-data). */
#define ALIYUN_OTA_BUCKET "iotx-ota"
enum MHD_Result aliyun_oss_post_object(http_request *r);

#endif
