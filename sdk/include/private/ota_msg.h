/*
 * ota_msg.h - the messages of Alibaba Cloud IoT's standard firmware OTA on
 * the wire, as Link SDK C 4.x sends and reads them (docs/protocol.md
 * section 12, firmware OTA): the upgrade push and the firmware/get reply are
 * parsed and checked, the inform, progress and firmware/get requests built,
 * the topics named. No allocation, no C library.
 */
#ifndef HAAS_OTA_MSG_H
#define HAAS_OTA_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTA_VERSION_MAX 32 /* bytes with the NUL */
#define OTA_MODULE_MAX 64
#define OTA_URL_MAX 512
#define OTA_DESC_MAX 128
#define OTA_DEFAULT_MODULE "default"

/* Progress steps (a string on the wire). */
#define OTA_STEP_UPGRADE_FAILED (-1)
#define OTA_STEP_DOWNLOAD_FAILED (-2)
#define OTA_STEP_VERIFY_FAILED (-3)
#define OTA_STEP_BURN_FAILED (-4)

typedef enum { OTA_SIGN_MD5 = 0, OTA_SIGN_SHA256 = 1 } ota_sign_method;

/* What an upgrade push (or a firmware/get reply) asks the device to fetch. */
typedef struct {
    uint64_t size;
    char version[OTA_VERSION_MAX];
    char url[OTA_URL_MAX];
    char md5[33];                 /* "" when the message has none */
    char sign[65];                /* hex digest of signMethod over the image */
    ota_sign_method sign_method;
    char module[OTA_MODULE_MAX];  /* "default" when the message has none */
} ota_task;

typedef enum {
    OTA_MSG_OK = 0,
    OTA_MSG_MALFORMED,       /* not JSON, or no "data" object */
    OTA_MSG_EMPTY,           /* "data":{} (a get_reply with nothing pending) */
    OTA_MSG_CODE,            /* a get_reply whose code is not 200 */
    OTA_MSG_BAD_SIZE,        /* size missing, not an integer, or 0 */
    OTA_MSG_BAD_VERSION,     /* version missing, empty or too long */
    OTA_MSG_BAD_URL,         /* not http(s)://host/..., or OTA_URL_MAX or longer */
    OTA_MSG_BAD_SIGN_METHOD, /* signMethod missing or not Md5, SHA256, Sha256 */
    OTA_MSG_BAD_SIGN,        /* sign missing or not hex of the method's length */
    OTA_MSG_BAD_MD5,         /* md5 present but not 32 hex digits */
    OTA_MSG_BAD_MODULE,      /* module not a string, empty or too long */
} ota_verdict;

/*
 * Parses the "data" of a message of /ota/device/upgrade/{pk}/{dn}
 * ({"code":"1000","data":{...},"id":..,"message":"success"}). Like Link
 * SDK C 4.x it does not judge "code"; every field of data is checked (the
 * verdicts above). out is filled on OTA_MSG_OK and undefined otherwise.
 */
ota_verdict ota_parse_upgrade(const char *payload, size_t len, ota_task *out);

/*
 * Parses a thing/ota/firmware/get_reply: OTA_MSG_CODE unless "code" is the
 * number 200, OTA_MSG_EMPTY for "data":{}, else as ota_parse_upgrade.
 */
ota_verdict ota_parse_get_reply(const char *payload, size_t len, ota_task *out);

/* A short English reason for a verdict. */
const char *ota_verdict_text(ota_verdict v);

/* Is module the default one (NULL, "" or "default")? Inform and
 * firmware/get leave such a module out of their params. */
bool ota_module_is_default(const char *module);

/*
 * The payloads, as Link SDK C 4.x writes them: a bare numeric id, then the
 * params ({"id":1, "params":{...}}). Each returns its length, or 0 when it
 * does not fit in cap (out then holds no usable message).
 *   inform:   {"version":V} plus "module":M for a non-default module
 *   progress: {"step":"S","desc":D} plus "module":M when module is not
 *             empty (Link SDK echoes the module of the push, "default"
 *             included); step -4..100 is written as a string
 *   get:      {} or {"module":M} for a non-default module
 */
size_t ota_build_inform(char *out, size_t cap, uint32_t id, const char *version, const char *module);
size_t ota_build_progress(char *out, size_t cap, uint32_t id, int step, const char *desc, const char *module);
size_t ota_build_get(char *out, size_t cap, uint32_t id, const char *module);

typedef enum {
    OTA_TOPIC_INFORM,    /* /ota/device/inform/{pk}/{dn} (up) */
    OTA_TOPIC_PROGRESS,  /* /ota/device/progress/{pk}/{dn} (up) */
    OTA_TOPIC_UPGRADE,   /* /ota/device/upgrade/{pk}/{dn} (down) */
    OTA_TOPIC_GET,       /* /sys/{pk}/{dn}/thing/ota/firmware/get (up) */
    OTA_TOPIC_GET_REPLY, /* /sys/{pk}/{dn}/thing/ota/firmware/get_reply (down) */
} ota_topic_kind;

/* The topic of kind for the device into out; false when it does not fit. */
bool ota_topic(char *out, size_t cap, ota_topic_kind kind, const char *pk, const char *dn);

/*
 * The URL the device downloads from. The push's URL has no port, and Link
 * SDK C 4.x does not read one from it: it connects to the host (everything
 * up to the first '/') on the port the firmware is configured with. So
 * out = scheme://host:port/rest, where host is the URL's authority without
 * a port it may carry (an IPv6 literal keeps its brackets) and port is
 * port, or 443 for https and 80 for http when port is 0. False when url is
 * not http(s)://host/... or out does not fit.
 */
bool ota_url_with_port(char *out, size_t cap, const char *url, uint16_t port);

#endif
