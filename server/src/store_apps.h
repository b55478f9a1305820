/*
 * store_apps.h - apps (table apps): an appId and an appName, each unique,
 * and a description. An app's versions are store_versions.h's; an app that
 * has versions cannot be deleted (ON DELETE RESTRICT).
 */
#ifndef HAAS_STORE_APPS_H
#define HAAS_STORE_APPS_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char app_id[STORE_APP_ID_SIZE];
    char app_name[STORE_APP_NAME_SIZE];
    char description[STORE_DESC_SIZE];
    int64_t created_at;                        /* Unix seconds */
    int64_t version_count;                     /* versions uploaded */
    bool has_latest;                           /* it has a version: */
    char latest_version[STORE_VERSION_SIZE];   /* the highest one */
} store_app;

/*
 * Adds app app_id named name with description (may be ""), created at now
 * (Unix seconds). Returns STORE_OK, STORE_EXISTS (an app with that appId
 * exists), STORE_CONFLICT (another app has that appName) or STORE_ERROR.
 * Nothing changes unless STORE_OK.
 */
store_status store_app_insert(const char *app_id, const char *name, const char *description, int64_t now);

/* Reads app app_id into out. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_app_get(const char *app_id, store_app *out);

/* One page of the apps (store_app rows), oldest first. Returns STORE_OK or STORE_ERROR. */
store_status store_app_list(store_page *page);

/*
 * Deletes app app_id. Returns STORE_OK, STORE_NOT_FOUND, STORE_CONFLICT (it
 * has versions: nothing deleted) or STORE_ERROR.
 */
store_status store_app_delete(const char *app_id);

#endif
