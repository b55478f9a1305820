/*
 * mqtt_packet.c - MQTT 3.1.1 packets out of and into byte buffers (see
 * mqtt_packet.h). Every writer first works out the packet's size, then
 * writes it front to back through a small cursor; every reader checks each
 * length against what the packet holds before it looks.
 */
#include "mqtt_packet.h"

#include <string.h>

/* ---- reading ---- */

int mqtt_packet_next(const unsigned char *buf, size_t len, mqtt_packet *p)
{
    if (len < 2)
        return 0;
    unsigned type = buf[0] >> 4;
    if (type == 0 || type == 15)
        return -1;
    /* The remaining length: 7 bits a byte, least significant first, the
     * high bit saying another byte follows; at most four bytes. */
    size_t remaining = 0;
    size_t i = 1;
    for (unsigned shift = 0;; shift += 7, i++) {
        if (i > 4)
            return -1;
        if (i >= len)
            return 0;
        remaining |= (size_t)(buf[i] & 0x7f) << shift;
        if (!(buf[i] & 0x80))
            break;
    }
    size_t header = i + 1;
    if (len - header < remaining)
        return 0;
    p->type = (enum mqtt_packet_type)type;
    p->flags = buf[0] & 0x0f;
    p->body = buf + header;
    p->body_len = remaining;
    p->total = header + remaining;
    return 1;
}

/* A big-endian 16-bit number at b. */
static uint16_t read_u16(const unsigned char *b) { return (uint16_t)(b[0] << 8 | b[1]); }

int mqtt_packet_parse_publish(const mqtt_packet *p, mqtt_publish *out)
{
    if (p->type != MQTT_PUBLISH || p->body_len < 2)
        return -1;
    int qos = (int)(p->flags >> 1) & 3;
    if (qos == 3)
        return -1;
    size_t topic_len = read_u16(p->body);
    size_t at = 2 + topic_len;
    if (topic_len == 0 || at > p->body_len)
        return -1;
    out->packet_id = 0;
    if (qos > 0) {
        if (p->body_len - at < 2)
            return -1;
        out->packet_id = read_u16(p->body + at);
        if (out->packet_id == 0)
            return -1;
        at += 2;
    }
    out->topic = (const char *)p->body + 2;
    out->topic_len = topic_len;
    out->qos = qos;
    out->dup = (p->flags & 8) != 0;
    out->retain = (p->flags & 1) != 0;
    out->payload = p->body + at;
    out->payload_len = p->body_len - at;
    return 0;
}

int mqtt_packet_parse_connack(const mqtt_packet *p, int *session_present, int *return_code)
{
    if (p->type != MQTT_CONNACK || p->body_len != 2 || (p->body[0] & 0xfe))
        return -1;
    *session_present = p->body[0] & 1;
    *return_code = p->body[1];
    return 0;
}

int mqtt_packet_parse_id(const mqtt_packet *p, uint16_t *packet_id)
{
    if (p->body_len != 2)
        return -1;
    *packet_id = read_u16(p->body);
    return 0;
}

int mqtt_packet_parse_suback(const mqtt_packet *p, uint16_t *packet_id, unsigned char *granted, int max, int *n)
{
    if (p->type != MQTT_SUBACK || p->body_len < 3 || p->body_len - 2 > (size_t)max)
        return -1;
    *packet_id = read_u16(p->body);
    *n = (int)(p->body_len - 2);
    memcpy(granted, p->body + 2, (size_t)*n);
    return 0;
}

/* ---- writing ---- */

/* How many bytes the remaining length takes (0: too long for MQTT). */
static size_t length_bytes(size_t remaining)
{
    if (remaining > MQTT_MAX_REMAINING)
        return 0;
    return remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
}

/* A packet's whole size from its body's (0 when too long). */
static size_t packet_size(size_t body)
{
    size_t n = length_bytes(body);
    return n ? 1 + n + body : 0;
}

/* A cursor writing into a buffer that is known to be big enough. */
typedef struct {
    unsigned char *at;
} cursor;

static void put_byte(cursor *c, unsigned b) { *c->at++ = (unsigned char)b; }

static void put_u16(cursor *c, size_t v)
{
    put_byte(c, (unsigned)(v >> 8) & 0xff);
    put_byte(c, (unsigned)v & 0xff);
}

static void put_bytes(cursor *c, const void *b, size_t n)
{
    if (n)
        memcpy(c->at, b, n);
    c->at += n;
}

/* A string: its 16-bit length, then its bytes. */
static void put_string(cursor *c, const char *s, size_t n)
{
    put_u16(c, n);
    put_bytes(c, s, n);
}

static void put_fixed_header(cursor *c, unsigned first_byte, size_t remaining)
{
    put_byte(c, first_byte);
    do {
        unsigned b = (unsigned)(remaining & 0x7f);
        remaining >>= 7;
        put_byte(c, remaining ? b | 0x80 : b);
    } while (remaining);
}

