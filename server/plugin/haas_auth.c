/*
 * haas_auth.c - the HaaS emulator's Mosquitto 2.0 plugin (plugin API v5),
 * built as build/haas_auth.so and loaded by the broker with
 *
 *   plugin /abs/path/haas_auth.so
 *   plugin_opt_db_path /path/to/haas.db          (required)
 *   plugin_opt_service_username NAME             (optional)
 *   plugin_opt_service_password SECRET           (required with the username)
 *   plugin_opt_wait_for_service true             (optional, haas-emu's managed broker)
 *
 * This file holds only the glue: option parsing, the plugin state, and the
 * three event callbacks. The concerns live in their own modules:
 *   clientid.c     parse username `dn&pk` and clientId `<id>|k=v,...|`
 *   device_sign.c  compute / verify the HMAC password (constant time)
 *   store_device_auth.c  the plugin's read-only store: device secrets
 *   secret_cache.c the secrets kept between logins (store_device_auth.c)
 *   topic_acl.c    per-device topic permissions incl. wildcards
 *   conn_track.c   live authenticated connections per device, and each
 *                  device's last lifecycle event
 *   status_msg.c   the `/as/mqtt/status/{pk}/{dn}` lifecycle JSON and the
 *                  refusal notices on `/as/mqtt/refused`
 *   status_watch.c whether anyone may be subscribed to those topics
 *   status_batch.c the lifecycle of one pass of the broker's loop gathered
 *                  into one message for haas-emu on `/as/mqtt/statuses`
 *   auto_sub.c     automatic subscription of `_ss=1` (Link SDK C) devices
 *
 * MOSQ_EVT_BASIC_AUTH: the service account (exact username, constant-time
 * password compare) or a device authenticated per docs/protocol.md section 2;
 * everything else gets MOSQ_ERR_AUTH (CONNACK "not authorized"), and a
 * refusal notice with its reason for haas-emu. A missing signmethod means
 * hmacsha1 (HAAS_SIGN_DEFAULT).
 * MOSQ_EVT_ACL_CHECK: the service account may do anything; a device (found
 * from the client's username) only what topic_acl.c allows; READ (delivery)
 * is judged like SUBSCRIBE; UNSUBSCRIBE is always allowed. Subscriptions
 * and unsubscriptions of `_ss=1` connections are recorded for auto_sub.c.
 * MOSQ_EVT_MESSAGE: a message on a downstream topic of the automatic
 * subscription table is handed to each `_ss=1` connection of the addressed
 * device that does not get it through a subscription of its own.
 * MOSQ_EVT_DISCONNECT and successful device auth: a device's lifecycle
 * event, "offline" only when its last live connection ends, gathered for
 * haas-emu and sent at MOSQ_EVT_TICK (after each pass of the broker's loop)
 * as one message (QoS 0, not retained); recorded as the device's last
 * event; and published on its own topic (QoS 1) while the service account
 * may hold a subscription that matches it (status_watch.h). A service
 * client subscribing to a filter that matches lifecycle topics gets the
 * last event of every device it matches, replayed by the plugin (what a
 * retained message per device would give, without storing one per login).
 *
 * State is one struct handed to mosquitto as the plugin's user data; the
 * broker calls every callback from its single main thread.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "auto_sub.h"
#include "clientid.h"
#include "conn_track.h"
#include "store_device_auth.h"
#include "device_sign.h"
#include "status_batch.h"
#include "status_msg.h"
#include "status_watch.h"
#include "topic_acl.h"
#include "topics.h"

/* Everything the plugin keeps between callbacks. */
struct haas_auth_state {
    mosquitto_plugin_id_t *identifier;
    char *service_username;        /* NULL: no service account */
    char *service_password;
    struct haas_device_db *db;
    struct haas_conn_table *conns;
    struct haas_signer *signer;    /* HMAC fetched once (device_sign.h) */
    size_t auto_sub_conns;         /* live connections with `_ss=1` */
    bool wait_for_service;         /* refuse devices until the service listens */
    unsigned service_filters_seen; /* bit i: topic_server_subscriptions[i] granted */
    bool service_ready;            /* every one of them granted in this broker's life */
    long long last_time_ms;        /* last lastTime published */
    struct haas_status_batch statuses; /* lifecycle objects not yet sent on TOPIC_STATUSES */
    struct haas_status_watch *watch;   /* the service's lifecycle subscriptions */
    bool watch_logged;                 /* haas_status_watch_any() when log_watch_change() last ran */
};

