/*
 * store_ota_tasks.h - what the Alibaba Cloud IoT API's CancelOTATaskByJob
 * needs of a firmware job's devices (ota_job_devices, migration 0005)
 * beyond store_ota_jobs.h: canceling only the devices in given states.
 */
#ifndef HAAS_STORE_OTA_TASKS_H
#define HAAS_STORE_OTA_TASKS_H

#include "store_ota_jobs.h"

/* The devices of in-progress job id whose state is in states (a mask of 1
 * << store_ota_state; only queued, pushed and downloading count) become
 * canceled at now; *n gets how many. STORE_OK, STORE_NOT_FOUND (no such
 * job), STORE_CONFLICT (it had ended) or STORE_ERROR. */
store_status store_ota_cancel_states(const char *id, unsigned states, int64_t now, int *n);

#endif
