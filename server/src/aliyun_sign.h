/*
 * aliyun_sign.h - Alibaba Cloud's RPC signature, version 1 (HMAC-SHA1), as
 * the official SDKs build it (pop-core, aliyun-python-sdk-core, the Java
 * core, aliyun CLI) for the IoT Platform API (aliyun_api.h):
 *
 *   every parameter but Signature, each name and value percent-encoded
 *   (RFC 3986: A-Z a-z 0-9 - _ . ~ kept, every other byte %XX in upper
 *   case, so a space is %20, '*' is %2A, '~' stays), sorted by encoded
 *   name (bytes), joined as name=value with '&';
 *   StringToSign = METHOD "&" enc("/") "&" enc(that text);
 *   Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).
 *
 * Plain C, no HTTP: the unit test (tests/unit/test_aliyun_sign.c) checks
 * it against signatures worked out by hand.
 */
#ifndef HAAS_ALIYUN_SIGN_H
#define HAAS_ALIYUN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

/* One request parameter, decoded. */
typedef struct {
    const char *name;
    const char *value;
} aliyun_param;

/*
 * Percent-encodes len bytes of in as the SDKs do into out (size bytes, NUL
 * included). Returns the length written, or -1 when it does not fit.
 */
long aliyun_percent_encode(const char *in, size_t len, char *out, size_t size);

/*
 * The StringToSign of method and the n params (a param named "Signature"
 * is left out) into a string the caller frees. NULL when out of memory.
 */
char *aliyun_string_to_sign(const char *method, const aliyun_param *params, size_t n);

/* base64(HMAC-SHA1(secret "&", text)) into out (at least 29 bytes). Returns
 * false when it cannot be made. */
bool aliyun_sign_text(const char *secret, const char *text, char *out, size_t size);

/* base64(HMAC-SHA1(key, text)) into out (at least 29 bytes): OSS's
 * PostObject policy signature. Returns false when it cannot be made. */
bool aliyun_hmac_sha1_base64(const char *key, const char *text, char *out, size_t size);

/* Does signature match the one method and params (Signature left out) make
 * with secret? Compared in constant time. */
bool aliyun_signature_ok(const char *secret, const char *method, const aliyun_param *params, size_t n,
                         const char *signature);

/*
 * Reads an ISO 8601 UTC timestamp as the SDKs send it
 * ("2026-12-02T01:30:00Z"; also with fractional seconds) into Unix
 * seconds. Returns false when it is not one.
 */
bool aliyun_parse_timestamp(const char *text, long long *out);

/* Decodes a form-urlencoded text in place ('+' is a space, %XX a byte).
 * Returns false on a malformed escape. */
bool aliyun_form_decode(char *text);

#endif
