/*
 * tls_certs.h - the emulator's local certificate authority and the server
 * certificate that the managed broker's TLS listeners (MQTT over TLS, 8883)
 * and the HTTPS listener (package downloads, console) present.
 *
 * Real devices use TLS: Link SDK C 4.x defaults to securemode=2 with
 * Alibaba's root CA compiled in, and the real push carries https:// package
 * URLs. A developer swaps that CA string for the emulator's (handed out at
 * GET /api/v1/ca.pem) and points DNS at the emulator; nothing else changes.
 *
 * At start, tls_certs_prepare() makes, in <data>/tls/:
 *   ca.pem, ca.key          a self-signed CA (RSA 2048, 10 years), made
 *                           once and kept: devices trust it for good;
 *   server.pem, server.key  a server certificate signed by it, made again
 *                           whenever the names it must carry change or it
 *                           is within 30 days of expiry.
 * The server certificate names: localhost, 127.0.0.1, ::1, the bind address
 * (every local address when bound to 0.0.0.0 or ::), the public URL's host,
 * the real cloud's MQTT host names (`*.iot-as-mqtt.cn-shanghai.aliyuncs.com`,
 * `*.mqtt.iothub.aliyuncs.com`) and the names of --tls-san. RSA keys, since
 * every TLS stack of the field (mbedTLS on an ESP32 included) verifies them.
 * With --tls-cert/--tls-key the user's certificate is used as it is and no
 * CA is made.
 */
#ifndef HAAS_TLS_CERTS_H
#define HAAS_TLS_CERTS_H

#include "config.h"

#include <stddef.h>

typedef struct {
    char cert_path[700]; /* PEM certificate (chain) the listeners present */
    char key_path[700];  /* its private key */
    char ca_path[700];   /* the emulator's CA, "" with the user's own certificate */
} tls_files;

/*
 * Makes or reuses the CA and the server certificate for cfg (see above),
 * or checks that --tls-cert/--tls-key can be read. Returns 0 and fills
 * *out, or -1 with a message in err.
 */
int tls_certs_prepare(const config *cfg, tls_files *out, char *err, size_t errlen);

/*
 * Reads a whole PEM file into a NUL-terminated buffer the caller frees.
 * Returns NULL (message in err) when it cannot, or the file exceeds 1 MiB.
 */
char *tls_read_pem(const char *path, char *err, size_t errlen);

#endif
