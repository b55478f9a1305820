/*
 * topics.c - build and read the emulator's MQTT topics (see topics.h).
 *
 * Reading splits the topic into at most MAX_LEVELS levels with pointers
 * (no allocation) and matches the shapes of topics.h level by level.
 */
#include "topics.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_LEVELS 9

const char *const topic_server_subscriptions[] = {
    TOPIC_STATUSES,
    TOPIC_REFUSED,
    "/sys/+/+/thing/event/+/post",
    "/sys/+/+/thing/deviceinfo/update",
    "/ota/device/inform/+/+",
    "/ota/device/progress/+/+",
    "/ota/device/request/+/+",
    "/sys/+/+/thing/ota/firmware/get",
    "/sys/+/+/rrpc/response/+",
    NULL,
};

/* One level of a topic: [start, start+len). */
struct level {
    const char *start;
    size_t len;
};

/* Splits topic at '/'; returns the number of levels, or -1 when too many. */
static int split(const char *topic, struct level lv[MAX_LEVELS])
{
    int n = 0;
    for (const char *p = topic;; n++) {
        if (n == MAX_LEVELS)
            return -1;
        const char *slash = strchr(p, '/');
        lv[n].start = p;
        lv[n].len = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash)
            return n + 1;
        p = slash + 1;
    }
}

static bool is(const struct level *lv, const char *word)
{
    return lv->len == strlen(word) && memcmp(lv->start, word, lv->len) == 0;
}

/* Copies a level into a buffer of cap bytes; false when it does not fit. */
static bool copy(char *out, size_t cap, const struct level *lv)
{
    if (lv->len >= cap)
        return false;
    memcpy(out, lv->start, lv->len);
    out[lv->len] = '\0';
    return true;
}

/* The device of levels pk and dn, validated. */
static bool device(struct topic_parts *out, const struct level *pk, const struct level *dn)
{
    return copy(out->product_key, sizeof out->product_key, pk) &&
           copy(out->device_name, sizeof out->device_name, dn) && valid_product_key(out->product_key) &&
           valid_device_name(out->device_name);
}

/* An Alink identifier: 1..TOPIC_NAME_MAX characters, no wildcard. */
static bool name(struct topic_parts *out, const struct level *lv)
{
    return lv->len > 0 && copy(out->name, sizeof out->name, lv) && !strpbrk(out->name, "+#");
}

/* The kind of a /sys/{pk}/{dn}/thing/... topic of n levels. */
static enum topic_kind sys_kind(const struct level *lv, int n, struct topic_parts *out)
{
    if (n == 8 && is(&lv[5], "event") && is(&lv[7], "post") && name(out, &lv[6]))
        return TOPIC_EVENT_POST;
    if (n == 7 && is(&lv[5], "deviceinfo") && is(&lv[6], "update"))
        return TOPIC_DEVICEINFO_UPDATE;
    if (n == 7 && is(&lv[5], "service") && name(out, &lv[6]))
        return TOPIC_SERVICE;
    if (n == 8 && is(&lv[5], "ota") && is(&lv[6], "firmware") && is(&lv[7], "get"))
        return TOPIC_OTA_FIRMWARE_GET;
    return TOPIC_UNKNOWN;
}

/* The kind of a six-level /as/mqtt/{what}/{pk}/{dn} topic. */
static enum topic_kind as_kind(const struct level *lv, struct topic_parts *out)
{
    enum topic_kind kind = is(&lv[3], "status") ? TOPIC_STATUS : is(&lv[3], "kick") ? TOPIC_KICK : TOPIC_UNKNOWN;
    return kind != TOPIC_UNKNOWN && device(out, &lv[4], &lv[5]) ? kind : TOPIC_UNKNOWN;
}

/* The kind of a six-level /ota/device/{what}/{pk}/{dn} topic. */
static enum topic_kind ota_kind(const struct level *lv, struct topic_parts *out)
{
    enum topic_kind kind = is(&lv[3], "inform")     ? TOPIC_OTA_INFORM
                           : is(&lv[3], "progress") ? TOPIC_OTA_PROGRESS
                           : is(&lv[3], "request")  ? TOPIC_OTA_REQUEST
                                                    : TOPIC_UNKNOWN;
    return kind != TOPIC_UNKNOWN && device(out, &lv[4], &lv[5]) ? kind : TOPIC_UNKNOWN;
}

