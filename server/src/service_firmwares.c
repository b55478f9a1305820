/*
 * service_firmwares.c - the rules for OTA modules and firmware (see
 * service_firmwares.h).
 */
#include "clock.h"
#include "service_firmwares.h"
#include "identifiers.h"
#include "ids.h"
#include "log.h"
#include "store_ota_jobs.h"
#include "store_products.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static int is_text(const char *s) { return s && s != service_not_text; }

/* Product pk exists: SERVICE_OK, or ProductNotFound / a storage error. */
static service_status product_exists(const char *pk, service_result *res)
{
    store_product p;
    store_status s = valid_product_key(pk) ? store_product_get(pk, &p) : STORE_NOT_FOUND;
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "ProductNotFound", "no product %.40s", pk ? pk : "");
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the product");
}

service_status service_module_add(const char *pk, const char *name, const char *alias, const char *description,
                                  store_ota_module *out, service_result *res)
{
    if (!is_text(name) || !valid_ota_word(name) || (alias && (!is_text(alias) || (*alias &&
        !valid_display_name(alias, STORE_NAME_SIZE - 1)))) || (description && (!is_text(description) ||
        (*description && !valid_display_name(description, STORE_DESC_SIZE - 1)))))
        return service_fail(res, SERVICE_INVALID, "InvalidModule",
                            "moduleName is 1..64 of A-Z a-z 0-9 . _ - (alias at most 64 and description at most "
                            "512 bytes of text)");
    if (product_exists(pk, res) != SERVICE_OK)
        return res->status;
    if (!strcmp(name, STORE_OTA_DEFAULT_MODULE))
        return service_fail(res, SERVICE_EXISTS, "ModuleExists", "every product has the module default");
    store_ota_module m = {0};
    snprintf(m.product_key, sizeof m.product_key, "%s", pk);
    snprintf(m.module_name, sizeof m.module_name, "%s", name);
    snprintf(m.alias, sizeof m.alias, "%s", alias ? alias : "");
    snprintf(m.description, sizeof m.description, "%s", description ? description : "");
    m.created_at = clock_now();
    store_status s = store_module_insert(&m);
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "ModuleExists", "product %s has a module %s already", pk, name);
    if (s != STORE_OK)
        return service_storage_error(res, "store the module");
    *out = m;
    return service_ok(res);
}

service_status service_module_get(const char *pk, const char *name, store_ota_module *out, service_result *res)
{
    if (product_exists(pk, res) != SERVICE_OK)
        return res->status;
    if (name && !strcmp(name, STORE_OTA_DEFAULT_MODULE)) {
        store_product p;
        memset(out, 0, sizeof *out);
        snprintf(out->product_key, sizeof out->product_key, "%s", pk);
        snprintf(out->module_name, sizeof out->module_name, STORE_OTA_DEFAULT_MODULE);
        out->created_at = store_product_get(pk, &p) == STORE_OK ? p.created_at : 0;
        return service_ok(res);
    }
    store_status s = valid_ota_word(name) ? store_module_get(pk, name, out) : STORE_NOT_FOUND;
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "ModuleNotFound", "product %s has no module %.64s", pk,
                            name ? name : "");
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the module");
}

service_status service_module_delete(const char *pk, const char *name, service_result *res)
{
    store_ota_module m;
    int n = 0;
    if (service_module_get(pk, name, &m, res) != SERVICE_OK)
        return res->status;
    if (!strcmp(name, STORE_OTA_DEFAULT_MODULE))
        return service_fail(res, SERVICE_CONFLICT, "ModuleDefault", "the module default cannot be deleted");
    if (store_module_firmware_count(pk, name, &n) != STORE_OK)
        return service_storage_error(res, "read the module's firmware");
    if (n > 0)
        return service_fail(res, SERVICE_CONFLICT, "ModuleInUse", "module %s has %d firmware(s): delete them first",
                            name, n);
    store_status s = store_module_delete(pk, name);
    return s == STORE_OK || s == STORE_NOT_FOUND ? service_ok(res) : service_storage_error(res, "delete the module");
}

