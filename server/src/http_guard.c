/*
 * http_guard.c - Host, Origin and Content-Type checks of the management
 * API's writing requests (see http_guard.h).
 */
#include "http_guard.h"
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 256

/* host[:port] split into host (lower case, no brackets) and *port (-1 when
 * absent). Returns false when the text is not of that form. */
static bool split_host(const char *value, size_t len, char *host, size_t hostlen, long *port)
{
    const char *start = value, *end, *rest;
    if (len && *value == '[') {
        start = value + 1;
        end = memchr(start, ']', len - 1);
        if (!end)
            return false;
        rest = end + 1;
    } else {
        end = memchr(value, ':', len);
        end = end ? end : value + len;
        rest = end;
    }
    size_t n = (size_t)(end - start), tail = len - (size_t)(rest - value);
    if (n == 0 || n >= hostlen || (tail && (*rest != ':' || tail < 2 || tail > 6)))
        return false;
    *port = -1;
    if (tail) {
        if (strspn(rest + 1, "0123456789") < tail - 1)
            return false;
        *port = strtol(rest + 1, NULL, 10);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        if (!isalnum(c) && !strchr(".-_:", c))
            return false;
        host[i] = (char)tolower(c);
    }
    host[n] = '\0';
    return true;
}

bool http_guard_host_of(const char *value, char *out, size_t outlen)
{
    long port;
    return value && split_host(value, strlen(value), out, outlen, &port);
}

/* Is text an IPv4 or IPv6 literal? Its bytes into addr (16 bytes), *family. */
static bool ip_literal(const char *text, unsigned char addr[16], int *family)
{
    if (inet_pton(AF_INET, text, addr) == 1)
        return *family = AF_INET, true;
    if (inet_pton(AF_INET6, text, addr) == 1)
        return *family = AF_INET6, true;
    return false;
}

/* Are a and b the same host name (case-insensitive) or the same address? */
static bool same_host(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    int fx, fy;
    if (ip_literal(a, x, &fx) && ip_literal(b, y, &fy))
        return fx == fy && memcmp(x, y, fx == AF_INET ? 4 : 16) == 0;
    return strcasecmp(a, b) == 0;
}

/* The host of url ("scheme://host[:port][/...]") into host. */
static bool url_host(const char *url, char *host, size_t hostlen)
{
    const char *p = strstr(url, "://");
    long port;
    if (!p)
        return false;
    p += 3;
    return split_host(p, strcspn(p, "/"), host, hostlen, &port);
}

/* Is host one of the comma-separated names of list? */
static bool in_list(const char *list, const char *host)
{
    char name[NAME_MAX_LEN];
    for (const char *p = list; *p; p += *p == ',') {
        size_t n = strcspn(p, ",");
        long port;
        if (split_host(p, n, name, sizeof name, &port) && same_host(name, host))
            return true;
        p += n;
    }
    return false;
}

/* Is host a name haas-emu answers as (http_guard.h)? */
static bool emulator_name(const char *host)
{
    const config *cfg = &server.cfg;
    unsigned char addr[16];
    int family;
    char name[NAME_MAX_LEN];
    bool wildcard = !strcmp(cfg->bind, "0.0.0.0") || !strcmp(cfg->bind, "::");
    if (same_host(host, "127.0.0.1") || same_host(host, "localhost") || same_host(host, "::1"))
        return true;
    if (wildcard ? ip_literal(host, addr, &family) : same_host(host, cfg->bind))
        return true;
    if (url_host(cfg->public_url, name, sizeof name) && same_host(host, name))
        return true;
    return in_list(cfg->tls_san, host);
}

/* "scheme://host:port" of scheme (http or https) and a host[:port] of len
 * bytes, the port filled in with the scheme's default, into out. */
static bool origin_key(const char *scheme, size_t slen, const char *hostport, size_t len, char *out, size_t outlen)
{
    char host[NAME_MAX_LEN];
    long port;
    bool https = slen == 5 && !strncasecmp(scheme, "https", 5);
    if ((!https && (slen != 4 || strncasecmp(scheme, "http", 4))) ||
        !split_host(hostport, len, host, sizeof host, &port))
        return false;
    if (port < 0)
        port = https ? 443 : 80;
    return (size_t)snprintf(out, outlen, "%s://%s:%ld", https ? "https" : "http", host, port) < outlen;
}

/* The origin key of url ("scheme://host[:port]" followed by a path only
 * when path_ok) into out. */
static bool url_origin(const char *url, bool path_ok, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    size_t len = strcspn(p + 3, "/");
    if (!path_ok && p[3 + len])
        return false;
    return origin_key(url, (size_t)(p - url), p + 3, len, out, outlen);
}

/* May a page of origin write here, the request naming host_header? */
static bool origin_allowed(const char *origin, const char *host_header)
{
    char got[NAME_MAX_LEN + 20], want[NAME_MAX_LEN + 20];
    const char *p = strstr(origin, "://");
    if (!p || !url_origin(origin, false, got, sizeof got))
        return false;
    if (origin_key(origin, (size_t)(p - origin), host_header, strlen(host_header), want, sizeof want) &&
        !strcmp(got, want))
        return true;
    return url_origin(server.cfg.public_url, true, want, sizeof want) && !strcmp(got, want);
}

bool http_guard_applies(const http_request *r)
{
    return !strncmp(r->path, "/api/", 5) && strcmp(r->method, "GET") && strcmp(r->method, "HEAD") &&
           strcmp(r->method, "OPTIONS");
}

bool http_guard_write(http_request *r)
{
    const char *host_header = http_header(r, MHD_HTTP_HEADER_HOST);
    const char *origin = http_header(r, "Origin");
    char host[NAME_MAX_LEN];
    if (!host_header || !http_guard_host_of(host_header, host, sizeof host) || !emulator_name(host)) {
        http_fail_later(r, 403, "ForbiddenHost",
                        "Host \"%.100s\" is not a name of this haas-emu (127.0.0.1, localhost, [::1], its --bind "
                        "address, the --public-url host or a --tls-san name): writes from other sites are refused; "
                        "to use that name, start haas-emu with --public-url or --tls-san naming it",
                        host_header ? host_header : "");
        return false;
    }
    if (origin && !origin_allowed(origin, host_header)) {
        http_fail_later(r, 403, "ForbiddenOrigin",
                        "a page of \"%.100s\" may not write to haas-emu: only its own console (%s) and pages of "
                        "--public-url may", origin, host_header);
        return false;
    }
    return true;
}

bool http_guard_json_type(http_request *r)
{
    static const char json[] = "application/json";
    const char *type = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = sizeof json - 1;
    if (type) {
        type += strspn(type, " \t");
        if (!strncasecmp(type, json, n) && strchr(" \t;", type[n]))
            return true;
    }
    http_fail_later(r, 415, "UnsupportedMediaType", "send the JSON body with Content-Type: application/json "
                    "(got \"%.60s\")", type ? type : "none");
    return false;
}
