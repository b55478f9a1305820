/*
 * port_broker.c - the one parser of broker addresses as users write them
 * ("HOST:PORT", "mqtt://HOST[:PORT]", "mqtts://HOST[:PORT]", IPv6 in
 * brackets), for programs built on the POSIX port (haas-device).
 */
#include <string.h>
#include <strings.h>

#include "haas_port_posix.h"

/* Reads the scheme at the start of spec into *use_tls and *default_port
 * (0 when there is no scheme: the port is then required). Returns what
 * follows the scheme, spec itself without one, or NULL for another
 * scheme ("tcp://..."). */
static const char *parse_scheme(const char *spec, int *use_tls, uint16_t *default_port)
{
    static const struct {
        const char *prefix;
        int use_tls;
        uint16_t port;
    } schemes[] = {{"mqtt://", 0, HAAS_POSIX_MQTT_PORT}, {"mqtts://", 1, HAAS_POSIX_MQTTS_PORT}};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncasecmp(spec, schemes[i].prefix, n) == 0) {
            *use_tls = schemes[i].use_tls;
            *default_port = schemes[i].port;
            return spec + n;
        }
    }
    if (strstr(spec, "://"))
        return NULL;
    *use_tls = 0;
    *default_port = 0;
    return spec;
}

/* A decimal port 1..65535 that is the whole of s; 0 on success. */
static int parse_port(const char *s, uint16_t *out)
{
    unsigned long v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 5)
            return -1;
        v = v * 10 + (unsigned long)(s[n] - '0');
    }
    if (n == 0 || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* Splits "HOST[:PORT]" or "[V6][:PORT]": the host is [*host, *host_end),
 * *port_s the text after its ':' (NULL when there is none). 0 on success. */
static int split_host_port(const char *s, const char **host, const char **host_end, const char **port_s)
{
    const char *after;
    if (*s == '[') {
        *host = s + 1;
        *host_end = strchr(*host, ']');
        if (!*host_end || memchr(*host, ':', (size_t)(*host_end - *host)) == NULL)
            return -1; /* unclosed, or not an IPv6 literal */
        after = *host_end + 1;
    } else {
        *host = s;
        *host_end = s + strcspn(s, ":");
        after = *host_end;
    }
    if (*after == ':')
        *port_s = after + 1;
    else if (*after == '\0')
        *port_s = NULL;
    else
        return -1;
    return 0;
}

int haas_posix_parse_broker(const char *spec, haas_posix_broker *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    uint16_t default_port = 0;
    const char *rest = spec ? parse_scheme(spec, &out->use_tls, &default_port) : NULL;
    const char *host, *host_end, *port_s;
    if (!rest || split_host_port(rest, &host, &host_end, &port_s) != 0)
        goto bad;
    size_t len = (size_t)(host_end - host);
    if (len == 0 || len >= sizeof out->host)
        goto bad;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)host[i] <= ' ' || (unsigned char)host[i] >= 0x7f || strchr("/@[]?#", host[i]))
            goto bad;
    if (port_s) {
        if (parse_port(port_s, &out->port) != 0)
            goto bad;
    } else if (default_port) {
        out->port = default_port;
    } else {
        goto bad; /* HOST:PORT needs its port */
    }
    memcpy(out->host, host, len);
    out->host[len] = '\0';
    return 0;
bad:
    memset(out, 0, sizeof *out);
    return -1;
}
