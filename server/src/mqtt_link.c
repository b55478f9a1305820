/*
 * mqtt_link.c - the service account's MQTT connection (see mqtt_link.h).
 *
 * One thread owns the socket: it connects, reads, writes, sends keepalives
 * and reconnects. Other threads hand it messages to publish through a queue
 * and wake it through an eventfd once per batch. A push to thousands of
 * devices is thus written by one thread in one go, instead of one
 * cross-thread wake-up per message.
 *
 * The MQTT itself is mqtt_packet.c's, over plain buffers: the thread reads
 * whatever has arrived in one recv() and handles every whole packet in it,
 * and writes everything it has to send (replies, PUBACKs, pushes) in one
 * send(). That is the reason this is not libmosquitto, which reads each
 * packet in three or four system calls and writes each with one more, plus
 * a wake-up byte of its own: at 1,000 devices upgrading, 52 reads and 24
 * writes per device, 11 of those writes failing with EAGAIN; and in a push
 * to 19,800 devices the link used about twice the CPU it uses now.
 *
 * Wake-ups cost as much as the I/O: the thread sleeps 2 ms between the
 * reads of a batch rather than being woken by each packet, lets PUBACKs
 * gather for 1 ms, and is woken once per batch of publishes
 * (mqtt_link_hold).
 *
 * Delivery, as libmosquitto's was: QoS 1 messages stay in a table by packet
 * id until their PUBACK and are sent again (DUP) after a reconnect; QoS 1
 * messages received are acknowledged when the batch that handled them has
 * committed (end_batch), so that none is acknowledged and then lost.
 * Packet ids 1 and 2 are the two SUBSCRIBEs'; publishing uses the rest.
 */
#include "mqtt_link.h"
#include "clock.h"
#include "mqtt_packet.h"
#include "topics.h"
#include "log.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEEPALIVE_S 30
#define CONNECT_TIMEOUT_MS 5000
/* Read this much at a time; a packet that does not fit grows the buffer,
 * up to IN_MAX (the broker's limit for a message is 256 KiB). */
#define IN_CHUNK 65536
#define IN_MAX (16u << 20)
/* Queued messages are written into the send buffer while it holds less
 * than this: a push to 100,000 devices waits in the queue, not as 30 MB
 * of encoded packets. */
#define OUT_HIGH (256u << 10)
/* The SUBSCRIBEs' and the UNSUBSCRIBE's packet ids (publishing never uses
 * them). */
#define SUBSCRIBE_ID_QOS1 1
#define SUBSCRIBE_ID_LIFECYCLE 2
#define UNSUBSCRIBE_ID_LIFECYCLE 3
#define FIRST_PUBLISH_ID 4
/* After a read of acknowledgements only, the link waits this long for more
 * (unless it has something to publish). */
#define ACK_GATHER_MS 1

/* A message waiting for the link thread, or for its PUBACK. */
typedef struct outgoing {
    struct outgoing *next;
    int qos;
    uint64_t ticket; /* mqtt_link_publish_acked's number for it, 0 for none */
    size_t len;
    char *topic;
    char payload[]; /* topic follows the payload */
} outgoing;

/* ---- shared with the other threads ---- */

static mqtt_link_handlers handlers;
static char host[256];
static int port;
static char client_id[128], username[128], password[128];
static atomic_bool started, connected, stopping;
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

bool mqtt_link_connected(void) { return atomic_load(&connected); }
long mqtt_link_connects(void) { return atomic_load(&connects); }

/* ---- the link thread's own ---- */

static int sock = -1;
static bool session_up; /* CONNACK accepted on this socket */
static unsigned char *in_buf, *out_buf;
static size_t in_len, in_cap;
static size_t out_len, out_sent, out_cap;
static int64_t last_out_ms, ping_sent_ms; /* ping_sent_ms 0: no PINGREQ awaits its answer */
static int64_t connect_sent_ms;
/* Messages taken off the queue and not yet written (in queue order). */
static outgoing *pending_head, **pending_tail = &pending_head;
/* QoS 1 messages written and not yet acknowledged, by packet id. */
static outgoing *unacked[65536];
static int unacked_n;
static uint16_t next_id = FIRST_PUBLISH_ID;
/* Is a batch open? It opens with the first message of a read, not with the
 * read itself: acknowledgements of our own pushes must not wait for the
 * database lock a push in progress holds. */
