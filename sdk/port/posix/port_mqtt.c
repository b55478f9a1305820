/*
 * port_mqtt.c - MQTT 3.1.1 of the POSIX port with libmosquitto, driven
 * without threads: the port waits on the socket itself with poll(2) (no
 * FD_SETSIZE limit, which a fleet of devices in one process can pass), then
 * lets libmosquitto read, write and ping. libmosquitto's callbacks only
 * record what happened; messages are queued and handed to the core from
 * mqtt_poll, outside libmosquitto, so the core may call back into the port
 * from its receive function.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mosquitto.h>

#include "port_internal.h"

#define MQTT_MAX_PAYLOAD 268435455u /* the largest MQTT remaining length */
#define MQTT_SLICE_MS 1000          /* keepalive is serviced at least this often */
#define MQTT_NO_MID (-1)

struct port_msg {
    struct port_msg *next;
    size_t len;
    char *topic; /* points into the same allocation, after the payload */
    uint8_t payload[];
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- SIGPIPE: libmosquitto writes with write(2) ---- */

struct pipe_guard {
    sigset_t old;
    int was_pending;
};

static void guard_begin(struct pipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void guard_end(struct pipe_guard *g)
{
    if (!g->was_pending) {
        sigset_t set, pending;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
            }
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- the queue of received messages ---- */

static void queue_clear(struct port_mqtt *m)
{
    while (m->head) {
        struct port_msg *msg = m->head;
        m->head = msg->next;
        free(msg);
    }
    m->tail = NULL;
    m->queued = m->queued_bytes = 0;
}

static struct port_msg *queue_pop(struct port_mqtt *m)
{
    struct port_msg *msg = m->head;
    if (msg) {
        m->head = msg->next;
        if (!m->head)
            m->tail = NULL;
        m->queued--;
        m->queued_bytes -= msg->len;
    }
    return msg;
}

/* ---- libmosquitto callbacks (they only record) ---- */

/* Records that the connection is gone, with the first reason given: a
 * MOSQ_ERR_* code (MOSQ_ERR_SUCCESS gives none), and errno for
 * MOSQ_ERR_ERRNO. */
static void mark_lost(struct port_mqtt *m, int rc)
{
    if (!m->fail_rc && rc != MOSQ_ERR_SUCCESS) {
        m->fail_rc = rc;
        m->fail_errno = errno;
    }
    m->lost = 1;
    m->connected = 0;
}

static void cb_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct haas_posix_port *p = obj;
    p->mqtt.got_connack = 1;
    p->mqtt.connack_rc = rc;
}

static void cb_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct haas_posix_port *p = obj;
    mark_lost(&p->mqtt, rc);
}

/* libmosquitto's own log, set over TLS only: its error lines are the
 * reason of a failed handshake (OpenSSL's error queue, "host name
 * verification failed"); they are kept for the connect's log line. */
static void cb_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
    (void)mosq;
    struct haas_posix_port *p = obj;
    if (!(level & MOSQ_LOG_ERR) || !str || !*str)
        return;
    char *why = p->mqtt.why;
    size_t used = strlen(why);
    if (used + 1 < sizeof p->mqtt.why)
        snprintf(why + used, sizeof p->mqtt.why - used, "%s%s", used ? "; " : "", str);
}

static void cb_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted_qos)
{
    (void)mosq;
    struct haas_posix_port *p = obj;
    if (mid == p->mqtt.wait_mid) {
        p->mqtt.wait_done = 1;
        p->mqtt.granted_qos = qos_count > 0 && granted_qos ? granted_qos[0] : 0x80;
    }
}

static void cb_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    struct haas_posix_port *p = obj;
    if (mid == p->mqtt.wait_mid)
        p->mqtt.wait_done = 1;
}

