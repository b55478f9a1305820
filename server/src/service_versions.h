/*
 * service_versions.h - the rules for app versions (tutorial 5.3 and 5.7):
 * an uploaded package is accepted only whole - its file name
 * (<appName>-<appId>-<version>.tar.gz) must name this app and a version it
 * does not have yet, its contents must pass package_check.h - and then,
 * inside one transaction, its row is added and the file moved into
 * <packages>/<appId>/. A rejected package leaves neither a row nor a file; a
 * crash between the move and the commit leaves a file no row names, which
 * start-up removes (datadir.c). A version is deprecated before it may be
 * deleted.
 */
#ifndef HAAS_SERVICE_VERSIONS_H
#define HAAS_SERVICE_VERSIONS_H

#include "package_check.h"
#include "package_file.h"
#include "service.h"
#include "store_versions.h"


/* Where the packages live and what they may be. */
typedef struct {
    const char *dir;        /* <data>/packages */
    package_limits limits;  /* --max-unpacked-size, --max-entries, --max-ratio */
} service_packages;

/*
 * Adds the package received in file (finished: package_file_finish) under
 * the name filename (no folders) to app app_id as a version, all or
 * nothing. On SERVICE_OK, out holds the version and the file has moved to
 * <pk->dir>/<appId>/<filename> (and is kept: package_file_keep).
 * Errors: SERVICE_INVALID InvalidFileName, InvalidAppName, InvalidAppId,
 * InvalidVersion (the file name), FileNameMismatch (it names another app),
 * and every code of package_check.h; SERVICE_NOT_FOUND AppNotFound;
 * SERVICE_EXISTS VersionExists (the same numbers, even spelled otherwise);
 * SERVICE_ERROR StorageError.
 */
service_status service_version_add(const char *app_id, const char *filename, package_file *file,
                                   const service_packages *pk, store_version *out, service_result *res);

/*
 * The version of app app_id into out. Errors: SERVICE_NOT_FOUND
 * AppNotFound, VersionNotFound; SERVICE_ERROR StorageError.
 */
service_status service_version_get(const char *app_id, const char *version, store_version *out, service_result *res);

/*
 * Marks the version deprecated (no task may use it any more) and reads it
 * into out. Errors as service_version_get.
 */
service_status service_version_deprecate(const char *app_id, const char *version, store_version *out,
                                         service_result *res);

/*
 * Deletes a deprecated version, its tasks and its file in packages_dir.
 * Errors: SERVICE_NOT_FOUND AppNotFound, VersionNotFound; SERVICE_CONFLICT
 * VersionNotDeprecated; SERVICE_ERROR StorageError.
 */
service_status service_version_delete(const char *app_id, const char *version, const char *packages_dir,
                                      service_result *res);

#endif