/* Logs one line at notice level (used by store_device_auth.c). */
static void log_notice(const char *msg)
{
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "%s", msg);
}

/* Wall-clock milliseconds since the Unix epoch. */
static long long now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0;
    }
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* Sends the gathered lifecycle objects, if any, as one message on
 * TOPIC_STATUSES (QoS 0: the link gets each device's last one replayed
 * when it comes back, docs/protocol.md section 5). Failures are logged only. */
static void send_statuses(struct haas_auth_state *st)
{
    size_t len;
    const char *text = haas_status_batch_take(&st->statuses, &len);
    if (text == NULL) {
        return;
    }
    int rc = mosquitto_broker_publish_copy(NULL, TOPIC_STATUSES, (int)len, text, 0, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: cannot publish on %s: %s", TOPIC_STATUSES,
                             mosquitto_strerror(rc));
    }
}

/* Adds one lifecycle object to those sent at the end of this pass of the
 * broker's loop (sending them first when they fill a message). */
static void gather_status(struct haas_auth_state *st, const char *json, int len)
{
    int rc = haas_status_batch_add(&st->statuses, json, (size_t)len);
    if (rc == 1) {
        send_statuses(st);
        rc = haas_status_batch_add(&st->statuses, json, (size_t)len);
    }
    if (rc != 0) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: out of memory: a lifecycle message reaches "
                             "the emulator when its link next connects");
    }
}

/* Formats the lifecycle message of `dev` for event `ev` into `json`
 * (HAAS_STATUS_JSON_MAX bytes), `tlen` being what haas_status_topic()
 * returned for its topic; returns the JSON's length, or -1 (logged) when
 * either could not be formatted. */
static int format_status(const struct haas_device_id *dev, const struct haas_status_event *ev, int tlen,
                         char *json)
{
    int jlen = haas_status_json(json, HAAS_STATUS_JSON_MAX, ev->online, dev, ev->time_ms, ev->client_ip,
                                ev->last_time_ms);
    if (tlen < 0 || jlen < 0) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: cannot format status of %s&%s",
                             dev->device_name, dev->product_key);
        return -1;
    }
    return jlen;
}

/* A lifecycle event of `dev`: recorded as its last, gathered for haas-emu,
 * and published on its topic while someone may be subscribed to it;
 * failures are logged only. */
static void publish_status(struct haas_auth_state *st, bool online,
                           const struct haas_device_id *dev, const char *client_ip)
{
    struct haas_status_event ev = {.online = online, .time_ms = now_ms()};
    ev.last_time_ms = ev.time_ms > st->last_time_ms ? ev.time_ms : st->last_time_ms + 1;
    st->last_time_ms = ev.last_time_ms;
    snprintf(ev.client_ip, sizeof ev.client_ip, "%s", client_ip ? client_ip : "");
    if (!haas_conn_set_status(st->conns, dev, &ev)) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: out of memory: the status of %s&%s is not "
                             "replayed to later subscribers", dev->device_name, dev->product_key);
    }
    char topic[HAAS_STATUS_TOPIC_MAX];
    char json[HAAS_STATUS_JSON_MAX];
    int jlen = format_status(dev, &ev, haas_status_topic(topic, sizeof topic, dev), json);
    if (jlen < 0) {
        return;
    }
    if (haas_status_watch_any(st->watch)) {
        int rc = mosquitto_broker_publish_copy(NULL, topic, jlen, json, 1, false, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: cannot publish status on %s: %s",
                                 topic, mosquitto_strerror(rc));
        }
    }
    gather_status(st, json, jlen);
}

/* Called after every change of st->watch: logs (info level) when the
 * per-device lifecycle messages start or stop being published, so a user
 * can see from the broker's log whether its watcher counts. */
static void log_watch_change(struct haas_auth_state *st)
{
    bool now = haas_status_watch_any(st->watch);
    if (now != st->watch_logged) {
        st->watch_logged = now;
        mosquitto_log_printf(MOSQ_LOG_INFO, "haas_auth: per-device lifecycle messages %s (%zu subscriptions "
                             "of the service account may match them)",
                             now ? "published" : "no longer published", haas_status_watch_count(st->watch));
    }
}

