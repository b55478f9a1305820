/*
 * topic_acl.h - which MQTT topics a device may publish to and subscribe to.
 *
 * Part of the haas_auth mosquitto plugin (see haas_auth.c, which maps
 * mosquitto's ACL events onto these calls). Pure string logic, unit tested
 * in tests/unit/test_topic_acl.c.
 *
 * A device (pk, dn) owns the topic families of docs/protocol.md section 3:
 *   /sys/{pk}/{dn}/#                      publish + subscribe
 *   /ota/device/inform/{pk}/{dn}          publish
 *   /ota/device/progress/{pk}/{dn}        publish
 *   /ota/device/request/{pk}/{dn}         publish
 *   /ota/device/upgrade/{pk}/{dn}         subscribe
 *   /shadow/update/{pk}/{dn}              publish
 *   /shadow/get/{pk}/{dn}                 subscribe
 *   /ext/session/{pk}/{dn}/#              publish + subscribe
 *   /ext/ntp/{pk}/{dn}/#                  publish + subscribe
 *   /ext/rrpc/+/sys/{pk}/{dn}/#           publish + subscribe
 *   /{pk}/{dn}/user/#                     publish + subscribe
 * A topic or subscription filter is allowed only when every topic it can
 * match is matched by one rule carrying the wanted permission; so `#`,
 * `/sys/+/+/#` or `/sys/{pk}/+/...` are refused, `/sys/{pk}/{dn}/#` and
 * `/sys/{pk}/{dn}/thing/service/+` are allowed. Delivery of a message to a
 * device (mosquitto's READ check) uses the subscribe permission.
 */
#ifndef HAAS_TOPIC_ACL_H
#define HAAS_TOPIC_ACL_H

#include <stdbool.h>

/* The permission asked for. */
enum haas_acl_access {
    HAAS_ACL_PUBLISH = 1,   /* client publishes to a topic */
    HAAS_ACL_SUBSCRIBE = 2, /* client subscribes to a filter / receives a topic */
};

/*
 * Returns true when every topic matched by MQTT filter `filter` is also
 * matched by MQTT filter `rule` (`+` = one level, `#` = this level and all
 * below, including the parent itself). A topic name without wildcards is a
 * filter matching only itself. A `#` that is not the whole last level, or a
 * level mixing `+`/`#` with other characters, is treated as not contained
 * (malformed filter). NULL arguments give false.
 */
bool haas_filter_within(const char *filter, const char *rule);

/*
 * Returns true when some topic name is matched by both MQTT filters `a` and
 * `b` (e.g. `#` and `/as/mqtt/status/+/+`, or `/a/+` and `/+/b`). A level
 * mixing `+`/`#` with other characters makes it false; NULL gives false.
 */
bool haas_filters_overlap(const char *a, const char *b);

/*
 * Returns true when device (pk, dn) may use `topic` (a topic name, or a
 * subscription filter possibly containing wildcards) for `access`. pk and dn
 * must be valid per clientid.h (valid_product_key/valid_device_name in identifiers.h),
 * otherwise false. NULL or empty topic gives false.
 */
bool haas_acl_device_allows(const char *pk, const char *dn, const char *topic,
                            enum haas_acl_access access);

#endif /* HAAS_TOPIC_ACL_H */
