/*
 * service_apps.h - the rules for apps (tutorial 5.2): appName and appId
 * follow the console's rules (docs/protocol.md section 1) and are each unique; an app
 * with versions cannot be deleted (delete them first). Reading and listing
 * are the store's (store_apps.h).
 */
#ifndef HAAS_SERVICE_APPS_H
#define HAAS_SERVICE_APPS_H

#include "service.h"
#include "store_apps.h"

/*
 * Adds app app_id named name with description (NULL: none). Each may be
 * service_not_text. On SERVICE_OK, out holds the app. Errors:
 * SERVICE_INVALID InvalidAppName, InvalidAppId, InvalidDescription;
 * SERVICE_EXISTS AppExists, AppNameTaken; SERVICE_ERROR StorageError.
 */
service_status service_app_create(const char *name, const char *app_id, const char *description, store_app *out,
                                  service_result *res);

/*
 * Deletes app app_id. Errors: SERVICE_NOT_FOUND AppNotFound;
 * SERVICE_CONFLICT AppHasVersions; SERVICE_ERROR StorageError.
 */
service_status service_app_delete(const char *app_id, service_result *res);

/* The app app_id into out: SERVICE_OK, or SERVICE_NOT_FOUND AppNotFound, SERVICE_ERROR StorageError. */
service_status service_app_get(const char *app_id, store_app *out, service_result *res);

#endif
