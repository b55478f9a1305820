/*
 * mqtt_link.c - the service account's MQTT connection (see mqtt_link.h).
 *
 * One thread owns the libmosquitto client and is the only one that calls
 * into it: it polls the socket and an eventfd, reads and writes packets,
 * sends keepalives and reconnects. Other threads hand messages to publish
 * over through a queue and wake it through the eventfd once per batch. A
 * push to thousands of devices is thus written by one thread in one go,
 * instead of one cross-thread wake-up per message (libmosquitto's own
 * threaded mode), which costs more than the publishing itself.
 */
#include "mqtt_link.h"
#include "topics.h"
#include "log.h"

#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>


/* A message waiting for the link thread. */
typedef struct outgoing {
    struct outgoing *next;
    int qos;
    uint64_t ticket; /* mqtt_link_publish_acked's number for it, 0 for none */
    size_t len;
    char *topic;
    char payload[]; /* topic follows the payload */
} outgoing;

static struct mosquitto *mosq;
static mqtt_link_handlers handlers;
static char host[256];
static int port;
static atomic_bool connected, stopping;
static atomic_long connects;
static pthread_t thread;
static int wake_fd = -1;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static outgoing *queue_head, **queue_tail = &queue_head;

/* Acknowledged publishing (mqtt_link_publish_acked): tickets count up in
 * queue order (under queue_lock); the broker answers a connection's QoS 1
 * messages in order, so its PUBACK of a ticket's message means every
 * earlier message was handled too. acked is the highest ticket answered. */
static uint64_t next_ticket;
static pthread_mutex_t ack_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ack_cond = PTHREAD_COND_INITIALIZER;
static uint64_t acked;

/* The message ids of ticketed messages awaiting their PUBACK (link thread
 * only); when full, the oldest is forgotten (its waiter times out). */
#define AWAITED_MAX 64
static struct {
    int mid;
    uint64_t ticket;
} awaited[AWAITED_MAX];
static int awaited_n;

bool mqtt_link_connected(void) { return atomic_load(&connected); }
long mqtt_link_connects(void) { return atomic_load(&connects); }

/* The message id of on_connect's SUBSCRIBE of the QoS 1 filters (link
 * thread only). */
static int ready_subscribe_mid;

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
    /* What haas-emu listens to (topics.h): device lifecycle and refused
     * logins (both from the broker plugin), event posts (results, queries,
     * properties) and device info.
     *
     * The lifecycle at QoS 0, the rest at QoS 1. Lifecycle messages are
     * retained, one per device, and every SUBSCRIBE (here, at each connect)
     * has the broker send them all again: so a lifecycle message missed
     * while the link was down (QoS 0 is not queued for an absent session)
     * arrives anyway as the device's latest state, which is all haas-emu
     * keeps of it. QoS 1 would add a PUBACK per login on both sides (about
     * a fifth of haas-emu's CPU in a login storm) and buy nothing more.
     * Results and other events are not retained: they stay QoS 1, queued in
     * the session while the link is down.
     *
     * The QoS 1 filters go first, and the link counts as connected at their
     * SUBACK: the broker sends a SUBSCRIBE's retained messages after its
     * SUBACK, so the lifecycle's come once the link may publish again, and
     * what their handlers send (a firmware notice for a device that came
     * online meanwhile, a kick) goes out. */
    int n = 0;
    while (topic_server_subscriptions[n])
        n++;
    int src = mosquitto_subscribe_multiple(m, &ready_subscribe_mid, n - 1,
                                           (char *const *)topic_server_subscriptions + 1, 1, 0, NULL);
    if (src == MOSQ_ERR_SUCCESS)
        src = mosquitto_subscribe(m, NULL, topic_server_subscriptions[0], 0);
    if (src != MOSQ_ERR_SUCCESS)
        log_msg(LOG_ERROR, "cannot subscribe: %s", mosquitto_strerror(src));
    log_msg(LOG_INFO, "MQTT link connected%s", session_present ? " (session resumed)" : "");
}

/* The SUBACKs. After the QoS 1 filters' the link is ready (/healthz says
 * "connected", publishing is allowed); after the lifecycle's too, the
 * broker lets devices in (the plugin's wait_for_service). */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted)
{
    (void)m, (void)obj;
    int first = mid == ready_subscribe_mid ? 1 : 0; /* that SUBSCRIBE began at the second filter */
    for (int i = 0; i < count; i++)
        if (granted[i] > 1)
            log_msg(LOG_ERROR, "the broker refused the subscription to %s", topic_server_subscriptions[first + i]);
    if (mid != ready_subscribe_mid)
        return;
    atomic_store(&connected, true);
    atomic_fetch_add(&connects, 1);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m, (void)obj;
    if (atomic_exchange(&connected, false))
        log_msg(rc ? LOG_WARN : LOG_INFO, "MQTT link disconnected%s", rc ? "; reconnecting" : "");
}

