/*
 * device_sign.h - compute and verify the Aliyun device password.
 *
 * Part of the haas_auth mosquitto plugin (see haas_auth.c). The MQTT password
 * of a device is the lower-case hex HMAC(deviceSecret, content) with
 *   content = "clientId" id "deviceName" dn "productKey" pk ["timestamp" ts]
 * (docs/protocol.md section 2). This module knows the sign methods, builds the
 * content and compares passwords in constant time. Uses OpenSSL libcrypto;
 * no other state, so it is unit tested directly.
 */
#ifndef HAAS_DEVICE_SIGN_H
#define HAAS_DEVICE_SIGN_H

#include <stdbool.h>
#include <stddef.h>

/* Sign methods accepted in the clientId's `signmethod` item. */
enum haas_sign_method {
    HAAS_SIGN_UNKNOWN = 0,
    HAAS_SIGN_HMACSHA1,
    HAAS_SIGN_HMACSHA256,
    HAAS_SIGN_HMACMD5,
};

/* The method used when the clientId carries no `signmethod` item. */
#define HAAS_SIGN_DEFAULT HAAS_SIGN_HMACSHA1

/* Longest hex password any method produces (sha256), plus the NUL. */
#define HAAS_SIGN_HEX_MAX (64 + 1)

/* Longest device secret accepted as HMAC key, in bytes. */
#define HAAS_SECRET_MAX 128

/* Longest password that is looked at at all; longer ones never match. */
#define HAAS_PASSWORD_MAX 256

/*
 * Maps a sign method name (case-insensitive "hmacsha1", "hmacsha256",
 * "hmacmd5") to its enum value. NULL or anything else gives
 * HAAS_SIGN_UNKNOWN.
 */
enum haas_sign_method haas_sign_method_from_name(const char *name);

/*
 * Computes the lower-case hex password into `hex` (capacity `hex_size`,
 * at least HAAS_SIGN_HEX_MAX is always enough). `timestamp` may be NULL, in
 * which case the "timestamp..." part is left out of the content. Returns the
 * number of hex digits written (40, 64 or 32), or -1 on bad arguments
 * (unknown method, NULL strings, secret longer than HAAS_SECRET_MAX, content
 * too long, buffer too small) or a libcrypto failure.
 */
int haas_sign_compute(enum haas_sign_method method, const char *device_secret,
                      const char *client_id, const char *device_name,
                      const char *product_key, const char *timestamp,
                      char *hex, size_t hex_size);

/*
 * Returns true when `password` equals the password computed as in
 * haas_sign_compute() with the same arguments, hex digits compared
 * case-insensitively (Link SDK C 4.x sends upper case). The comparison runs in
 * constant time with respect to the contents and lengths of both strings
 * (both zero-padded to HAAS_SIGN_HEX_MAX bytes and compared whole). NULL
 * password or any computation failure gives false. Makes a signer for this
 * one call: see haas_signer_verify() for repeated use.
 */
bool haas_sign_verify(enum haas_sign_method method, const char *device_secret,
                      const char *client_id, const char *device_name,
                      const char *product_key, const char *timestamp,
                      const char *password);

/*
 * A reusable signer: OpenSSL's HMAC fetched once, one context per method.
 * haas_auth.c keeps one for the broker's life, so a login pays only for
 * keying the context and the digest itself. Not thread-safe.
 */
struct haas_signer;

/* Allocates a signer; NULL when out of memory or libcrypto has no HMAC. */
struct haas_signer *haas_signer_new(void);

/* Frees a signer; NULL is a no-op. */
void haas_signer_free(struct haas_signer *signer);

/* haas_sign_compute() with `signer` (NULL gives -1). */
int haas_signer_compute(struct haas_signer *signer, enum haas_sign_method method,
                        const char *device_secret, const char *client_id,
                        const char *device_name, const char *product_key,
                        const char *timestamp, char *hex, size_t hex_size);

/* haas_sign_verify() with `signer` (NULL gives false). */
bool haas_signer_verify(struct haas_signer *signer, enum haas_sign_method method,
                        const char *device_secret, const char *client_id,
                        const char *device_name, const char *product_key,
                        const char *timestamp, const char *password);

/*
 * Constant-time equality of two NUL-terminated strings of at most
 * HAAS_PASSWORD_MAX bytes (both are hashed with SHA-256 and the digests
 * compared, so neither contents nor lengths leak through timing). NULL or
 * overlong strings give false.
 */
bool haas_secure_streq(const char *a, const char *b);

#endif /* HAAS_DEVICE_SIGN_H */
