/*
 * service_ota_dynamic.h - the rules of the Alibaba Cloud IoT API's dynamic
 * firmware upgrade jobs, which haas-emu runs as dynamic staged rollouts
 * of one batch (service_rollouts.h): ending the dynamic strategy
 * (CancelOTAStrategyByJob) and canceling some devices by their state
 * (CancelOTATaskByJob).
 */
#ifndef HAAS_SERVICE_OTA_DYNAMIC_H
#define HAAS_SERVICE_OTA_DYNAMIC_H

#include "service.h"
#include "store_rollouts.h"

/* Firmware rollout id takes in no more devices; it completes once nobody
 * waits. Errors: SERVICE_NOT_FOUND RolloutNotFound; SERVICE_CONFLICT
 * RolloutEnded, NotDynamic. */
service_status service_rollout_end_dynamic(const char *id, service_result *res);

/* The devices of firmware rollout id whose state is in states (mask of 1
 * << store_rollout_state: waiting, queued, pushed, downloading,
 * installing) become canceled; *n gets how many. Errors: SERVICE_INVALID
 * InvalidStates; SERVICE_NOT_FOUND RolloutNotFound; SERVICE_CONFLICT
 * RolloutEnded. */
service_status service_rollout_cancel_states(const char *id, unsigned states, int *n, service_result *res);

#endif
