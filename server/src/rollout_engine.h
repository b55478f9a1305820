/*
 * rollout_engine.h - runs the staged rollouts (service_rollouts.h): a
 * step of every active rollout (start, timeouts, retries, batches, pause,
 * end) and the pushes it is due, within its rate: the standard OTA notice
 * for a firmware rollout (ota_push.h), the HaaS upgrade push for an app
 * release (push.h). main() calls rollout_engine_tick() a few times a
 * second; the MQTT handlers call the others when devices report.
 */
#ifndef HAAS_ROLLOUT_ENGINE_H
#define HAAS_ROLLOUT_ENGINE_H

#include "store.h"
#include "store_firmwares.h"

#include <stdint.h>

/* Steps every scheduled or running rollout and sends what is due at now.
 * Returns how many pushes were sent. */
int rollout_engine_tick(int64_t now);

/* Device pk/dn came online or told what it runs: dynamic rollouts take it
 * in (it is then pushed by the next tick). */
void rollout_engine_device_seen(const char *pk, const char *dn);

/*
 * A device asks for its firmware (thing/ota/firmware/get): the firmware of
 * the newest running rollout of module where it waits (queued in a started
 * batch, pushed or downloading) into f, its id into rollout_id, and it
 * counts as pushed. Returns 1 when there is one, 0 otherwise.
 */
int rollout_engine_firmware_for(const char *pk, const char *dn, const char *module, store_firmware *f,
                                char rollout_id[STORE_ID_SIZE]);

#endif