/* What replay_one() needs: to whom, which filter, at which QoS. */
struct replay {
    const char *client_id;
    const char *filter;
    int qos;
    size_t sent;
};

/* haas_conn_each_status() visitor: one device's last event to the new
 * subscriber, if its topic matches the filter. */
static void replay_one(const struct haas_device_id *dev, const struct haas_status_event *ev, void *arg)
{
    struct replay *r = arg;
    char topic[HAAS_STATUS_TOPIC_MAX];
    char json[HAAS_STATUS_JSON_MAX];
    int tlen = haas_status_topic(topic, sizeof topic, dev);
    if (tlen < 0 || !haas_filter_within(topic, r->filter)) {
        return;
    }
    int jlen = format_status(dev, ev, tlen, json);
    if (jlen < 0 || mosquitto_broker_publish_copy(r->client_id, topic, jlen, json, r->qos, false, NULL) !=
                        MOSQ_ERR_SUCCESS) {
        return;
    }
    r->sent++;
}

/*
 * Service client `client` subscribes to `filter`, which can match lifecycle
 * topics: it is recorded (status_watch.h) and gets the last event of every
 * device the filter matches, in this broker's lifetime. The broker sends
 * what a plugin publishes after the pass it is in, so these come after the
 * SUBACK, and before any event that happens later (the broker keeps the
 * order of what the plugin publishes). They carry no retain flag: mosquitto
 * sends a message addressed to one client as a plain one.
 */
static void watch_subscribed(struct haas_auth_state *st, const struct mosquitto *client, const char *filter,
                             int qos)
{
    const char *id = mosquitto_client_id(client);
    if (id == NULL || !haas_status_watch_filter(filter)) {
        return;
    }
    haas_status_watch_subscribed(st->watch, id, filter);
    log_watch_change(st);
    if (haas_status_watch_shared(filter)) {
        return; /* a shared subscription gets no retained messages either */
    }
    struct replay r = {id, filter, qos > 1 ? 1 : qos, 0};
    size_t known = haas_conn_each_status(st->conns, replay_one, &r);
    mosquitto_log_printf(MOSQ_LOG_INFO, "haas_auth: %zu of %zu device statuses replayed to %.80s for %.100s",
                         r.sent, known, id, filter);
}

/* True when `username` names the configured service account. */
static bool is_service(const struct haas_auth_state *st, const char *username)
{
    return st->service_username != NULL && username != NULL &&
           strcmp(username, st->service_username) == 0;
}

/*
 * Refuses a CONNECT: logs why (broker log, notice level), tells haas-emu on
 * TOPIC_REFUSED (`dev` may be NULL), and returns MOSQ_ERR_AUTH.
 */
static int refuse(struct mosquitto *client, const struct haas_device_id *dev,
                  const char *code, const char *why)
{
    const char *id = mosquitto_client_id(client);
    const char *addr = mosquitto_client_address(client);
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "haas_auth: refusing client %.80s from %s: %s",
                         id ? id : "?", addr ? addr : "?", why);
    char json[HAAS_REFUSAL_JSON_MAX];
    int len = haas_refusal_json(json, sizeof(json), code, why, dev, id, addr, now_ms());
    if (len > 0) {
        mosquitto_broker_publish_copy(NULL, TOPIC_REFUSED, len, json, 1, false, NULL);
    }
    return MOSQ_ERR_AUTH;
}

/*
 * Drops the record of connection `client`, if any, publishing "offline"
 * when it was its device's last connection.
 */
static void forget_connection(struct haas_auth_state *st, const struct mosquitto *client)
{
    if (haas_conn_data(st->conns, client) != NULL) {
        st->auto_sub_conns--;
    }
    struct haas_device_id dev;
    size_t left = 1;
    if (haas_conn_remove(st->conns, client, &dev, &left) && left == 0) {
        publish_status(st, false, &dev, mosquitto_client_address(client));
    }
}

/*
 * Records that the service account was granted `filter`; the broker is ready
 * for devices once it holds every subscription of topic_server_subscriptions.
 * Until then, with plugin_opt_wait_for_service, device logins are refused:
 * after a broker restart devices would otherwise reconnect before haas-emu
 * does, and what they publish meanwhile (their app.result) would reach no
 * one, for good (the broker's memory, sessions included, died with it).
 */
