/*
 * service_firmwares.h - the rules for firmware OTA's modules and firmware
 * files (docs/protocol.md section 12), as the Aliyun IoT console has them:
 * every product has the OTA module "default" and may add named ones; a
 * firmware is any binary, uploaded to one module of one product under a
 * version that module does not have yet, with the digest devices verify it
 * by (signMethod Md5 or SHA256) and, optionally, the versions it upgrades
 * from. A firmware is stored all or nothing: its row added and its file
 * moved to <packages>/fw/<firmwareId>.bin in one transaction.
 */
#ifndef HAAS_SERVICE_FIRMWARES_H
#define HAAS_SERVICE_FIRMWARES_H

#include "package_file.h"
#include "service.h"
#include "store_firmwares.h"

/*
 * Adds module name to product pk (alias, description may be NULL: "").
 * Errors: SERVICE_INVALID InvalidModule (name not 1..64 of [A-Za-z0-9._-],
 * or alias/description not displayable text); SERVICE_NOT_FOUND
 * ProductNotFound; SERVICE_EXISTS ModuleExists ("default" included).
 */
service_status service_module_add(const char *pk, const char *name, const char *alias, const char *description,
                                  store_ota_module *out, service_result *res);

/* Module name of pk into out ("default" always exists). Errors:
 * SERVICE_NOT_FOUND ProductNotFound, ModuleNotFound. */
service_status service_module_get(const char *pk, const char *name, store_ota_module *out, service_result *res);

/* Deletes a named module without firmware. Errors: SERVICE_NOT_FOUND
 * ProductNotFound, ModuleNotFound; SERVICE_CONFLICT ModuleDefault (the
 * default module stays), ModuleInUse (it has firmware). */
service_status service_module_delete(const char *pk, const char *name, service_result *res);

/* What an upload says of the firmware; NULL fields take their defaults. */
typedef struct {
    const char *product_key;
    const char *module_name;  /* NULL: "default" */
    const char *version;      /* required */
    const char *name;         /* NULL: the version */
    const char *sign_method;  /* "Md5" (NULL) or "SHA256", any case */
    const char *src_versions; /* comma-separated versions it upgrades from; NULL: any */
    const char *firmware_id;  /* NULL: generated (26 letters and digits) */
} service_firmware_spec;

/*
 * Adds the firmware received in file (finished) as spec says, all or
 * nothing; on SERVICE_OK out holds it and the file has moved to
 * <packages_dir>/fw/<firmwareId>.bin. Errors: SERVICE_INVALID
 * InvalidFirmware (a field breaks its rule, or the file is empty);
 * SERVICE_NOT_FOUND ProductNotFound, ModuleNotFound; SERVICE_EXISTS
 * FirmwareExists (the module has that version, or the id is taken).
 */
service_status service_firmware_add(const service_firmware_spec *spec, package_file *file, const char *packages_dir,
                                    store_firmware *out, service_result *res);

/* Firmware id into out. Errors: SERVICE_NOT_FOUND FirmwareNotFound. */
service_status service_firmware_get(const char *id, store_firmware *out, service_result *res);

/* Deletes firmware id, its ended jobs and its file. Errors:
 * SERVICE_NOT_FOUND FirmwareNotFound; SERVICE_CONFLICT FirmwareInUse (a
 * job of it is in progress: cancel it first). */
service_status service_firmware_delete(const char *id, const char *packages_dir, service_result *res);

/*
 * Checks and normalises a comma-separated list of firmware versions
 * ("1.0.0, 1.0.1" -> "1.0.0,1.0.1"; spaces around items dropped, empty
 * list ""), into out. Returns false when an item is not a valid version,
 * repeats, or the list does not fit.
 */
bool service_version_list(const char *in, char out[STORE_SRC_VERSIONS_SIZE]);

#endif
