/*
 * mqtt_packet.h - MQTT 3.1.1 packets for haas-emu's link to the broker:
 * writes the ones the link sends into a caller's buffer and cuts the ones it
 * receives out of a stream of bytes. No I/O, no allocation, no state: the
 * link (mqtt_link.c) owns the socket and the buffers.
 *
 * Why haas-emu has its own: the link is one client carrying every device's
 * messages, and libmosquitto reads a packet in three or four system calls
 * (the first byte, each byte of its length, the rest) and writes each packet
 * with one more, plus a wake-up of its own: at 1,000 devices upgrading, 52
 * reads and 24 writes per device. With these functions the link reads
 * whatever has arrived in one call and writes everything it has to send in
 * one.
 *
 * Only what a client of a 3.1.1 broker needs: CONNECT (user name and
 * password, no will), SUBSCRIBE, UNSUBSCRIBE, PUBLISH at QoS 0 or 1, PUBACK,
 * PINGREQ and DISCONNECT out; CONNACK, SUBACK, UNSUBACK, PUBLISH, PUBACK and
 * PINGRESP in.
 */
#ifndef HAAS_MQTT_PACKET_H
#define HAAS_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packet types: the high four bits of a packet's first byte. */
enum mqtt_packet_type {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_PUBREC = 5,
    MQTT_PUBREL = 6,
    MQTT_PUBCOMP = 7,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14,
};

/* The largest remaining length the protocol can express (4 length bytes). */
#define MQTT_MAX_REMAINING 268435455u

/* One packet found in a buffer by mqtt_packet_next: it points into it. */
typedef struct {
    enum mqtt_packet_type type;
    unsigned flags;            /* the low four bits of the first byte */
    const unsigned char *body; /* what follows the fixed header */
    size_t body_len;
    size_t total; /* fixed header + body: where the next packet starts */
} mqtt_packet;

/*
 * Finds the packet at the start of buf (len bytes). Returns 1 and fills *p
 * when it is all there, 0 when more bytes are needed (nothing filled), -1
 * when the bytes cannot be MQTT (a length of more than four bytes, or a
 * type of 0 or 15): the connection must be dropped.
 */
int mqtt_packet_next(const unsigned char *buf, size_t len, mqtt_packet *p);

/* A PUBLISH, as mqtt_packet_parse_publish reads it: pointers into the
 * packet's body; the topic is NOT NUL-terminated. */
typedef struct {
    const char *topic;
    size_t topic_len;
    int qos;
    bool dup, retain;
    uint16_t packet_id; /* 0 at QoS 0 */
    const unsigned char *payload;
    size_t payload_len;
} mqtt_publish;

/* Reads a PUBLISH packet. Returns 0, or -1 when it is malformed (QoS 3, a
 * topic longer than the body, no packet id at QoS 1 or 2, an empty topic
 * or a packet id of 0). */
int mqtt_packet_parse_publish(const mqtt_packet *p, mqtt_publish *out);

/* Reads a CONNACK: session present (0/1) and return code (0 = accepted).
 * Returns 0, or -1 when malformed. */
int mqtt_packet_parse_connack(const mqtt_packet *p, int *session_present, int *return_code);

/* Reads the packet id of a PUBACK (or PUBREC, PUBREL, PUBCOMP, UNSUBACK).
 * Returns 0, or -1 when malformed. */
int mqtt_packet_parse_id(const mqtt_packet *p, uint16_t *packet_id);

/* Reads a SUBACK: its packet id, and its granted QoS codes (0, 1, 2, or
 * 0x80 for refused) up to max of them into granted, their number into *n.
 * Returns 0, or -1 when malformed or more than max. */
int mqtt_packet_parse_suback(const mqtt_packet *p, uint16_t *packet_id, unsigned char *granted, int max, int *n);

/*
 * The writers. Each writes one packet into out (cap bytes) and returns its
 * size; when that is more than cap, it writes nothing (call it again with
 * a buffer that size, as with snprintf). Strings longer than 65,535 bytes
 * and packets longer than MQTT_MAX_REMAINING cannot be written: 0 then.
 */

/* CONNECT, protocol level 4 (3.1.1); username and password may be NULL. */
size_t mqtt_write_connect(unsigned char *out, size_t cap, const char *client_id, bool clean_session,
                          uint16_t keepalive_s, const char *username, const char *password);

/* PUBLISH at qos 0 (packet_id ignored) or 1, not retained. */
size_t mqtt_write_publish(unsigned char *out, size_t cap, const char *topic, const void *payload, size_t len,
                          int qos, uint16_t packet_id, bool dup);

/* SUBSCRIBE of count filters, all at the same requested qos. */
size_t mqtt_write_subscribe(unsigned char *out, size_t cap, uint16_t packet_id, const char *const *filters, int count,
                            int qos);

/* UNSUBSCRIBE of count filters. */
size_t mqtt_write_unsubscribe(unsigned char *out, size_t cap, uint16_t packet_id, const char *const *filters,
                              int count);

/* PUBACK of a QoS 1 message received. */
size_t mqtt_write_puback(unsigned char *out, size_t cap, uint16_t packet_id);

/* PINGREQ and DISCONNECT: two bytes, no body. */
size_t mqtt_write_pingreq(unsigned char *out, size_t cap);
size_t mqtt_write_disconnect(unsigned char *out, size_t cap);

/* The text of a CONNACK return code ("not authorized", ...). */
const char *mqtt_connack_text(int return_code);

#endif
