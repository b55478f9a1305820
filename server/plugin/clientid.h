/*
 * clientid.h - parse the identity fields of an Aliyun-style MQTT CONNECT.
 *
 * Part of the haas_auth mosquitto plugin (see haas_auth.c). This module only
 * splits and validates text: the username `dn&pk` and the clientId
 * `<id>|k1=v1,k2=v2,...|` (docs/protocol.md sections 1 and 2). It does no
 * cryptography (device_sign.c) and no database access (store_device_auth.c), so it
 * can be unit tested on its own. Every field is bounded; anything that does
 * not fit the rules below is reported as malformed and never crashes.
 *
 * Rules enforced:
 *  - product key and device name: the rules of the protocol module
 *    (server/protocol/identifiers.h), the same haas-emu's API applies;
 *  - username: exactly `dn&pk`;
 *  - clientId: at most HAAS_CLIENTID_MAX bytes; `<id>` is 1..HAAS_ID_MAX
 *    printable ASCII characters (0x21..0x7e) without `|`; then `|`, a
 *    comma-separated list, and a closing `|` that must end the string.
 *    List items are `key=value` (key [A-Za-z0-9_], value printable ASCII
 *    without `,` and `|`); empty items, items without `=` and unknown keys are
 *    ignored; a known key (signmethod, timestamp, securemode, _ss) given twice
 *    is malformed.
 */
#ifndef HAAS_CLIENTID_H
#define HAAS_CLIENTID_H

#include <stdbool.h>
#include <stddef.h>

#include "identifiers.h"

#define HAAS_PK_MAX HAAS_PK_LEN /* a product key has exactly this length */
#define HAAS_USERNAME_MAX (HAAS_DN_MAX + 1 + HAAS_PK_MAX)
#define HAAS_CLIENTID_MAX 512   /* longest accepted clientId, in bytes */
#define HAAS_ID_MAX 128         /* longest accepted <id> part */
#define HAAS_KEY_MAX 32         /* longest accepted key of a k=v item */
#define HAAS_VALUE_MAX 128      /* longest accepted value of a k=v item */
#define HAAS_TIMESTAMP_MAX 64   /* longest accepted timestamp value */
#define HAAS_SIGNMETHOD_MAX 32  /* longest accepted signmethod value */
#define HAAS_SECUREMODE_MAX 16  /* longest accepted securemode value */

/* A device identity taken from the MQTT username `dn&pk`. */
struct haas_device_id {
    char product_key[HAAS_PK_MAX + 1];
    char device_name[HAAS_DN_MAX + 1];
};

/* The parts of a clientId that matter for authentication. */
struct haas_client_id {
    char id[HAAS_ID_MAX + 1];                 /* part before the first `|` */
    bool has_timestamp;                       /* a timestamp=... item was present */
    char timestamp[HAAS_TIMESTAMP_MAX + 1];   /* its value ("" when absent) */
    bool has_signmethod;                      /* a signmethod=... item was present */
    char signmethod[HAAS_SIGNMETHOD_MAX + 1]; /* its raw value ("" when absent) */
    bool has_securemode;                      /* a securemode=... item was present */
    char securemode[HAAS_SECUREMODE_MAX + 1]; /* informational only */
    bool has_ss;                              /* a _ss=... item was present */
    bool auto_subscribe;                      /* _ss=1: Link SDK C 3.1+ asks the
                                                 platform to subscribe it to its
                                                 downstream topics (auto_sub.h) */
};

/*
 * Parses the MQTT username `dn&pk` into `out`. Returns true on success; on
 * failure (NULL, too long, no `&`, invalid pk or dn) returns false and leaves
 * `out` zeroed.
 */
bool haas_parse_username(const char *username, struct haas_device_id *out);

/*
 * Parses a clientId `<id>|k=v,...|` into `out`. Returns true on success; on
 * failure (NULL, too long, missing `|`, text after the closing `|`, bad
 * characters, overlong id/key/value, duplicated known key) returns false and
 * leaves `out` zeroed. Does not judge the signmethod value: see
 * haas_sign_method_from_name() in device_sign.h.
 */
bool haas_parse_client_id(const char *client_id, struct haas_client_id *out);

#endif /* HAAS_CLIENTID_H */
