/*
 * kick.c - ask the broker plugin to disconnect a device (see kick.h).
 */
#include "kick.h"
#include "live.h"
#include "log.h"
#include "mqtt_link.h"
#include "topics.h"

/* Sends the kick of pk/dn; with wait, returns once the broker did it.
 * Returns 0 or -1 (logged). */
static int kick(const char *pk, const char *dn, bool wait)
{
    char topic[TOPIC_MAX];
    if (topic_kick(topic, sizeof topic, pk, dn) < 0)
        return -1;
    int rc = wait ? mqtt_link_publish_acked(topic, "", 0, KICK_WAIT_MS) : mqtt_link_publish(topic, "", 0, 1);
    if (rc < 0) {
        log_msg(LOG_WARN, "the broker did not confirm disconnecting %s/%s (%s): a live session ends when it "
                          "reconnects", pk, dn, mqtt_link_connected() ? "no answer in time" : "no MQTT link");
        return -1;
    }
    live_log("out", "kick", pk, dn, NULL, topic, "", 0);
    return 0;
}

int kick_device(const char *pk, const char *dn) { return kick(pk, dn, true); }

void kick_devices(const store_device_id *ids, size_t n, void *ctx)
{
    (void)ctx;
    /* the broker handles the link's messages in order: the last one's
     * acknowledgement covers them all */
    for (size_t i = 0; i < n; i++)
        kick(ids[i].product_key, ids[i].device_name, i + 1 == n);
}
