/*
 * manifest.h - reading the manifest.json of an app package under the
 * manifest rules of the package rule list (server/src/package_check.h, M1-M4).
 * The device core applies it to the package it has just extracted, and
 * haas-emu to every upload, with this same code: what one side accepts, the
 * other does too. Comparing the fields with what they must equal is left to
 * each side (the file name at upload, the push on the device).
 */
#ifndef HAAS_MANIFEST_H
#define HAAS_MANIFEST_H

#include <stddef.h>

#define MANIFEST_MAX 1536 /* bytes of manifest.json, at most */

typedef struct {
    char app_name[32], appid[20], version[32];
} manifest_fields;

typedef enum {
    MANIFEST_OK = 0,
    MANIFEST_TOO_LARGE,  /* more than MANIFEST_MAX bytes */
    MANIFEST_NOT_JSON,   /* not one JSON object, or not UTF-8 (json_plain_object) */
    MANIFEST_DUPLICATE_KEY, /* a key twice in an object */
    MANIFEST_BAD_STRING, /* a control character or an unpaired surrogate in a string */
    MANIFEST_NO_APP_NAME, /* no "appName" string that fits app_name */
    MANIFEST_NO_APPID,    /* no "appid" string that fits appid */
    MANIFEST_NO_VERSION,  /* no "version" string that fits version */
} manifest_result;

/* Checks doc[0..len) and copies appName, appid and version into *out. */
manifest_result manifest_read(const char *doc, size_t len, manifest_fields *out);

/* A short English text for a manifest_result. */
const char *manifest_result_text(manifest_result r);

#endif
