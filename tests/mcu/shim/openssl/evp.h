/*
 * openssl/evp.h (MCU shim) - the digest calls the SDK's unit tests make,
 * answered by the microcontroller port kit's own MD5 and SHA-256
 * (sdk/port/tiny/tiny_digest.c), as firmware has no OpenSSL.
 */
#ifndef MCU_OPENSSL_EVP_SHIM_H
#define MCU_OPENSSL_EVP_SHIM_H

#include <stddef.h>

#include "tiny_digest.h"

typedef struct { int kind; } EVP_MD;
typedef struct { haas_hash_state st; int kind; } EVP_MD_CTX;
typedef void ENGINE;

const EVP_MD *EVP_md5(void);
const EVP_MD *EVP_sha256(void);
EVP_MD_CTX *EVP_MD_CTX_new(void);
void EVP_MD_CTX_free(EVP_MD_CTX *c);
int EVP_DigestInit_ex(EVP_MD_CTX *c, const EVP_MD *md, ENGINE *e);
int EVP_DigestUpdate(EVP_MD_CTX *c, const void *data, size_t len);
int EVP_DigestFinal_ex(EVP_MD_CTX *c, unsigned char *out, unsigned int *len);
int EVP_Digest(const void *data, size_t len, unsigned char *out, unsigned int *out_len, const EVP_MD *md, ENGINE *e);

#endif
