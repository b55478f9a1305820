/*
 * device_sign.c - compute and verify the Aliyun device password with
 * OpenSSL 3's EVP_MAC: the HMAC algorithm is fetched once per signer, with
 * one context per sign method whose digest is set once; each computation
 * only keys the context again (OpenSSL's one-shot HMAC() / EVP_Q_mac
 * fetched the algorithm and the digest at every call). See device_sign.h
 * for the rules.
 *
 * Used by haas_auth.c when a device connects, and by the unit tests (the
 * test vector of docs/protocol.md section 2 is in tests/unit/test_clientid.c).
 */
#include "device_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/sha.h>

/* Longest signed content; generous for the bounded fields of clientid.h. */
#define CONTENT_MAX 1024

enum haas_sign_method haas_sign_method_from_name(const char *name)
{
    if (name == NULL) {
        return HAAS_SIGN_UNKNOWN;
    }
    if (strcasecmp(name, "hmacsha1") == 0) {
        return HAAS_SIGN_HMACSHA1;
    }
    if (strcasecmp(name, "hmacsha256") == 0) {
        return HAAS_SIGN_HMACSHA256;
    }
    if (strcasecmp(name, "hmacmd5") == 0) {
        return HAAS_SIGN_HMACMD5;
    }
    return HAAS_SIGN_UNKNOWN;
}

/* The OpenSSL name of a method's digest, or NULL for HAAS_SIGN_UNKNOWN. */
static const char *method_digest(enum haas_sign_method method)
{
    switch (method) {
    case HAAS_SIGN_HMACSHA1:
        return "SHA1";
    case HAAS_SIGN_HMACSHA256:
        return "SHA256";
    case HAAS_SIGN_HMACMD5:
        return "MD5";
    case HAAS_SIGN_UNKNOWN:
    default:
        return NULL;
    }
}

/* One HMAC context per method, indexed by enum haas_sign_method. */
#define METHODS (HAAS_SIGN_HMACMD5 + 1)

struct haas_signer {
    EVP_MAC *mac;              /* "HMAC", fetched once */
    EVP_MAC_CTX *ctx[METHODS]; /* digest set once; keyed again at every use */
};

void haas_signer_free(struct haas_signer *signer)
{
    if (signer == NULL) {
        return;
    }
    for (int m = 0; m < METHODS; m++) {
        EVP_MAC_CTX_free(signer->ctx[m]);
    }
    EVP_MAC_free(signer->mac);
    free(signer);
}

struct haas_signer *haas_signer_new(void)
{
    struct haas_signer *signer = calloc(1, sizeof(*signer));
    if (signer == NULL) {
        return NULL;
    }
    signer->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (signer->mac == NULL) {
        haas_signer_free(signer);
        return NULL;
    }
    for (int m = 0; m < METHODS; m++) {
        const char *digest = method_digest((enum haas_sign_method)m);
        if (digest == NULL) {
            continue;
        }
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
            OSSL_PARAM_construct_end(),
        };
        signer->ctx[m] = EVP_MAC_CTX_new(signer->mac);
        if (signer->ctx[m] == NULL || EVP_MAC_CTX_set_params(signer->ctx[m], params) != 1) {
            haas_signer_free(signer);
            return NULL;
        }
    }
    return signer;
}

int haas_signer_compute(struct haas_signer *signer, enum haas_sign_method method,
                        const char *device_secret, const char *client_id,
                        const char *device_name, const char *product_key,
                        const char *timestamp, char *hex, size_t hex_size)
{
    static const char digits[] = "0123456789abcdef";
    if (signer == NULL || method_digest(method) == NULL || device_secret == NULL ||
        client_id == NULL || device_name == NULL || product_key == NULL || hex == NULL) {
        return -1;
    }
    EVP_MAC_CTX *ctx = signer->ctx[method];
    size_t secret_len = strnlen(device_secret, HAAS_SECRET_MAX + 1);
    if (secret_len > HAAS_SECRET_MAX) {
        return -1;
    }
    char content[CONTENT_MAX];
    int n;
    if (timestamp != NULL) {
        n = snprintf(content, sizeof(content), "clientId%sdeviceName%sproductKey%stimestamp%s",
                     client_id, device_name, product_key, timestamp);
    } else {
        n = snprintf(content, sizeof(content), "clientId%sdeviceName%sproductKey%s",
                     client_id, device_name, product_key);
    }
    if (n < 0 || (size_t)n >= sizeof(content)) {
        return -1;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    /* The key pointer is never NULL, also for an empty secret: a NULL key
     * would make EVP_MAC_init keep the previous device's key. */
    if (EVP_MAC_init(ctx, (const unsigned char *)device_secret, secret_len, NULL) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)content, (size_t)n) != 1 ||
        EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) != 1) {
        OPENSSL_cleanse(mac, sizeof(mac));
        return -1;
    }
    if (mac_len * 2 + 1 > hex_size) {
        OPENSSL_cleanse(mac, sizeof(mac));
        return -1;
    }
    for (size_t i = 0; i < mac_len; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 0x0f];
    }
    hex[2 * mac_len] = '\0';
    OPENSSL_cleanse(mac, sizeof(mac));
    return (int)(2 * mac_len);
}