static int in_batch;
static long messages_read; /* PUBLISH packets received, for the pause after acks */
/* Packet ids of the open batch's QoS 1 messages. They are acknowledged
 * once the batch has committed (end_batch): should haas-emu stop before
 * that, they are still in our session at the broker, which sends them
 * again when the link is back. */
static uint16_t *acks_due;
static size_t acks_due_n, acks_due_cap;

/* ---- the send buffer ---- */

/* Takes n more bytes just written at out_buf + out_len, when they fitted
 * (n is what a mqtt_write_* returned). */
static bool out_took(size_t n)
{
    if (n == 0 || n > out_cap - out_len)
        return false;
    out_len += n;
    return true;
}

/* Makes room for n more bytes (after out_took refused them); false when it
 * cannot (n is 0: the packet cannot be written at all, or no memory). */
static bool out_grow(size_t n)
{
    if (n == 0)
        return false;
    if (out_sent > 0) { /* drop what was sent first */
        memmove(out_buf, out_buf + out_sent, out_len - out_sent);
        out_len -= out_sent;
        out_sent = 0;
        if (n <= out_cap - out_len)
            return true;
    }
    size_t cap = out_cap;
    while (cap - out_len < n)
        cap *= 2;
    unsigned char *b = realloc(out_buf, cap);
    if (!b)
        return false;
    out_buf = b;
    out_cap = cap;
    return true;
}