static void cb_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *in)
{
    (void)mosq;
    struct haas_posix_port *p = obj;
    struct port_mqtt *m = &p->mqtt;
    size_t len = in->payloadlen > 0 ? (size_t)in->payloadlen : 0;
    if (m->queued >= PORT_MQTT_QUEUE_MAX || m->queued_bytes + len > PORT_MQTT_QUEUE_BYTES) {
        if (!m->drop_warned)
            port_logf(p, HAAS_LOG_WARN, "mqtt: receive queue full, dropping messages (first: %s)", in->topic);
        m->drop_warned = 1;
        return;
    }
    size_t tlen = strlen(in->topic);
    struct port_msg *msg = malloc(sizeof *msg + len + tlen + 1);
    if (!msg)
        return;
    msg->next = NULL;
    msg->len = len;
    if (len)
        memcpy(msg->payload, in->payload, len);
    msg->topic = (char *)msg->payload + len;
    memcpy(msg->topic, in->topic, tlen + 1);
    if (m->tail)
        m->tail->next = msg;
    else
        m->head = msg;
    m->tail = msg;
    m->queued++;
    m->queued_bytes += len;
}

/* ---- running the connection ---- */

/*
 * Reads, writes and services keepalive once, after poll(2) said revents.
 * libmosquitto writes one byte to an internal socketpair for every packet
 * it queues, and only mosquitto_loop reads them back (one per call): left
 * alone, that pair fills up to its socket buffer (about 200 KiB of kernel
 * memory per device). So mosquitto_loop (with no wait) does the work when
 * it can; it cannot when a descriptor is past FD_SETSIZE (select), and then
 * the steps are done one by one and the pair is left to fill.
 */
static int process(struct port_mqtt *m, short revents)
{
    int rc = mosquitto_loop(m->mosq, 0, 1);
    if (rc != MOSQ_ERR_INVAL)
        return rc;
    rc = MOSQ_ERR_SUCCESS;
    if (revents & (POLLIN | POLLHUP | POLLERR))
        rc = mosquitto_loop_read(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT) && mosquitto_socket(m->mosq) >= 0)
        rc = mosquitto_loop_write(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) >= 0)
        rc = mosquitto_loop_misc(m->mosq);
    return rc;
}

/*
 * Over TLS, libmosquitto takes a failed TCP connect (or a reset) during the
 * handshake for "handshake still running" and would spin on it until the
 * deadline. So before the CONNACK, poll's POLLERR/POLLHUP ends the
 * connection here, with the socket's pending error as the reason. Returns
 * 1 when it did.
 */
static int tls_connect_broken(struct haas_posix_port *p, int fd, short revents)
{
    struct port_mqtt *m = &p->mqtt;
    if (!p->use_tls || m->got_connack || !(revents & (POLLERR | POLLHUP)))
        return 0;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
        errno = err;
        mark_lost(m, MOSQ_ERR_ERRNO);
    } else {
        mark_lost(m, MOSQ_ERR_CONN_LOST);
        snprintf(m->why, sizeof m->why, "refused or reset before the TLS handshake ended");
    }
    return 1;
}

/*
 * Runs the connection until *flag is non-zero (flag may be NULL), the
 * connection is lost, or deadline passes. With until_message, it stops
 * early once messages are queued and nothing more is readable at once.
 * Returns 0 (flag set, or messages queued), 1 (deadline) or
 * HAAS_PORT_ERR_NET (lost). Call inside a pipe_guard.
 */