#define MQTT_STRING_MAX 65535u

size_t mqtt_write_connect(unsigned char *out, size_t cap, const char *client_id, bool clean_session,
                          uint16_t keepalive_s, const char *username, const char *password)
{
    size_t id_len = strlen(client_id);
    size_t user_len = username ? strlen(username) : 0, pass_len = password ? strlen(password) : 0;
    if (id_len > MQTT_STRING_MAX || user_len > MQTT_STRING_MAX || pass_len > MQTT_STRING_MAX)
        return 0;
    /* protocol name "MQTT", level, flags, keepalive; then the payload */
    size_t body = 6 + 1 + 1 + 2 + 2 + id_len + (username ? 2 + user_len : 0) + (password ? 2 + pass_len : 0);
    size_t size = packet_size(body);
    if (size == 0 || size > cap)
        return size;
    unsigned flags = (clean_session ? 0x02 : 0) | (username ? 0x80 : 0) | (password ? 0x40 : 0);
    cursor c = {out};
    put_fixed_header(&c, MQTT_CONNECT << 4, body);
    put_string(&c, "MQTT", 4);
    put_byte(&c, 4);
    put_byte(&c, flags);
    put_u16(&c, keepalive_s);
    put_string(&c, client_id, id_len);
    if (username)
        put_string(&c, username, user_len);
    if (password)
        put_string(&c, password, pass_len);
    return size;
}

size_t mqtt_write_publish(unsigned char *out, size_t cap, const char *topic, const void *payload, size_t len,
                          int qos, uint16_t packet_id, bool dup)
{
    size_t topic_len = strlen(topic);
    if (topic_len > MQTT_STRING_MAX || len > MQTT_MAX_REMAINING)
        return 0;
    size_t body = 2 + topic_len + (qos > 0 ? 2 : 0) + len;
    size_t size = packet_size(body);
    if (size == 0 || size > cap)
        return size;
    cursor c = {out};
    put_fixed_header(&c, MQTT_PUBLISH << 4 | (dup && qos > 0 ? 8u : 0u) | (unsigned)(qos > 0) << 1, body);
    put_string(&c, topic, topic_len);
    if (qos > 0)
        put_u16(&c, packet_id);
    put_bytes(&c, payload, len);
    return size;
}

/* SUBSCRIBE (each filter followed by qos) or UNSUBSCRIBE (qos < 0: the
 * filters alone) of count filters. */
static size_t write_filters(unsigned char *out, size_t cap, enum mqtt_packet_type type, uint16_t packet_id,
                            const char *const *filters, int count, int qos)
{
    size_t body = 2;
    for (int i = 0; i < count; i++) {
        size_t n = strlen(filters[i]);
        if (n > MQTT_STRING_MAX)
            return 0;
        body += 2 + n + (qos >= 0);
    }
    size_t size = packet_size(body);
    if (size == 0 || size > cap)
        return size;
    cursor c = {out};
    put_fixed_header(&c, (unsigned)type << 4 | 2u, body); /* flags 0010, as 3.1.1 requires of both */
    put_u16(&c, packet_id);
    for (int i = 0; i < count; i++) {
        put_string(&c, filters[i], strlen(filters[i]));
        if (qos >= 0)
            put_byte(&c, (unsigned)qos);
    }
    return size;
}

size_t mqtt_write_subscribe(unsigned char *out, size_t cap, uint16_t packet_id, const char *const *filters, int count,
                            int qos)
{
    return write_filters(out, cap, MQTT_SUBSCRIBE, packet_id, filters, count, qos);
}

size_t mqtt_write_unsubscribe(unsigned char *out, size_t cap, uint16_t packet_id, const char *const *filters,
                              int count)
{
    return write_filters(out, cap, MQTT_UNSUBSCRIBE, packet_id, filters, count, -1);
}

size_t mqtt_write_puback(unsigned char *out, size_t cap, uint16_t packet_id)
{
    if (cap < 4)
        return 4;
    cursor c = {out};
    put_fixed_header(&c, MQTT_PUBACK << 4, 2);
    put_u16(&c, packet_id);
    return 4;
}

/* A packet of a type and nothing else. */
static size_t write_empty(unsigned char *out, size_t cap, enum mqtt_packet_type type)
{
    if (cap < 2)
        return 2;
    out[0] = (unsigned char)(type << 4);
    out[1] = 0;
    return 2;
}

size_t mqtt_write_pingreq(unsigned char *out, size_t cap) { return write_empty(out, cap, MQTT_PINGREQ); }
size_t mqtt_write_disconnect(unsigned char *out, size_t cap) { return write_empty(out, cap, MQTT_DISCONNECT); }

const char *mqtt_connack_text(int return_code)
{
    static const char *const texts[] = {"accepted", "unacceptable protocol version", "identifier rejected",
                                        "server unavailable", "bad user name or password", "not authorized"};
    return return_code >= 0 && return_code < 6 ? texts[return_code] : "unknown return code";
}
