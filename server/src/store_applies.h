/*
 * store_applies.h - the batches of the Alibaba Cloud IoT API's
 * BatchRegisterDevice (tables aliyun_applies and aliyun_apply_devices,
 * migration 0008): which devices each ApplyId made.
 */
#ifndef HAAS_STORE_APPLIES_H
#define HAAS_STORE_APPLIES_H

#include "store.h"

#include <stdint.h>

typedef struct {
    int64_t apply_id;
    char product_key[STORE_PK_SIZE];
    int64_t created_at;
} store_apply;

/* A device of a batch, with its secret. */
typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    char device_secret[STORE_SECRET_SIZE];
} store_apply_device;

/* Adds a batch of product pk made at now; *id gets its ApplyId (the
 * largest so far plus one). STORE_OK, STORE_CONFLICT (no such product) or
 * STORE_ERROR. Call it inside a transaction (store_begin). */
store_status store_apply_insert(const char *pk, int64_t now, int64_t *id);

/* Records that batch id made device dn of pk. STORE_OK, STORE_EXISTS,
 * STORE_CONFLICT (no such batch or device) or STORE_ERROR. */
store_status store_apply_add_device(int64_t id, const char *pk, const char *dn);

/* Batch id into out: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_apply_get(int64_t id, store_apply *out);

/* One page of the devices of batch id (rows: store_apply_device), by
 * name, that still exist. STORE_OK or STORE_ERROR. */
store_status store_apply_devices(int64_t id, store_page *page);

#endif
