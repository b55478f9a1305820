/*
 * kick.h - disconnecting a device that may no longer be connected: deleted
 * (alone or with its product) or disabled. haas-emu's service account
 * publishes on /as/mqtt/kick/{pk}/{dn} (topics.h: topic_kick), and the
 * broker plugin ends that device's live connections at once; its next
 * login is refused by the plugin's usual checks (UnknownDevice,
 * DeviceDisabled). Without this a deleted device kept its session - replies,
 * granted subscriptions - until it reconnected.
 */
#ifndef HAAS_KICK_H
#define HAAS_KICK_H

#include "store_devices.h"

/* How long a kick waits for the broker to have done it. */
#define KICK_WAIT_MS 3000

/*
 * Asks the broker to disconnect device dn of product pk (QoS 1, through the
 * MQTT link), logs it in the console's message log, and waits (at most
 * KICK_WAIT_MS) until the broker has done it: so a client that is told
 * "deleted" or "disabled" and then re-creates or enables the device never
 * has its new session ended by this kick. Returns 0, or -1 when the link is
 * down or the broker did not answer in time (logged: a device then stays
 * connected until it reconnects, and is refused then).
 */
int kick_device(const char *pk, const char *dn);

/* kick_device for the n devices at ids (the service_devices_fn of
 * service_product_delete), waiting once, for the last. */
void kick_devices(const store_device_id *ids, size_t n, void *ctx);

#endif
