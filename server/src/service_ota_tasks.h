/*
 * service_ota_tasks.h - the rules of canceling some devices of a firmware
 * job (the Alibaba Cloud IoT API's CancelOTATaskByJob): by their state,
 * the job going on for the others and ending when nobody waits.
 */
#ifndef HAAS_SERVICE_OTA_TASKS_H
#define HAAS_SERVICE_OTA_TASKS_H

#include "service.h"
#include "store_ota_tasks.h"

/* Cancels the devices of job id whose state is in states (mask of 1 <<
 * store_ota_state: queued, pushed, downloading); *n gets how many. Errors:
 * SERVICE_INVALID InvalidStates (no state chosen); SERVICE_NOT_FOUND
 * JobNotFound; SERVICE_CONFLICT JobEnded. */
service_status service_ota_cancel_states(const char *id, unsigned states, int *n, service_result *res);

#endif
