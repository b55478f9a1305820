/*
 * device_events.h - what haas-emu does with the MQTT messages it receives:
 * lifecycle (online/offline), upgrade results (hli_event app.result),
 * version reports (hli_event_upgrade_query), device info, and the post_reply
 * every event post gets (docs/protocol.md sections 5-7).
 *
 * Malformed payloads are logged and ignored: nothing a device sends can
 * crash the emulator or change state it should not.
 */
#ifndef HAAS_DEVICE_EVENTS_H
#define HAAS_DEVICE_EVENTS_H

/* Handles one message (called on the MQTT link's thread, inside a batch:
 * db_batch_begin() before the first, device_events_batch_end() after the
 * last). */
void device_events_handle(const char *topic, const void *payload, int len);

/* Ends the link's batch: writes the offline reports it held back (see
 * device_events.c), then db_batch_end() (the commit). */
void device_events_batch_end(void);

/* The broker forgot our session (it restarted): every device it knew is
 * gone; devices marked online become offline until they announce again. */
void device_events_session_lost(void);

#endif
