/*
 * push.h - the HaaS upgrade push (PROTOCOL.md 4.1): deciding which devices
 * of a task get it, building the message byte-compatible with the stock
 * HaaS device code, and publishing it through the MQTT link.
 */
#ifndef HAAS_PUSH_H
#define HAAS_PUSH_H

#include <stddef.h>

typedef struct {
    int pushed, offline, up_to_date, failed_to_send;
} push_counts;

/*
 * Pushes task_id to every member of its group: online members whose known
 * version of the app is lower or unknown get the push ("pushed"); the others
 * are recorded "offline" or "upToDate". Returns 0, -1 when the task does not
 * exist, -2 when the broker link is down (nothing recorded), -3 on a storage
 * error.
 */
int push_task(const char *task_id, push_counts *counts);

/*
 * A device reported (hli_event_upgrade_query) running version of app_id:
 * if a pushed task of its groups offers that app in a newer version, and
 * the device has not finished it, the push is sent to it now. Returns 1 when
 * a push was sent, 0 when none was due, -1 on error.
 */
int push_on_query(const char *pk, const char *dn, const char *app_id, const char *version);

/*
 * A new haasTraceId into out (31 bytes): 8 hex digits of the emulator's IPv4
 * address, 13-digit millisecond time, 4-digit sequence, a flag digit and 4
 * more digits, 30 characters, unique per push.
 */
void push_trace_id(char out[31]);

/*
 * Writes the JSON of one push into out, fields in the order the real cloud
 * sends them. Returns its length, or -1 when out is too small.
 */
int push_build_message(char *out, size_t outlen, unsigned long id, const char *app_id, const char *version,
                       long long size, const char *md5, const char *url, const char *trace);

#endif
