/*
 * oss_url.h - sign and check package download URLs the way Alibaba Cloud OSS
 * V1 presigned URLs work (docs/protocol.md section 8):
 *
 *   <public-url>/<bucket>/<object>?Expires=<unix s>&OSSAccessKeyId=<id>
 *       &Signature=<urlencoded base64 HMAC-SHA1(secret,
 *                   "GET\n\n\n<Expires>\n/<bucket>/<object>")>
 *
 * Nothing else: serving the bytes is download.c's job.
 */
#ifndef HAAS_OSS_URL_H
#define HAAS_OSS_URL_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *key_id;
    const char *key_secret;
    const char *bucket;
    const char *public_url; /* "http://host:port", no trailing slash */
} oss_signer;

/* Base64 signature of resource "/<bucket>/<object>" valid until expires.
 * out holds at least 32 bytes. */
void oss_signature(const char *secret, int64_t expires, const char *resource, char *out, size_t outlen);

/*
 * Writes the full signed URL of object (a key such as "appId/file.tar.gz")
 * expiring at expires into out. Returns 0, or -1 when out is too small.
 */
int oss_sign_url(const oss_signer *s, const char *object, int64_t expires, char *out, size_t outlen);

/* Like oss_sign_url, under another base than s->public_url ("https://host",
 * no trailing slash): firmware URLs (--firmware-url). */
int oss_sign_url_at(const oss_signer *s, const char *base, const char *object, int64_t expires, char *out,
                    size_t outlen);

typedef enum {
    OSS_OK,
    OSS_MISSING,        /* a query parameter is absent: anonymous access */
    OSS_BAD_KEY_ID,     /* OSSAccessKeyId is not ours */
    OSS_EXPIRED,        /* Expires is in the past */
    OSS_BAD_EXPIRES,    /* Expires is not a number */
    OSS_BAD_SIGNATURE,  /* Signature does not match */
} oss_check_result;

/*
 * Checks the (already URL-decoded) query values of a request for resource
 * "/<bucket>/<object>" at time now. Any argument may be NULL (absent).
 */
oss_check_result oss_check(const oss_signer *s, const char *resource, const char *expires,
                           const char *key_id, const char *signature, int64_t now);

/* The OSS error code and message for a failed check, e.g. "AccessDenied",
 * "Request has expired.". */
const char *oss_check_code(oss_check_result r);
const char *oss_check_message(oss_check_result r);

#endif