static int run(struct haas_posix_port *p, const int *flag, uint64_t deadline, int until_message)
{
    struct port_mqtt *m = &p->mqtt;
    for (;;) {
        if (flag && *flag)
            return 0;
        if (m->lost || !m->mosq)
            return HAAS_PORT_ERR_NET;
        int fd = mosquitto_socket(m->mosq);
        if (fd < 0) {
            mark_lost(m, MOSQ_ERR_NO_CONN);
            return HAAS_PORT_ERR_NET;
        }
        uint64_t now = mono_ms();
        int draining = until_message && m->head;
        int expired = now >= deadline;
        int wait = draining || expired ? 0 : (int)(deadline - now < MQTT_SLICE_MS ? deadline - now : MQTT_SLICE_MS);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (mosquitto_want_write(m->mosq))
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, wait);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            mark_lost(m, MOSQ_ERR_ERRNO);
            port_logf(p, HAAS_LOG_ERROR, "mqtt: poll: %s", strerror(errno));
            return HAAS_PORT_ERR_NET;
        }
        if (n > 0 && tls_connect_broken(p, fd, pfd.revents))
            return HAAS_PORT_ERR_NET;
        int rc = process(m, n > 0 ? pfd.revents : 0);
        if (flag && *flag)
            return 0;
        if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(m->mosq) < 0) {
            mark_lost(m, rc != MOSQ_ERR_SUCCESS ? rc : MOSQ_ERR_CONN_LOST);
            return HAAS_PORT_ERR_NET;
        }
        if (draining) {
            if (n == 0 || m->queued >= PORT_MQTT_QUEUE_MAX / 2)
                return 0;
            continue;
        }
        if (expired)
            return 1;
    }
}

/* Maps a libmosquitto error of a call the core made. */
static int map_err(struct haas_posix_port *p, int rc, const char *what, const char *topic)
{
    switch (rc) {
    case MOSQ_ERR_SUCCESS:
        return HAAS_PORT_OK;
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_NOMEM:
    case MOSQ_ERR_MALFORMED_UTF8:
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_OVERSIZE_PACKET:
    case MOSQ_ERR_QOS_NOT_SUPPORTED:
    case MOSQ_ERR_NOT_SUPPORTED:
        port_logf(p, HAAS_LOG_WARN, "mqtt %s %s: %s", what, topic, mosquitto_strerror(rc));
        return HAAS_PORT_ERR;
    default:
        port_logf(p, HAAS_LOG_WARN, "mqtt %s %s: %s", what, topic, mosquitto_strerror(rc));
        mark_lost(&p->mqtt, rc);
        return HAAS_PORT_ERR_NET;
    }
}

/* Drops the connection (sending DISCONNECT when polite and possible). */
static void drop(struct haas_posix_port *p, int polite)
{
    struct port_mqtt *m = &p->mqtt;
    if (m->mosq) {
        if (polite && m->connected && !m->lost)
            mosquitto_disconnect(m->mosq);
        mosquitto_destroy(m->mosq);
    }
    m->mosq = NULL;
    m->connected = m->lost = m->got_connack = m->connack_rc = 0;
    m->wait_mid = MQTT_NO_MID;
    m->wait_done = 0;
    m->fail_rc = m->fail_errno = 0;
    m->why[0] = '\0';
}

/* Why the connection failed, for a log line: libmosquitto's text for the
 * recorded reason, then its error lines (the TLS details) in brackets. */
static const char *failure_text(const struct port_mqtt *m, char *buf, size_t cap)
{
    const char *what = m->fail_rc == MOSQ_ERR_ERRNO ? strerror(m->fail_errno)
                       : m->fail_rc               ? mosquitto_strerror(m->fail_rc)
                                                  : "connection lost";
    if (m->why[0])
        snprintf(buf, cap, "%s (%s)", what, m->why);
    else
        snprintf(buf, cap, "%s", what);
    return buf;
}

/* ---- the port functions ---- */

