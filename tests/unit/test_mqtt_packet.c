/*
 * test_mqtt_packet.c - unit tests of the link's MQTT 3.1.1 packets
 * (server/src/mqtt_packet.c): every packet the link writes, byte for byte
 * against the encodings worked out by hand from the 3.1.1 specification
 * (sections 2.2.3, 3.1, 3.3, 3.4, 3.8, 3.12, 3.14), the remaining length at
 * each of its size boundaries, packets cut at every byte of a stream, and
 * each way a received packet can be malformed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt_packet.h"

/* Writes with writer into a buffer of cap bytes that starts filled with
 * 0xAA; checks that nothing past what it returned was touched. */
#define FILL 0xAA

static void assert_bytes(const unsigned char *got, size_t got_len, const unsigned char *want, size_t want_len)
{
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
}

static void test_connect(void **state)
{
    (void)state;
    unsigned char out[64];
    static const unsigned char want[] = {0x10, 0x13, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x04, 0xC0, 0x00,
                                         0x1E, 0x00, 0x01, 'c',  0x00, 0x01, 'u',  0x00, 0x01, 'p'};
    assert_bytes(out, mqtt_write_connect(out, sizeof out, "c", false, 30, "u", "p"), want, sizeof want);
    /* clean session, no user name or password, keepalive 0x1234 */
    static const unsigned char bare[] = {0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x12, 0x34, 0x00, 0x01, 'c'};
    assert_bytes(out, mqtt_write_connect(out, sizeof out, "c", true, 0x1234, NULL, NULL), bare, sizeof bare);
}

