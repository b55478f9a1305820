/*
 * store_rollout_strategy.h - what the Alibaba Cloud IoT API's dynamic
 * upgrade jobs need of a staged rollout (tables rollouts, rollout_devices,
 * migration 0006) beyond store_rollouts.h: ending its dynamic strategy
 * (devices that match later no longer join).
 */
#ifndef HAAS_STORE_ROLLOUT_STRATEGY_H
#define HAAS_STORE_ROLLOUT_STRATEGY_H

#include "store_rollouts.h"

/* Rollout id stops taking in devices later. STORE_OK, STORE_NOT_FOUND (no
 * such rollout, or not dynamic) or STORE_ERROR. */
store_status store_rollout_end_dynamic(const char *id);

#endif
