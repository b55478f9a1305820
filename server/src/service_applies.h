/*
 * service_applies.h - the rules of the Alibaba Cloud IoT API's device
 * batches (BatchRegisterDevice and its ApplyId) and of a device registered
 * without a name: made by service_device_batch (service_devices.h), with
 * names of 20 random characters as the cloud makes them, and remembered
 * by batch (store_applies.h).
 */
#ifndef HAAS_SERVICE_APPLIES_H
#define HAAS_SERVICE_APPLIES_H

#include "service.h"
#include "store_applies.h"
#include "store_devices.h"

/*
 * Adds count devices with generated names to product pk and records them
 * as one batch; *apply_id gets its ApplyId. Errors: those of
 * service_device_batch; SERVICE_ERROR StorageError (the devices were added
 * but the batch could not be recorded).
 */
service_status service_apply_batch(const char *pk, long count, int64_t *apply_id, service_result *res);

/* Batch id into out. Errors: SERVICE_NOT_FOUND ApplyNotFound. */
service_status service_apply_get(int64_t id, store_apply *out, service_result *res);

/* Adds one device with a generated name to product pk, into out. Errors:
 * those of service_device_batch. */
service_status service_device_one_generated(const char *pk, store_device *out, service_result *res);

#endif
