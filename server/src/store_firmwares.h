/*
 * store_firmwares.h - what firmware OTA keeps about firmware itself (tables
 * ota_modules, firmwares, device_modules, migration 0005): the OTA modules
 * of a product, the uploaded firmware files (each at
 * <data>/packages/<object_key>, downloaded at /<bucket>/<object_key>), and
 * the version each module of a device last reported. Upgrade jobs are
 * store_ota_jobs.h's.
 */
#ifndef HAAS_STORE_FIRMWARES_H
#define HAAS_STORE_FIRMWARES_H

#include "store.h"

#include <stdint.h>

#define STORE_OTA_WORD_SIZE (HAAS_OTA_WORD_MAX + 1) /* module name, firmware version */
#define STORE_SRC_VERSIONS_SIZE 1024                /* "1.0.0,1.0.1": comma-separated versions */
#define STORE_SIGN_METHOD_SIZE 8                    /* "Md5" or "SHA256" */
#define STORE_OTA_DEFAULT_MODULE "default"          /* every product has it; not a row */

typedef struct {
    char product_key[STORE_PK_SIZE];
    char module_name[STORE_OTA_WORD_SIZE];
    char alias[STORE_NAME_SIZE];
    char description[STORE_DESC_SIZE];
    int64_t created_at;
} store_ota_module;

typedef struct {
    char firmware_id[STORE_ID_SIZE];
    char product_key[STORE_PK_SIZE];
    char module_name[STORE_OTA_WORD_SIZE];
    char version[STORE_OTA_WORD_SIZE];
    char name[STORE_NAME_SIZE];
    char object_key[STORE_OBJECT_SIZE];        /* "fw/<firmwareId>.bin" */
    int64_t size;
    char md5[STORE_MD5_SIZE];
    char sha256[STORE_SHA256_SIZE];
    char sign_method[STORE_SIGN_METHOD_SIZE];  /* "Md5" or "SHA256" */
    char src_versions[STORE_SRC_VERSIONS_SIZE];/* "" = from any version */
    int64_t created_at;
} store_firmware;

/* A module version a device reported. */
typedef struct {
    char module_name[STORE_OTA_WORD_SIZE];
    char version[STORE_OTA_WORD_SIZE];
    int64_t reported_at;
} store_device_module;

/* Adds named module m. STORE_OK, STORE_EXISTS, STORE_CONFLICT (no such product) or STORE_ERROR. */
store_status store_module_insert(const store_ota_module *m);

/* Named module name of product pk into out: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_module_get(const char *pk, const char *name, store_ota_module *out);

/* The modules of product pk (rows: store_ota_module): "default" first,
 * then the named ones by name. */
store_status store_module_list(const char *pk, store_page *page);

/* Deletes named module name of pk: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_module_delete(const char *pk, const char *name);

/* How many firmwares module name of pk has, into *n. STORE_OK or STORE_ERROR. */
store_status store_module_firmware_count(const char *pk, const char *name, int *n);

/* Adds firmware f. STORE_OK, STORE_EXISTS (the id, the object, or the
 * module's version is taken), STORE_CONFLICT (no such product) or STORE_ERROR. */
store_status store_firmware_insert(const store_firmware *f);

/* Firmware id into out: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_firmware_get(const char *id, store_firmware *out);

/* The firmware stored at object key object into out: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_firmware_by_object(const char *object, store_firmware *out);

/* The firmware of module of pk with version into out: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_firmware_find(const char *pk, const char *module, const char *version, store_firmware *out);

/* Firmwares (rows: store_firmware), newest first; pk NULL for every product. */
store_status store_firmware_list(const char *pk, store_page *page);

/* Deletes firmware id and its jobs: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_firmware_delete(const char *id);

/* Records that module of device pk/dn runs version (at Unix time now).
 * STORE_OK, STORE_CONFLICT (no such device) or STORE_ERROR. */
store_status store_device_module_report(const char *pk, const char *dn, const char *module, const char *version,
                                        int64_t now);

/* Calls each(row, ctx) with every module version device pk/dn reported
 * (row: store_device_module), by module name. STORE_OK or STORE_ERROR. */
store_status store_device_modules(const char *pk, const char *dn, store_row_fn each, void *ctx);

#endif