/* "host:port" for logs, with an IPv6 address in brackets. */
static const char *host_port(char *buf, size_t cap, const char *host, uint16_t port)
{
    snprintf(buf, cap, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    return buf;
}

/* Logs why the attempt at where (host_port) failed: the recorded reason,
 * and after a TLS error the CAs that were trusted. */
static void log_failure(struct haas_posix_port *p, const char *where)
{
    const struct port_mqtt *m = &p->mqtt;
    char why[PORT_MQTT_WHY_MAX + 64];
    if (m->fail_rc == MOSQ_ERR_TLS)
        port_logf(p, HAAS_LOG_WARN, "mqtt: %s: TLS handshake failed (trusting the CAs of %s): %s", where,
                  p->ca_file ? p->ca_file : PORT_SYSTEM_CA_PATH, failure_text(m, why, sizeof why));
    else
        port_logf(p, HAAS_LOG_WARN, "mqtt: %s: connection failed: %s", where, failure_text(m, why, sizeof why));
}

/* What one mqtt_connect asks for, whatever address it is tried at. */
struct connect_req {
    uint16_t port;
    const char *client_id, *username, *password;
    int keepalive;
    uint64_t deadline;
};

/* Makes the new client speak TLS: the CA file (or the system's store),
 * host name verification on, and libmosquitto's error lines kept. */
static int setup_tls(struct haas_posix_port *p)
{
    struct port_mqtt *m = &p->mqtt;
    const char *capath = p->ca_file ? NULL : PORT_SYSTEM_CA_PATH;
    int rc = mosquitto_tls_set(m->mosq, p->ca_file, capath, NULL, NULL, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_insecure_set(m->mosq, false);
    if (rc != MOSQ_ERR_SUCCESS) {
        port_logf(p, HAAS_LOG_ERROR, "mqtt: TLS with CA %s: %s", p->ca_file ? p->ca_file : capath,
                  rc == MOSQ_ERR_INVAL ? "cannot read the file" : mosquitto_strerror(rc));
        return HAAS_PORT_ERR;
    }
    mosquitto_log_callback_set(m->mosq, cb_log);
    return HAAS_PORT_OK;
}

/* Creates the client of one attempt (callbacks, options, TLS,
 * credentials): 0 or HAAS_PORT_ERR (logged). */
static int new_client(struct haas_posix_port *p, const struct connect_req *r)
{
    struct port_mqtt *m = &p->mqtt;
    m->mosq = mosquitto_new(r->client_id && *r->client_id ? r->client_id : NULL, true, p);
    if (!m->mosq) {
        port_logf(p, HAAS_LOG_ERROR, "mqtt: cannot create a client (%s)",
                  errno == EINVAL ? "bad client id" : strerror(errno));
        return HAAS_PORT_ERR;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m->mosq, cb_connect);
    mosquitto_disconnect_callback_set(m->mosq, cb_disconnect);
    mosquitto_subscribe_callback_set(m->mosq, cb_subscribe);
    mosquitto_publish_callback_set(m->mosq, cb_publish);
    mosquitto_message_callback_set(m->mosq, cb_message);
    if (p->use_tls && setup_tls(p) != HAAS_PORT_OK)
        return HAAS_PORT_ERR;
    if (r->username) {
        int rc = mosquitto_username_pw_set(m->mosq, r->username, r->password);
        if (rc != MOSQ_ERR_SUCCESS) {
            port_logf(p, HAAS_LOG_ERROR, "mqtt: bad username: %s", mosquitto_strerror(rc));
            return HAAS_PORT_ERR;
        }
    }
    return HAAS_PORT_OK;
}

/* One attempt at one address (numeric, or over TLS the host name itself):
 * 0, HAAS_PORT_ERR (refused, or a bad setting) or HAAS_PORT_ERR_NET
 * (unreachable, handshake failed, lost, or no CONNACK by the deadline). */
static int connect_one(struct haas_posix_port *p, const char *addr, const struct connect_req *r)
{
    struct port_mqtt *m = &p->mqtt;
    char where[NI_MAXHOST + 16];
    host_port(where, sizeof where, addr, r->port);
    drop(p, 0);
    if (new_client(p, r) != HAAS_PORT_OK) {
        drop(p, 0);
        return HAAS_PORT_ERR;
    }
    int rc = mosquitto_connect_async(m->mosq, addr, r->port, r->keepalive);
    if (rc != MOSQ_ERR_SUCCESS) {
        mark_lost(m, rc);
        log_failure(p, where);
        drop(p, 0);
        return rc == MOSQ_ERR_INVAL ? HAAS_PORT_ERR : HAAS_PORT_ERR_NET;
    }
    run(p, &m->got_connack, r->deadline, 0);
    if (m->got_connack && m->connack_rc != 0) {
        port_logf(p, HAAS_LOG_WARN, "mqtt: %s refused the connection: %s", where,
                  mosquitto_connack_string(m->connack_rc));
        drop(p, 0);
        return HAAS_PORT_ERR;
    }
    if (!m->got_connack || m->lost) {
        if (m->lost)
            log_failure(p, where);
        else
            port_logf(p, HAAS_LOG_WARN, "mqtt: %s: no CONNACK in time", where);
        drop(p, 0);
        return HAAS_PORT_ERR_NET;
    }
    m->connected = 1;
    return HAAS_PORT_OK;
}

/* Tries every address of host in turn (libmosquitto's non-blocking connect
 * tries only the first that does not fail at once), all within the one
 * deadline. */
static int connect_each_address(struct haas_posix_port *p, const char *host, const struct connect_req *r)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0) {
        port_logf(p, HAAS_LOG_WARN, "mqtt: cannot resolve %s: %s", host, gai_strerror(gai));
        return HAAS_PORT_ERR_NET;
    }
    int result = HAAS_PORT_ERR_NET;
    for (struct addrinfo *a = ai; a && mono_ms() < r->deadline; a = a->ai_next) {
        char addr[NI_MAXHOST];
        if (getnameinfo(a->ai_addr, a->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST) != 0)
            continue;
        result = connect_one(p, addr, r);
        if (result != HAAS_PORT_ERR_NET)
            break;
    }
    freeaddrinfo(ai);
    return result;
}

