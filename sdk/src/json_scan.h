/*
 * json_scan.h - read values out of a JSON document in place, without
 * allocating: enough JSON for the Alink messages the SDK receives (the
 * upgrade push) and the manifest.json of an app.
 *
 * A value is located by a path of object keys and array indexes, such as
 * "params.app[0].url". The document is validated while it is scanned, with a
 * nesting limit, so malformed or hostile input is refused, never over-read.
 */
#ifndef HAAS_JSON_SCAN_H
#define HAAS_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

typedef enum { JSON_NONE, JSON_STRING, JSON_NUMBER, JSON_OBJECT, JSON_ARRAY, JSON_TRUE, JSON_FALSE, JSON_NULL } json_type;

typedef struct {
    json_type type;
    const char *start; /* strings: the characters between the quotes, still escaped */
    size_t len;
} json_value;

/* Is doc[0..len) exactly one valid JSON value (white space around allowed)? */
bool json_valid(const char *doc, size_t len);

/* Finds path in doc. Returns false when the document is invalid or the
 * path does not exist. */
bool json_find(const char *doc, size_t len, const char *path, json_value *out);

/* Copies a string value, unescaped, into out (NUL-terminated). False when
 * v is not a string, holds a NUL, or does not fit. */
bool json_string(const json_value *v, char *out, size_t cap);

/* An integer value (no fraction, no exponent) into *out. */
bool json_int(const json_value *v, int64_t *out);

/* Convenience: json_find + json_string / json_int. */
bool json_get_string(const char *doc, size_t len, const char *path, char *out, size_t cap);
bool json_get_int(const char *doc, size_t len, const char *path, int64_t *out);

#endif
