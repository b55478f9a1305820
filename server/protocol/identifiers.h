/*
 * identifiers.h - the formats of the real cloud's identifiers (docs/protocol.md,
 * sections 1 and 4.6), checked in one place: the REST API, package uploads,
 * MQTT messages and the broker plugin's login and ACL checks all call these.
 * Part of the protocol module (server/protocol/), which has no dependency
 * beyond the C library so that the plugin links it too.
 */
#ifndef HAAS_IDENTIFIERS_H
#define HAAS_IDENTIFIERS_H

#include <stdbool.h>
#include <stddef.h>

#define HAAS_PK_LEN 11       /* ProductKey length */
#define HAAS_DN_MIN 4        /* shortest DeviceName */
#define HAAS_DN_MAX 32       /* longest DeviceName */
#define HAAS_DS_LEN 32       /* DeviceSecret length */
#define HAAS_APP_NAME_MAX 16 /* longest appName */
#define HAAS_APP_ID_LEN 16   /* appId length */
#define HAAS_OTA_WORD_MAX 64 /* longest OTA module name or firmware version */

/* ProductKey: exactly HAAS_PK_LEN of [A-Za-z0-9]. NULL gives false. */
bool valid_product_key(const char *s);

/* DeviceName: HAAS_DN_MIN..HAAS_DN_MAX of [A-Za-z0-9_@.:-]. NULL gives false. */
bool valid_device_name(const char *s);

/* DeviceSecret: exactly HAAS_DS_LEN letters and digits. NULL gives false. */
bool valid_device_secret(const char *s);

/* appName: 1..HAAS_APP_NAME_MAX letters and digits. */
bool valid_app_name(const char *s);

/* appId: 16 digits starting with 88001000. */
bool valid_app_id(const char *s);

/* A display name (product, group, description): 1..max bytes of valid UTF-8
 * with no control characters. */
bool valid_display_name(const char *s, size_t max);

/*
 * Are the n bytes at s well-formed UTF-8: no overlong form, no encoded
 * surrogate (ED A0 80..ED BF BF), nothing past U+10FFFF, no sequence cut
 * short? NULL gives false.
 */
bool valid_utf8(const char *s, size_t n);

/* How many of the n bytes at s are well-formed UTF-8 from the start on
 * (n when all are). */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Generated ids (groupId, taskId): 1..40 of [A-Za-z0-9_-]. */
bool valid_token(const char *s);

/*
 * A firmware OTA module name or firmware version as the Aliyun IoT console
 * takes them: 1..HAAS_OTA_WORD_MAX of [A-Za-z0-9._-] ("default", "MCU",
 * "1.0.1", "V2_3-beta"). Firmware versions are compared as text, not as
 * numbers: a device has reached a version when it reports exactly it.
 */
bool valid_ota_word(const char *s);

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

#endif /* HAAS_IDENTIFIERS_H */
