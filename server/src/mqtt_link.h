/*
 * mqtt_link.h - haas-emu's own MQTT connection to the broker, as the
 * privileged service account: it publishes pushes and post_replies and
 * receives device events and lifecycle messages.
 *
 * One thread of mqtt_link.c owns the connection (MQTT 3.1.1 over TCP,
 * mqtt_packet.c's packets) and reconnects (1 s, growing to 5 s); every
 * (re)connect subscribes again. The
 * session is persistent (clean session off), so QoS 1 messages sent to us
 * while the link was down are delivered when it is back; when the broker
 * lost our session (it restarted), the on_session_lost hook runs first.
 */
#ifndef HAAS_MQTT_LINK_H
#define HAAS_MQTT_LINK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    /* A message arrived on one of our subscriptions (link thread). The
     * payload is len bytes, not NUL-terminated. */
    void (*on_message)(const char *topic, const void *payload, int len);
    /* The broker had no session for us: we may have missed messages. Runs on
     * the link thread before the subscriptions are made again. */
    void (*on_session_lost)(void);
    /* Around each batch of messages read in one go (optional): lets the
     * handlers share one database transaction. */
    void (*on_batch_begin)(void);
    void (*on_batch_end)(void);
    /* Does someone else wait for what a batch holds (optional)? Then the
     * batch ends with the messages it has; otherwise it goes on gathering
     * for up to mqtt_link.c's BATCH_MAX_MS. */
    bool (*batch_wanted_elsewhere)(void);
} mqtt_link_handlers;

/*
 * Starts connecting to host:port as client_id with the service credentials.
 * Returns 0 (connection proceeds in the background) or -1 with a message.
 */
int mqtt_link_start(const char *host, int port, const char *client_id, const char *username, const char *password,
                    const mqtt_link_handlers *handlers, char *err, size_t errlen);

/* Is the link connected right now? */
bool mqtt_link_connected(void);

/* Publishes (QoS 0 or 1, not retained). Thread-safe. Returns 0 or -1. */
int mqtt_link_publish(const char *topic, const void *payload, size_t len, int qos);

/*
 * Publishes with QoS 1 (not retained) and waits, at most timeout_ms, for
 * the broker's PUBACK: when it returns 0, the broker (and its plugin) has
 * handled this message and every one published before it. Thread-safe.
 * Returns -1 when the link is down, or the PUBACK did not come in time (the
 * message may still arrive later).
 */
int mqtt_link_publish_acked(const char *topic, const void *payload, size_t len, int timeout_ms);

/*
 * Hand-over in batches: between mqtt_link_hold() and mqtt_link_release(),
 * messages this thread publishes are queued without waking the link
 * thread; the release wakes it once for all of them. A push publishes
 * thousands of messages a few microseconds apart: woken for each, the link
 * thread took each alone, two context switches per message. Holds nest;
 * messages of other threads are not held back longer than this one holds.
 */
void mqtt_link_hold(void);
void mqtt_link_release(void);

/* Counters for the health check and tests. */
long mqtt_link_connects(void);

/* Disconnects and stops the link thread. */
void mqtt_link_stop(void);

#endif
