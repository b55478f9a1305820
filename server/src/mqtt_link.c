/*
 * mqtt_link.c - the service account's MQTT connection (see mqtt_link.h).
 */
#include "mqtt_link.h"
#include "log.h"

#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What haas-emu listens to: device lifecycle, event posts (results, queries,
 * properties: every post gets a post_reply) and device info. */
static const char *const subscriptions[] = {
    "/as/mqtt/status/+/+",
    "/sys/+/+/thing/event/+/post",
    "/sys/+/+/thing/deviceinfo/update",
};

static struct mosquitto *mosq;
static mqtt_link_handlers handlers;
static atomic_bool connected;
static atomic_long connects;

bool mqtt_link_connected(void) { return atomic_load(&connected); }
long mqtt_link_connects(void) { return atomic_load(&connects); }

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags)
{
    (void)obj;
    if (rc != 0) {
        log_msg(LOG_ERROR, "broker refused haas-emu's service account: %s", mosquitto_connack_string(rc));
        return;
    }
    int session_present = flags & 1;
    if (!session_present && handlers.on_session_lost)
        handlers.on_session_lost();
    int n = (int)(sizeof subscriptions / sizeof subscriptions[0]);
    char *const *topics = (char *const *)subscriptions;
    int src = mosquitto_subscribe_multiple(m, NULL, n, topics, 1, 0, NULL);
    if (src != MOSQ_ERR_SUCCESS)
        log_msg(LOG_ERROR, "cannot subscribe: %s", mosquitto_strerror(src));
    atomic_store(&connected, true);
    atomic_fetch_add(&connects, 1);
    log_msg(LOG_INFO, "MQTT link connected%s", session_present ? " (session resumed)" : "");
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m, (void)obj;
    if (atomic_exchange(&connected, false))
        log_msg(rc ? LOG_WARN : LOG_INFO, "MQTT link disconnected%s", rc ? "; reconnecting" : "");
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m, (void)obj;
    if (handlers.on_message && msg->topic)
        handlers.on_message(msg->topic, msg->payload, msg->payloadlen);
}

int mqtt_link_start(const char *host, int port, const char *client_id, const char *username, const char *password,
                    const mqtt_link_handlers *h, char *err, size_t errlen)
{
    handlers = *h;
    mosquitto_lib_init();
    mosq = mosquitto_new(client_id, false, NULL);
    if (!mosq) {
        snprintf(err, errlen, "cannot create the MQTT client");
        return -1;
    }
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_username_pw_set(mosq, username, password);
    mosquitto_connect_with_flags_callback_set(mosq, on_connect);
    mosquitto_disconnect_callback_set(mosq, on_disconnect);
    mosquitto_message_callback_set(mosq, on_message);
    mosquitto_reconnect_delay_set(mosq, 1, 5, true);
    /* A bounded window: libmosquitto 2.0 walks its in-flight list on every
     * publish and acknowledgement, so "unlimited" turns a push to 10,000
     * devices quadratic; beyond the window messages wait in its queue. */
    mosquitto_max_inflight_messages_set(mosq, 1000);
    int rc = mosquitto_connect_async(mosq, host, port, 30);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO)
        log_msg(LOG_WARN, "MQTT link: first connect to %s:%d failed (%s); retrying", host, port,
                mosquitto_strerror(rc));
    rc = mosquitto_loop_start(mosq);
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(err, errlen, "cannot start the MQTT thread: %s", mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

int mqtt_link_publish(const char *topic, const void *payload, size_t len, int qos)
{
    if (!mosq || !atomic_load(&connected))
        return -1;
    int rc = mosquitto_publish(mosq, NULL, topic, (int)len, payload, qos, false);
    if (rc != MOSQ_ERR_SUCCESS) {
        log_msg(LOG_WARN, "publish on %s failed: %s", topic, mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

void mqtt_link_stop(void)
{
    if (!mosq)
        return;
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
    mosq = NULL;
    mosquitto_lib_cleanup();
}
