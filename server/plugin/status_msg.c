/*
 * status_msg.c - format the `/as/mqtt/status/{pk}/{dn}` topic and JSON.
 * See status_msg.h. Product key and device name are already restricted to
 * JSON-safe characters by clientid.c; the client address is escaped anyway.
 */
#include "status_msg.h"

#include <stdio.h>
#include <string.h>

#define IP_MAX 64

/* JSON-escapes at most IP_MAX bytes of `s` into out (capacity >= 6*IP_MAX+1). */
static void json_escape(char *out, size_t size, const char *s)
{
    size_t o = 0;
    out[0] = '\0';
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < IP_MAX && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        size_t len;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            len = 2;
        } else if (c < 0x20 || c >= 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
            len = 6;
        } else {
            tmp[0] = (char)c;
            len = 1;
        }
        if (o + len + 1 > size) {
            break;
        }
        memcpy(out + o, tmp, len);
        o += len;
        out[o] = '\0';
    }
}

int haas_status_topic(char *buf, size_t size, const struct haas_device_id *dev)
{
    if (buf == NULL || dev == NULL) {
        return -1;
    }
    int n = snprintf(buf, size, "/as/mqtt/status/%s/%s", dev->product_key, dev->device_name);
    if (n < 0 || (size_t)n >= size) {
        return -1;
    }
    return n;
}

int haas_status_json(char *buf, size_t size, bool online, const struct haas_device_id *dev,
                     long long time_ms, const char *client_ip, long long last_time_ms)
{
    if (buf == NULL || dev == NULL) {
        return -1;
    }
    char ip[6 * IP_MAX + 1];
    json_escape(ip, sizeof(ip), client_ip);
    int n = snprintf(buf, size,
                     "{\"status\":\"%s\",\"productKey\":\"%s\",\"deviceName\":\"%s\","
                     "\"time\":%lld,\"clientIp\":\"%s\",\"lastTime\":%lld}",
                     online ? "online" : "offline", dev->product_key, dev->device_name,
                     time_ms, ip, last_time_ms);
    if (n < 0 || (size_t)n >= size) {
        return -1;
    }
    return n;
}
