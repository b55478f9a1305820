/*
 * status_msg.h - the device lifecycle message of the haas_auth plugin.
 *
 * When a device connects or disconnects, haas_auth.c publishes (QoS 1, while
 * someone may be subscribed: status_watch.h; each device's last one is
 * replayed to a subscriber that comes late) on `/as/mqtt/status/{pk}/{dn}`
 * the real cloud's JSON:
 *   {"status":"online"|"offline","productKey":"..","deviceName":"..",
 *    "time":<ms since epoch>,"clientIp":"..","lastTime":<ms since epoch>}
 * `time` is the wall-clock time of the event. `lastTime` is the same instant
 * but made strictly increasing over all messages of one broker run (if the
 * clock steps back it is previous lastTime + 1), so a consumer can order a
 * device's messages by lastTime. This module only formats the topic and JSON.
 */
#ifndef HAAS_STATUS_MSG_H
#define HAAS_STATUS_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "clientid.h"

/* Room for any topic / payload produced here. */
#define HAAS_STATUS_TOPIC_MAX 96
#define HAAS_STATUS_JSON_MAX 512
#define HAAS_STATUS_IP_MAX 64 /* bytes of a client address kept and shown */

/* One lifecycle event of a device: what its message states besides the
 * device (kept per device by conn_track.h, to replay to new subscribers). */
struct haas_status_event {
    bool online;
    long long time_ms;
    long long last_time_ms;
    char client_ip[HAAS_STATUS_IP_MAX + 1]; /* "" when unknown */
};

/*
 * Writes `/as/mqtt/status/{pk}/{dn}` into `buf` (topics.h's topic_status).
 * Returns its length, or -1 when it does not fit, an argument is NULL or an
 * identifier is invalid.
 */
int haas_status_topic(char *buf, size_t size, const struct haas_device_id *dev);

/*
 * Writes the JSON status message into `buf`. `client_ip` may be NULL (then
 * ""); it is JSON-escaped and cut to 64 bytes. Returns the JSON length, or -1
 * when it does not fit or an argument is NULL.
 */
int haas_status_json(char *buf, size_t size, bool online, const struct haas_device_id *dev,
                     long long time_ms, const char *client_ip, long long last_time_ms);

/*
 * Refusals. When the plugin refuses a CONNECT it publishes (QoS 1, not
 * retained) on TOPIC_REFUSED (topics.h), which only the service account may read:
 *   {"code":"WrongPassword","reason":"wrong password","productKey":"..",
 *    "deviceName":"..","clientId":"..","clientIp":"..","time":<ms>}
 * productKey and deviceName are "" when the username could not be parsed.
 * haas-emu logs it and shows it on the device's page, so a user sees why a
 * device cannot connect without turning on verbose logs.
 */
#define HAAS_REFUSAL_JSON_MAX 1536

/*
 * Writes the refusal JSON into `buf`. `code` and `reason` must be JSON-safe
 * constants; `dev` may be NULL; `client_id` (cut to 128 bytes) and
 * `client_ip` (cut to 64) may be NULL and are escaped. Returns the length,
 * or -1 when it does not fit or buf, code or reason is NULL.
 */
int haas_refusal_json(char *buf, size_t size, const char *code, const char *reason,
                      const struct haas_device_id *dev, const char *client_id,
                      const char *client_ip, long long time_ms);

#endif /* HAAS_STATUS_MSG_H */
