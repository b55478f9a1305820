/*
 * service_devices.h - the rules for products and devices: their names and
 * keys (identifiers.h), generated ProductKeys and DeviceSecrets (32
 * characters, like the real cloud's) unless fixed ones are given (seeded CI
 * runs and flashed devices need them), and batches of devices, all or
 * nothing. Reading, listing and deleting are the store's
 * (store_products.h, store_devices.h).
 */
#ifndef HAAS_SERVICE_DEVICES_H
#define HAAS_SERVICE_DEVICES_H

#include "service.h"
#include "store_devices.h"
#include "store_products.h"

#define SERVICE_MAX_BATCH 10000 /* devices one batch may add */

/*
 * Adds a product named name with ProductKey pk (NULL: one is generated).
 * Either may be service_not_text. On SERVICE_OK, out holds the product.
 * Errors: SERVICE_INVALID InvalidName, InvalidProductKey; SERVICE_EXISTS
 * ProductExists (pk given and taken); SERVICE_ERROR StorageError.
 */
service_status service_product_create(const char *name, const char *pk, store_product *out, service_result *res);

/*
 * Adds device dn to product pk with DeviceSecret secret (NULL: one is
 * generated). dn and secret may be service_not_text. On SERVICE_OK, out
 * holds the device. Errors: SERVICE_NOT_FOUND ProductNotFound;
 * SERVICE_INVALID InvalidDeviceName, InvalidDeviceSecret; SERVICE_EXISTS
 * DeviceExists; SERVICE_ERROR StorageError.
 */
service_status service_device_create(const char *pk, const char *dn, const char *secret, store_device *out,
                                     service_result *res);

/* Called with each device a batch added (inside its transaction). */
typedef void (*service_device_fn)(const store_device *d, void *ctx);

/*
 * Adds count devices to product pk, named <prefix><number> with numbers
 * counting up from 1, at least 4 digits wide, skipping names already taken;
 * without a prefix (NULL or "") the names are 20 random characters, as the
 * real cloud makes them. prefix may be service_not_text. Calls each(device,
 * ctx) for every device added; all are added or none (when the call fails,
 * forget what each was given). Errors: SERVICE_NOT_FOUND ProductNotFound;
 * SERVICE_INVALID InvalidCount (count not 1..SERVICE_MAX_BATCH),
 * InvalidPrefix; SERVICE_CONFLICT DeviceNamesExhausted (the prefix leaves
 * too few free names); SERVICE_ERROR StorageError.
 */
service_status service_device_batch(const char *pk, long count, const char *prefix, service_device_fn each, void *ctx,
                                    service_result *res);

/* Called with the devices a product delete removed (n of them at ids). */
typedef void (*service_devices_fn)(const store_device_id *ids, size_t n, void *ctx);

/*
 * Deletes product pk with its devices (their memberships and task states
 * too), in one transaction that works on a full disk. Then calls gone(ids,
 * n, ctx) with the devices it had (also when there were none), so the
 * caller can disconnect them (their next login is refused: UnknownDevice).
 * Errors: SERVICE_NOT_FOUND ProductNotFound; SERVICE_ERROR StorageError,
 * OutOfMemory; SERVICE_FULL InsufficientStorage.
 */
service_status service_product_delete(const char *pk, service_devices_fn gone, void *ctx, service_result *res);

/*
 * Enables or disables device dn of product pk (the real cloud's
 * EnableThing / DisableThing): a disabled device's logins are refused
 * (DeviceDisabled); disconnecting it now is the caller's. On SERVICE_OK, out
 * holds the device. Errors: SERVICE_NOT_FOUND DeviceNotFound; SERVICE_ERROR
 * StorageError; SERVICE_FULL InsufficientStorage.
 */
service_status service_device_set_enabled(const char *pk, const char *dn, bool enabled, store_device *out,
                                          service_result *res);

#endif