static int m_connect(void *ctx, const char *host, uint16_t port, const char *client_id, const char *username,
                     const char *password, uint16_t keepalive_s)
{
    struct haas_posix_port *p = ctx;
    struct pipe_guard g;
    guard_begin(&g);
    drop(p, 1);
    queue_clear(&p->mqtt);
    p->mqtt.drop_warned = 0;
    guard_end(&g);
    if (!host || !*host)
        return HAAS_PORT_ERR;
    struct connect_req r = {
        .port = port, .client_id = client_id, .username = username, .password = password,
        .keepalive = keepalive_s > 0 && keepalive_s < 5 ? 5 : keepalive_s,
        .deadline = mono_ms() + PORT_MQTT_WAIT_MS,
    };
    guard_begin(&g);
    /* Over TLS libmosquitto gets host itself, so that the certificate is
     * checked against the name asked for, not against a resolved address. */
    int result = p->use_tls ? connect_one(p, host, &r) : connect_each_address(p, host, &r);
    guard_end(&g);
    char where[NI_MAXHOST + 16];
    if (result == HAAS_PORT_OK)
        port_logf(p, HAAS_LOG_INFO, "mqtt: connected to %s%s", host_port(where, sizeof where, host, port),
                  p->use_tls ? " over TLS" : "");
    return result;
}

static int usable(struct port_mqtt *m)
{
    return m->mosq && m->connected && !m->lost;
}

static int m_subscribe(void *ctx, const char *topic, int qos)
{
    struct haas_posix_port *p = ctx;
    struct port_mqtt *m = &p->mqtt;
    if (!topic || qos < 0 || qos > 1)
        return HAAS_PORT_ERR;
    if (!usable(m))
        return HAAS_PORT_ERR_NET;
    struct pipe_guard g;
    guard_begin(&g);
    int mid = 0;
    int rc = map_err(p, mosquitto_subscribe(m->mosq, &mid, topic, qos), "subscribe", topic);
    if (rc == HAAS_PORT_OK) {
        m->wait_mid = mid;
        m->wait_done = 0;
        int r = run(p, &m->wait_done, mono_ms() + PORT_MQTT_WAIT_MS, 0);
        if (!m->wait_done) {
            port_logf(p, HAAS_LOG_WARN, "mqtt subscribe %s: %s", topic, r == 1 ? "no SUBACK in time" : "connection lost");
            rc = HAAS_PORT_ERR_NET;
        } else if (m->granted_qos < 0 || m->granted_qos > 2) {
            port_logf(p, HAAS_LOG_WARN, "mqtt subscribe %s: refused by the broker", topic);
            rc = HAAS_PORT_ERR;
        }
        m->wait_mid = MQTT_NO_MID;
    }
    guard_end(&g);
    return rc;
}

