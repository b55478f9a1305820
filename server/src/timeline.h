/*
 * timeline.h - what happened to a task's devices, in order: every MQTT
 * message in both directions (live.h hands them over), every download
 * request with its range, status, bytes sent and duration, every fault
 * that fired, every state change, each with the emulator's time
 * (clock.h). Kept in memory (the last TIMELINE_CAPACITY events), read per
 * task (GET /api/v1/tasks/{id}/timeline) or per device
 * (GET /api/v1/products/{pk}/devices/{dn}/timeline) for CI logs and the
 * console.
 */
#ifndef HAAS_TIMELINE_H
#define HAAS_TIMELINE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define TIMELINE_CAPACITY 16384

/* Adds an event of kind ("mqtt", "download", "fault", "state") for device
 * pk/dn (either may be "") in task (a task, job or rollout id, or ""),
 * with detail as JSON text (at most 1 KiB kept). Thread-safe. */
void timeline_add(const char *kind, const char *task, const char *pk, const char *dn, const char *detail);

/* An MQTT message (live.h hands every one over): direction ("in", "out"),
 * kind (its live-log kind; "fault" makes a fault event, all others an
 * "mqtt" one), topic and the first TIMELINE_PAYLOAD_MAX bytes of its
 * payload, kept as they are and made JSON when read (detail: direction,
 * kind, topic, payload). Thread-safe. */
#define TIMELINE_TOPIC_MAX 400
#define TIMELINE_PAYLOAD_MAX 600
void timeline_add_message(const char *direction, const char *kind, const char *task, const char *pk, const char *dn,
                          const char *topic, const void *payload, size_t len);

/* Frees what the events hold (at exit, after the last writer stopped). */
void timeline_free(void);

/* The events of task (when not NULL) and/or device pk/dn (when pk is not
 * NULL), oldest first, as a JSON array. */
cJSON *timeline_json(const char *task, const char *pk, const char *dn);

#endif
