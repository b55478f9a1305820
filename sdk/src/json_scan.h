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

typedef enum {
    JSON_PLAIN_OK = 0,
    JSON_PLAIN_NOT_JSON,      /* not exactly one valid JSON value */
    JSON_PLAIN_NOT_UTF8,      /* not valid UTF-8 */
    JSON_PLAIN_NOT_OBJECT,    /* a value, but not an object */
    JSON_PLAIN_DUPLICATE_KEY, /* an object (at any depth) has a key twice, compared unescaped */
    JSON_PLAIN_BAD_STRING,    /* a string or key holds a control character or an unpaired surrogate */
} json_plain;

/*
 * The manifest.json rule of the package rule list (server/src/package_check.h,
 * M2-M3, which haas-emu enforces with this same function): is doc[0..len)
 * exactly one JSON object (white space around allowed), valid UTF-8 (so no
 * byte-order mark), with no object at any depth holding two equal keys, and
 * no string, key or value, holding a control character (U+0000-U+001F or
 * U+007F, raw or escaped) or an unpaired surrogate escape?
 */
json_plain json_plain_object(const char *doc, size_t len);

/* An integer value (no fraction, no exponent) into *out. */
bool json_int(const json_value *v, int64_t *out);

/* Convenience: json_find + json_string / json_int. */
bool json_get_string(const char *doc, size_t len, const char *path, char *out, size_t cap);
bool json_get_int(const char *doc, size_t len, const char *path, int64_t *out);

#endif