bool service_version_list(const char *in, char out[STORE_SRC_VERSIONS_SIZE])
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = in; p && *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && *p == ' ')
            p++;
        const char *last = end;
        while (last > p && last[-1] == ' ')
            last--;
        char item[STORE_OTA_WORD_SIZE + 2];
        size_t len = (size_t)(last - p);
        if (len == 0 || len >= STORE_OTA_WORD_SIZE)
            return false;
        memcpy(item, p, len);
        item[len] = '\0';
        /* a repeat: ",item," inside ",out," */
        char probe[STORE_SRC_VERSIONS_SIZE + 2], needle[sizeof item + 2];
        snprintf(probe, sizeof probe, ",%s,", out);
        snprintf(needle, sizeof needle, ",%s,", item);
        if (!valid_ota_word(item) || strstr(probe, needle) || used + len + 2 > STORE_SRC_VERSIONS_SIZE)
            return false;
        used += (size_t)snprintf(out + used, STORE_SRC_VERSIONS_SIZE - used, "%s%s", used ? "," : "", item);
        p = comma ? comma + 1 : end;
        if (comma && !*p)
            return false; /* a trailing comma */
    }
    return true;
}

/* The sign method as devices want it spelled ("Md5", "SHA256"), or NULL. */
static const char *sign_method_named(const char *s)
{
    if (!s || !strcasecmp(s, "md5"))
        return "Md5";
    if (!strcasecmp(s, "sha256"))
        return "SHA256";
    return NULL;
}

static int make_firmware_id(char *id, size_t len)
{
    (void)len;
    return ids_random_alnum(id, 26);
}

/* Are the text fields of spec valid? src_versions goes to f, normalised. */
static bool spec_valid(const service_firmware_spec *spec, const char *module, const char *method, const char *name,
                       store_firmware *f)
{
    bool id_ok = !spec->firmware_id || (is_text(spec->firmware_id) && valid_token(spec->firmware_id));
    bool src_ok = !spec->src_versions ||
                  (is_text(spec->src_versions) && service_version_list(spec->src_versions, f->src_versions));
    return is_text(spec->version) && valid_ota_word(spec->version) && is_text(module) && valid_ota_word(module) &&
           method && is_text(name) && valid_display_name(name, STORE_NAME_SIZE - 1) && src_ok && id_ok;
}

/* Checks spec and fills f's fields from it: SERVICE_OK or the error. */
static service_status check_spec(const service_firmware_spec *spec, store_firmware *f, service_result *res)
{
    const char *module = spec->module_name ? spec->module_name : STORE_OTA_DEFAULT_MODULE;
    const char *method = spec->sign_method == service_not_text ? NULL : sign_method_named(spec->sign_method);
    const char *name = spec->name && *spec->name ? spec->name : spec->version;
    if (!spec_valid(spec, module, method, name, f))
        return service_fail(res, SERVICE_INVALID, "InvalidFirmware",
                            "version (required) and module are 1..64 of A-Z a-z 0-9 . _ -; name at most 64 bytes of "
                            "text; signMethod Md5 or SHA256; srcVersions a comma-separated list of versions; "
                            "firmwareId 1..40 of A-Z a-z 0-9 _ -");
    snprintf(f->module_name, sizeof f->module_name, "%s", module);
    snprintf(f->version, sizeof f->version, "%s", spec->version);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->sign_method, sizeof f->sign_method, "%s", method);
    snprintf(f->product_key, sizeof f->product_key, "%s", spec->product_key ? spec->product_key : "");
    store_ota_module m;
    store_firmware taken;
    if (service_module_get(spec->product_key, module, &m, res) != SERVICE_OK)
        return res->status;
    store_status s = store_firmware_find(f->product_key, module, f->version, &taken);
    if (s == STORE_OK)
        return service_fail(res, SERVICE_EXISTS, "FirmwareExists", "module %s of product %s has version %s already "
                            "(firmware %s)", module, f->product_key, f->version, taken.firmware_id);
    return s == STORE_NOT_FOUND ? service_ok(res) : service_storage_error(res, "read the firmware");
}

