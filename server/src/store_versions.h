/*
 * store_versions.h - app versions (table versions): one uploaded package
 * each, its file at <data>/packages/<object_key>, downloaded at
 * /<bucket>/<object_key>. Deleting a version deletes its tasks.
 */
#ifndef HAAS_STORE_VERSIONS_H
#define HAAS_STORE_VERSIONS_H

#include "store.h"

#include <stdint.h>

typedef struct {
    char app_id[STORE_APP_ID_SIZE];
    char version[STORE_VERSION_SIZE];     /* as uploaded, "a.b.c" */
    long parts[3];                        /* its numbers: major, minor, patch */
    char object_key[STORE_OBJECT_SIZE];   /* "<appId>/<file name>" */
    int64_t size;                         /* bytes of the package */
    char md5[STORE_MD5_SIZE];
    char sha256[STORE_SHA256_SIZE];
    char status[STORE_WORD_SIZE];         /* "testing" or "deprecated" */
    int64_t created_at;                   /* Unix seconds */
} store_version;

/*
 * Adds version v (every field but status, which starts "testing"). Returns
 * STORE_OK, STORE_EXISTS (the app has that version, or one with the same
 * numbers, or the object key is taken), STORE_CONFLICT (no such app) or
 * STORE_ERROR.
 */
store_status store_version_insert(const store_version *v);

/* Reads version of app app_id into out. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_version_get(const char *app_id, const char *version, store_version *out);

/*
 * Finds the version of app app_id whose numbers are parts (1.02.3 and 1.2.3
 * are the same version) and reads it into out. Returns STORE_OK,
 * STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_version_find(const char *app_id, const long parts[3], store_version *out);

/*
 * Reads the version whose package is object (its object key) into out: the
 * download path. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_version_by_object(const char *object, store_version *out);

/*
 * One page of app app_id's versions (store_version rows), highest first.
 * Returns STORE_OK or STORE_ERROR.
 */
store_status store_version_list(const char *app_id, store_page *page);

/* Marks the version deprecated. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_version_deprecate(const char *app_id, const char *version);

/*
 * Deletes the version (and its tasks; the package file is the caller's).
 * Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_version_delete(const char *app_id, const char *version);

#endif