/* Appends one packet: WRITER(out, cap, ARGS...) from mqtt_packet.h. */
#define OUT_APPEND(ok, writer, ...)                                                                                    \
    do {                                                                                                               \
        size_t need_;                                                                                                  \
        while (!((ok) = out_took(need_ = writer(out_buf + out_len, out_cap - out_len, ##__VA_ARGS__))))              \
            if (!out_grow(need_))                                                                                      \
                break;                                                                                                 \
    } while (0)

static size_t out_waiting(void) { return out_len - out_sent; }

/* Writes what the buffer holds, as far as the socket takes it. Returns 0,
 * or -1 when the connection is gone. */
static int flush_out(void)
{
    while (out_sent < out_len) {
        ssize_t n = send(sock, out_buf + out_sent, out_len - out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        out_sent += (size_t)n;
        last_out_ms = clock_monotonic_ms();
    }
    out_len = out_sent = 0;
    return 0;
}

/* ---- publishing ---- */

/* Moves what other threads queued to the pending list. */
static void take_queue(void)
{
    pthread_mutex_lock(&queue_lock);
    outgoing *list = queue_head;
    queue_head = NULL;
    queue_tail = &queue_head;
    pthread_mutex_unlock(&queue_lock);
    if (list) {
        *pending_tail = list;
        while (*pending_tail)
            pending_tail = &(*pending_tail)->next;
    }
}

/* The packet id after id, in the circle publishing takes them from. */
static uint16_t id_after(uint16_t id) { return id == 65535 ? FIRST_PUBLISH_ID : (uint16_t)(id + 1); }

/* A free packet id for a QoS 1 message, or 0 when all are in flight. */
static uint16_t take_packet_id(void)
{
    if (unacked_n >= 65536 - FIRST_PUBLISH_ID)
        return 0;
    while (unacked[next_id])
        next_id = id_after(next_id);
    uint16_t id = next_id;
    next_id = id_after(next_id);
    return id;
}

static void free_list(outgoing *o)
{
    while (o) {
        outgoing *next = o->next;
        free(o);
        o = next;
    }
}

/* Writes pending messages into the send buffer while it has room (and,
 * for QoS 1, while packet ids are free); only on an accepted session. */
static void write_pending(void)
{
    while (session_up && pending_head && out_waiting() < OUT_HIGH) {
        outgoing *o = pending_head;
        uint16_t id = o->qos > 0 ? take_packet_id() : 0;
        if (o->qos > 0 && id == 0)
            return; /* 65,533 in flight: wait for PUBACKs */
        pending_head = o->next;
        if (!pending_head)
            pending_tail = &pending_head;
        bool ok;
        OUT_APPEND(ok, mqtt_write_publish, o->topic, o->payload, o->len, o->qos, id, false);
        if (!ok) {
            log_msg(LOG_WARN, "cannot publish on %.80s (%zu bytes)", o->topic, o->len);
            free(o);
        } else if (o->qos > 0) {
            o->next = NULL;
            unacked[id] = o;
            unacked_n++;
        } else {
            free(o);
        }
    }
}

/* After a reconnect: every QoS 1 message not acknowledged goes again, the
 * oldest first (ids are taken in a circle from next_id). */
static void resend_unacked(void)
{
    uint16_t id = next_id;
    for (int i = 0; i < 65536 - FIRST_PUBLISH_ID && unacked_n > 0; i++) {
        outgoing *o = unacked[id];
        if (o) {
            bool ok;
            OUT_APPEND(ok, mqtt_write_publish, o->topic, o->payload, o->len, 1, id, true);
            if (!ok) {
                log_msg(LOG_WARN, "cannot publish again on %.80s", o->topic);
                unacked[id] = NULL;
                unacked_n--;
                free(o);
            }
        }
        id = id_after(id);
    }
}

/* A PUBACK: the message is done; if it carried a ticket, its waiters (and
 * those of every earlier ticket) may go on. */
static void on_puback(uint16_t id)
{
    outgoing *o = unacked[id];
    if (!o)
        return; /* a duplicate answer to a message sent twice */
    unacked[id] = NULL;
    unacked_n--;
    if (o->ticket) {
        pthread_mutex_lock(&ack_lock);
        if (o->ticket > acked)
            acked = o->ticket;
        pthread_cond_broadcast(&ack_cond);
        pthread_mutex_unlock(&ack_lock);
    }
    free(o);
}

/* ---- receiving ---- */

/* The lifecycle's SUBSCRIBE: the gathered topic (topic_server_subscriptions'
 * first) and each device's own, unsubscribed right after (the plugin
 * replays every device's last status at that subscription). */
static const char *const lifecycle_filters[] = {TOPIC_STATUSES, TOPIC_LIFECYCLE_FILTER};

/* The filters of the link's SUBSCRIBE with packet id `id`, and how many. */
static const char *const *subscribe_filters(uint16_t id, int *count)
{
    if (id == SUBSCRIBE_ID_LIFECYCLE) {
        *count = 2;
        return lifecycle_filters;
    }
    int n = 0;
    while (topic_server_subscriptions[n])
        n++;
    *count = n - 1; /* the QoS 1 ones: all but the first */
    return topic_server_subscriptions + 1;
}

/* The CONNACK: on success, subscribe (again) and send what is unanswered.
 * Returns 0, or -1 to drop the connection. */
static int on_connack(const mqtt_packet *p)
{
    int session_present, rc;
    if (session_up || mqtt_packet_parse_connack(p, &session_present, &rc) < 0)
        return -1;
    if (rc != 0) {
        log_msg(LOG_ERROR, "broker refused haas-emu's service account: %s", mqtt_connack_text(rc));
        return -1;
    }
    session_up = true;
    if (!session_present && handlers.on_session_lost)
        handlers.on_session_lost();
    /* What haas-emu listens to (topics.h): device lifecycle and refused
     * logins (both from the broker plugin), event posts (results, queries,
     * properties) and device info.
     *
     * The lifecycle at QoS 0, the rest at QoS 1. The plugin sends the
     * lifecycle gathered, one message per pass of the broker's loop
     * (TOPIC_STATUSES), and keeps each device's last lifecycle event; when
     * a service client subscribes to the devices' own topics
     * (TOPIC_LIFECYCLE_FILTER) it replays those to it, one message each,
     * and it publishes on those topics only while someone is subscribed
     * (docs/protocol.md section 5). So the link subscribes to both in one
     * SUBSCRIBE and unsubscribes from the second right after it. What
     * happened before that SUBSCRIBE arrives replayed; what happens after,
     * in the gathered messages. A lifecycle message missed while the link
     * was down (QoS 0 is not queued for an absent session) is thus made up
     * at the next connect, and a login costs no message of its own to
     * haas-emu. QoS 1 would add a PUBACK each way and buy nothing more.
     * Results and other events are not retained: they stay QoS 1, queued
     * in the session while the link is down.
     *
     * The QoS 1 filters go first, and the link counts as connected at their
     * SUBACK: the broker sends what the plugin replays after the SUBACKs,
     * so the lifecycle's come once the link may publish again, and what
     * their handlers send (a firmware notice for a device that came online
     * meanwhile, a kick) goes out. */
    int n1, n2;
    const char *const *qos1 = subscribe_filters(SUBSCRIBE_ID_QOS1, &n1);
    const char *const *lifecycle = subscribe_filters(SUBSCRIBE_ID_LIFECYCLE, &n2);
    bool ok1, ok2, ok3;
    OUT_APPEND(ok1, mqtt_write_subscribe, SUBSCRIBE_ID_QOS1, qos1, n1, 1);
    OUT_APPEND(ok2, mqtt_write_subscribe, SUBSCRIBE_ID_LIFECYCLE, lifecycle, n2, 0);
    OUT_APPEND(ok3, mqtt_write_unsubscribe, UNSUBSCRIBE_ID_LIFECYCLE, lifecycle + 1, 1);
    if (!ok1 || !ok2 || !ok3) {
        log_msg(LOG_ERROR, "cannot subscribe: out of memory");
        return -1;
    }
    resend_unacked();
    log_msg(LOG_INFO, "MQTT link connected%s", session_present ? " (session resumed)" : "");
    return 0;
}

/* The SUBACKs. After the QoS 1 filters' the link is ready (/healthz says
 * "connected", publishing is allowed); after the lifecycle's too, the
 * broker lets devices in (the plugin's wait_for_service). */
static int on_suback(const mqtt_packet *p)
{
    uint16_t id;
    unsigned char granted[16];
    int n;
    if (mqtt_packet_parse_suback(p, &id, granted, (int)sizeof granted, &n) < 0 ||
        (id != SUBSCRIBE_ID_QOS1 && id != SUBSCRIBE_ID_LIFECYCLE))
        return -1;
    int count;
    const char *const *filters = subscribe_filters(id, &count);
    for (int i = 0; i < n && i < count; i++)
        if (granted[i] > 1)
            log_msg(LOG_ERROR, "the broker refused the subscription to %s", filters[i]);
    if (id == SUBSCRIBE_ID_QOS1) {
        atomic_store(&connected, true);
        atomic_fetch_add(&connects, 1);
    }
    return 0;
}

/* Acknowledges QoS 1 message id: at the end of the open batch, or now
 * without one. Returns 0, or -1 out of memory. */
static int acknowledge(uint16_t id)
{
    if (!in_batch) {
        bool ok;
        OUT_APPEND(ok, mqtt_write_puback, id);
        return ok ? 0 : -1;
    }
    if (acks_due_n == acks_due_cap) {
        size_t cap = acks_due_cap ? acks_due_cap * 2 : 256;
        uint16_t *grown = realloc(acks_due, cap * sizeof *grown);
        if (!grown)
            return -1;
        acks_due = grown, acks_due_cap = cap;
    }
    acks_due[acks_due_n++] = id;
    return 0;
}

/* A message for us. Its topic is made a C string where it lies: moved two
 * bytes back over its length, which leaves the payload after it as it is. */
static int on_publish(const mqtt_packet *p)
{
    mqtt_publish m;
    if (!session_up || mqtt_packet_parse_publish(p, &m) < 0 || m.qos > 1)
        return -1; /* we subscribe at QoS 1 at most: 2 is the broker's error */
    char *topic = (char *)in_buf + ((const unsigned char *)m.topic - in_buf) - 2;
    memmove(topic, topic + 2, m.topic_len);
    topic[m.topic_len] = '\0';
    messages_read++;
    if (!in_batch && handlers.on_batch_begin) {
        handlers.on_batch_begin();
        in_batch = 1;
    }
    if (handlers.on_message)
        handlers.on_message(topic, m.payload, (int)m.payload_len);
    return m.qos == 1 ? acknowledge(m.packet_id) : 0;
}

/* One packet from the broker. Returns 0, or -1 to drop the connection. */
static int handle_packet(const mqtt_packet *p)
{
    uint16_t id;
    switch (p->type) {
    case MQTT_CONNACK:
        return on_connack(p);
    case MQTT_SUBACK:
        return on_suback(p);
    case MQTT_PUBLISH:
        return on_publish(p);
    case MQTT_PUBACK:
        if (mqtt_packet_parse_id(p, &id) < 0)
            return -1;
        on_puback(id);
        return 0;
    case MQTT_UNSUBACK: /* of the devices' own lifecycle topics */
        return mqtt_packet_parse_id(p, &id) < 0 || id != UNSUBSCRIBE_ID_LIFECYCLE ? -1 : 0;
    case MQTT_PINGRESP:
        ping_sent_ms = 0;
        return 0;
    default:
        log_msg(LOG_WARN, "MQTT link: unexpected packet of type %d from the broker", (int)p->type);
        return -1;
    }
}

/* Reads what waits on the socket (up to 64 reads) and handles every whole
 * packet. Returns 0, or -1 when the connection is gone or broken. */
static int read_ready(void)
{
    for (int reads = 0; reads < 64; reads++) {
        if (in_cap - in_len < IN_CHUNK / 4) { /* a packet bigger than the buffer: grow it */
            if (in_cap >= IN_MAX) {
                log_msg(LOG_WARN, "MQTT link: a packet from the broker is over %u bytes", IN_MAX);
                return -1;
            }
            unsigned char *b = realloc(in_buf, in_cap * 2);
            if (!b)
                return -1;
            in_buf = b;
            in_cap *= 2;
        }
        ssize_t n = recv(sock, in_buf + in_len, in_cap - in_len, 0);
        if (n == 0)
            return -1; /* the broker closed it */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        size_t asked = in_cap - in_len;
        in_len += (size_t)n;
        size_t at = 0;
        mqtt_packet p;
        int found;
        while ((found = mqtt_packet_next(in_buf + at, in_len - at, &p)) == 1) {
            if (handle_packet(&p) < 0)
                return -1;
            at += p.total;
        }
        if (found < 0)
            return -1;
        memmove(in_buf, in_buf + at, in_len - at);
        in_len -= at;
        if ((size_t)n < asked)
            return 0; /* all there was */
    }
    return 0;
}

/* Has something come to the socket after GATHER_US of sleep? The link
 * sleeps rather than waits for the socket: woken by each packet that came,
 * it took a context switch a few packets. */
#define GATHER_US 2000
static bool more_after_gathering(void)
{
    struct timespec ts = {0, GATHER_US * 1000L};
    nanosleep(&ts, NULL);
    struct pollfd next = {sock, POLLIN, 0};
    return poll(&next, 1, 0) > 0;
}

/* Publishes what is queued: into the send buffer and out, and once more
 * when the socket took it all (write_pending stops at OUT_HIGH). Returns
 * 0, or -1 when the connection is gone. */
static int publish_queued(void)
{
    take_queue();
    write_pending();
    int rc = flush_out();
    if (rc == 0 && !out_waiting()) {
        write_pending();
        rc = flush_out();
    }
    return rc;
}

/*
 * One batch (one transaction, db_batch_begin) for the messages that wait
 * and for those that come in the GATHER_US after them, again and again,
 * for at most BATCH_MAX_MS: a fleet's messages arrive a few at a time, and
 * a commit costs far more than the handling of one message. A commit
 * writes every page the batch changed, and a fleet's devices are spread
 * over all of a table's and its indexes' pages: at 1,000 devices about
 * 0.5 ms of CPU each, whether it holds 10 messages or 100. Batches of at
 * most 10 ms (0.5 ms gathering) cost the link 0.25-0.26 s a 1,000-device
 * upgrade; of at most 40 ms (2 ms gathering) 0.16-0.18 s, and the
 * upgrade took 5% less time (bench_fleet.py, alternating runs). The
 * replies the handlers queued go out meanwhile, so a device waits for none
 * of it; what waits is the commit, and with it the lock. Whoever else
 * needs the database (an API write, a push's next chunk) ends the batch at
 * once (batch_wanted_elsewhere), so a long batch never holds them up for
 * more than a gathering. Without messages (PUBACKs of our pushes only) no
 * batch opens and nothing waits.
 */
#define BATCH_MAX_MS 40

static bool wanted_elsewhere(void) { return handlers.batch_wanted_elsewhere && handlers.batch_wanted_elsewhere(); }

/* Should the batch take in more? Not when someone else waits for the
 * database (asked again after the gathering's sleep), nor when nothing
 * came in GATHER_US. */
static bool batch_goes_on(void)
{
    return !wanted_elsewhere() && more_after_gathering() && !wanted_elsewhere();
}

/* Ends the open batch: its commit, then the PUBACKs of its messages
 * (none when the connection is gone: the broker sends them again). */
static int end_batch(int rc)
{
    handlers.on_batch_end();
    in_batch = 0;
    for (size_t i = 0; rc == 0 && i < acks_due_n; i++) {
        bool ok;
        OUT_APPEND(ok, mqtt_write_puback, acks_due[i]);
        rc = ok ? 0 : -1;
    }
    acks_due_n = 0;
    return rc;
}

static int read_batch(void)
{
    int64_t start = clock_monotonic_ms();
    int rc = read_ready();
    while (rc == 0 && in_batch && clock_monotonic_ms() - start < BATCH_MAX_MS) {
        rc = publish_queued(); /* the replies the handlers queued */
        if (rc < 0 || !batch_goes_on())
            break;
        rc = read_ready();
    }
    return in_batch ? end_batch(rc) : rc;
}

/* ---- connecting ---- */

/* Waits up to ms for the wake-up descriptor (or until we stop). */
static void pause_ms(int ms)
{
    struct pollfd p = {wake_fd, POLLIN, 0};
    poll(&p, 1, ms);
}

/* Opens a TCP connection to host:port (non-blocking, TCP_NODELAY: we write
 * whole batches ourselves). Returns the socket, or -1 with errno's text in
 * why. */
static int open_socket(char *why, size_t whylen)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(why, whylen, "%s", gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        int err = 0;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            err = errno;
            if (err == EINPROGRESS) {
                struct pollfd w = {fd, POLLOUT, 0};
                socklen_t elen = sizeof err;
                if (poll(&w, 1, CONNECT_TIMEOUT_MS) <= 0)
                    err = ETIMEDOUT;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                    err = errno;
            }
        }
        if (err) {
            snprintf(why, whylen, "%s", strerror(err));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* Connects and sends CONNECT. Returns 0, or -1 (logged). */
static int connect_broker(void)
{
    char why[128] = "";
    sock = open_socket(why, sizeof why);
    if (sock < 0) {
        log_msg(LOG_DEBUG, "MQTT link: connect to %s:%d failed (%s)", host, port, why);
        return -1;
    }
    in_len = out_len = out_sent = 0;
    session_up = false;
    ping_sent_ms = 0;
    bool ok;
    OUT_APPEND(ok, mqtt_write_connect, client_id, false, KEEPALIVE_S, username, password);
    connect_sent_ms = last_out_ms = clock_monotonic_ms();
    if (!ok || flush_out() < 0) {
        close(sock);
        sock = -1;
        return -1;
    }
    return 0;
}

/* Closes the connection: lost (the next turn reconnects) or at the stop. */
static void drop_connection(bool lost)
{
    if (atomic_exchange(&connected, false))
        log_msg(lost ? LOG_WARN : LOG_INFO, "MQTT link disconnected%s", lost ? "; reconnecting" : "");
    close(sock);
    sock = -1;
    session_up = false;
}

/* Keepalive: a PINGREQ when we have sent nothing for KEEPALIVE_S, and the
 * connection counts as lost when its answer (or the CONNACK) takes as long.
 * Returns 0, or -1 when lost. */
static int keep_alive(void)
{
    int64_t now = clock_monotonic_ms();
    if (!session_up)
        return now - connect_sent_ms >= KEEPALIVE_S * 1000 ? -1 : 0;
    if (ping_sent_ms)
        return now - ping_sent_ms >= KEEPALIVE_S * 1000 ? -1 : 0;
    if (now - last_out_ms >= KEEPALIVE_S * 1000) {
        bool ok;
        OUT_APPEND(ok, mqtt_write_pingreq);
        if (!ok)
            return -1;
        ping_sent_ms = now;
    }
    return 0;
}

/* One turn on a connection: waits (at most 1 s) for the broker or the
 * queue, reads, publishes, keeps alive. Returns 0, or -1 when the
 * connection is lost. */
static int serve_turn(void)
{
    struct pollfd fds[2] = {
        {sock, (short)(POLLIN | (out_waiting() ? POLLOUT : 0)), 0},
        {wake_fd, POLLIN, 0},
    };
    if (poll(fds, 2, 1000) < 0 && errno != EINTR)
        return -1;
    if (fds[1].revents & POLLIN) {
        uint64_t count;
        (void)!read(wake_fd, &count, sizeof count);
    }
    int rc = 0;
    bool acks_only = false;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        long before = messages_read;
        rc = read_batch();
        acks_only = messages_read == before;
    }
    if (rc == 0)
        rc = publish_queued();
    if (rc == 0)
        rc = keep_alive();
    if (rc == 0 && acks_only && !pending_head) {
        /* Only PUBACKs of our pushes came: let more gather before the next
         * read (a push's 19,800 PUBACKs woke this thread thousands of
         * times, a context switch each). Anything to publish ends the
         * pause at once. */
        pause_ms(ACK_GATHER_MS);
    }
    return rc;
}

/* Stopping: what is queued goes out, then a DISCONNECT (for at most a
 * second; the broker keeps our session). */
static void say_goodbye(void)
{
    take_queue();
    write_pending();
    bool ok;
    OUT_APPEND(ok, mqtt_write_disconnect);
    int64_t deadline = clock_monotonic_ms() + 1000;
    while (ok && out_waiting() && clock_monotonic_ms() < deadline && flush_out() == 0) {
        struct pollfd w = {sock, POLLOUT, 0};
        poll(&w, 1, 100);
    }
    drop_connection(false);
}

static void *run(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "mqtt-link"); /* as top, perf and the benchmarks show it */
    int backoff_ms = 1000;
    while (!atomic_load(&stopping)) {
        if (sock < 0) {
            if (connect_broker() == 0) {
                backoff_ms = 1000;
            } else {
                pause_ms(backoff_ms);
                backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
                continue;
            }
        }
        if (serve_turn() < 0) {
            drop_connection(true);
            pause_ms(backoff_ms);
        }
    }
    if (sock >= 0)
        say_goodbye();
    return NULL;
}

int mqtt_link_start(const char *h, int p, const char *id, const char *user, const char *pass,
                    const mqtt_link_handlers *hs, char *err, size_t errlen)
{
    handlers = *hs;
    snprintf(host, sizeof host, "%s", h);
    port = p;
    if (snprintf(client_id, sizeof client_id, "%s", id) >= (int)sizeof client_id ||
        snprintf(username, sizeof username, "%s", user) >= (int)sizeof username ||
        snprintf(password, sizeof password, "%s", pass) >= (int)sizeof password) {
        snprintf(err, errlen, "the MQTT client id, user name or password is too long");
        return -1;
    }
    in_cap = out_cap = IN_CHUNK;
    in_buf = malloc(in_cap);
    out_buf = malloc(out_cap);
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!in_buf || !out_buf || wake_fd < 0) {
        snprintf(err, errlen, "cannot create the MQTT client");
        return -1;
    }
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        snprintf(err, errlen, "cannot start the MQTT thread");
        return -1;
    }
    atomic_store(&started, true);
    return 0;
}

/* This thread's holds (mqtt_link_hold), and whether it queued a message
 * into an empty queue meanwhile: then the link thread is owed a wake-up. */
static _Thread_local int holds;
static _Thread_local bool wake_owed;

static void wake_link(void)
{
    uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
}

void mqtt_link_hold(void) { holds++; }

void mqtt_link_release(void)
{
    if (holds > 0 && --holds == 0 && wake_owed) {
        wake_owed = false;
        wake_link();
    }
}

/* Queues a message for the link thread; with ticketed, gives it the next
 * ticket. Returns the ticket (0 when not ticketed), or -1. The link thread
 * is woken when the message is the first in the queue (the others found
 * it woken), unless this thread holds (mqtt_link_hold) or is the link
 * thread itself, which looks at the queue before it waits again. */
static int64_t enqueue(const char *topic, const void *payload, size_t len, int qos, bool ticketed)
{
    if (!atomic_load(&started) || !atomic_load(&connected))
        return -1;
    size_t tlen = strlen(topic) + 1;
    outgoing *o = malloc(sizeof *o + len + tlen);
    if (!o)
        return -1;
    o->next = NULL;
    o->qos = qos > 0 ? 1 : 0;
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
    if (!was_empty || pthread_equal(pthread_self(), thread))
        return ticket;
    if (holds > 0)
        wake_owed = true;
    else
        wake_link();
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
    if (wake_owed) { /* held: the link must see it now, we wait for it */
        wake_owed = false;
        wake_link();
    }
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
    if (!atomic_load(&started))
        return;
    atomic_store(&stopping, true);
    wake_link();
    pthread_join(thread, NULL);
    atomic_store(&started, false);
    close(wake_fd);
    wake_fd = -1;
    free_list(queue_head);
    queue_head = NULL;
    queue_tail = &queue_head;
    free_list(pending_head);
    pending_head = NULL;
    pending_tail = &pending_head;
    for (int id = 0; id < 65536; id++) {
        free(unacked[id]);
        unacked[id] = NULL;
    }
    unacked_n = 0;
    free(in_buf);
    free(out_buf);
    free(acks_due);
    in_buf = out_buf = NULL;
    acks_due = NULL;
    acks_due_n = acks_due_cap = 0;
}