/* The kind of a /sys/{pk}/{dn}/... topic of n (>= 7) levels: an RRpc
 * answer, or a thing topic. */
static enum topic_kind sys_topic(const struct level *lv, int n, struct topic_parts *out)
{
    if (n == 7 && is(&lv[4], "rrpc") && is(&lv[5], "response") && device(out, &lv[2], &lv[3]) &&
        name(out, &lv[6]))
        return TOPIC_RRPC_RESPONSE;
    if (is(&lv[4], "thing") && device(out, &lv[2], &lv[3]))
        return sys_kind(lv, n, out);
    return TOPIC_UNKNOWN;
}

enum topic_kind topic_parse(const char *topic, struct topic_parts *out)
{
    struct level lv[MAX_LEVELS];
    struct topic_parts got;
    memset(&got, 0, sizeof got);
    int n = topic ? split(topic, lv) : -1;
    enum topic_kind kind = TOPIC_UNKNOWN;
    if (n < 2 || lv[0].len != 0)
        kind = TOPIC_UNKNOWN;
    else if (strcmp(topic, TOPIC_REFUSED) == 0)
        kind = TOPIC_REFUSED_LOGIN;
    else if (strcmp(topic, TOPIC_STATUSES) == 0)
        kind = TOPIC_STATUS_BATCH;
    else if (n == 6 && is(&lv[1], "as") && is(&lv[2], "mqtt"))
        kind = as_kind(lv, &got);
    else if (n == 6 && is(&lv[1], "ota") && is(&lv[2], "device"))
        kind = ota_kind(lv, &got);
    else if (n >= 7 && is(&lv[1], "sys"))
        kind = sys_topic(lv, n, &got);
    /* a branch that failed half-way may have filled parts of `got` */
    if (kind == TOPIC_UNKNOWN || kind == TOPIC_REFUSED_LOGIN || kind == TOPIC_STATUS_BATCH)
        memset(&got, 0, sizeof got);
    got.kind = kind;
    *out = got;
    return kind;
}

/* snprintf's length, or -1 when it did not fit. */
static int fitted(int n, size_t size)
{
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int topic_status(char *buf, size_t size, const char *pk, const char *dn)
{
    if (!buf || !valid_product_key(pk) || !valid_device_name(dn))
        return -1;
    return fitted(snprintf(buf, size, "/as/mqtt/status/%s/%s", pk, dn), size);
}

int topic_kick(char *buf, size_t size, const char *pk, const char *dn)
{
    if (!buf || !valid_product_key(pk) || !valid_device_name(dn))
        return -1;
    return fitted(snprintf(buf, size, TOPIC_KICK_PREFIX "%s/%s", pk, dn), size);
}

int topic_service(char *buf, size_t size, const char *pk, const char *dn, const char *service)
{
    if (!buf || !valid_product_key(pk) || !valid_device_name(dn) || !service || !*service ||
        strlen(service) > TOPIC_NAME_MAX || strpbrk(service, "/+#"))
        return -1;
    return fitted(snprintf(buf, size, "/sys/%s/%s/thing/service/%s", pk, dn, service), size);
}

int topic_ota_upgrade(char *buf, size_t size, const char *pk, const char *dn)
{
    if (!buf || !valid_product_key(pk) || !valid_device_name(dn))
        return -1;
    return fitted(snprintf(buf, size, "/ota/device/upgrade/%s/%s", pk, dn), size);
}

int topic_reply(char *buf, size_t size, const char *topic)
{
    if (!buf || !topic)
        return -1;
    return fitted(snprintf(buf, size, "%s_reply", topic), size);
}

int topic_alink_method(char *buf, size_t size, const char *topic)
{
    if (!buf || !topic || strncmp(topic, "/sys/", 5) != 0)
        return -1;
    const char *p = topic;
    for (int slashes = 0; *p && slashes < 4; p++)
        slashes += *p == '/';
    if (!*p || fitted(snprintf(buf, size, "%s", p), size) < 0)
        return -1;
    for (char *c = buf; *c; c++)
        if (*c == '/')
            *c = '.';
    return (int)strlen(buf);
}
