/*
 * openssl/hmac.h (MCU shim) - HMAC() over sdk/port/tiny's HMAC-SHA256.
 */
#ifndef MCU_OPENSSL_HMAC_SHIM_H
#define MCU_OPENSSL_HMAC_SHIM_H

#include "openssl/evp.h"

unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *data, size_t len,
                    unsigned char *out, unsigned int *out_len);

#endif