static void note_service_subscription(struct haas_auth_state *st, const char *filter)
{
    unsigned all = 0;
    for (unsigned i = 0; topic_server_subscriptions[i] != NULL; i++) {
        all |= 1u << i;
        if (filter != NULL && strcmp(filter, topic_server_subscriptions[i]) == 0) {
            st->service_filters_seen |= 1u << i;
        }
    }
    if (!st->service_ready && st->service_filters_seen == all) {
        st->service_ready = true;
        mosquitto_log_printf(MOSQ_LOG_INFO, "haas_auth: the emulator listens: devices may log in");
    }
}

/*
 * Records an authenticated device connection (with its automatic
 * subscription state when `auto_subscribe`) and announces it online.
 */
static void admit(struct haas_auth_state *st, struct mosquitto *client, const char *client_id,
                  const struct haas_device_id *dev, bool auto_subscribe)
{
    /* A pointer still recorded means the broker reused a freed context. */
    forget_connection(st, client);
    struct haas_auto_sub *auto_sub = auto_subscribe ? haas_auto_sub_new(dev) : NULL;
    if (haas_conn_add(st->conns, client, client_id, dev, auto_sub) == 0) {
        haas_auto_sub_free(auto_sub);
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: out of memory tracking %s&%s",
                             dev->device_name, dev->product_key);
    } else if (auto_sub != NULL) {
        st->auto_sub_conns++;
    } else if (auto_subscribe) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: out of memory: %s&%s gets no automatic "
                             "subscription", dev->device_name, dev->product_key);
    }
    publish_status(st, true, dev, mosquitto_client_address(client));
}

/* Authenticates a device CONNECT; returns MOSQ_ERR_SUCCESS or MOSQ_ERR_AUTH. */
static int auth_device(struct haas_auth_state *st, struct mosquitto *client,
                       const char *username, const char *password)
{
    if (st->wait_for_service && !st->service_ready) {
        /* not announced: nobody listens yet; the device retries */
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "haas_auth: device %.80s waits: the emulator is not connected yet",
                             username ? username : "?");
        return MOSQ_ERR_AUTH;
    }
    struct haas_device_id dev;
    struct haas_client_id cid;
    if (!haas_parse_username(username, &dev)) {
        return refuse(client, NULL, "MalformedUsername", "malformed username (expected dn&pk)");
    }
    if (!haas_parse_client_id(mosquitto_client_id(client), &cid)) {
        return refuse(client, &dev, "MalformedClientId", "malformed clientId (expected id|k=v,...|)");
    }
    enum haas_sign_method method = cid.has_signmethod
                                       ? haas_sign_method_from_name(cid.signmethod)
                                       : HAAS_SIGN_DEFAULT;
    if (method == HAAS_SIGN_UNKNOWN) {
        return refuse(client, &dev, "UnknownSignMethod", "unknown signmethod");
    }
    if (password == NULL) {
        return refuse(client, &dev, "NoPassword", "no password");
    }
    char secret[HAAS_SECRET_MAX + 1];
    bool enabled = false;
    enum haas_db_result r = haas_device_db_lookup(st->db, dev.product_key, dev.device_name,
                                                  secret, sizeof(secret), &enabled, log_notice);
    if (r == HAAS_DB_NOT_FOUND) {
        return refuse(client, &dev, "UnknownDevice", "unknown device");
    }
    if (r != HAAS_DB_FOUND) {
        return refuse(client, &dev, "DatabaseUnavailable", "device database unavailable");
    }
    bool ok = haas_signer_verify(st->signer, method, secret, cid.id, dev.device_name, dev.product_key,
                                 cid.has_timestamp ? cid.timestamp : NULL, password);
    memset(secret, 0, sizeof(secret));
    if (!ok) {
        return refuse(client, &dev, "WrongPassword",
                      "wrong password (DeviceSecret, signmethod or clientId do not match)");
    }
    if (!enabled) {
        return refuse(client, &dev, "DeviceDisabled", "device disabled");
    }

    /* A client id held by another device's live connection is refused: the
     * broker would otherwise drop that device for this one (a takeover).
     * The same device may take its own session over, as on the cloud. */
    struct haas_device_id holder;
    const char *client_id = mosquitto_client_id(client);
    if (haas_conn_owner(st->conns, client_id, &holder) &&
        (strcmp(holder.product_key, dev.product_key) != 0 || strcmp(holder.device_name, dev.device_name) != 0)) {
        return refuse(client, &dev, "ClientIdInUse", "clientId in use by another device");
    }
    admit(st, client, client_id, &dev, cid.auto_subscribe);
    return MOSQ_ERR_SUCCESS;
}