static int m_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos)
{
    struct haas_posix_port *p = ctx;
    struct port_mqtt *m = &p->mqtt;
    if (!topic || (!payload && len) || qos < 0 || qos > 1 || len > MQTT_MAX_PAYLOAD)
        return HAAS_PORT_ERR;
    if (!usable(m))
        return HAAS_PORT_ERR_NET;
    struct pipe_guard g;
    guard_begin(&g);
    int mid = 0;
    int rc = map_err(p, mosquitto_publish(m->mosq, &mid, topic, (int)len, payload, qos, false), "publish", topic);
    if (rc == HAAS_PORT_OK && qos == 0)
        run(p, NULL, 0, 0); /* one pass: flushes, and reads back the socketpair byte */
    if (rc == HAAS_PORT_OK && qos == 1) {
        m->wait_mid = mid;
        m->wait_done = 0;
        int r = run(p, &m->wait_done, mono_ms() + PORT_MQTT_WAIT_MS, 0);
        if (!m->wait_done) {
            port_logf(p, HAAS_LOG_WARN, "mqtt publish %s: %s", topic, r == 1 ? "no PUBACK in time" : "connection lost");
            rc = HAAS_PORT_ERR_NET;
        }
        m->wait_mid = MQTT_NO_MID;
    }
    guard_end(&g);
    return rc;
}

static int m_poll(void *ctx, uint32_t timeout_ms, haas_mqtt_receive_fn receive, void *core)
{
    struct haas_posix_port *p = ctx;
    struct port_mqtt *m = &p->mqtt;
    int rc = HAAS_PORT_ERR_NET;
    if (usable(m)) {
        struct pipe_guard g;
        guard_begin(&g);
        rc = run(p, NULL, mono_ms() + timeout_ms, 1) == HAAS_PORT_ERR_NET ? HAAS_PORT_ERR_NET : HAAS_PORT_OK;
        guard_end(&g);
        if (rc == HAAS_PORT_ERR_NET)
            port_logf(p, HAAS_LOG_WARN, "mqtt: connection lost");
    }
    /* Deliver outside libmosquitto, one message at a time: the receive
     * function may publish, or even disconnect (which empties the queue). */
    struct port_msg *msg;
    while ((msg = queue_pop(m)) != NULL) {
        if (receive)
            receive(core, msg->topic, msg->payload, msg->len);
        free(msg);
    }
    return rc;
}

static void m_disconnect(void *ctx)
{
    struct haas_posix_port *p = ctx;
    struct pipe_guard g;
    guard_begin(&g);
    drop(p, 1);
    guard_end(&g);
    queue_clear(&p->mqtt);
}

void port_mqtt_cleanup(struct haas_posix_port *p)
{
    m_disconnect(p);
}

void port_mqtt_fill(haas_port *out)
{
    out->mqtt_connect = m_connect;
    out->mqtt_subscribe = m_subscribe;
    out->mqtt_publish = m_publish;
    out->mqtt_poll = m_poll;
    out->mqtt_disconnect = m_disconnect;
}

int haas_posix_port_mqtt_socket(haas_posix_port *p)
{
    return p && p->mqtt.mosq && p->mqtt.connected ? mosquitto_socket(p->mqtt.mosq) : -1;
}

int haas_posix_port_mqtt_pending(haas_posix_port *p)
{
    return p && p->mqtt.head != NULL;
}
