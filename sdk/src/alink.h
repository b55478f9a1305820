/*
 * alink.h - the HaaS app-upgrade messages on the wire (docs/protocol.md
 * sections 2 and 7): device credentials, topics, the push (parsed and
 * checked with the stock device rules), and the query and result events
 * (built).
 */
#ifndef HAAS_ALINK_H
#define HAAS_ALINK_H

#include "haas_port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALINK_APP_ID_LEN 16
#define ALINK_VERSION_MAX 32
#define ALINK_URL_MAX 1024

/* A three-part version, compared numerically part by part. */
typedef struct {
    uint32_t part[3];
} alink_version;

/* Parses "a.b.c" (each part 1..9 digits). */
bool alink_version_parse(const char *s, alink_version *v);

/* <0, 0, >0 like strcmp. */
int alink_version_compare(const alink_version *a, const alink_version *b);

/* Credentials of Link SDK C 4.x: clientId "pk.dn|timestamp=2524608000000,
 * _ss=1,_v=...,securemode=3,signmethod=hmacsha256,ext=3,|", username
 * "dn&pk", password hex(HMAC-SHA256(ds, "clientId<pk.dn>deviceName<dn>
 * productKey<pk>timestamp2524608000000")). Buffers: client_id 160,
 * username 80, password 65 bytes. */
int alink_credentials(const haas_port *port, const char *pk, const char *dn, const char *ds,
                      char client_id[160], char username[80], char password[65]);

/* "/sys/<pk>/<dn>/<suffix>" into out; false when it does not fit. */
bool alink_topic(char *out, size_t cap, const char *pk, const char *dn, const char *suffix);

/* What a push carries. */
typedef struct {
    char msg_id[24];
    char error_code[8];
    char app_id[ALINK_APP_ID_LEN + 1];
    char version[ALINK_VERSION_MAX];
    char url[ALINK_URL_MAX];
    char md5[33];
    uint64_t size;
    int64_t rolling_back;
} alink_push;

typedef enum {
    ALINK_PUSH_OK = 0,
    ALINK_PUSH_MALFORMED,      /* not JSON, fields missing or of the wrong type */
    ALINK_PUSH_ERROR_CODE,     /* errorCode is not the string "200" */
    ALINK_PUSH_ROLLING_BACK,   /* rollingBack is not 0 */
    ALINK_PUSH_OTHER_APP,      /* appId is not the installed app's */
    ALINK_PUSH_NOT_NEWER,      /* version is not strictly newer */
    ALINK_PUSH_BAD_VERSION,    /* version is not three numbers */
    ALINK_PUSH_BAD_URL,        /* not http(s)://host:port/... or too long */
} alink_push_verdict;

/*
 * Parses a push payload and applies the stock HaaS rules against the
 * installed app (app_id and version; version may be "" when unknown).
 */
alink_push_verdict alink_parse_push(const char *payload, size_t len, const char *installed_app_id,
                                    const char *installed_version, alink_push *out);

/* A short English reason for a verdict. */
const char *alink_push_verdict_text(alink_push_verdict v);

/* hli_event_upgrade_query (docs/protocol.md section 7) into out; returns its
 * length or 0 when it does not fit. */
size_t alink_build_query(char *out, size_t cap, uint32_t id, const char *app_id, const char *version,
                         const char *firmware_version);

/* hli_event app.result (docs/protocol.md section 7) into out; length or 0. */
size_t alink_build_result(char *out, size_t cap, uint32_t id, int code, const char *app_id,
                          const char *new_version, const char *old_version);

#endif