/* MOSQ_EVT_BASIC_AUTH */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
    (void)event;
    struct mosquitto_evt_basic_auth *ed = event_data;
    struct haas_auth_state *st = userdata;
    if (ed == NULL || st == NULL || ed->client == NULL) {
        return MOSQ_ERR_AUTH;
    }
    if (ed->username == NULL) {
        return refuse(ed->client, NULL, "NoUsername", "no username");
    }
    if (is_service(st, ed->username)) {
        if (st->service_password != NULL &&
            haas_secure_streq(ed->password, st->service_password)) {
            haas_status_watch_login(st->watch, mosquitto_client_id(ed->client), ed->client,
                                    mosquitto_client_clean_session(ed->client));
            log_watch_change(st);
            return MOSQ_ERR_SUCCESS;
        }
        return refuse(ed->client, NULL, "WrongServicePassword", "wrong service account password");
    }
    return auth_device(st, ed->client, ed->username, ed->password);
}

/* MOSQ_EVT_ACL_CHECK */
static int on_acl_check(int event, void *event_data, void *userdata)
{
    (void)event;
    struct mosquitto_evt_acl_check *ed = event_data;
    struct haas_auth_state *st = userdata;
    if (ed == NULL || st == NULL || ed->client == NULL) {
        return MOSQ_ERR_ACL_DENIED;
    }
    const char *username = mosquitto_client_username(ed->client);
    if (is_service(st, username)) {
        if (ed->access == MOSQ_ACL_SUBSCRIBE) {
            note_service_subscription(st, ed->topic);
            watch_subscribed(st, ed->client, ed->topic, ed->qos);
        } else if (ed->access == MOSQ_ACL_UNSUBSCRIBE) {
            haas_status_watch_unsubscribed(st->watch, mosquitto_client_id(ed->client), ed->topic);
            log_watch_change(st);
        }
        return MOSQ_ERR_SUCCESS;
    }
    struct haas_device_id dev;
    if (!haas_parse_username(username, &dev)) {
        return MOSQ_ERR_ACL_DENIED;
    }
    /* Only a subscription or an unsubscription is recorded, so only they
     * look the connection up (haas_conn_data); publishes and deliveries,
     * most of the checks, do not (the look-up was 1.8% of the broker's
     * samples while it delivered 19,800 pushes). */
    struct haas_auto_sub *auto_sub;
    enum haas_acl_access want;
    switch (ed->access) {
    case MOSQ_ACL_SUBSCRIBE:
    case MOSQ_ACL_READ:
        want = HAAS_ACL_SUBSCRIBE;
        break;
    case MOSQ_ACL_WRITE:
        want = HAAS_ACL_PUBLISH;
        break;
    case MOSQ_ACL_UNSUBSCRIBE:
        auto_sub = haas_conn_data(st->conns, ed->client);
        if (auto_sub != NULL && !haas_auto_sub_unsubscribed(auto_sub, ed->topic)) {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: cannot record that %s&%s "
                                 "unsubscribed %.100s", dev.device_name, dev.product_key, ed->topic);
        }
        return MOSQ_ERR_SUCCESS;
    default:
        return MOSQ_ERR_ACL_DENIED;
    }
    if (!haas_acl_device_allows(dev.product_key, dev.device_name, ed->topic, want)) {
        return MOSQ_ERR_ACL_DENIED;
    }
    if (ed->access == MOSQ_ACL_SUBSCRIBE && (auto_sub = haas_conn_data(st->conns, ed->client)) != NULL) {
        /* Not recorded: the device may get a topic twice, never miss one. */
        (void)haas_auto_sub_subscribed(auto_sub, ed->topic);
    }
    return MOSQ_ERR_SUCCESS;
}

/* What deliver_auto() needs to know about the message being routed. */
struct auto_delivery {
    const struct mosquitto_evt_message *msg;
    const struct haas_device_id *dev; /* the device its topic addresses */
};

