/*
 * service_versions.c - the rules for app versions (see service_versions.h).
 */
#include "clock.h"
#include "service_versions.h"
#include "identifiers.h"
#include "log.h"
#include "service_apps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The app name and version (into name and v) of file name filename,
 * checked against app app_id: SERVICE_OK, or the error in res. */
static service_status check_name(const char *app_id, const char *filename, char name[17], store_version *v,
                                 service_result *res)
{
    char id[17], version[32];
    const char *code = package_filename_parse(filename, name, id, version);
    if (code)
        return service_fail(res, SERVICE_INVALID, code,
                            "file name \"%.100s\" must be <appName>-<appId>-<version>.tar.gz with appName 1..16 "
                            "letters/digits, appId 16 digits starting 88001000 and version three dot-separated "
                            "numbers", filename);
    snprintf(v->app_id, sizeof v->app_id, "%s", app_id);
    snprintf(v->version, sizeof v->version, "%s", version);
    version_parse(version, v->parts);
    store_app app;
    store_version taken;
    if (service_app_get(app_id, &app, res) != SERVICE_OK)
        return res->status;
    if (strcmp(id, app_id) != 0 || strcmp(app.app_name, name) != 0)
        return service_fail(res, SERVICE_INVALID, "FileNameMismatch",
                            "file name \"%.100s\" names app %s/%s, not this app (%s)", filename, name, id, app_id);
    store_status s = store_version_find(app_id, v->parts, &taken);
    if (s == STORE_OK)
        return service_fail(res, SERVICE_EXISTS, "VersionExists", "version %s of app %s already exists", taken.version,
                            app_id);
    return s == STORE_NOT_FOUND ? service_ok(res) : service_storage_error(res, "read the versions");
}

/* Adds row v and moves the file in, all or nothing. */
static service_status store_package(package_file *file, const char *dir, const store_version *v,
                                    service_result *res)
{
    char app_dir[1000], final[1400];
    snprintf(app_dir, sizeof app_dir, "%s/%s", dir, v->app_id);
    snprintf(final, sizeof final, "%s/%s", dir, v->object_key);
    if (mkdir(app_dir, 0755) < 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "mkdir %s: %s", app_dir, strerror(errno));
        return service_storage_error(res, "store the package");
    }
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "store the package");
    store_status s = store_version_insert(v);
    if (s == STORE_OK && rename(package_file_path(file), final) == 0) {
        package_file_keep(file);
        package_change moved_in = {final, false};
        if (store_commit_with(package_change_settle, &moved_in) == STORE_OK)
            return service_ok(res);
        return service_storage_error(res, "store the package");
    }
    if (s == STORE_OK)
        log_msg(LOG_ERROR, "rename %s -> %s: %s", package_file_path(file), final, strerror(errno));
    store_rollback();
    if (s == STORE_EXISTS)
        return service_fail(res, SERVICE_EXISTS, "VersionExists", "version %s of app %s already exists", v->version,
                            v->app_id);
    return service_storage_error(res, "store the package");
}

service_status service_version_add(const char *app_id, const char *filename, package_file *file,
                                   const service_packages *pk, store_version *out, service_result *res)
{
    char name[17];
    store_version v = {0};
    if (check_name(app_id, filename, name, &v, res) != SERVICE_OK)
        return res->status;
    package_verdict verdict;
    int64_t size = package_file_size(file);
    if (package_check(package_file_path(file), size, &pk->limits, name, app_id, v.version, &verdict) < 0)
        return service_fail(res, SERVICE_INVALID, verdict.code, "%s", verdict.message);
    snprintf(v.object_key, sizeof v.object_key, "%s/%s", app_id, filename);
    v.size = size;
    snprintf(v.md5, sizeof v.md5, "%s", package_file_md5(file));
    snprintf(v.sha256, sizeof v.sha256, "%s", package_file_sha256(file));
    v.created_at = clock_now();
    if (store_package(file, pk->dir, &v, res) != SERVICE_OK)
        return res->status;
    log_msg(LOG_INFO, "stored %s (%lld bytes, %d members, md5 %s)", v.object_key, (long long)size, verdict.entries,
            v.md5);
    if (store_version_get(v.app_id, v.version, out) != STORE_OK)
        return service_storage_error(res, "read the version back");
    return service_ok(res);
}

/* A version that was not found: which of app and version is missing. */
static service_status missing(const char *app_id, const char *version, service_result *res)
{
    store_app app;
    if (service_app_get(app_id, &app, res) != SERVICE_OK)
        return res->status;
    return service_fail(res, SERVICE_NOT_FOUND, "VersionNotFound", "app %s has no version %s", app_id, version);
}

service_status service_version_get(const char *app_id, const char *version, store_version *out, service_result *res)
{
    store_status s = store_version_get(app_id, version, out);
    if (s == STORE_NOT_FOUND)
        return missing(app_id, version, res);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the version");
}

service_status service_version_deprecate(const char *app_id, const char *version, store_version *out,
                                         service_result *res)
{
    store_status s = store_version_deprecate(app_id, version);
    if (s == STORE_NOT_FOUND)
        return missing(app_id, version, res);
    if (s != STORE_OK || store_version_get(app_id, version, out) != STORE_OK)
        return service_storage_error(res, "deprecate the version");
    return service_ok(res);
}

/* service_version_delete in one transaction. */
static service_status delete_version(const char *app_id, const char *version, const char *packages_dir,
                                     service_result *res)
{
    store_version v;
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "delete the version");
    if (service_version_get(app_id, version, &v, res) == SERVICE_OK && strcmp(v.status, "deprecated") != 0)
        service_fail(res, SERVICE_CONFLICT, "VersionNotDeprecated", "deprecate version %s before deleting it", version);
    else if (res->status == SERVICE_OK && store_version_delete(app_id, version) != STORE_OK)
        service_storage_error(res, "delete the version");
    if (res->status != SERVICE_OK) {
        store_rollback();
        return res->status;
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", packages_dir, v.object_key);
    package_change deleted = {path, true};
    if (store_commit_with(package_change_settle, &deleted) != STORE_OK)
        return service_storage_error(res, "delete the version");
    return service_ok(res);
}

service_status service_version_delete(const char *app_id, const char *version, const char *packages_dir,
                                      service_result *res)
{
    /* on a full disk, once more with the room held back for deletes */
    if (delete_version(app_id, version, packages_dir, res) == SERVICE_FULL && store_give_reserve())
        delete_version(app_id, version, packages_dir, res);
    return res->status;
}
