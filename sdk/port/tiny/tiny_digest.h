/*
 * tiny_digest.h - MD5, SHA-256 and HMAC-SHA256 for microcontroller ports
 * of the device SDK, without allocation or a C library: the state lives in
 * the core's haas_hash_state (haas_port.h), as a port over mbedTLS or a
 * chip's ROM keeps it. Written for this project from RFC 1321 and
 * FIPS 180-4 (HMAC: RFC 2104).
 *
 * The functions have haas_port's signatures (ctx is not used), so a port
 * puts them straight into its haas_port:
 *
 *     port.hash_init = tiny_hash_init; port.hash_update = tiny_hash_update;
 *     port.hash_final = tiny_hash_final; port.hmac_sha256 = tiny_hmac_sha256;
 */
#ifndef TINY_DIGEST_H
#define TINY_DIGEST_H

#include "haas_port.h"

#include <stddef.h>
#include <stdint.h>

/* One digest computation (fits in haas_hash_state; checked at compile time). */
typedef struct {
    uint32_t kind;     /* haas_hash_kind */
    uint32_t h[8];     /* MD5 uses 4 */
    uint64_t length;   /* bytes hashed */
    uint8_t block[64]; /* a block being filled */
    uint32_t fill;
} tiny_digest;

/* Starts an MD5 or SHA-256 computation in st. Returns 0, or HAAS_PORT_ERR
 * for another kind. */
int tiny_hash_init(void *ctx, haas_hash_state *st, haas_hash_kind kind);

/* Hashes len bytes of data. */
void tiny_hash_update(void *ctx, haas_hash_state *st, const void *data, size_t len);

/* Writes the digest (16 bytes for MD5, 32 for SHA-256). */
void tiny_hash_final(void *ctx, haas_hash_state *st, uint8_t *digest);

/* HMAC-SHA256 of data with key into out. Returns 0. */
int tiny_hmac_sha256(void *ctx, const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);

#endif
