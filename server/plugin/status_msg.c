/*
 * status_msg.c - format the `/as/mqtt/status/{pk}/{dn}` topic and JSON.
 * See status_msg.h. Product key and device name are already restricted to
 * JSON-safe characters by clientid.c; the client address is escaped anyway.
 */
#include "status_msg.h"

#include "topics.h"

#include <stdio.h>
#include <string.h>

#define CLIENT_ID_SHOWN 128 /* bytes of a refused clientId kept in the message */

/* JSON-escapes at most `max` bytes of `s` into out (capacity >= 6*max+1). */
static void json_escape(char *out, size_t size, const char *s, size_t max)
{
    size_t o = 0;
    out[0] = '\0';
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
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
    if (dev == NULL) {
        return -1;
    }
    return topic_status(buf, size, dev->product_key, dev->device_name);
}

int haas_status_json(char *buf, size_t size, bool online, const struct haas_device_id *dev,
                     long long time_ms, const char *client_ip, long long last_time_ms)
{
    if (buf == NULL || dev == NULL) {
        return -1;
    }
    char ip[6 * HAAS_STATUS_IP_MAX + 1];
    json_escape(ip, sizeof(ip), client_ip, HAAS_STATUS_IP_MAX);
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

int haas_refusal_json(char *buf, size_t size, const char *code, const char *reason,
                      const struct haas_device_id *dev, const char *client_id,
                      const char *client_ip, long long time_ms)
{
    if (buf == NULL || code == NULL || reason == NULL) {
        return -1;
    }
    char ip[6 * HAAS_STATUS_IP_MAX + 1];
    char id[6 * CLIENT_ID_SHOWN + 1];
    json_escape(ip, sizeof(ip), client_ip, HAAS_STATUS_IP_MAX);
    json_escape(id, sizeof(id), client_id, CLIENT_ID_SHOWN);
    int n = snprintf(buf, size,
                     "{\"code\":\"%s\",\"reason\":\"%s\",\"productKey\":\"%s\","
                     "\"deviceName\":\"%s\",\"clientId\":\"%s\",\"clientIp\":\"%s\",\"time\":%lld}",
                     code, reason, dev ? dev->product_key : "", dev ? dev->device_name : "", id, ip,
                     time_ms);
    if (n < 0 || (size_t)n >= size) {
        return -1;
    }
    return n;
}