/* Adds row f under a free id and moves the file in, all or nothing. */
static service_status store_firmware_file(package_file *file, const char *dir, const char *given_id,
                                          store_firmware *f, service_result *res)
{
    char fw_dir[1000], final[1400];
    snprintf(fw_dir, sizeof fw_dir, "%s/fw", dir);
    if (mkdir(fw_dir, 0755) < 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "mkdir %s: %s", fw_dir, strerror(errno));
        return service_storage_error(res, "store the firmware");
    }
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "store the firmware");
    store_status s = STORE_EXISTS;
    for (int attempt = 0; s == STORE_EXISTS && attempt < (given_id ? 1 : 10); attempt++) {
        if (given_id)
            snprintf(f->firmware_id, sizeof f->firmware_id, "%s", given_id);
        else if (make_firmware_id(f->firmware_id, sizeof f->firmware_id) < 0)
            break;
        snprintf(f->object_key, sizeof f->object_key, "fw/%s.bin", f->firmware_id);
        s = store_firmware_insert(f);
    }
    snprintf(final, sizeof final, "%s/%s", dir, f->object_key);
    if (s == STORE_OK && rename(package_file_path(file), final) == 0) {
        package_file_keep(file);
        package_change moved_in = {final, false};
        if (store_commit_with(package_change_settle, &moved_in) == STORE_OK)
            return service_ok(res);
        return service_storage_error(res, "store the firmware");
    }
    if (s == STORE_OK)
        log_msg(LOG_ERROR, "rename %s -> %s: %s", package_file_path(file), final, strerror(errno));
    store_rollback();
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "FirmwareExists", "firmware %s, or version %s of module %s, exists "
                            "already", f->firmware_id, f->version, f->module_name);
    return service_storage_error(res, "store the firmware");
}

service_status service_firmware_add(const service_firmware_spec *spec, package_file *file, const char *packages_dir,
                                    store_firmware *out, service_result *res)
{
    store_firmware f = {0};
    if (check_spec(spec, &f, res) != SERVICE_OK)
        return res->status;
    f.size = package_file_size(file);
    if (f.size <= 0)
        return service_fail(res, SERVICE_INVALID, "InvalidFirmware", "the firmware file is empty");
    snprintf(f.md5, sizeof f.md5, "%s", package_file_md5(file));
    snprintf(f.sha256, sizeof f.sha256, "%s", package_file_sha256(file));
    f.created_at = clock_now();
    if (store_firmware_file(file, packages_dir, spec->firmware_id, &f, res) != SERVICE_OK)
        return res->status;
    log_msg(LOG_INFO, "stored firmware %s: %s %s of product %s (%lld bytes, md5 %s)", f.firmware_id, f.module_name,
            f.version, f.product_key, (long long)f.size, f.md5);
    *out = f;
    return service_ok(res);
}

service_status service_firmware_get(const char *id, store_firmware *out, service_result *res)
{
    store_status s = valid_token(id) ? store_firmware_get(id, out) : STORE_NOT_FOUND;
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "FirmwareNotFound", "no firmware %.40s", id ? id : "");
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the firmware");
}

/* service_firmware_delete in one transaction. */
static service_status delete_firmware(const char *id, const char *packages_dir, service_result *res)
{
    store_firmware f;
    int active = 0;
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "delete the firmware");
    if (service_firmware_get(id, &f, res) == SERVICE_OK && store_ota_firmware_active_jobs(id, &active) != STORE_OK)
        service_storage_error(res, "read the firmware's jobs");
    else if (res->status == SERVICE_OK && active > 0)
        service_fail(res, SERVICE_CONFLICT, "FirmwareInUse", "firmware %s has %d job(s) in progress: cancel them first",
                     id, active);
    else if (res->status == SERVICE_OK && store_firmware_delete(id) != STORE_OK)
        service_storage_error(res, "delete the firmware");
    if (res->status != SERVICE_OK) {
        store_rollback();
        return res->status;
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", packages_dir, f.object_key);
    package_change deleted = {path, true};
    if (store_commit_with(package_change_settle, &deleted) != STORE_OK)
        return service_storage_error(res, "delete the firmware");
    return service_ok(res);
}

service_status service_firmware_delete(const char *id, const char *packages_dir, service_result *res)
{
    /* on a full disk, once more with the room held back for deletes */
    if (delete_firmware(id, packages_dir, res) == SERVICE_FULL && store_give_reserve())
        delete_firmware(id, packages_dir, res);
    return res->status;
}
