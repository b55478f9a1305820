/*
 * status_watch.h - who may be listening on the per-device lifecycle topics
 * (`/as/mqtt/status/{pk}/{dn}`, status_msg.h), so that the haas_auth plugin
 * publishes a message there per login and logout only while someone may.
 *
 * haas-emu reads the lifecycle gathered on TOPIC_STATUSES (status_batch.h).
 * It subscribes to TOPIC_LIFECYCLE_FILTER only for as long as it takes the
 * plugin to replay every device's last event to it (conn_track.h), and
 * unsubscribes right after. A message per login that no one reads is work
 * for the broker (stored retained, it was about 9 MiB at 19,800 devices
 * and about 3% of its CPU: docs/protocol.md section 5). So haas_auth.c
 * publishes them while this module says a subscription that can match
 * them may exist.
 *
 * Only the service account may read those topics (topic_acl.h), so only its
 * clients are recorded: each subscription whose filter can match a
 * lifecycle topic, by MQTT client id (a session outlives its connection),
 * until the client unsubscribes that filter or its session ends. The rules
 * of mosquitto 2.0 sessions this follows:
 *  - an MQTT 3.1/3.1.1 clean session ends when its connection does; the
 *    session expiry interval of MQTT 5 is not visible to plugins, so an MQTT
 *    5 client's subscriptions are kept until it unsubscribes or its client
 *    id connects again with a clean start;
 *  - a clean start discards what the client id's earlier session held;
 *  - a takeover (the same client id connecting while connected): the new
 *    connection's authentication comes before the old one's disconnect, and
 *    the old one's subscriptions move to the new one unless it starts clean.
 * Sessions restored from a persistence file at the broker's start would be
 * missed; haas-emu's broker runs with `persistence false` (broker.c).
 * When unsure (out of memory, too many records) it says someone may listen:
 * a message published to no one costs CPU, one not published is lost.
 *
 * Plain data, no mosquitto calls; not thread-safe (the broker calls the
 * plugin from one thread). Unit tests: tests/unit/test_clientid.c.
 */
#ifndef HAAS_STATUS_WATCH_H
#define HAAS_STATUS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Beyond this many recorded subscriptions or connections, it stops
 * recording and always says someone may listen. */
#define HAAS_STATUS_WATCH_MAX 1024

struct haas_status_watch;

/* An empty record; NULL when out of memory. */
struct haas_status_watch *haas_status_watch_new(void);

/* Frees it (NULL is a no-op). */
void haas_status_watch_free(struct haas_status_watch *w);

/* True when MQTT filter `filter` can match some `/as/mqtt/status/{pk}/{dn}`
 * (`#`, `/as/#`, `/as/mqtt/status/+/+`, `/as/mqtt/status/{pk}/+`, ...),
 * also as a shared subscription (`$share/{group}/{filter}`). */
bool haas_status_watch_filter(const char *filter);

/* True when `filter` is a shared subscription, `$share/{group}/{filter}`
 * (mosquitto sends such a subscription no retained messages, so the
 * plugin replays nothing to it either). */
bool haas_status_watch_shared(const char *filter);

/*
 * Connection `conn` (an opaque handle) of client id `client_id` logged in
 * as the service account; `clean_start` from its CONNECT. With a clean
 * start the client id's earlier subscriptions are forgotten.
 */
void haas_status_watch_login(struct haas_status_watch *w, const char *client_id, const void *conn,
                             bool clean_start);

/*
 * Connection `conn` of client id `client_id` ended; `session_ends` when its
 * session ends with it (an MQTT 3.1/3.1.1 clean session). The client id's
 * subscriptions are forgotten only when `conn` is its latest connection
 * and `session_ends` (after a takeover the newer connection holds them).
 */
void haas_status_watch_logout(struct haas_status_watch *w, const char *client_id, const void *conn,
                              bool session_ends);

/* Client id `client_id` subscribed to `filter` (recorded only when
 * haas_status_watch_filter() is true; once per client id and filter). */
void haas_status_watch_subscribed(struct haas_status_watch *w, const char *client_id, const char *filter);

/* Client id `client_id` unsubscribed from `filter` (the exact text). */
void haas_status_watch_unsubscribed(struct haas_status_watch *w, const char *client_id,
                                    const char *filter);

/* True when a recorded subscription may still exist, or when a record
 * could not be kept (out of memory, too many). */
bool haas_status_watch_any(const struct haas_status_watch *w);

/* The number of recorded subscriptions (for the unit tests). */
size_t haas_status_watch_count(const struct haas_status_watch *w);

#endif /* HAAS_STATUS_WATCH_H */
