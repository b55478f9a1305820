/*
 * validate.h - the formats of the real cloud's identifiers (PROTOCOL.md
 * sections 1 and 4.6), checked in one place for the REST API, package
 * uploads and (later) MQTT messages.
 */
#ifndef HAAS_VALIDATE_H
#define HAAS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* ProductKey: exactly 11 of [A-Za-z0-9]. */
bool valid_product_key(const char *s);

/* DeviceName: 4..32 of [A-Za-z0-9_@.:-]. */
bool valid_device_name(const char *s);

/* appName: 1..16 letters and digits. */
bool valid_app_name(const char *s);

/* appId: 16 digits starting with 88001000. */
bool valid_app_id(const char *s);

/* A display name (product, group, description): 1..max bytes of valid UTF-8
 * with no control characters. */
bool valid_display_name(const char *s, size_t max);

/* Generated ids (groupId, taskId): 1..40 of [A-Za-z0-9_-]. */
bool valid_token(const char *s);

/*
 * Parses "a.b.c": exactly three dot-separated runs of 1..9 digits. Fills
 * parts and returns true, or returns false.
 */
bool version_parse(const char *s, long parts[3]);

/* Numeric part-by-part comparison of two parsed versions: <0, 0, >0. */
int version_compare(const long a[3], const long b[3]);

/*
 * Splits a package file name "<appName>-<appId>-<version>.tar.gz" into
 * name (17 bytes), id (17 bytes) and version (32 bytes), checking each.
 * Returns NULL when fine, else the error code: "InvalidFileName" (not of
 * that shape), "InvalidAppName", "InvalidAppId" or "InvalidVersion".
 */
const char *package_filename_parse(const char *filename, char *name, char *id, char *version);

#endif
