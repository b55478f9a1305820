/*
 * service_apps.c - the rules for apps (see service_apps.h).
 */
#include "clock.h"
#include "service_apps.h"
#include "identifiers.h"

#include <time.h>

service_status service_app_create(const char *name, const char *app_id, const char *description, store_app *out,
                                  service_result *res)
{
    if (name == service_not_text || !valid_app_name(name))
        return service_fail(res, SERVICE_INVALID, "InvalidAppName", "appName must be 1..16 letters and digits");
    if (app_id == service_not_text || !valid_app_id(app_id))
        return service_fail(res, SERVICE_INVALID, "InvalidAppId", "appId must be 16 digits starting with 88001000");
    if (!description)
        description = "";
    if (description == service_not_text || (description[0] && !valid_display_name(description, 512)))
        return service_fail(res, SERVICE_INVALID, "InvalidDescription",
                            "description must be at most 512 bytes of text");
    switch (store_app_insert(app_id, name, description, clock_now())) {
    case STORE_OK:
        break;
    case STORE_EXISTS:
        return service_fail(res, SERVICE_EXISTS, "AppExists", "app %s already exists", app_id);
    case STORE_CONFLICT:
        return service_fail(res, SERVICE_EXISTS, "AppNameTaken", "appName %s is used by another app", name);
    default:
        return service_storage_error(res, "store the app");
    }
    return store_app_get(app_id, out) == STORE_OK ? service_ok(res) : service_storage_error(res, "store the app");
}

service_status service_app_get(const char *app_id, store_app *out, service_result *res)
{
    store_status s = store_app_get(app_id, out);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "AppNotFound", "no app %s", app_id);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the app");
}

service_status service_app_delete(const char *app_id, service_result *res)
{
    store_app a;
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "delete the app");
    if (service_app_get(app_id, &a, res) == SERVICE_OK && a.version_count > 0)
        service_fail(res, SERVICE_CONFLICT, "AppHasVersions",
                     "app %s still has %lld version(s); deprecate and delete them first", app_id,
                     (long long)a.version_count);
    else if (res->status == SERVICE_OK && store_app_delete(app_id) != STORE_OK)
        service_storage_error(res, "delete the app");
    if (res->status != SERVICE_OK) {
        store_rollback();
        return res->status;
    }
    return store_commit() == STORE_OK ? service_ok(res) : service_storage_error(res, "delete the app");
}
