/*
 * fuzz_link_input.c - libFuzzer target for what reaches haas-emu's MQTT
 * link from the broker (server/src/mqtt_packet.c): the input is the byte
 * stream of one connection, cut into packets as the link cuts it, each
 * read as its type says. Beyond the sanitizers it checks what the link
 * relies on: a packet found lies within the bytes given, and what a
 * reader returns lies within its packet.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mqtt_packet.h"

/* Does [p, p + n) lie within [start, end)? */
static int within(const void *p, size_t n, const void *start, const void *end)
{
    const uint8_t *a = p, *s = start, *e = end;
    return a >= s && a <= e && n <= (size_t)(e - a);
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
            if (mqtt_packet_parse_publish(&p, &m) == 0 &&
                (m.topic_len == 0 || m.qos > 2 || (m.qos > 0 && m.packet_id == 0) ||
                 !within(m.topic, m.topic_len, p.body, end) || !within(m.payload, m.payload_len, p.body, end)))
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
