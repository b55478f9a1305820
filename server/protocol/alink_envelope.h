/*
 * alink_envelope.h - the Alink JSON envelope of device requests and the platform's
 * replies (docs/protocol.md, section 6). Part of the protocol module; unlike
 * identifiers and topics it needs cJSON, so only haas-emu links it, not the
 * broker plugin.
 *
 * A request: {"id": "123" or 123, "version": "1.0", "params": {...},
 * "method"?: "...", "sys"?: {"ack": 0|1}}. Its reply goes to {topic}_reply:
 * {"id": <echoed as it came>, "code": 200, "data": {}, "message": "success",
 * "method": "thing.event.property.post", "version": "1.0"}, unless the
 * request carries "sys":{"ack":0} (Link SDK C 4.x with post replies off).
 */
#ifndef HAAS_ALINK_ENVELOPE_H
#define HAAS_ALINK_ENVELOPE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* True when request `msg` wants a reply: it has an id (string or number)
 * and does not say "sys":{"ack":0}. */
bool alink_wants_reply(const cJSON *msg);

/*
 * The reply to request `msg` received on `topic` (a /sys/{pk}/{dn}/...
 * topic), as compact JSON the caller frees with cJSON_free; NULL when no
 * reply is wanted or on error.
 */
char *alink_reply_text(const char *topic, const cJSON *msg);

/* Like alink_reply_text, with `data` (taken over, freed here in every case)
 * as the reply's "data" instead of {}: the answer of a request that asks
 * for something, e.g. thing/ota/firmware/get. */
char *alink_reply_with_data(const char *topic, const cJSON *msg, cJSON *data);

#endif /* HAAS_ALINK_ENVELOPE_H */
