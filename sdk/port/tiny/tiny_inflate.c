/*
 * tiny_inflate.c - a small resumable gzip inflater (see tiny_inflate.h),
 * written for this project from RFC 1951 and RFC 1952.
 *
 * How it resumes: input bytes go into a 64-bit bit buffer only as a step
 * needs them, and the bits of a step (a header field, a Huffman symbol with
 * its extra bits, a length/distance pair) are consumed only once the whole
 * step could be decoded. A feed that ends in the middle of a step leaves
 * its bytes in the bit buffer, and the next feed decodes the step again
 * from its start. No step needs more than 48 bits, so the buffer never
 * holds more than 55.
 *
 * Huffman codes are decoded bit by bit from canonical counts (code
 * lengths -> first code of each length): slower than a lookup table, but it
 * needs no table memory beyond the symbol lists.
 */
#include "tiny_inflate.h"

enum {
    S_HEADER,     /* the 10 fixed bytes of the gzip header */
    S_EXTRA_LEN,  /* FEXTRA: XLEN */
    S_EXTRA,      /* FEXTRA: its bytes */
    S_NAME,       /* FNAME: up to its NUL */
    S_COMMENT,    /* FCOMMENT: up to its NUL */
    S_HCRC,       /* FHCRC */
    S_BLOCK,      /* a block header: BFINAL, BTYPE */
    S_STORED_LEN, /* LEN, NLEN */
    S_STORED,     /* stored bytes */
    S_DYN_COUNTS, /* HLIT, HDIST, HCLEN */
    S_DYN_CLEN,   /* code length code lengths */
    S_DYN_LENS,   /* literal/length and distance code lengths */
    S_CODES,      /* compressed data */
    S_TRAILER,    /* CRC-32, ISIZE */
    S_DONE,       /* the member ended */
    S_FAILED,
};

#define FTEXT 1u
#define FHCRC 2u
#define FEXTRA 4u
#define FNAME 8u
#define FCOMMENT 16u

#define NEED_MORE (-1)
#define BAD (-2)

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
/* The order in which code length code lengths come (RFC 1951, 3.2.7). */
static const uint8_t clen_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

/* ---- CRC-32, four bits at a time ---- */

uint32_t tiny_crc32(uint32_t crc, const void *data, size_t len)
{
    static const uint32_t nibble[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
                                        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
                                        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15u];
        crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    return ~crc;
}

/* ---- bits ---- */

/* Makes at least n bits available; 0 when the feed has run out. */
static int need(tiny_inflate *z, unsigned n)
{
    while (z->bitcnt < n) {
        if (z->inpos == z->inlen)
            return 0;
        z->bitbuf |= (uint64_t)z->in[z->inpos++] << z->bitcnt;
        z->bitcnt += 8;
    }
    return 1;
}

/* n (<= 16) bits starting off bits into the buffer (need() first). */
static unsigned peek(const tiny_inflate *z, unsigned off, unsigned n)
{
    return (unsigned)(z->bitbuf >> off) & ((1u << n) - 1u);
}

static void drop(tiny_inflate *z, unsigned n)
{
    z->bitbuf >>= n;
    z->bitcnt -= n;
}

/* Reads a whole byte (at a byte boundary): 0..255, or NEED_MORE. */
static int byte(tiny_inflate *z)
{
    if (!need(z, 8))
        return NEED_MORE;
    int b = (int)peek(z, 0, 8);
    drop(z, 8);
    return b;
}

/* ---- Huffman codes ---- */

/* Builds h from n code lengths; 0, or BAD for an over-subscribed set. An
 * incomplete set is accepted (a code outside it decodes as BAD). */
