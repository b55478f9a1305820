/*
 * json_text.h - JSON text in and out of the HTTP layer kept to what every
 * reader agrees on, and the elements of an array read one at a time (the
 * MQTT link's gathered lifecycle messages).
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

/*
 * Calls each(item, item_len, ctx) for each element of the JSON array held
 * by the len bytes at text, in order, with the element's own text (the
 * blanks around it left out): an element can be read, logged or parsed by
 * itself, with no parse of the whole array and no printing it again. Only
 * strings (with their escapes) and the nesting of arrays and objects are
 * followed, to find the commas between elements; the elements themselves
 * are not checked. Returns how many elements were passed on, or -1 when
 * the text is not one array (blanks aside): not one at all, an empty
 * element, or cut short, in which case the elements before the fault have
 * been passed on already.
 */
int json_text_array_items(const char *text, size_t len, void (*each)(const char *item, size_t item_len, void *ctx),
                          void *ctx);

#endif
