/*
 * live.h - what the console watches live: a change counter that moves on
 * every write (API or device), and a ring of the MQTT messages haas-emu
 * sent and received (pushes, results, queries, lifecycle, replies), so a
 * developer sees what their device did. In memory only: the log is a live
 * view, the database holds the state.
 */
#ifndef HAAS_LIVE_H
#define HAAS_LIVE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define LIVE_LOG_CAPACITY 4096   /* messages kept */
#define LIVE_PAYLOAD_MAX 2048    /* bytes of a payload kept */

/* Something changed: the console should refresh. */
void live_changed(void);

/* The change counter. */
uint64_t live_rev(void);

/*
 * Records one message. direction "out" (sent by haas-emu) or "in"; kind a
 * short word (push, result, query, status, deviceinfo, event, reply); pk,
 * dn, task_id may be NULL or "".
 */
void live_log(const char *direction, const char *kind, const char *pk, const char *dn, const char *task_id,
              const char *topic, const void *payload, size_t len);

/*
 * The messages after seq (oldest first, at most limit), filtered by the
 * non-NULL arguments, as the API's JSON items; *next gets the seq to ask
 * after next time.
 */
cJSON *live_messages(uint64_t after, const char *task_id, const char *pk, const char *dn, int limit,
                     uint64_t *next);

/* Frees the log (at exit). */
void live_free(void);

#endif
