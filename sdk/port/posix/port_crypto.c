/*
 * port_crypto.c - the digests of the POSIX port: MD5 and SHA-256 in steps
 * and one-shot HMAC-SHA256, all through OpenSSL 3's EVP interface. The
 * haas_hash_state holds a pointer to an EVP_MD_CTX from hash_init until
 * hash_final frees it.
 */
#include <string.h>

#include <openssl/evp.h>

#include "port_internal.h"

static int h_init(void *ctx, haas_hash_state *st, haas_hash_kind kind)
{
    struct haas_posix_port *p = ctx;
    st->ptr_ = NULL;
    const EVP_MD *md = kind == HAAS_HASH_MD5 ? EVP_md5() : kind == HAAS_HASH_SHA256 ? EVP_sha256() : NULL;
    if (!md)
        return HAAS_PORT_ERR;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (!mc || EVP_DigestInit_ex(mc, md, NULL) != 1) {
        EVP_MD_CTX_free(mc);
        port_logf(p, HAAS_LOG_ERROR, "digest init failed");
        return HAAS_PORT_ERR;
    }
    st->ptr_ = mc;
    return HAAS_PORT_OK;
}

static void h_update(void *ctx, haas_hash_state *st, const void *data, size_t len)
{
    (void)ctx;
    if (st->ptr_ && len > 0 && data)
        EVP_DigestUpdate(st->ptr_, data, len);
}

static void h_final(void *ctx, haas_hash_state *st, uint8_t *digest)
{
    (void)ctx;
    EVP_MD_CTX *mc = st->ptr_;
    if (!mc)
        return;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(mc, md, &n) == 1 && digest)
        memcpy(digest, md, n);
    EVP_MD_CTX_free(mc);
    st->ptr_ = NULL;
}

static int h_hmac_sha256(void *ctx, const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32])
{
    struct haas_posix_port *p = ctx;
    static const unsigned char empty[1];
    size_t n = 0;
    if (!out || (!key && key_len) || (!data && len))
        return HAAS_PORT_ERR;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_len ? key : empty, key_len, len ? data : empty, len,
                   out, 32, &n) ||
        n != 32) {
        port_logf(p, HAAS_LOG_ERROR, "HMAC-SHA256 failed");
        return HAAS_PORT_ERR;
    }
    return HAAS_PORT_OK;
}

void port_crypto_fill(haas_port *out)
{
    out->hash_init = h_init;
    out->hash_update = h_update;
    out->hash_final = h_final;
    out->hmac_sha256 = h_hmac_sha256;
}
