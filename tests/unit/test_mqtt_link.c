/*
 * test_mqtt_link.c - the link (server/src/mqtt_link.c) against a broker
 * played by this test over real TCP on loopback, one scripted exchange at
 * a time, for what a real mosquitto does not do on demand: the connection
 * dropped while a QoS 1 message awaits its PUBACK (it must come again, DUP
 * set, same packet id), a refused CONNACK, bytes that are not MQTT, a
 * session the broker lost. The flows a real broker drives (pushes,
 * results, restarts) are the integration tests' (test_mqtt_flow.py,
 * test_broker_restart.py, test_linksdk.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mqtt_link.h"
#include "mqtt_packet.h"
#include "topics.h"

/* ---- the played broker ---- */

static int listener = -1, port;

static void listen_loopback(void)
{
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(listener >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(listener, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(listener, 4), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(listener, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
}

/* The link's next connection (within 10 s: its back-off is 1 s to 5 s). */
static int accept_link(void)
{
    struct pollfd p = {listener, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    int fd = accept(listener, NULL, NULL);
    assert_true(fd >= 0);
    /* as haas-emu's broker (set_tcp_nodelay): a message is not held back
     * until the link has acknowledged the previous one */
    int one = 1;
    assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    return fd;
}

/* What the broker has read of a connection and not yet handed out. */
static unsigned char in[65536];
static size_t in_len;

/* The next packet from the link (within 5 s), copied to *p's buffer. */
static unsigned char packet_buf[65536];
static void next_packet(int fd, mqtt_packet *p)
{
    for (;;) {
        if (mqtt_packet_next(in, in_len, p) == 1) {
            memcpy(packet_buf, in, p->total);
            p->body = packet_buf + (p->body - in);
            memmove(in, in + p->total, in_len - p->total);
            in_len -= p->total;
            return;
        }
        struct pollfd r = {fd, POLLIN, 0};
        assert_int_equal(poll(&r, 1, 5000), 1);
        ssize_t n = recv(fd, in + in_len, sizeof in - in_len, 0);
        assert_true(n > 0);
        in_len += (size_t)n;
    }
}

/* Does the link close the connection within 5 s (sending nothing more)? */
static int closed_by_link(int fd)
{
    struct pollfd r = {fd, POLLIN, 0};
    if (poll(&r, 1, 5000) != 1)
        return 0;
    char b[256];
    return recv(fd, b, sizeof b, 0) == 0;
}

static void send_bytes(int fd, const void *b, size_t n) { assert_int_equal(send(fd, b, n, MSG_NOSIGNAL), (ssize_t)n); }

static void send_connack(int fd, int session_present, int rc)
{
    unsigned char b[] = {0x20, 0x02, (unsigned char)session_present, (unsigned char)rc};
    send_bytes(fd, b, sizeof b);
}

/* CONNECT, then (when accepted) the two SUBSCRIBEs, answered. */
static void handshake(int fd, int session_present)
{
    mqtt_packet p;
    in_len = 0;
    next_packet(fd, &p);
    assert_int_equal(p.type, MQTT_CONNECT);
    /* client id "link-test", clean session off, user "svc", password "pw" */
    assert_int_equal(p.body[7], 0xC0);
    assert_memory_equal(p.body + 12, "link-test", 9);
    send_connack(fd, session_present, 0);
    for (int i = 0; i < 2; i++) {
        next_packet(fd, &p);
        assert_int_equal(p.type, MQTT_SUBSCRIBE);
        assert_int_equal(p.flags, 2);
        unsigned char ack[] = {0x90, 0x03, p.body[0], p.body[1], 0x01};
        send_bytes(fd, ack, sizeof ack);
    }
    /* the second: the gathered lifecycle and the retained one, at QoS 0 */
    static const char lifecycle[] = "\x00\x11" TOPIC_STATUSES "\x00\x00\x13" TOPIC_LIFECYCLE_FILTER "\x00";
    assert_int_equal(p.body_len, 2 + sizeof lifecycle - 1);
    assert_memory_equal(p.body + 2, lifecycle, sizeof lifecycle - 1);
    /* then the retained one's UNSUBSCRIBE, at once */
    next_packet(fd, &p);
    assert_int_equal(p.type, MQTT_UNSUBSCRIBE);
    assert_int_equal(p.flags, 2);
    assert_int_equal(p.body_len, 2 + 2 + strlen(TOPIC_LIFECYCLE_FILTER));
    assert_memory_equal(p.body + 4, TOPIC_LIFECYCLE_FILTER, strlen(TOPIC_LIFECYCLE_FILTER));
    unsigned char unsuback[] = {0xB0, 0x02, p.body[0], p.body[1]};
    send_bytes(fd, unsuback, sizeof unsuback);
}

/* ---- what the link hands to haas-emu ---- */

static char got_topic[256], got_payload[256];
/* read or set by the test while the link thread runs */
static atomic_int got_messages, sessions_lost, batches_open, batches_begun;
static atomic_bool db_wanted; /* what batch_wanted_elsewhere says */

static void on_message(const char *topic, const void *payload, int len)
{
    snprintf(got_topic, sizeof got_topic, "%s", topic);
    snprintf(got_payload, sizeof got_payload, "%.*s", len, (const char *)payload);
    got_messages++;
}
static void on_session_lost(void) { sessions_lost++; }
static void on_batch_begin(void)
{
    batches_open++;
    batches_begun++;
}
static void on_batch_end(void) { batches_open--; }
static bool batch_wanted_elsewhere(void) { return db_wanted; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls cond every 5 ms for up to 5 s. */
#define AWAIT(cond)                                                                                                    \
    do {                                                                                                               \
        int64_t deadline_ = now_ms() + 5000;                                                                           \
        while (!(cond) && now_ms() < deadline_) {                                                                      \
            struct timespec ts_ = {0, 5000000};                                                                        \
            nanosleep(&ts_, NULL);                                                                                     \
        }                                                                                                              \
        assert_true(cond);                                                                                             \
    } while (0)

static void test_link_against_a_played_broker(void **state)
{
    (void)state;
    listen_loopback();
    static const mqtt_link_handlers handlers = {on_message, on_session_lost, on_batch_begin, on_batch_end,
                                                batch_wanted_elsewhere};
    char err[128];
    assert_int_equal(mqtt_link_start("127.0.0.1", port, "link-test", "svc", "pw", &handlers, err, sizeof err), 0);
    assert_int_equal(mqtt_link_publish("t", "x", 1, 0), -1); /* not connected yet: refused */

    /* 1. A refused login: the link closes and tries again. */
    int fd = accept_link();
    mqtt_packet p;
    next_packet(fd, &p);
    assert_int_equal(p.type, MQTT_CONNECT);
    send_connack(fd, 0, 5);
    assert_true(closed_by_link(fd));
    close(fd);
    assert_false(mqtt_link_connected());

    /* 2. Accepted, no session: on_session_lost, then connected at the
     * SUBACK of the QoS 1 filters. */
    fd = accept_link();
    handshake(fd, 0);
    AWAIT(mqtt_link_connected());
    assert_int_equal(sessions_lost, 1);
    assert_int_equal(mqtt_link_connects(), 1);

    /* 3. A QoS 1 message from the broker: handed over with its topic as a
     * C string, in a batch that is closed again, and acknowledged. */
    unsigned char msg[64];
    size_t n = mqtt_write_publish(msg, sizeof msg, "/sys/pk/dn/thing/event/x/post", "{\"id\":\"1\"}", 10, 1, 4242,
                                  false);
    send_bytes(fd, msg, n);
    next_packet(fd, &p);
    uint16_t id = 0;
    assert_int_equal(p.type, MQTT_PUBACK);
    assert_int_equal(batches_open, 0); /* acknowledged after its batch committed */
    assert_int_equal(mqtt_packet_parse_id(&p, &id), 0);
    assert_int_equal(id, 4242);
    assert_int_equal(got_messages, 1);
    assert_string_equal(got_topic, "/sys/pk/dn/thing/event/x/post");
    assert_string_equal(got_payload, "{\"id\":\"1\"}");
    AWAIT(batches_open == 0);

    /* 3b. While someone else wants the database, a batch ends as soon as
     * what it read is handled: the next message, sent once the first one
     * was handled (its batch open, not yet acknowledged), opens a batch of
     * its own. */
    db_wanted = true;
    int begun = batches_begun;
    for (uint16_t mid = 50; mid < 52; mid++) {
        int handled = got_messages;
        n = mqtt_write_publish(msg, sizeof msg, "/sys/pk/dn/thing/event/x/post", "{}", 2, 1, mid, false);
        send_bytes(fd, msg, n);
        /* at once, not after AWAIT's 5 ms: within the link's gathering */
        for (int64_t deadline = now_ms() + 5000; got_messages == handled && now_ms() < deadline;)
            sched_yield();
        assert_int_equal(got_messages, handled + 1);
    }
    for (uint16_t mid = 50; mid < 52; mid++) {
        next_packet(fd, &p);
        assert_int_equal(p.type, MQTT_PUBACK);
        assert_int_equal(mqtt_packet_parse_id(&p, &id), 0);
        assert_int_equal(id, mid);
    }
    AWAIT(batches_open == 0);
    assert_int_equal(batches_begun - begun, 2);
    db_wanted = false;

    /* 4. Held messages go out together at the release, in order. */
    mqtt_link_hold();
    assert_int_equal(mqtt_link_publish("a/1", "one", 3, 1), 0);
    assert_int_equal(mqtt_link_publish("a/2", "two", 3, 0), 0);
    struct pollfd r = {fd, POLLIN, 0};
    assert_int_equal(poll(&r, 1, 200), 0); /* held: nothing yet */
    mqtt_link_release();
    mqtt_publish m;
    next_packet(fd, &p);
    assert_int_equal(mqtt_packet_parse_publish(&p, &m), 0);
    assert_memory_equal(m.topic, "a/1", 3);
    assert_int_equal(m.qos, 1);
    assert_false(m.dup);
    uint16_t first_id = m.packet_id;
    assert_true(first_id >= 4); /* 1 and 2 are the SUBSCRIBEs', 3 the UNSUBSCRIBE's */
    next_packet(fd, &p);
    assert_int_equal(mqtt_packet_parse_publish(&p, &m), 0);
    assert_memory_equal(m.topic, "a/2", 3);
    assert_int_equal(m.qos, 0);

    /* 5. The connection drops before the PUBACK of a/1: after the
     * reconnect (session kept) it comes again, DUP, with its id, and not
     * the QoS 0 one. */
    close(fd);
    AWAIT(!mqtt_link_connected());
    fd = accept_link();
    handshake(fd, 1);
    next_packet(fd, &p);
    assert_int_equal(mqtt_packet_parse_publish(&p, &m), 0);
    assert_memory_equal(m.topic, "a/1", 3);
    assert_true(m.dup);
    assert_int_equal(m.packet_id, first_id);
    AWAIT(mqtt_link_connected());
    assert_int_equal(sessions_lost, 1); /* the session was there */
    assert_int_equal(mqtt_link_connects(), 2);
    unsigned char ack[4];
    send_bytes(fd, ack, mqtt_write_puback(ack, sizeof ack, first_id));

    /* 6. Bytes that cannot be MQTT: the link drops the connection. */
    static const unsigned char garbage[] = {0xF0, 0x00};
    send_bytes(fd, garbage, sizeof garbage);
    assert_true(closed_by_link(fd));
    close(fd);
    AWAIT(!mqtt_link_connected());

    /* 7. Back again; the earlier PUBACK was taken: nothing is sent again. */
    fd = accept_link();
    handshake(fd, 1);
    AWAIT(mqtt_link_connected());
    r.fd = fd;
    assert_int_equal(poll(&r, 1, 200), 0);

    /* 8. The stop says DISCONNECT. */
    mqtt_link_stop();
    next_packet(fd, &p);
    assert_int_equal(p.type, MQTT_DISCONNECT);
    close(fd);
    close(listener);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_against_a_played_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
