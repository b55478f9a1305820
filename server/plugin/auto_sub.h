/*
 * auto_sub.h - the platform's automatic topic subscription (Aliyun
 * "自动订阅Topic", docs/protocol.md section 4), for the haas_auth plugin.
 *
 * A device that connects with Link SDK C 3.1, 3.2 or 4.x says `_ss=1` in its
 * clientId and never sends SUBSCRIBE for its system topics: the real platform
 * subscribes it on the server side. Mosquitto has no server-side
 * subscriptions, so the plugin does the equivalent at delivery time: for
 * every message published on a downstream topic of the table below, it
 * hands a copy straight to each `_ss=1` connection of the addressed device
 * (mosquitto_broker_publish with that client's id), unless the connection
 *  - subscribed itself to a filter matching the topic (the broker delivers
 *    it then; a second copy would be a duplicate), or
 *  - unsubscribed a filter matching the topic (the platform stops
 *    auto-sending what a device unsubscribed).
 * That state lives per connection, so a reconnect (clean session or not)
 * starts again from the full table, as on the real platform.
 *
 * What mosquitto 2.0.11 does with mosquitto_broker_publish(client_id, ...)
 * (read in its src/loop.c and src/plugin_public.c before building on it):
 * the message is queued and handed over at the next main-loop iteration
 * (queue_plugin_msgs -> single_publish -> db__message_insert) to whichever
 * context holds that client id then; no ACL check, never retained, the QoS
 * given; an id not connected by then drops it. So the plugin names only
 * connections it authenticated as the addressed device, and messages to
 * one device keep their order (the queue is FIFO).
 *
 * Devices without `_ss=1` keep plain MQTT semantics: they get what they
 * subscribe to and nothing else. The table only ever names topics of one
 * device, and the copy goes only to connections authenticated as that
 * device, so no device receives another's messages this way.
 *
 * Pure string and list logic, unit tested in tests/unit/test_auto_sub.c;
 * not thread-safe (mosquitto calls plugins from one thread).
 */
#ifndef HAAS_AUTO_SUB_H
#define HAAS_AUTO_SUB_H

#include <stdbool.h>
#include <stddef.h>

#include "clientid.h"

#define HAAS_AUTO_SUB_FILTERS_MAX 64   /* explicit or removed filters kept per connection */
#define HAAS_AUTO_SUB_FILTER_LEN 256   /* longest such filter kept, in bytes */

/* Per-connection state of one `_ss=1` device connection. */
struct haas_auto_sub;

/*
 * Returns true when `topic` (a topic name, no wildcards) is one of the
 * downstream topics of the automatic-subscription table, and fills `dev`
 * with the device it addresses. False for everything else (uplinks, other
 * families, malformed or overlong topics, invalid pk/dn); NULL gives false.
 */
bool haas_auto_sub_topic_device(const char *topic, struct haas_device_id *dev);

/*
 * Allocates the state of a new connection of device `dev`: every topic of
 * the table delivered, nothing subscribed or removed yet. NULL when out of
 * memory or on a NULL argument.
 */
struct haas_auto_sub *haas_auto_sub_new(const struct haas_device_id *dev);

/* Frees the state; NULL is a no-op. (void * for conn_track's destructor.) */
void haas_auto_sub_free(void *state);

/*
 * Records that the connection subscribed to `filter` (granted by the ACL).
 * A filter removed before is taken back in. Returns false when it could not
 * be recorded (list full, filter too long, NULL): the connection may then
 * receive a topic twice, never lose one.
 */
bool haas_auto_sub_subscribed(struct haas_auto_sub *state, const char *filter);

/*
 * Records that the connection unsubscribed `filter`: it no longer counts as
 * subscribed, and topics it matches are no longer auto-delivered. Returns
 * false when the removal could not be recorded (list full, filter too
 * long, NULL).
 */
bool haas_auto_sub_unsubscribed(struct haas_auto_sub *state, const char *filter);

/*
 * Returns true when a message on `topic` must be handed to this connection
 * by the plugin: the topic is a table topic of the connection's own device,
 * no subscription of the connection matches it, and it was not removed.
 */
bool haas_auto_sub_delivers(const struct haas_auto_sub *state, const char *topic);

/*
 * haas_auto_sub_delivers() for a topic whose device is known: `dev` is what
 * haas_auto_sub_topic_device() found for `topic` (the plugin finds it once
 * per message, then asks each connection of that device). False on NULL.
 */
bool haas_auto_sub_delivers_to(const struct haas_auto_sub *state, const struct haas_device_id *dev,
                               const char *topic);

#endif /* HAAS_AUTO_SUB_H */