/* Is a batch open? It opens with the first message of a read, not with the
 * read itself: acknowledgements of our own pushes must not wait for the
 * database lock a push in progress holds. */
static int in_batch;

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m, (void)obj;
    if (!in_batch && handlers.on_batch_begin) {
        handlers.on_batch_begin();
        in_batch = 1;
    }
    if (handlers.on_message && msg->topic)
        handlers.on_message(msg->topic, msg->payload, msg->payloadlen);
}

/* Remembers that ticket went out as message mid (link thread only). */
static void await_ack(int mid, uint64_t ticket)
{
    if (awaited_n == AWAITED_MAX) {
        memmove(&awaited[0], &awaited[1], (AWAITED_MAX - 1) * sizeof awaited[0]);
        awaited_n--;
    }
    awaited[awaited_n].mid = mid;
    awaited[awaited_n].ticket = ticket;
    awaited_n++;
}

/* A QoS 1 message was acknowledged: if it carried a ticket, its waiters
 * (and those of every earlier ticket) may go on. */
static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m, (void)obj;
    for (int i = 0; i < awaited_n; i++) {
        if (awaited[i].mid != mid)
            continue;
        pthread_mutex_lock(&ack_lock);
        if (awaited[i].ticket > acked)
            acked = awaited[i].ticket;
        pthread_cond_broadcast(&ack_cond);
        pthread_mutex_unlock(&ack_lock);
        awaited[i] = awaited[--awaited_n];
        return;
    }
}

/* Publishes everything queued (link thread only). */
static void drain_queue(void)
{
    pthread_mutex_lock(&queue_lock);
    outgoing *list = queue_head;
    queue_head = NULL;
    queue_tail = &queue_head;
    pthread_mutex_unlock(&queue_lock);
    while (list) {
        outgoing *o = list;
        list = o->next;
        int mid = 0;
        int rc = mosquitto_publish(mosq, &mid, o->topic, (int)o->len, o->payload, o->qos, false);
        if (rc != MOSQ_ERR_SUCCESS)
            log_msg(LOG_WARN, "publish on %s failed: %s", o->topic, mosquitto_strerror(rc));
        else if (o->ticket)
            await_ack(mid, o->ticket);
        free(o);
    }
}

/* Waits up to ms for the wake-up descriptor (or until we stop). */
static void pause_ms(int ms)
{
    struct pollfd p = {wake_fd, POLLIN, 0};
    poll(&p, 1, ms);
}

/* Milliseconds on CLOCK_MONOTONIC. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what waits on the socket, up to 512 packets (libmosquitto reads a
 * packet or so per call); returns libmosquitto's code. */
static int read_ready(void)
{
    int rc = MOSQ_ERR_SUCCESS;
    for (int i = 0; i < 512 && rc == MOSQ_ERR_SUCCESS; i++) {
        rc = mosquitto_loop_read(mosq, 1);
        struct pollfd more = {mosquitto_socket(mosq), POLLIN, 0};
        if (rc != MOSQ_ERR_SUCCESS || more.fd < 0 || poll(&more, 1, 0) <= 0)
            break;
    }
    return rc;
}

/* Does the socket become readable within ms? */
static bool readable_within(int ms)
{
    struct pollfd next = {mosquitto_socket(mosq), POLLIN, 0};
    return next.fd >= 0 && poll(&next, 1, ms) > 0;
}

/*
 * One batch (one transaction, db_batch_begin) for the messages that wait
 * and for those that follow within BATCH_QUIET_MS of each other, for at
 * most BATCH_MAX_MS: a fleet's messages arrive a few at a time, and a
 * commit for each few cost as much as handling them. The replies the
 * handlers queued go out meanwhile. Without messages (PUBACKs of our
 * pushes only) no batch opens and nothing waits.
 */
#define BATCH_QUIET_MS 1
#define BATCH_MAX_MS 10

static int read_batch(void)
{
    int64_t start = now_ms();
    int rc = read_ready();
    while (rc == MOSQ_ERR_SUCCESS && in_batch && now_ms() - start < BATCH_MAX_MS) {
        drain_queue();
        if (mosquitto_want_write(mosq))
            rc = mosquitto_loop_write(mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS || !readable_within(BATCH_QUIET_MS))
            break;
        rc = read_ready();
    }
    return rc;
}

