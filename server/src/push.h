/*
 * push.h - the HaaS upgrade push (docs/protocol.md section 7): building the message
 * byte-compatible with the stock HaaS device code and publishing it through
 * the MQTT link, to the devices service_tasks.h chooses.
 */
#ifndef HAAS_PUSH_H
#define HAAS_PUSH_H

#include "service_tasks.h"

#include <stddef.h>

/*
 * Pushes task_id to every member of its group (service_task_push decides
 * who gets it and records the states): online members whose known version
 * of the app is lower or unknown get the push ("pushed"); the others are
 * recorded "offline" or "upToDate". *counts says what happened. Returns
 * SERVICE_OK, or the error in res: SERVICE_UNAVAILABLE BrokerUnavailable
 * (the MQTT link is down: nothing recorded), those of service_task_push.
 */
service_status push_task(const char *task_id, service_push_counts *counts, service_result *res);

/*
 * A device reported (hli_event_upgrade_query) running version of app_id:
 * if a push is due (service_task_due), it is sent to it now. Returns 1 when
 * a push was sent, 0 when none was due, -1 on error.
 */
int push_on_query(const char *pk, const char *dn, const char *app_id, const char *version);

/* Publishes the upgrade push of version v to device pk/dn with a freshly
 * signed URL and trace id (logged for the console under ref_id, e.g. a
 * rollout). Returns 0 or -1. */
int push_app_to(const char *pk, const char *dn, const store_version *v, const char *ref_id);

/* A new Alink message id: decimal, unique per emulator run, within
 * 0..4294967295 as the protocol requires (pushes, firmware notices). */
unsigned long push_message_id(void);

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