static void test_publish(void **state)
{
    (void)state;
    unsigned char out[64];
    static const unsigned char qos1_dup[] = {0x3A, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'};
    assert_bytes(out, mqtt_write_publish(out, sizeof out, "a/b", "hi", 2, 1, 10, true), qos1_dup, sizeof qos1_dup);
    static const unsigned char qos1[] = {0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0xFF, 0xFE, 'h', 'i'};
    assert_bytes(out, mqtt_write_publish(out, sizeof out, "a/b", "hi", 2, 1, 0xFFFE, false), qos1, sizeof qos1);
    /* QoS 0: no packet id, and no DUP flag even when asked */
    static const unsigned char qos0[] = {0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'};
    assert_bytes(out, mqtt_write_publish(out, sizeof out, "a/b", "hi", 2, 0, 7, true), qos0, sizeof qos0);
    static const unsigned char empty[] = {0x30, 0x03, 0x00, 0x01, 't'};
    assert_bytes(out, mqtt_write_publish(out, sizeof out, "t", NULL, 0, 0, 0, false), empty, sizeof empty);
}

static void test_subscribe_and_small_packets(void **state)
{
    (void)state;
    unsigned char out[64];
    const char *const filters[] = {"x", "yz"};
    static const unsigned char sub[] = {0x82, 0x0B, 0x00, 0x01, 0x00, 0x01, 'x', 0x01, 0x00, 0x02, 'y', 'z', 0x01};
    assert_bytes(out, mqtt_write_subscribe(out, sizeof out, 1, filters, 2, 1), sub, sizeof sub);
    static const unsigned char unsub[] = {0xA2, 0x09, 0x00, 0x03, 0x00, 0x01, 'x', 0x00, 0x02, 'y', 'z'};
    assert_bytes(out, mqtt_write_unsubscribe(out, sizeof out, 3, filters, 2), unsub, sizeof unsub);
    static const unsigned char puback[] = {0x40, 0x02, 0x12, 0x34};
    assert_bytes(out, mqtt_write_puback(out, sizeof out, 0x1234), puback, sizeof puback);
    static const unsigned char ping[] = {0xC0, 0x00}, disconnect[] = {0xE0, 0x00};
    assert_bytes(out, mqtt_write_pingreq(out, sizeof out), ping, sizeof ping);
    assert_bytes(out, mqtt_write_disconnect(out, sizeof out), disconnect, sizeof disconnect);
}

/* Every writer, given one byte too few, says how many it needs and writes
 * nothing; given exactly that many, writes them all. */
static void test_writers_never_overrun(void **state)
{
    (void)state;
    unsigned char out[400];
    char payload[300];
    memset(payload, 'p', sizeof payload);
    const char *const filters[] = {"/sys/+/+/thing/event/+/post"};
    for (int which = 0; which < 7; which++) {
        size_t need = 0;
        for (int pass = 0; pass < 2; pass++) {
            memset(out, FILL, sizeof out);
            size_t cap = pass == 0 ? 0 : need;
            size_t got = 0;
            switch (which) {
            case 0: got = mqtt_write_connect(out, cap, "client", false, 30, "user", "password"); break;
            case 1: got = mqtt_write_publish(out, cap, "a/topic", payload, sizeof payload, 1, 5, false); break;
            case 2: got = mqtt_write_subscribe(out, cap, 2, filters, 1, 0); break;
            case 3: got = mqtt_write_puback(out, cap, 9); break;
            case 4: got = mqtt_write_pingreq(out, cap); break;
            case 5: got = mqtt_write_unsubscribe(out, cap, 3, filters, 1); break;
            default: got = mqtt_write_disconnect(out, cap); break;
            }
            if (pass == 0) {
                need = got;
                assert_true(need >= 2);
                for (size_t i = 0; i < sizeof out; i++)
                    assert_int_equal(out[i], FILL);
                memset(out, FILL, sizeof out);
                got = which == 1 ? mqtt_write_publish(out, need - 1, "a/topic", payload, sizeof payload, 1, 5, false)
                                 : need;
                assert_int_equal(got, need);
                for (size_t i = 0; i < sizeof out; i++)
                    assert_int_equal(out[i], FILL);
            } else {
                assert_int_equal(got, need);
                assert_int_equal(out[need], FILL);
                mqtt_packet p;
                assert_int_equal(mqtt_packet_next(out, need, &p), 1);
                assert_int_equal(p.total, need);
            }
        }
    }
    /* a 300-byte payload takes two length bytes: 1 + 2 + (2 + 7 + 2 + 300) */
    assert_int_equal(mqtt_write_publish(NULL, 0, "a/topic", payload, sizeof payload, 1, 5, false), 314);
}

static void test_what_cannot_be_written(void **state)
{
    (void)state;
    unsigned char out[16];
    char *big = malloc(65537);
    assert_non_null(big);
    memset(big, 't', 65536);
    big[65536] = '\0';
    assert_int_equal(mqtt_write_publish(out, sizeof out, big, "x", 1, 0, 0, false), 0);
    assert_int_equal(mqtt_write_connect(out, sizeof out, big, false, 30, NULL, NULL), 0);
    assert_int_equal(mqtt_write_connect(out, sizeof out, "c", false, 30, big, NULL), 0);
    assert_int_equal(mqtt_write_connect(out, sizeof out, "c", false, 30, NULL, big), 0);
    const char *const filters[] = {big};
    assert_int_equal(mqtt_write_subscribe(out, sizeof out, 1, filters, 1, 0), 0);
    assert_int_equal(mqtt_write_unsubscribe(out, sizeof out, 1, filters, 1), 0);
    big[65535] = '\0'; /* 65,535 bytes is still a string */
    assert_int_equal(mqtt_write_publish(NULL, 0, big, "x", 1, 0, 0, false), 1 + 3 + 2 + 65535 + 1);
    /* a payload over the 268,435,455 bytes a length can say (not read) */
    assert_int_equal(mqtt_write_publish(out, sizeof out, "t", big, MQTT_MAX_REMAINING, 0, 0, false), 0);
    free(big);
}

/* The remaining length at the boundaries of its 1, 2, 3 and 4 bytes. */
static void test_remaining_length(void **state)
{
    (void)state;
    static const struct {
        unsigned char bytes[5];
        size_t n;
        size_t value;
    } cases[] = {
        {{0x00}, 1, 0},
        {{0x7F}, 1, 127},
        {{0x80, 0x01}, 2, 128},
        {{0xFF, 0x7F}, 2, 16383},
        {{0x80, 0x80, 0x01}, 3, 16384},
        {{0xFF, 0xFF, 0x7F}, 3, 2097151},
        {{0x80, 0x80, 0x80, 0x01}, 4, 2097152},
        {{0xFF, 0xFF, 0xFF, 0x7F}, 4, 268435455},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t total = 1 + cases[i].n + cases[i].value;
        unsigned char *buf = calloc(1, total < 20000 ? total : 1 + cases[i].n);
        assert_non_null(buf);
        buf[0] = 0x30;
        memcpy(buf + 1, cases[i].bytes, cases[i].n);
        mqtt_packet p;
        if (total < 20000) {
            assert_int_equal(mqtt_packet_next(buf, total, &p), 1);
            assert_int_equal(p.body_len, cases[i].value);
            assert_int_equal(p.total, total);
            assert_ptr_equal(p.body, buf + 1 + cases[i].n);
            if (total > 2)
                assert_int_equal(mqtt_packet_next(buf, total - 1, &p), 0); /* the last byte missing */
        } else {
            assert_int_equal(mqtt_packet_next(buf, 1 + cases[i].n, &p), 0); /* valid, incomplete */
        }
        /* the writer's side of the same boundary */
        if (cases[i].value >= 2 + 1)
            assert_int_equal(mqtt_write_publish(NULL, 0, "t", NULL, cases[i].value - 3, 0, 0, false), total);
        free(buf);
    }
}

static void test_frames_that_cannot_be_mqtt(void **state)
{
    (void)state;
    mqtt_packet p;
    static const unsigned char five_length_bytes[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
    assert_int_equal(mqtt_packet_next(five_length_bytes, sizeof five_length_bytes, &p), -1);
    static const unsigned char type0[] = {0x00, 0x00}, type15[] = {0xF0, 0x00};
    assert_int_equal(mqtt_packet_next(type0, 2, &p), -1);
    assert_int_equal(mqtt_packet_next(type15, 2, &p), -1);
    /* not enough yet: nothing, one byte, a length still going on */
    static const unsigned char going_on[] = {0x30, 0x80};
    assert_int_equal(mqtt_packet_next(going_on, 0, &p), 0);
    assert_int_equal(mqtt_packet_next(going_on, 1, &p), 0);
    assert_int_equal(mqtt_packet_next(going_on, 2, &p), 0);
}

/* Three packets in one stream, handed over cut at every byte: each is
 * found exactly when its last byte is there, and read back as written. */
static void test_stream_cut_everywhere(void **state)
{
    (void)state;
    unsigned char stream[256];
    size_t len = 0;
    len += mqtt_write_publish(stream + len, sizeof stream - len, "/sys/pk/dn/thing/event/x/post", "{\"id\":\"1\"}", 10, 1,
                              77, false);
    len += mqtt_write_puback(stream + len, sizeof stream - len, 78);
    len += mqtt_write_publish(stream + len, sizeof stream - len, "t", "", 0, 0, 0, false);
    for (size_t cut = 0; cut <= len; cut++) {
        size_t at = 0;
        int found = 0;
        mqtt_packet p;
        while (mqtt_packet_next(stream + at, cut - at, &p) == 1) {
            found++;
            if (found == 1) {
                mqtt_publish m;
                assert_int_equal(mqtt_packet_parse_publish(&p, &m), 0);
                assert_int_equal(m.topic_len, strlen("/sys/pk/dn/thing/event/x/post"));
                assert_memory_equal(m.topic, "/sys/pk/dn/thing/event/x/post", m.topic_len);
                assert_int_equal(m.qos, 1);
                assert_int_equal(m.packet_id, 77);
                assert_int_equal(m.payload_len, 10);
                assert_memory_equal(m.payload, "{\"id\":\"1\"}", 10);
                assert_false(m.dup);
                assert_false(m.retain);
            } else if (found == 2) {
                uint16_t id;
                assert_int_equal(p.type, MQTT_PUBACK);
                assert_int_equal(mqtt_packet_parse_id(&p, &id), 0);
                assert_int_equal(id, 78);
            } else {
                mqtt_publish m;
                assert_int_equal(mqtt_packet_parse_publish(&p, &m), 0);
                assert_int_equal(m.qos, 0);
                assert_int_equal(m.packet_id, 0);
                assert_int_equal(m.payload_len, 0);
            }
            at += p.total;
        }
        int complete = (cut >= len) + (cut >= len - 5) + (cut >= len - 5 - 4); /* the last two take 5 and 4 */
        assert_int_equal(found, complete);
    }
}

/* A PUBLISH body built by hand: flags, then the body's bytes. */
static int parse_publish_bytes(unsigned flags, const unsigned char *body, size_t n, mqtt_publish *m)
{
    mqtt_packet p = {.type = MQTT_PUBLISH, .flags = flags, .body = body, .body_len = n, .total = n + 2};
    return mqtt_packet_parse_publish(&p, m);
}

static void test_malformed_publish(void **state)
{
    (void)state;
    mqtt_publish m;
    static const unsigned char ok[] = {0x00, 0x01, 't', 0x00, 0x05, 'x'};
    assert_int_equal(parse_publish_bytes(0x0B, ok, sizeof ok, &m), 0); /* DUP, QoS 1, RETAIN */
    assert_true(m.dup);
    assert_true(m.retain);
    assert_int_equal(m.packet_id, 5);
    assert_int_equal(m.payload_len, 1);
    assert_int_equal(parse_publish_bytes(0x06, ok, sizeof ok, &m), -1); /* QoS 3 */
    assert_int_equal(parse_publish_bytes(0x00, ok, 1, &m), -1);           /* no room for a topic length */
    static const unsigned char topic_too_long[] = {0x00, 0x09, 't', 'o', 'p'};
    assert_int_equal(parse_publish_bytes(0x00, topic_too_long, sizeof topic_too_long, &m), -1);
    static const unsigned char empty_topic[] = {0x00, 0x00, 'x'};
    assert_int_equal(parse_publish_bytes(0x00, empty_topic, sizeof empty_topic, &m), -1);
    static const unsigned char no_id[] = {0x00, 0x01, 't', 0x00};
    assert_int_equal(parse_publish_bytes(0x02, no_id, sizeof no_id, &m), -1);
    static const unsigned char id_zero[] = {0x00, 0x01, 't', 0x00, 0x00};
    assert_int_equal(parse_publish_bytes(0x02, id_zero, sizeof id_zero, &m), -1);
    mqtt_packet not_publish = {.type = MQTT_PUBACK, .body = ok, .body_len = sizeof ok};
    assert_int_equal(mqtt_packet_parse_publish(&not_publish, &m), -1);
}

static void test_connack_suback_and_ids(void **state)
{
    (void)state;
    int sp = -1, rc = -1;
    static const unsigned char resumed[] = {0x01, 0x00}, refused[] = {0x00, 0x05}, reserved[] = {0x02, 0x00};
    mqtt_packet p = {.type = MQTT_CONNACK, .body = resumed, .body_len = 2};
    assert_int_equal(mqtt_packet_parse_connack(&p, &sp, &rc), 0);
    assert_int_equal(sp, 1);
    assert_int_equal(rc, 0);
    p.body = refused;
    assert_int_equal(mqtt_packet_parse_connack(&p, &sp, &rc), 0);
    assert_int_equal(sp, 0);
    assert_int_equal(rc, 5);
    assert_string_equal(mqtt_connack_text(rc), "not authorized");
    assert_string_equal(mqtt_connack_text(0), "accepted");
    assert_string_equal(mqtt_connack_text(6), "unknown return code");
    assert_string_equal(mqtt_connack_text(-1), "unknown return code");
    p.body = reserved;
    assert_int_equal(mqtt_packet_parse_connack(&p, &sp, &rc), -1);
    p.body = resumed;
    p.body_len = 3;
    assert_int_equal(mqtt_packet_parse_connack(&p, &sp, &rc), -1);
    p.body_len = 2;
    p.type = MQTT_SUBACK;
    assert_int_equal(mqtt_packet_parse_connack(&p, &sp, &rc), -1);

    static const unsigned char suback[] = {0x00, 0x01, 0x01, 0x00, 0x80};
    unsigned char granted[4];
    uint16_t id = 0;
    int n = 0;
    p = (mqtt_packet){.type = MQTT_SUBACK, .body = suback, .body_len = sizeof suback};
    assert_int_equal(mqtt_packet_parse_suback(&p, &id, granted, 4, &n), 0);
    assert_int_equal(id, 1);
    assert_int_equal(n, 3);
    assert_memory_equal(granted, suback + 2, 3);
    assert_int_equal(mqtt_packet_parse_suback(&p, &id, granted, 2, &n), -1); /* more codes than room */
    p.body_len = 2;
    assert_int_equal(mqtt_packet_parse_suback(&p, &id, granted, 4, &n), -1); /* no code at all */
    p.body_len = sizeof suback;
    p.type = MQTT_PUBACK;
    assert_int_equal(mqtt_packet_parse_suback(&p, &id, granted, 4, &n), -1);

    static const unsigned char two[] = {0xAB, 0xCD};
    p = (mqtt_packet){.type = MQTT_PUBACK, .body = two, .body_len = 2};
    assert_int_equal(mqtt_packet_parse_id(&p, &id), 0);
    assert_int_equal(id, 0xABCD);
    p.body_len = 1;
    assert_int_equal(mqtt_packet_parse_id(&p, &id), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_subscribe_and_small_packets),
        cmocka_unit_test(test_writers_never_overrun),
        cmocka_unit_test(test_what_cannot_be_written),
        cmocka_unit_test(test_remaining_length),
        cmocka_unit_test(test_frames_that_cannot_be_mqtt),
        cmocka_unit_test(test_stream_cut_everywhere),
        cmocka_unit_test(test_malformed_publish),
        cmocka_unit_test(test_connack_suback_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
