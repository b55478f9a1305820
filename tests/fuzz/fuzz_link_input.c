/*
 * fuzz_link_input.c - libFuzzer target for what reaches haas-emu's MQTT
 * link from the broker (server/src/mqtt_packet.c): the input is the byte
 * stream of one connection, cut into packets as the link cuts it, each
 * read as its type says. Beyond the sanitizers it checks what the link
 * relies on: a packet found lies within the bytes given, and what a
 * reader returns lies within its packet. A PUBLISH's payload is also cut
 * into its elements as a gathered lifecycle message is
 * (json_text_array_items in server/src/json_text.c): each lies within it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_text.h"
#include "mqtt_packet.h"

/* Does [p, p + n) lie within [start, end)? */
static int within(const void *p, size_t n, const void *start, const void *end)
{
    const uint8_t *a = p, *s = start, *e = end;
    return a >= s && a <= e && n <= (size_t)(e - a);
}

/* The payload being cut into elements. */
static const uint8_t *payload_start, *payload_end;

static void check_item(const char *item, size_t len, void *ctx)
{
    (void)ctx;
    if (len == 0 || !within(item, len, payload_start, payload_end))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0;
    mqtt_packet p;
    while (at < size && mqtt_packet_next(data + at, size - at, &p) == 1) {
        if (p.total == 0 || p.total > size - at || !within(p.body, p.body_len, data + at, data + at + p.total))
            abort();
        const uint8_t *end = p.body + p.body_len;
        mqtt_publish m;
        int sp, rc, n;
        uint16_t id;
        unsigned char granted[16];
        switch (p.type) {
        case MQTT_PUBLISH:
            if (mqtt_packet_parse_publish(&p, &m) < 0)
                break;
            if (m.topic_len == 0 || m.qos > 2 || (m.qos > 0 && m.packet_id == 0) ||
                !within(m.topic, m.topic_len, p.body, end) || !within(m.payload, m.payload_len, p.body, end))
                abort();
            payload_start = m.payload;
            payload_end = m.payload + m.payload_len;
            if (json_text_array_items((const char *)m.payload, m.payload_len, check_item, NULL) < -1)
                abort();
            break;
        case MQTT_CONNACK:
            if (mqtt_packet_parse_connack(&p, &sp, &rc) == 0 && (sp < 0 || sp > 1 || rc < 0 || rc > 255))
                abort();
            break;
        case MQTT_SUBACK:
            if (mqtt_packet_parse_suback(&p, &id, granted, (int)sizeof granted, &n) == 0 &&
                (n < 1 || n > (int)sizeof granted))
                abort();
            break;
        default:
            (void)mqtt_packet_parse_id(&p, &id);
            break;
        }
        at += p.total;
    }
    return 0;
}
