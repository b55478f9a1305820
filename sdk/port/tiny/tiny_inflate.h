/*
 * tiny_inflate.h - a small gzip inflater for microcontroller ports of the
 * device SDK, of the kind MCU ROMs carry (ESP32's miniz tinfl, the ESP8266
 * ROM's): no allocation, no C library, its whole state one caller-owned
 * struct (a 32 KiB window and the Huffman tables, about 34 KiB), input in
 * pieces of any size, output handed to a sink straight from the window.
 *
 * It keeps haas_port.h's inflate contract (rules G1-G3 of the package rule
 * list): one gzip member (RFC 1952: magic, method 8, reserved flags zero,
 * optional extra, name, comment and header CRC, which is checked), raw
 * deflate data (RFC 1951: stored, fixed and dynamic blocks), then the
 * member's CRC-32 and ISIZE, which must match; a byte after the member is
 * HAAS_PORT_ERR_TRAILING.
 *
 * A port fills its haas_port with tiny_inflate_begin/feed/end through three
 * small wrappers that pass its own tiny_inflate (as the port double of
 * tests/unit/test_upgrade.c does when built for the MCU tests).
 */
#ifndef TINY_INFLATE_H
#define TINY_INFLATE_H

#include "haas_port.h"

#include <stddef.h>
#include <stdint.h>

#define TINY_INFLATE_WINDOW 32768u /* deflate's largest distance */

/* Canonical Huffman code: how many codes of each length, the symbols in
 * code order. */
typedef struct {
    uint16_t count[16];
    uint16_t symbol[288];
} tiny_huffman;

/* The inflater's state; the caller owns it (e.g. static). Treat as opaque. */
typedef struct {
    uint8_t window[TINY_INFLATE_WINDOW]; /* the last 32 KiB of output, also the output buffer */
    uint32_t wpos, flushed;              /* next write position; output up to here went to the sink */
    uint64_t total;                      /* bytes of output (ISIZE is its low 32 bits) */
    uint32_t crc;                        /* running CRC-32 of the output flushed */
    uint64_t bitbuf;                     /* input bits not consumed yet, lowest first */
    unsigned bitcnt;
    const uint8_t *in;                   /* the current feed */
    size_t inlen, inpos;
    int state, final;
    /* gzip header */
    uint8_t flags;
    uint32_t hpos, hskip, hcrc;
    /* a block */
    uint32_t stored_left;
    unsigned nlen, ndist, ncode, nlens;
    uint16_t lens[320];
    tiny_huffman lit, dist;
    /* the sink of the current feed */
    haas_sink_fn out;
    void *core;
} tiny_inflate;

/* Starts a new gzip stream (any earlier one is forgotten). */
void tiny_inflate_begin(tiny_inflate *z);

/* Inflates in[0..len) and hands the output to out(core, ...). Returns as
 * haas_port.h's inflate_feed: 0 more input wanted, 1 the member ended
 * exactly at the end of in (and again for later calls with len 0),
 * HAAS_PORT_ERR_TRAILING input after the member, HAAS_PORT_ERR_ABORTED out
 * returned non-zero, HAAS_PORT_ERR corrupt data or a wrong CRC-32 or
 * ISIZE. After a negative return every call fails until
 * tiny_inflate_begin. */
int tiny_inflate_feed(tiny_inflate *z, const uint8_t *in, size_t len, haas_sink_fn out, void *core);

/* Ends the stream (nothing to release; present for the port's symmetry). */
void tiny_inflate_end(tiny_inflate *z);

/* CRC-32 (IEEE 802.3) of data, continuing from crc (0 to start). */
uint32_t tiny_crc32(uint32_t crc, const void *data, size_t len);

#endif
