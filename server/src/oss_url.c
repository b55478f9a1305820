/*
 * oss_url.c - OSS V1 presigned URLs (see oss_url.h).
 */
#include "oss_url.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The HMAC-SHA1 of the signatures. OpenSSL 3's one-shot HMAC() fetches the
 * algorithm and makes a context at every call: 3 us in a loop, about 20 us
 * a download's check in a 10,000-device bench_fleet.py round on four HTTP
 * threads (perf: 2.9% of haas-emu's CPU). So one
 * context, keyed once with the secret (again when the secret differs), is
 * reset for each signature (EVP_MAC_init without a key keeps the key):
 * 0.6 us, under a mutex held only that long. Should any of it fail, the
 * one-shot HMAC() signs instead.
 */
static pthread_mutex_t hmac_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_MAC_CTX *hmac_ctx;     /* keyed with hmac_key; NULL until the first signature */
static char *hmac_key;

/* Makes hmac_ctx keyed with secret (hmac_lock held); false on failure. */
static bool hmac_keyed(const char *secret)
{
    if (hmac_ctx && strcmp(hmac_key, secret) == 0)
        return true;
    EVP_MAC_CTX_free(hmac_ctx);
    free(hmac_key);
    hmac_ctx = NULL;
    hmac_key = strdup(secret);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
                           OSSL_PARAM_construct_end()};
    if (!hmac_key || !ctx || !EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params)) {
        EVP_MAC_CTX_free(ctx);
        return false;
    }
    hmac_ctx = ctx;
    return true;
}

/* HMAC-SHA1(secret, content) into mac; its length, 0 on failure. */
static size_t hmac_sha1(const char *secret, const char *content, size_t n, unsigned char mac[EVP_MAX_MD_SIZE])
{
    size_t len = 0;
    pthread_mutex_lock(&hmac_lock);
    bool ok = hmac_keyed(secret) && EVP_MAC_init(hmac_ctx, NULL, 0, NULL) &&
              EVP_MAC_update(hmac_ctx, (const unsigned char *)content, n) &&
              EVP_MAC_final(hmac_ctx, mac, &len, EVP_MAX_MD_SIZE);
    pthread_mutex_unlock(&hmac_lock);
    if (ok)
        return len;
    unsigned int one_shot = 0;
    return HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)content, n, mac, &one_shot)
               ? one_shot
               : 0;
}

void oss_signature(const char *secret, int64_t expires, const char *resource, char *out, size_t outlen)
{
    char content[1200];
    int n = snprintf(content, sizeof content, "GET\n\n\n%" PRId64 "\n%s", expires, resource);
    if (n < 0 || (size_t)n >= sizeof content)
        n = (int)sizeof content - 1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = hmac_sha1(secret, content, (size_t)n, mac);
    unsigned char b64[64];
    EVP_EncodeBlock(b64, mac, (int)maclen);
    snprintf(out, outlen, "%s", (const char *)b64);
}

/* Percent-encodes everything but unreserved characters (RFC 3986). */
static int url_encode(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (o + (plain ? 1 : 3) >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

int oss_sign_url(const oss_signer *s, const char *object, int64_t expires, char *out, size_t outlen)
{
    return oss_sign_url_at(s, s->public_url, object, expires, out, outlen);
}

int oss_sign_url_at(const oss_signer *s, const char *base, const char *object, int64_t expires, char *out,
                    size_t outlen)
{
    char resource[600], sig[64], sig_enc[200], id_enc[400];
    if ((size_t)snprintf(resource, sizeof resource, "/%s/%s", s->bucket, object) >= sizeof resource)
        return -1;
    oss_signature(s->key_secret, expires, resource, sig, sizeof sig);
    if (url_encode(sig, sig_enc, sizeof sig_enc) < 0 || url_encode(s->key_id, id_enc, sizeof id_enc) < 0)
        return -1;
    int n = snprintf(out, outlen, "%s%s?Expires=%" PRId64 "&OSSAccessKeyId=%s&Signature=%s",
                     base, resource, expires, id_enc, sig_enc);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

oss_check_result oss_check(const oss_signer *s, const char *resource, const char *expires,
                           const char *key_id, const char *signature, int64_t now)
{
    if (!expires || !key_id || !signature)
        return OSS_MISSING;
    if (strcmp(key_id, s->key_id) != 0)
        return OSS_BAD_KEY_ID;
    char *end;
    errno = 0;
    long long exp = strtoll(expires, &end, 10);
    if (errno || end == expires || *end || exp < 0)
        return OSS_BAD_EXPIRES;
    if (exp < now)
        return OSS_EXPIRED;

    char expect[64], given[64];
    oss_signature(s->key_secret, exp, resource, expect, sizeof expect);
    /* A '+' that arrived unencoded may have been turned into a space. */
    size_t n = strlen(signature);
    if (n != strlen(expect) || n >= sizeof given)
        return OSS_BAD_SIGNATURE;
    for (size_t i = 0; i <= n; i++)
        given[i] = signature[i] == ' ' ? '+' : signature[i];
    return CRYPTO_memcmp(given, expect, n) == 0 ? OSS_OK : OSS_BAD_SIGNATURE;
}

const char *oss_check_code(oss_check_result r)
{
    switch (r) {
    case OSS_BAD_KEY_ID: return "InvalidAccessKeyId";
    case OSS_BAD_SIGNATURE: return "SignatureDoesNotMatch";
    case OSS_BAD_EXPIRES: return "InvalidArgument";
    default: return "AccessDenied";
    }
}

const char *oss_check_message(oss_check_result r)
{
    switch (r) {
    case OSS_OK: return "OK";
    case OSS_MISSING: return "AccessDenied: anonymous access is forbidden for this operation.";
    case OSS_BAD_KEY_ID: return "The OSS Access Key Id you provided does not exist in our records.";
    case OSS_EXPIRED: return "Request has expired.";
    case OSS_BAD_EXPIRES: return "Expires should be a number of seconds since the epoch.";
    case OSS_BAD_SIGNATURE:
        return "The request signature we calculated does not match the signature you provided. "
               "Check your key and signing method.";
    }
    return "AccessDenied";
}