static int build(tiny_huffman *h, const uint16_t *length, unsigned n)
{
    uint16_t offs[16];
    for (unsigned i = 0; i < 16; i++)
        h->count[i] = 0;
    for (unsigned s = 0; s < n; s++)
        h->count[length[s]]++;
    int left = 1;
    for (unsigned len = 1; len < 16; len++) {
        left = 2 * left - h->count[len];
        if (left < 0)
            return BAD;
    }
    offs[1] = 0;
    for (unsigned len = 1; len < 15; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (unsigned s = 0; s < n; s++)
        if (length[s] != 0)
            h->symbol[offs[length[s]]++] = (uint16_t)s;
    return 0;
}

/* Decodes one symbol at *off bits into the buffer, advancing *off:
 * the symbol, NEED_MORE or BAD. */
static int decode(tiny_inflate *z, const tiny_huffman *h, unsigned *off)
{
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len < 16; len++) {
        if (!need(z, *off + 1))
            return NEED_MORE;
        code |= (int)peek(z, *off, 1);
        (*off)++;
        int count = h->count[len];
        if (code - first < count)
            return h->symbol[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return BAD;
}

static int build_fixed(tiny_inflate *z)
{
    unsigned s = 0;
    for (; s < 144; s++)
        z->lens[s] = 8;
    for (; s < 256; s++)
        z->lens[s] = 9;
    for (; s < 280; s++)
        z->lens[s] = 7;
    for (; s < 288; s++)
        z->lens[s] = 8;
    for (s = 0; s < 30; s++)
        z->lens[288 + s] = 5;
    return build(&z->lit, z->lens, 288) == 0 && build(&z->dist, z->lens + 288, 30) == 0 ? 0 : BAD;
}

/* ---- output ---- */

/* Hands the window's new bytes to the sink; 0 or HAAS_PORT_ERR_ABORTED. */
static int flush(tiny_inflate *z)
{
    if (z->wpos == z->flushed)
        return 0;
    const uint8_t *p = z->window + z->flushed;
    size_t n = z->wpos - z->flushed;
    z->crc = tiny_crc32(z->crc, p, n);
    z->flushed = z->wpos;
    if (z->wpos == TINY_INFLATE_WINDOW)
        z->wpos = z->flushed = 0;
    return z->out(z->core, p, n) != 0 ? HAAS_PORT_ERR_ABORTED : 0;
}

static int put(tiny_inflate *z, uint8_t b)
{
    z->window[z->wpos++] = b;
    z->total++;
    return z->wpos == TINY_INFLATE_WINDOW ? flush(z) : 0;
}

/* ---- the steps ---- */

/* The gzip header, field by field: 0 done, NEED_MORE or BAD. */
static int header(tiny_inflate *z)
{
    int b;
    for (;;) {
        switch (z->state) {
        case S_HEADER:
            while (z->hpos < 10) {
                if ((b = byte(z)) < 0)
                    return b;
                uint8_t c = (uint8_t)b;
                z->hcrc = tiny_crc32(z->hcrc, &c, 1);
                if ((z->hpos == 0 && b != 0x1f) || (z->hpos == 1 && b != 0x8b) || (z->hpos == 2 && b != 8) ||
                    (z->hpos == 3 && (b & 0xe0) != 0))
                    return BAD;
                if (z->hpos == 3)
                    z->flags = (uint8_t)b;
                z->hpos++;
            }
            z->hpos = 0;
            z->hskip = 0;
            z->state = z->flags & FEXTRA ? S_EXTRA_LEN : S_NAME;
            break;
        case S_EXTRA_LEN:
            while (z->hpos < 2) {
                if ((b = byte(z)) < 0)
                    return b;
                uint8_t c = (uint8_t)b;
                z->hcrc = tiny_crc32(z->hcrc, &c, 1);
                z->hskip |= (uint32_t)b << (8 * z->hpos++);
            }
            z->state = S_EXTRA;
            break;
        case S_EXTRA:
            while (z->hskip > 0) {
                if ((b = byte(z)) < 0)
                    return b;
                uint8_t c = (uint8_t)b;
                z->hcrc = tiny_crc32(z->hcrc, &c, 1);
                z->hskip--;
            }
            z->state = S_NAME;
            break;
        case S_NAME:
        case S_COMMENT: {
            uint8_t flag = z->state == S_NAME ? FNAME : FCOMMENT;
            while (z->flags & flag) {
                if ((b = byte(z)) < 0)
                    return b;
                uint8_t c = (uint8_t)b;
                z->hcrc = tiny_crc32(z->hcrc, &c, 1);
                if (b == 0)
                    break;
            }
            z->hpos = 0;
            z->state = z->state == S_NAME ? S_COMMENT : S_HCRC;
            break;
        }
        case S_HCRC:
            if (z->flags & FHCRC) {
                if (!need(z, 16))
                    return NEED_MORE;
                if (peek(z, 0, 16) != (z->hcrc & 0xffffu))
                    return BAD;
                drop(z, 16);
            }
            z->state = S_BLOCK;
            return 0;
        default:
            return 0;
        }
    }
}

/* The code lengths of a dynamic block, then its tables. */
static int dynamic_lengths(tiny_inflate *z)
{
    while (z->nlens < z->nlen + z->ndist) {
        unsigned off = 0;
        int sym = decode(z, &z->lit, &off); /* z->lit holds the code length code here */
        if (sym < 0)
            return sym;
        unsigned repeat = 1, value = (unsigned)sym, extra = 0, base = 0;
        if (sym == 16) {
            if (z->nlens == 0)
                return BAD;
            value = z->lens[z->nlens - 1];
            extra = 2, base = 3;
        } else if (sym == 17) {
            value = 0, extra = 3, base = 3;
        } else if (sym == 18) {
            value = 0, extra = 7, base = 11;
        }
        if (extra) {
            if (!need(z, off + extra))
                return NEED_MORE;
            repeat = base + peek(z, off, extra);
            off += extra;
        }
        if (z->nlens + repeat > z->nlen + z->ndist)
            return BAD;
        drop(z, off);
        while (repeat--)
            z->lens[z->nlens++] = (uint16_t)value;
    }
    if (z->lens[256] == 0) /* no end-of-block code */
        return BAD;
    if (build(&z->lit, z->lens, z->nlen) != 0 || build(&z->dist, z->lens + z->nlen, z->ndist) != 0)
        return BAD;
    z->state = S_CODES;
    return 0;
}

/* Literals and length/distance pairs up to the end of the block. */
static int codes(tiny_inflate *z)
{
    for (;;) {
        unsigned off = 0;
        int sym = decode(z, &z->lit, &off);
        if (sym < 0)
            return sym;
        if (sym < 256) {
            drop(z, off);
            int rc = put(z, (uint8_t)sym);
            if (rc != 0)
                return rc;
            continue;
        }
        if (sym == 256) {
            drop(z, off);
            z->state = z->final ? S_TRAILER : S_BLOCK;
            return 0;
        }
        sym -= 257;
        if (sym >= 29)
            return BAD;
        if (!need(z, off + len_extra[sym]))
            return NEED_MORE;
        unsigned length = len_base[sym] + peek(z, off, len_extra[sym]);
        off += len_extra[sym];
        int ds = decode(z, &z->dist, &off);
        if (ds < 0)
            return ds;
        if (ds >= 30)
            return BAD;
        if (!need(z, off + dist_extra[ds]))
            return NEED_MORE;
        unsigned distance = dist_base[ds] + peek(z, off, dist_extra[ds]);
        off += dist_extra[ds];
        if ((uint64_t)distance > z->total)
            return BAD; /* before the start of the output */
        drop(z, off);
        while (length--) {
            int rc = put(z, z->window[(z->wpos - distance) & (TINY_INFLATE_WINDOW - 1u)]);
            if (rc != 0)
                return rc;
        }
    }
}

/* Runs the steps over the buffered bits and the feed: 0 when the feed is
 * used up (NEED_MORE), 1 at the end of the member, or an error. */
static int run(tiny_inflate *z)
{
    for (;;) {
        int rc = 0;
        switch (z->state) {
        case S_HEADER:
        case S_EXTRA_LEN:
        case S_EXTRA:
        case S_NAME:
        case S_COMMENT:
        case S_HCRC:
            rc = header(z);
            break;
        case S_BLOCK:
            if (!need(z, 3))
                return 0;
            z->final = (int)peek(z, 0, 1);
            {
                unsigned type = peek(z, 1, 2);
                drop(z, 3);
                if (type == 0) {
                    drop(z, z->bitcnt % 8u); /* to a byte boundary */
                    z->state = S_STORED_LEN;
                } else if (type == 1) {
                    rc = build_fixed(z);
                    z->state = S_CODES;
                } else if (type == 2) {
                    z->state = S_DYN_COUNTS;
                } else {
                    rc = BAD;
                }
            }
            break;
        case S_STORED_LEN:
            if (!need(z, 32))
                return 0;
            if (peek(z, 0, 16) != (~peek(z, 16, 16) & 0xffffu))
                return HAAS_PORT_ERR;
            z->stored_left = peek(z, 0, 16);
            drop(z, 32);
            z->state = S_STORED;
            break;
        case S_STORED:
            while (z->stored_left > 0) {
                int b = byte(z);
                if (b < 0)
                    return 0;
                z->stored_left--;
                if ((rc = put(z, (uint8_t)b)) != 0)
                    return rc;
            }
            z->state = z->final ? S_TRAILER : S_BLOCK;
            break;
        case S_DYN_COUNTS:
            if (!need(z, 14))
                return 0;
            z->nlen = peek(z, 0, 5) + 257;
            z->ndist = peek(z, 5, 5) + 1;
            z->ncode = peek(z, 10, 4) + 4;
            drop(z, 14);
            if (z->nlen > 286 || z->ndist > 30)
                return HAAS_PORT_ERR;
            z->nlens = 0;
            for (unsigned i = 0; i < 19; i++)
                z->lens[i] = 0;
            z->state = S_DYN_CLEN;
            break;
        case S_DYN_CLEN:
            while (z->nlens < z->ncode) {
                if (!need(z, 3))
                    return 0;
                z->lens[clen_order[z->nlens++]] = (uint16_t)peek(z, 0, 3);
                drop(z, 3);
            }
            if (build(&z->lit, z->lens, 19) != 0)
                return HAAS_PORT_ERR;
            z->nlens = 0;
            z->state = S_DYN_LENS;
            break;
        case S_DYN_LENS:
            rc = dynamic_lengths(z);
            break;
        case S_CODES:
            rc = codes(z);
            break;
        case S_TRAILER:
            drop(z, z->bitcnt % 8u);
            if (!need(z, 64) && z->bitcnt < 64)
                return 0;
            if ((rc = flush(z)) != 0)
                return rc;
            if ((uint32_t)z->bitbuf != z->crc || (uint32_t)(z->bitbuf >> 32) != (uint32_t)z->total)
                return HAAS_PORT_ERR;
            z->bitbuf = 0;
            z->bitcnt = 0;
            z->state = S_DONE;
            return 1;
        default:
            return HAAS_PORT_ERR;
        }
        if (rc == NEED_MORE)
            return 0;
        if (rc == BAD)
            return HAAS_PORT_ERR;
        if (rc != 0)
            return rc;
    }
}

void tiny_inflate_begin(tiny_inflate *z)
{
    z->wpos = z->flushed = 0;
    z->total = 0;
    z->crc = 0;
    z->bitbuf = 0;
    z->bitcnt = 0;
    z->in = 0;
    z->inlen = z->inpos = 0;
    z->state = S_HEADER;
    z->final = 0;
    z->flags = 0;
    z->hpos = z->hskip = z->hcrc = 0;
    z->stored_left = 0;
    z->nlen = z->ndist = z->ncode = z->nlens = 0;
    z->out = 0;
    z->core = 0;
}

int tiny_inflate_feed(tiny_inflate *z, const uint8_t *in, size_t len, haas_sink_fn out, void *core)
{
    if (z->state == S_FAILED)
        return HAAS_PORT_ERR;
    if (z->state == S_DONE)
        return len == 0 ? 1 : HAAS_PORT_ERR_TRAILING;
    z->in = in;
    z->inlen = len;
    z->inpos = 0;
    z->out = out;
    z->core = core;
    int rc = run(z);
    if (rc == 0)
        rc = flush(z);
    if (rc == 1 && z->inpos < z->inlen)
        rc = HAAS_PORT_ERR_TRAILING;
    if (rc < 0)
        z->state = S_FAILED;
    z->in = 0;
    return rc;
}

void tiny_inflate_end(tiny_inflate *z) { z->state = S_FAILED; }
