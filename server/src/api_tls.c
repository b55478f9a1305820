/*
 * api_tls.c - GET /api/v1/ca.pem: the emulator's local CA (tls_certs.h), the
 * certificate a device or client must trust to talk TLS to this emulator
 * (MQTT over TLS, https:// package URLs). Not secret, so it needs no token:
 * whoever sets up a device may fetch it.
 */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <string.h>

enum MHD_Result api_ca_pem(http_request *r)
{
    if (!server.ca_pem)
        return reply_error(r, 404, "NoLocalCa",
                           server.tls.cert_path[0]
                               ? "haas-emu uses your own certificate (--tls-cert): trust its issuer instead"
                               : "TLS is off (--mqtts-port 0 and --https-port 0): there is no CA");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(server.ca_pem), server.ca_pem, MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-pem-file");
        MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"haas-emu-ca.pem\"");
    }
    return reply_response(r, 200, resp);
}
