/*
 * ids.h - random identifiers: product keys, device secrets, group and task
 * ids. All come from OpenSSL's CSPRNG; device secrets are credentials.
 */
#ifndef HAAS_IDS_H
#define HAAS_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Writes n random characters of [A-Za-z0-9] and a NUL to out (n+1 bytes).
 * Returns 0, or -1 when the random source fails. */
int ids_random_alnum(char *out, size_t n);

/* Writes n random lower-case hex digits and a NUL to out. Returns 0 or -1. */
int ids_random_hex(char *out, size_t n);

/* A new product key: "a1" and 9 random [A-Za-z0-9], 11 characters like the
 * real cloud's (out holds 12 bytes). */
int ids_product_key(char *out);

/* n random bytes into buf (OpenSSL's CSPRNG, or the repeatable stream).
 * Returns 0 or -1. */
int ids_bytes(unsigned char *buf, size_t n);

/* From now on every id and secret comes from a fixed stream seeded by
 * seed: repeatable, NOT secret (--clock virtual; tests only). */
void ids_use_seed(uint64_t seed);

#endif