static void *run(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "mqtt-link"); /* as top, perf and the benchmarks show it */
    int have_socket = 0, backoff_ms = 1000;
    while (!atomic_load(&stopping)) {
        if (!have_socket) {
            int rc = mosquitto_connect(mosq, host, port, 30);
            if (rc == MOSQ_ERR_SUCCESS) {
                have_socket = 1;
                backoff_ms = 1000;
            } else {
                log_msg(LOG_DEBUG, "MQTT link: connect to %s:%d failed (%s)", host, port,
                        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
                pause_ms(backoff_ms);
                backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
                /* Messages queued while disconnected are dropped: the API
                 * refuses to queue then, so this holds only stragglers. */
                continue;
            }
        }
        struct pollfd fds[2] = {
            {mosquitto_socket(mosq), (short)(POLLIN | (mosquitto_want_write(mosq) ? POLLOUT : 0)), 0},
            {wake_fd, POLLIN, 0},
        };
        if (poll(fds, 2, 1000) < 0 && errno != EINTR)
            break;
        if (fds[1].revents & POLLIN) {
            uint64_t count;
            (void)!read(wake_fd, &count, sizeof count);
            drain_queue();
        }
        int rc = MOSQ_ERR_SUCCESS;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            rc = read_batch();
            if (in_batch) {
                handlers.on_batch_end();
                in_batch = 0;
            }
        }
        if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(mosq))
            rc = mosquitto_loop_write(mosq, 1);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_loop_misc(mosq);
        if (rc != MOSQ_ERR_SUCCESS) {
            /* Lost: libmosquitto has called on_disconnect; start over. */
            atomic_store(&connected, false);
            mosquitto_disconnect(mosq);
            have_socket = 0;
            pause_ms(backoff_ms);
        }
    }
    if (have_socket) {
        drain_queue();
        mosquitto_disconnect(mosq);
        mosquitto_loop_write(mosq, 1);
    }
    return NULL;
}

int mqtt_link_start(const char *h, int p, const char *client_id, const char *username, const char *password,
                    const mqtt_link_handlers *hs, char *err, size_t errlen)
{
    handlers = *hs;
    snprintf(host, sizeof host, "%s", h);
    port = p;
    mosquitto_lib_init();
    mosq = mosquitto_new(client_id, false, NULL);
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!mosq || wake_fd < 0) {
        snprintf(err, errlen, "cannot create the MQTT client");
        return -1;
    }
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_username_pw_set(mosq, username, password);
    mosquitto_connect_with_flags_callback_set(mosq, on_connect);
    mosquitto_disconnect_callback_set(mosq, on_disconnect);
    mosquitto_message_callback_set(mosq, on_message);
    mosquitto_subscribe_callback_set(mosq, on_subscribe);
    mosquitto_publish_callback_set(mosq, on_publish);
    /* A bounded window: libmosquitto 2.0 walks its in-flight list on every
     * publish and acknowledgement, so "unlimited" turns a push to 10,000
     * devices quadratic; beyond the window messages wait in its queue. */
    mosquitto_max_inflight_messages_set(mosq, 1000);
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        snprintf(err, errlen, "cannot start the MQTT thread");
        return -1;
    }
    return 0;
}

/* Queues a message for the link thread; with ticketed, gives it the next
 * ticket. Returns the ticket (0 when not ticketed), or -1. */
static int64_t enqueue(const char *topic, const void *payload, size_t len, int qos, bool ticketed)
{
    if (!mosq || !atomic_load(&connected))
        return -1;
    size_t tlen = strlen(topic) + 1;
    outgoing *o = malloc(sizeof *o + len + tlen);
    if (!o)
        return -1;
    o->next = NULL;
    o->qos = qos;
    o->ticket = 0;
    o->len = len;
    memcpy(o->payload, payload, len);
    o->topic = o->payload + len;
    memcpy(o->topic, topic, tlen);
    pthread_mutex_lock(&queue_lock);
    if (ticketed)
        o->ticket = ++next_ticket;
    int64_t ticket = (int64_t)o->ticket;
    int was_empty = queue_head == NULL;
    *queue_tail = o;
    queue_tail = &o->next;
    pthread_mutex_unlock(&queue_lock);
    if (was_empty) {
        uint64_t one = 1;
        (void)!write(wake_fd, &one, sizeof one);
    }
    return ticket;
}

int mqtt_link_publish(const char *topic, const void *payload, size_t len, int qos)
{
    return enqueue(topic, payload, len, qos, false) < 0 ? -1 : 0;
}

int mqtt_link_publish_acked(const char *topic, const void *payload, size_t len, int timeout_ms)
{
    int64_t ticket = enqueue(topic, payload, len, 1, true);
    if (ticket < 0)
        return -1;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&ack_lock);
    while (acked < (uint64_t)ticket && rc == 0)
        rc = pthread_cond_timedwait(&ack_cond, &ack_lock, &deadline);
    bool done = acked >= (uint64_t)ticket;
    pthread_mutex_unlock(&ack_lock);
    return done ? 0 : -1;
}

void mqtt_link_stop(void)
{
    if (!mosq)
        return;
    atomic_store(&stopping, true);
    uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
    pthread_join(thread, NULL);
    mosquitto_destroy(mosq);
    mosq = NULL;
    close(wake_fd);
    wake_fd = -1;
    while (queue_head) {
        outgoing *o = queue_head;
        queue_head = o->next;
        free(o);
    }
    queue_tail = &queue_head;
    mosquitto_lib_cleanup();
}
