/*
 * store_products.h - products (table products): a product groups devices,
 * like a product of Alibaba Cloud IoT Platform. Deleting a product deletes
 * its devices, their group memberships and task states (ON DELETE CASCADE).
 */
#ifndef HAAS_STORE_PRODUCTS_H
#define HAAS_STORE_PRODUCTS_H

#include "store.h"

#include <stdint.h>

typedef struct {
    char product_key[STORE_PK_SIZE];
    char name[STORE_NAME_SIZE];
    int64_t created_at;   /* Unix seconds */
    int64_t device_count; /* devices of the product */
} store_product;

/*
 * Adds product pk named name, created at now (Unix seconds). Returns
 * STORE_OK, STORE_EXISTS (a product with that key exists; it is left as it
 * is) or STORE_ERROR.
 */
store_status store_product_insert(const char *pk, const char *name, int64_t now);

/* Reads product pk into out. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_product_get(const char *pk, store_product *out);

/* One page of the products (store_product rows), oldest first. Returns STORE_OK or STORE_ERROR. */
store_status store_product_list(store_page *page);

/* Deletes product pk and its devices. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_product_delete(const char *pk);

#endif