int haas_sign_compute(enum haas_sign_method method, const char *device_secret,
                      const char *client_id, const char *device_name,
                      const char *product_key, const char *timestamp,
                      char *hex, size_t hex_size)
{
    struct haas_signer *signer = haas_signer_new();
    int n = haas_signer_compute(signer, method, device_secret, client_id, device_name,
                                product_key, timestamp, hex, hex_size);
    haas_signer_free(signer);
    return n;
}

bool haas_secure_streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return false;
    }
    size_t la = strnlen(a, HAAS_PASSWORD_MAX + 1);
    size_t lb = strnlen(b, HAAS_PASSWORD_MAX + 1);
    if (la > HAAS_PASSWORD_MAX || lb > HAAS_PASSWORD_MAX) {
        return false;
    }
    unsigned char da[SHA256_DIGEST_LENGTH];
    unsigned char db[SHA256_DIGEST_LENGTH];
    unsigned int la_out = 0;
    unsigned int lb_out = 0;
    if (EVP_Digest(a, la, da, &la_out, EVP_sha256(), NULL) != 1 ||
        EVP_Digest(b, lb, db, &lb_out, EVP_sha256(), NULL) != 1 ||
        la_out != SHA256_DIGEST_LENGTH || lb_out != SHA256_DIGEST_LENGTH) {
        return false;
    }
    return CRYPTO_memcmp(da, db, SHA256_DIGEST_LENGTH) == 0;
}

bool haas_signer_verify(struct haas_signer *signer, enum haas_sign_method method,
                        const char *device_secret, const char *client_id,
                        const char *device_name, const char *product_key,
                        const char *timestamp, const char *password)
{
    if (password == NULL) {
        return false;
    }
    /* Both sides zero-padded to the same fixed size and compared whole:
     * the time taken depends on neither contents nor lengths. */
    char expected[HAAS_SIGN_HEX_MAX];
    memset(expected, 0, sizeof(expected));
    if (haas_signer_compute(signer, method, device_secret, client_id, device_name, product_key,
                            timestamp, expected, sizeof(expected)) < 0) {
        OPENSSL_cleanse(expected, sizeof(expected));
        return false;
    }
    /* Hex digits compare case-insensitively: Link SDK C 4.x (HaaS firmware)
     * sends upper case, most other SDKs lower case (docs/protocol.md section 2).
     * The password is folded into a bounded copy; anything longer than a
     * digest can never match and is refused by length alone. */
    char folded[HAAS_SIGN_HEX_MAX];
    memset(folded, 0, sizeof(folded));
    size_t n = strnlen(password, sizeof(folded));
    bool ok = false;
    if (n < sizeof(folded)) {
        for (size_t i = 0; i < n; i++) {
            folded[i] = (char)tolower((unsigned char)password[i]);
        }
        ok = CRYPTO_memcmp(expected, folded, sizeof(expected)) == 0;
    }
    OPENSSL_cleanse(expected, sizeof(expected));
    OPENSSL_cleanse(folded, sizeof(folded));
    return ok;
}

bool haas_sign_verify(enum haas_sign_method method, const char *device_secret,
                      const char *client_id, const char *device_name,
                      const char *product_key, const char *timestamp,
                      const char *password)
{
    if (password == NULL) {
        return false;
    }
    struct haas_signer *signer = haas_signer_new();
    bool ok = haas_signer_verify(signer, method, device_secret, client_id, device_name,
                                 product_key, timestamp, password);
    haas_signer_free(signer);
    return ok;
}