/* haas_conn_each() visitor: hands the message to one `_ss=1` connection. */
static void deliver_auto(const void *client, void *data, void *arg)
{
    const struct auto_delivery *d = arg;
    const struct mosquitto_evt_message *msg = d->msg;
    if (data == NULL || client == msg->client || !haas_auto_sub_delivers_to(data, d->dev, msg->topic)) {
        return;
    }
    const char *id = mosquitto_client_id(client);
    int qos = msg->qos > 1 ? 1 : msg->qos; /* the platform has no QoS 2 */
    int rc = id ? mosquitto_broker_publish_copy(id, msg->topic, (int)msg->payloadlen, msg->payload, qos,
                                                false, NULL)
                : MOSQ_ERR_INVAL;
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: cannot deliver %.100s to %.80s: %s",
                             msg->topic, id ? id : "?", mosquitto_strerror(rc));
    }
}

/*
 * A command of the service account on TOPIC_KICK_PREFIX{pk}/{dn}: the
 * emulator deleted or disabled that device, so its live connections go now
 * (they would keep their session, replies and subscriptions until they
 * reconnect otherwise); its next login is refused by the usual checks.
 */
static void kick(const char *topic)
{
    struct topic_parts t;
    if (topic_parse(topic, &t) != TOPIC_KICK) {
        return;
    }
    char username[HAAS_USERNAME_MAX + 1];
    snprintf(username, sizeof username, "%s&%s", t.device_name, t.product_key);
    int rc = mosquitto_kick_client_by_username(username, false);
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "haas_auth: disconnecting %s on the emulator's request (%s)", username,
                         rc == MOSQ_ERR_SUCCESS ? "done" : mosquitto_strerror(rc));
}

/*
 * MOSQ_EVT_MESSAGE: the service account's kick commands; no retained
 * messages from devices (the platform keeps none: a retained fake push on a
 * device's own topic would be replayed to it at every subscribe); automatic
 * subscription (auto_sub.h).
 */
static int on_message(int event, void *event_data, void *userdata)
{
    (void)event;
    struct mosquitto_evt_message *ed = event_data;
    struct haas_auth_state *st = userdata;
    if (ed == NULL || st == NULL || ed->topic == NULL) {
        return MOSQ_ERR_SUCCESS;
    }
    if (!is_service(st, mosquitto_client_username(ed->client))) {
        /* A device's own messages are uplinks: never retained, and never
         * auto-delivered (its thing/service/{id}_reply would otherwise match
         * thing/service/+ and reach its other connections). */
        ed->retain = false;
        return MOSQ_ERR_SUCCESS;
    }
    if (strncmp(ed->topic, TOPIC_KICK_PREFIX, strlen(TOPIC_KICK_PREFIX)) == 0) {
        kick(ed->topic);
        return MOSQ_ERR_SUCCESS;
    }
    if (st->auto_sub_conns == 0) {
        return MOSQ_ERR_SUCCESS;
    }
    struct haas_device_id dev;
    if (!haas_auto_sub_topic_device(ed->topic, &dev)) {
        return MOSQ_ERR_SUCCESS;
    }
    struct auto_delivery d = {ed, &dev};
    haas_conn_each(st->conns, &dev, deliver_auto, &d);
    return MOSQ_ERR_SUCCESS;
}

/* MOSQ_EVT_DISCONNECT: clean, keepalive timeout, socket error, takeover. */
static int on_disconnect(int event, void *event_data, void *userdata)
{
    (void)event;
    struct mosquitto_evt_disconnect *ed = event_data;
    struct haas_auth_state *st = userdata;
    if (ed == NULL || st == NULL || ed->client == NULL) {
        return MOSQ_ERR_SUCCESS;
    }
    forget_connection(st, ed->client);
    if (is_service(st, mosquitto_client_username(ed->client))) {
        /* MQTT 5's session expiry is not visible here: kept (status_watch.h) */
        bool session_ends = mosquitto_client_clean_session(ed->client) &&
                            mosquitto_client_protocol_version(ed->client) != 5;
        haas_status_watch_logout(st->watch, mosquitto_client_id(ed->client), ed->client, session_ends);
        log_watch_change(st);
    }
    return MOSQ_ERR_SUCCESS;
}

/* MOSQ_EVT_TICK: the broker's loop handled what one epoll_wait() gave it;
 * the lifecycle of that pass goes to haas-emu as one message, and the
 * pass's read transaction on the database ends (store_device_auth.h). */
