/*
 * topics.h - every MQTT topic the emulator and its broker plugin build or
 * read, in one place (docs/protocol.md, sections 2-4). Part of the protocol
 * module (server/protocol/), shared by haas-emu and the plugin; C library
 * only.
 *
 * Building: each topic has one function writing it into a caller's buffer
 * and returning its length, or -1 when it does not fit or an identifier is
 * not valid (identifiers.h): a topic with a '/', '+' or '#' smuggled in
 * through a name is never built.
 *
 * Reading: topic_parse() tells what an incoming topic is, with the device
 * and the Alink identifier it names, so the server can dispatch device
 * messages through a table instead of comparing strings.
 */
#ifndef HAAS_TOPICS_H
#define HAAS_TOPICS_H

#include <stddef.h>

#include "identifiers.h"

/* Longest topic built here (the longest Alink identifier is 64). */
#define TOPIC_MAX 200
#define TOPIC_NAME_MAX 64

/* Where the broker plugin announces refused logins (status_msg.h). */
#define TOPIC_REFUSED "/as/mqtt/refused"

/* The plugin's lifecycle messages gathered for haas-emu: a JSON array of
 * the objects of /as/mqtt/status/{pk}/{dn}, one per login or logout, in
 * their order (docs/protocol.md section 5). */
#define TOPIC_STATUSES "/as/mqtt/statuses"

/* The emulator asks the plugin to disconnect a device: {prefix}{pk}/{dn}. */
#define TOPIC_KICK_PREFIX "/as/mqtt/kick/"

/* The HaaS app-upgrade push service (docs/protocol.md section 7). */
#define SERVICE_UPGRADE_PUSH "hli_service_upgrade_push"

/* What a topic is. */
enum topic_kind {
    TOPIC_UNKNOWN = 0,
    TOPIC_STATUS,            /* /as/mqtt/status/{pk}/{dn}          lifecycle, from the plugin */
    TOPIC_REFUSED_LOGIN,     /* /as/mqtt/refused                    refused logins, from the plugin */
    TOPIC_STATUS_BATCH,      /* /as/mqtt/statuses                   lifecycle gathered, from the plugin */
    TOPIC_EVENT_POST,        /* /sys/{pk}/{dn}/thing/event/{name}/post */
    TOPIC_DEVICEINFO_UPDATE, /* /sys/{pk}/{dn}/thing/deviceinfo/update */
    TOPIC_SERVICE,           /* /sys/{pk}/{dn}/thing/service/{name} (cloud to device) */
    TOPIC_KICK,              /* /as/mqtt/kick/{pk}/{dn}            the emulator to the plugin */
    /* Standard firmware OTA (docs/protocol.md section 12), device to cloud: */
    TOPIC_OTA_INFORM,        /* /ota/device/inform/{pk}/{dn}       the version a module runs */
    TOPIC_OTA_PROGRESS,      /* /ota/device/progress/{pk}/{dn}     download/upgrade progress */
    TOPIC_OTA_REQUEST,       /* /ota/device/request/{pk}/{dn}      older SDKs' "anything for me?" */
    TOPIC_OTA_FIRMWARE_GET,  /* /sys/{pk}/{dn}/thing/ota/firmware/get  Link SDK 4.x's one */
    TOPIC_RRPC_RESPONSE,     /* /sys/{pk}/{dn}/rrpc/response/{id}  a device's answer to an RRpc (name: the id) */
};

/* A parsed topic: the device and the Alink identifier it names ("" if none). */
struct topic_parts {
    enum topic_kind kind;
    char product_key[HAAS_PK_LEN + 1];
    char device_name[HAAS_DN_MAX + 1];
    char name[TOPIC_NAME_MAX + 1];
};

/*
 * Reads `topic` into *out. Returns out->kind; TOPIC_UNKNOWN (and *out
 * zeroed but for kind) for anything else: other families, invalid
 * identifiers, an identifier longer than TOPIC_NAME_MAX, NULL.
 */
enum topic_kind topic_parse(const char *topic, struct topic_parts *out);

/* /as/mqtt/status/{pk}/{dn} */
int topic_status(char *buf, size_t size, const char *pk, const char *dn);

/* /as/mqtt/kick/{pk}/{dn}: disconnect that device (deleted, disabled) */
int topic_kick(char *buf, size_t size, const char *pk, const char *dn);

/* /sys/{pk}/{dn}/thing/service/{name} */
int topic_service(char *buf, size_t size, const char *pk, const char *dn, const char *name);

/* /ota/device/upgrade/{pk}/{dn}: a firmware upgrade notice (cloud to device) */
int topic_ota_upgrade(char *buf, size_t size, const char *pk, const char *dn);

/* {topic}_reply: the answer to a request on `topic` */
int topic_reply(char *buf, size_t size, const char *topic);

/*
 * The Alink method a /sys/{pk}/{dn}/... topic stands for: the levels after
 * the device joined by '.', e.g. "thing.event.property.post". Returns its
 * length, or -1 for a topic outside /sys/ or one that does not fit.
 */
int topic_alink_method(char *buf, size_t size, const char *topic);

/* What haas-emu's service account subscribes to (NULL-terminated). The
 * first, the devices' lifecycle gathered (TOPIC_STATUSES), at QoS 0, the
 * others at QoS 1: see mqtt_link.c on_connect. */
extern const char *const topic_server_subscriptions[];
/* Each device's lifecycle messages: the link subscribes to it at connect,
 * for the plugin's replay of every device's last one, and unsubscribes at
 * once (mqtt_link.c). */
#define TOPIC_LIFECYCLE_FILTER "/as/mqtt/status/+/+"

#endif /* HAAS_TOPICS_H */
