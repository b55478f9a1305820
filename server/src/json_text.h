/*
 * json_text.h - JSON text in and out of the HTTP layer kept to what every
 * reader agrees on.
 *
 * In: cJSON turns "\u0000" into a NUL that ends the C string (so
 * "ab\u0000cd" would be stored as "ab"), takes raw control characters in
 * strings, and passes any bytes through - an encoded surrogate or a
 * malformed sequence included. A request body is refused instead.
 *
 * Out: an answer must be valid UTF-8 JSON even when it echoes bytes a
 * client sent (a path, a file name) or a device reported: bad bytes are
 * shown as \xHH in error messages and replaced by U+FFFD elsewhere.
 */
#ifndef HAAS_JSON_TEXT_H
#define HAAS_JSON_TEXT_H

#include <stddef.h>

/*
 * Why the len bytes of JSON text must be refused before parsing: not valid
 * UTF-8 (identifiers.h: valid_utf8), a string holding the escape \u0000 or
 * a raw control character (below 0x20, which JSON forbids). NULL when none
 * of these.
 */
const char *json_text_refusal(const char *text, size_t len);

/*
 * Copies the C string in to out (outlen bytes, always terminated, cut at a
 * character boundary when it does not fit) with every byte that does not
 * begin well-formed UTF-8 written as the four characters \xHH. Returns the
 * length written.
 */
size_t json_text_escape(char *out, size_t outlen, const char *in);

/*
 * A copy of the n bytes at in (malloc'd, NUL-terminated) with every byte
 * that does not begin well-formed UTF-8 replaced by U+FFFD; *outlen gets
 * its length. NULL when out of memory.
 */
char *json_text_repair(const char *in, size_t n, size_t *outlen);

#endif