static int on_tick(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)event_data;
    struct haas_auth_state *st = userdata;
    if (st != NULL) {
        send_statuses(st);
        haas_device_db_end_pass(st->db);
    }
    return MOSQ_ERR_SUCCESS;
}

/* Frees the state (NULL is fine). */
static void state_free(struct haas_auth_state *st)
{
    if (st == NULL) {
        return;
    }
    haas_status_batch_free(&st->statuses);
    haas_status_watch_free(st->watch);
    haas_device_db_free(st->db);
    haas_conn_table_free(st->conns);
    haas_signer_free(st->signer);
    if (st->service_password != NULL) {
        memset(st->service_password, 0, strlen(st->service_password));
    }
    free(st->service_password);
    free(st->service_username);
    free(st);
}

/* Reads plugin_opt_* into `st`; returns false (logged) on a bad configuration. */
static bool read_options(struct haas_auth_state *st, const struct mosquitto_opt *opts,
                         int count, const char **db_path)
{
    *db_path = NULL;
    for (int i = 0; i < count; i++) {
        const char *k = opts[i].key;
        const char *v = opts[i].value;
        if (k == NULL || v == NULL) {
            continue;
        }
        if (strcmp(k, "db_path") == 0) {
            *db_path = v;
        } else if (strcmp(k, "service_username") == 0) {
            free(st->service_username);
            st->service_username = strdup(v);
            if (st->service_username == NULL) {
                return false;
            }
        } else if (strcmp(k, "wait_for_service") == 0) {
            st->wait_for_service = strcmp(v, "true") == 0;
        } else if (strcmp(k, "service_password") == 0) {
            free(st->service_password);
            st->service_password = strdup(v);
            if (st->service_password == NULL) {
                return false;
            }
        } else {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "haas_auth: ignoring unknown option plugin_opt_%s", k);
        }
    }
    if (*db_path == NULL || (*db_path)[0] == '\0') {
        mosquitto_log_printf(MOSQ_LOG_ERR, "haas_auth: plugin_opt_db_path is required");
        return false;
    }
    if (st->service_username != NULL &&
        (st->service_username[0] == '\0' || st->service_password == NULL ||
         st->service_password[0] == '\0' ||
         strnlen(st->service_password, HAAS_PASSWORD_MAX + 1) > HAAS_PASSWORD_MAX)) {
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             "haas_auth: plugin_opt_service_username needs a non-empty "
                             "plugin_opt_service_password of at most %d bytes",
                             HAAS_PASSWORD_MAX);
        return false;
    }
    if (st->service_username == NULL) {
        mosquitto_log_printf(MOSQ_LOG_WARNING,
                             "haas_auth: no plugin_opt_service_username: only devices can connect");
    }
    return true;
}

/* Unregisters every callback (those never registered are ignored by mosquitto). */
static void unregister_all(mosquitto_plugin_id_t *identifier)
{
    mosquitto_callback_unregister(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    mosquitto_callback_unregister(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
    mosquitto_callback_unregister(identifier, MOSQ_EVT_MESSAGE, on_message, NULL);
    mosquitto_callback_unregister(identifier, MOSQ_EVT_TICK, on_tick, NULL);
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                          struct mosquitto_opt *options, int option_count)
{
    struct haas_auth_state *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return MOSQ_ERR_NOMEM;
    }
    st->identifier = identifier;
    const char *db_path = NULL;
    if (!read_options(st, options, option_count, &db_path)) {
        state_free(st);
        return MOSQ_ERR_INVAL;
    }
    st->db = haas_device_db_new(db_path);
    st->conns = haas_conn_table_new(haas_auto_sub_free);
    st->signer = haas_signer_new();
    st->watch = haas_status_watch_new();
    if (st->db == NULL || st->conns == NULL || st->signer == NULL || st->watch == NULL) {
        state_free(st);
        return MOSQ_ERR_NOMEM;
    }
    int rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, st);
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, st);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, st);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, st);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, st);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        unregister_all(identifier);
        state_free(st);
        return rc;
    }
    *userdata = st;
    mosquitto_log_printf(MOSQ_LOG_INFO, "haas_auth: devices from %s", db_path);
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
    (void)options;
    (void)option_count;
    struct haas_auth_state *st = userdata;
    if (st == NULL) {
        return MOSQ_ERR_SUCCESS;
    }
    unregister_all(st->identifier);
    state_free(st);
    return MOSQ_ERR_SUCCESS;
}
