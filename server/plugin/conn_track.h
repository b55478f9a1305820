/*
 * conn_track.h - live authenticated device connections, for the lifecycle
 * ("online"/"offline") messages of the haas_auth mosquitto plugin.
 *
 * haas_auth.c records every connection (identified by its opaque
 * `struct mosquitto *` pointer) that authenticated successfully as a device,
 * and removes it on mosquitto's DISCONNECT event. A device is offline when
 * its count of live connections drops to 0, which makes a clientId takeover
 * (new connection authenticated before the old one is dropped) end "online",
 * and a connection that failed authentication never produce an "offline".
 * The table also keeps each device's last lifecycle event, kept after its
 * last connection ends: the plugin replays them to a client that subscribes
 * to the lifecycle topics (what the broker's retained messages did, without
 * a retained message stored per login). So a device stays recorded, at about
 * 200 bytes, from its first login until the broker stops.
 * Pure data structure (three chained hash tables, by client pointer, by
 * client id and by device, each doubling its buckets as it fills so that
 * every look-up stays O(1) however many devices connect), unit testable,
 * not thread-safe (mosquitto calls plugins from one thread).
 */
#ifndef HAAS_CONN_TRACK_H
#define HAAS_CONN_TRACK_H

#include <stdbool.h>
#include <stddef.h>

#include "clientid.h"
#include "status_msg.h"

struct haas_conn_table;

/*
 * Allocates an empty table; NULL when out of memory. `free_data` (may be
 * NULL) frees the data the caller attaches to a connection, whenever its
 * record goes (haas_conn_remove, haas_conn_table_free).
 */
struct haas_conn_table *haas_conn_table_new(void (*free_data)(void *data));

/* Frees the table and every record in it. NULL is a no-op. */
void haas_conn_table_free(struct haas_conn_table *table);

/*
 * Records that connection `client`, MQTT client id `client_id` (may be NULL:
 * then not found by haas_conn_owner), authenticated as device `dev`, with
 * the caller's `data` (may be NULL; owned by the table from then on). The caller
 * must first haas_conn_remove() any record of the same pointer (pointers are
 * reused by the broker). Returns the device's number of live connections
 * after adding (>= 1), or 0 when out of memory or on bad arguments (nothing
 * recorded then, and `data` still belongs to the caller).
 */
size_t haas_conn_add(struct haas_conn_table *table, const void *client, const char *client_id,
                     const struct haas_device_id *dev, void *data);

/*
 * Finds a live connection with MQTT client id `client_id`: returns true and
 * its device in *dev_out (if not NULL), or false. Used to refuse a client
 * id held by another device (a session takeover across devices).
 */
bool haas_conn_owner(const struct haas_conn_table *table, const char *client_id,
                     struct haas_device_id *dev_out);

/*
 * Removes the record of connection `client`. Returns true when one existed;
 * then *dev_out (if not NULL) receives its device and *remaining (if not
 * NULL) the device's number of live connections left (0 = now offline).
 * Returns false, leaving the outputs untouched, for unknown pointers.
 */
bool haas_conn_remove(struct haas_conn_table *table, const void *client,
                      struct haas_device_id *dev_out, size_t *remaining);

/* Returns the number of live connections of device `dev` (0 if none). */
size_t haas_conn_count(const struct haas_conn_table *table, const struct haas_device_id *dev);

/* Returns the total number of recorded connections. */
size_t haas_conn_total(const struct haas_conn_table *table);

/* Returns the data attached to connection `client`, or NULL (none, unknown). */
void *haas_conn_data(const struct haas_conn_table *table, const void *client);

/* Returns the number of buckets of the table by client pointer (it grows
 * with the connections; for the unit tests). */
size_t haas_conn_buckets(const struct haas_conn_table *table);

/* Called by haas_conn_each() for one live connection of a device. */
typedef void (*haas_conn_visit)(const void *client, void *data, void *arg);

/*
 * Calls visit(client, data, arg) for every live connection of device `dev`,
 * newest first. `visit` must not add or remove records. Returns how many
 * connections were visited.
 */
size_t haas_conn_each(const struct haas_conn_table *table, const struct haas_device_id *dev,
                      haas_conn_visit visit, void *arg);

/*
 * Records `ev` as device `dev`'s last lifecycle event (replacing any
 * earlier one), whether or not it has live connections. Returns false when
 * out of memory or on bad arguments (nothing recorded then).
 */
bool haas_conn_set_status(struct haas_conn_table *table, const struct haas_device_id *dev,
                          const struct haas_status_event *ev);

/* Called by haas_conn_each_status() for one device's last event. */
typedef void (*haas_status_visit)(const struct haas_device_id *dev, const struct haas_status_event *ev,
                                  void *arg);

/*
 * Calls visit(dev, ev, arg) for every device with a recorded event, in no
 * particular order. `visit` must not change the table. Returns how many
 * devices were visited.
 */
size_t haas_conn_each_status(const struct haas_conn_table *table, haas_status_visit visit, void *arg);

#endif /* HAAS_CONN_TRACK_H */
