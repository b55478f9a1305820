/*
 * ota_events.h - what devices send for firmware OTA (docs/protocol.md
 * section 12), handled for device_events.c's dispatch table:
 *   /ota/device/inform/{pk}/{dn}             the version a module runs
 *   /ota/device/progress/{pk}/{dn}           step 0..100, or -1..-4 failed
 *   /ota/device/request/{pk}/{dn}            older SDKs: anything for me?
 *   /sys/{pk}/{dn}/thing/ota/firmware/get    Link SDK 4.x: the same, answered
 *                                            on .../firmware/get_reply
 * The module is "default" when a message names none. Malformed messages
 * are logged and change nothing.
 */
#ifndef HAAS_OTA_EVENTS_H
#define HAAS_OTA_EVENTS_H

#include "topics.h"

void ota_events_inform(const struct topic_parts *t, const char *topic, const void *payload, int len);
void ota_events_progress(const struct topic_parts *t, const char *topic, const void *payload, int len);
void ota_events_request(const struct topic_parts *t, const char *topic, const void *payload, int len);
void ota_events_firmware_get(const struct topic_parts *t, const char *topic, const void *payload, int len);

#endif
