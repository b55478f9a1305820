/*
 * oss_url.c - OSS V1 presigned URLs (see oss_url.h).
 */
#include "oss_url.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oss_signature(const char *secret, int64_t expires, const char *resource, char *out, size_t outlen)
{
    char content[1200];
    int n = snprintf(content, sizeof content, "GET\n\n\n%" PRId64 "\n%s", expires, resource);
    if (n < 0 || (size_t)n >= sizeof content)
        n = (int)sizeof content - 1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)content, (size_t)n, mac, &maclen);
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
