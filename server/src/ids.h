/*
 * ids.h - random identifiers: product keys, device secrets, group and task
 * ids. All come from OpenSSL's CSPRNG; device secrets are credentials.
 */
#ifndef HAAS_IDS_H
#define HAAS_IDS_H

#include <stddef.h>

/* Writes n random characters of [A-Za-z0-9] and a NUL to out (n+1 bytes).
 * Returns 0, or -1 when the random source fails. */
int ids_random_alnum(char *out, size_t n);

/* Writes n random lower-case hex digits and a NUL to out. Returns 0 or -1. */
int ids_random_hex(char *out, size_t n);

/* A new product key: "a1" and 9 random [A-Za-z0-9], 11 characters like the
 * real cloud's (out holds 12 bytes). */
int ids_product_key(char *out);

#endif
