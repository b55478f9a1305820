/*
 * haas_util.h - the few string and memory helpers the portable core needs.
 *
 * The core (sdk/src) includes no C library header but the freestanding
 * ones (stddef.h, stdint.h, stdbool.h), so it builds with a bare
 * microcontroller compiler that has no libc at all (xtensa-lx106-elf-gcc
 * of Debian). These helpers stand in for memcpy, strlen and friends.
 *
 * Nor does it divide or multiply 64-bit numbers with the C operators: on a
 * 32-bit core those become calls of libgcc's __udivdi3, __umoddi3 and
 * __muldi3, which Debian's xtensa-lx106 libgcc lacks (the ESP8266 ROM has
 * them; `make sdk-cross` links the core to catch such calls). lx106 has no
 * divide instruction at all, and that libgcc no __udivsi3 or __umodsi3:
 * the core divides no run-time values with '/' or '%'. It uses
 * haas_u64_divmod10 and haas_percent below instead, and shifts.
 */
#ifndef HAAS_UTIL_H
#define HAAS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Like memcpy / memset / memcmp / strlen / strcmp. */
void haas_memcpy(void *dst, const void *src, size_t n);
void haas_memset(void *dst, int c, size_t n);
int haas_memcmp(const void *a, const void *b, size_t n);
size_t haas_strlen(const char *s);
int haas_strcmp(const char *a, const char *b);
bool haas_starts_with(const char *s, const char *prefix);

/*
 * Copies at most cap-1 bytes of src and a NUL into dst. Returns the length
 * of src; a result >= cap means it was cut (the caller decides whether
 * that is an error).
 */
size_t haas_strlcpy(char *dst, const char *src, size_t cap);

/*
 * A bounded string builder: appends never overflow, and ok turns false
 * once anything did not fit.
 */
typedef struct {
    char *buf;
    size_t cap, len;
    bool ok;
} haas_sb;

void haas_sb_init(haas_sb *sb, char *buf, size_t cap);
void haas_sb_str(haas_sb *sb, const char *s);
void haas_sb_mem(haas_sb *sb, const char *s, size_t n);
void haas_sb_u64(haas_sb *sb, uint64_t v);
void haas_sb_i64(haas_sb *sb, int64_t v);
/* Appends s as the inside of a JSON string (quotes not included). */
void haas_sb_json_escaped(haas_sb *sb, const char *s);
/* Appends n bytes as lower-case hex. */
void haas_sb_hex(haas_sb *sb, const uint8_t *bytes, size_t n);

/*
 * Is s[0..n) well-formed UTF-8 (RFC 3629): no overlong form, no surrogate
 * (U+D800-U+DFFF), nothing above U+10FFFF, no sequence cut short?
 */
bool haas_utf8_valid(const uint8_t *s, size_t n);

/* Divides *v by 10 in place and returns the remainder, with 32-bit
 * operations only. */
uint32_t haas_u64_divmod10(uint64_t *v);

/* part * 100 / whole, rounded down, for part <= whole and whole > 0, with
 * 32-bit operations only: exact while whole < 2^25, else both are scaled
 * down first (so a percentage of a very large size may be one low).
 * Returns 0 for whole 0. */
uint32_t haas_percent(uint64_t part, uint64_t whole);

/* Parses a decimal uint64 from s[0..n); false on anything else or overflow. */
bool haas_parse_u64(const char *s, size_t n, uint64_t *out);

#endif
