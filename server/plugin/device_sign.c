/*
 * device_sign.c - compute and verify the Aliyun device password with
 * OpenSSL's one-shot HMAC(). See device_sign.h for the rules.
 *
 * Used by haas_auth.c when a device connects, and by the unit tests (the
 * test vector of docs/protocol.md section 2 is in tests/unit/test_clientid.c).
 */
#include "device_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

/* The libcrypto digest of a method, or NULL for HAAS_SIGN_UNKNOWN. */
static const EVP_MD *method_md(enum haas_sign_method method)
{
    switch (method) {
    case HAAS_SIGN_HMACSHA1:
        return EVP_sha1();
    case HAAS_SIGN_HMACSHA256:
        return EVP_sha256();
    case HAAS_SIGN_HMACMD5:
        return EVP_md5();
    case HAAS_SIGN_UNKNOWN:
    default:
        return NULL;
    }
}

int haas_sign_compute(enum haas_sign_method method, const char *device_secret,
                      const char *client_id, const char *device_name,
                      const char *product_key, const char *timestamp,
                      char *hex, size_t hex_size)
{
    static const char digits[] = "0123456789abcdef";
    const EVP_MD *md = method_md(method);
    if (md == NULL || device_secret == NULL || client_id == NULL ||
        device_name == NULL || product_key == NULL || hex == NULL) {
        return -1;
    }
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
    unsigned int mac_len = 0;
    if (HMAC(md, device_secret, (int)secret_len, (const unsigned char *)content,
             (size_t)n, mac, &mac_len) == NULL) {
        return -1;
    }
    if ((size_t)mac_len * 2 + 1 > hex_size) {
        OPENSSL_cleanse(mac, sizeof(mac));
        return -1;
    }
    for (unsigned int i = 0; i < mac_len; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 0x0f];
    }
    hex[2 * mac_len] = '\0';
    OPENSSL_cleanse(mac, sizeof(mac));
    return (int)(2 * mac_len);
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

bool haas_sign_verify(enum haas_sign_method method, const char *device_secret,
                      const char *client_id, const char *device_name,
                      const char *product_key, const char *timestamp,
                      const char *password)
{
    if (password == NULL) {
        return false;
    }
    char expected[HAAS_SIGN_HEX_MAX];
    if (haas_sign_compute(method, device_secret, client_id, device_name, product_key,
                          timestamp, expected, sizeof(expected)) < 0) {
        return false;
    }
    /* Hex digits compare case-insensitively: Link SDK C 4.x (HaaS firmware)
     * sends upper case, most other SDKs lower case (docs/protocol.md section 2).
     * The password is folded into a bounded copy; anything longer than a
     * digest can never match and is refused by length alone. */
    char folded[HAAS_SIGN_HEX_MAX];
    size_t n = strnlen(password, sizeof(folded));
    bool ok = false;
    if (n < sizeof(folded)) {
        for (size_t i = 0; i <= n; i++) {
            folded[i] = (char)tolower((unsigned char)password[i]);
        }
        ok = haas_secure_streq(expected, folded);
    }
    OPENSSL_cleanse(expected, sizeof(expected));
    OPENSSL_cleanse(folded, sizeof(folded));
    return ok;
}
