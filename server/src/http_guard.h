/*
 * http_guard.h - who may change state through the management API.
 *
 * On loopback the API needs no token, so any web page the developer opens
 * could otherwise write to it: a cross-site form or fetch (text/plain or a
 * form type needs no CORS preflight), or DNS rebinding (a page whose own
 * host name is made to resolve to 127.0.0.1). So a request that writes
 * (any method but GET, HEAD and OPTIONS under /api/) must
 *   - name the emulator in its Host header: the bind address, 127.0.0.1,
 *     localhost, [::1], the --public-url host or a --tls-san name, with or
 *     without a port; bound to 0.0.0.0 or ::, any IP literal too (a
 *     rebinding page always carries its own host name) - else 403
 *     ForbiddenHost;
 *   - when it carries an Origin (browsers do), come from the console's own
 *     origin (http:// or https:// and the Host) or the public URL's - else
 *     403 ForbiddenOrigin;
 * and a JSON body must be sent as application/json (a cross-site page can
 * only send that after a CORS preflight, which haas-emu never grants) -
 * else 415 UnsupportedMediaType. Reads (GET) and the device-facing package
 * downloads are not concerned; uploads keep their own types (upload.h).
 */
#ifndef HAAS_HTTP_GUARD_H
#define HAAS_HTTP_GUARD_H

#include "http.h"

#include <stdbool.h>

/*
 * Does request r (method, path) write through the management API, so that
 * http_guard_write must pass?
 */
bool http_guard_applies(const http_request *r);

/*
 * Checks the Host and Origin headers of a writing request. Returns true, or
 * false after http_fail_later (403 ForbiddenHost or ForbiddenOrigin).
 */
bool http_guard_write(http_request *r);

/*
 * Checks that a JSON body is declared as such (Content-Type
 * application/json, parameters such as charset allowed). Returns true, or
 * false after http_fail_later (415 UnsupportedMediaType).
 */
bool http_guard_json_type(http_request *r);

/*
 * The host part of a Host header value ("name", "name:port", "[v6]",
 * "[v6]:port") into out (brackets dropped, lower case). Returns false when
 * value is not of that form or does not fit.
 */
bool http_guard_host_of(const char *value, char *out, size_t outlen);

#endif
