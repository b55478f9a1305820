/*
 * shim_host.c - the MCU shims of OpenSSL's digest calls and zlib's gzip
 * writer (see shim/openssl/evp.h and shim/zlib.h).
 */
#include <stdlib.h>
#include <string.h>

#include "openssl/evp.h"
#include "openssl/hmac.h"
#include "tiny_inflate.h"
#include "zlib.h"

/* ---- digests ---- */

static const EVP_MD md5_md = {HAAS_HASH_MD5}, sha256_md = {HAAS_HASH_SHA256};

const EVP_MD *EVP_md5(void) { return &md5_md; }
const EVP_MD *EVP_sha256(void) { return &sha256_md; }

EVP_MD_CTX *EVP_MD_CTX_new(void) { return calloc(1, sizeof(EVP_MD_CTX)); }
void EVP_MD_CTX_free(EVP_MD_CTX *c) { free(c); }

int EVP_DigestInit_ex(EVP_MD_CTX *c, const EVP_MD *md, ENGINE *e)
{
    (void)e;
    c->kind = md->kind;
    return tiny_hash_init(NULL, &c->st, (haas_hash_kind)md->kind) == 0;
}

int EVP_DigestUpdate(EVP_MD_CTX *c, const void *data, size_t len)
{
    tiny_hash_update(NULL, &c->st, data, len);
    return 1;
}

int EVP_DigestFinal_ex(EVP_MD_CTX *c, unsigned char *out, unsigned int *len)
{
    tiny_hash_final(NULL, &c->st, out);
    if (len)
        *len = c->kind == HAAS_HASH_MD5 ? 16 : 32;
    return 1;
}

int EVP_Digest(const void *data, size_t len, unsigned char *out, unsigned int *out_len, const EVP_MD *md, ENGINE *e)
{
    EVP_MD_CTX c;
    EVP_DigestInit_ex(&c, md, e);
    EVP_DigestUpdate(&c, data, len);
    return EVP_DigestFinal_ex(&c, out, out_len);
}

unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *data, size_t len,
                    unsigned char *out, unsigned int *out_len)
{
    if (md->kind != HAAS_HASH_SHA256 || key_len < 0)
        return NULL;
    tiny_hmac_sha256(NULL, key, (size_t)key_len, data, len, out);
    if (out_len)
        *out_len = 32;
    return out;
}

/* ---- a small deflater: fixed Huffman codes, greedy LZ77 ---- */

typedef struct {
    uint8_t *p;
    size_t pos, cap;
    uint32_t bits;
    unsigned n;
    int overflow;
} bitw;

static void put_bits(bitw *w, uint32_t v, unsigned n)
{
    w->bits |= v << w->n;
    w->n += n;
    while (w->n >= 8) {
        if (w->pos < w->cap)
            w->p[w->pos++] = (uint8_t)w->bits;
        else
            w->overflow = 1;
        w->bits >>= 8;
        w->n -= 8;
    }
}

/* A Huffman code goes out most significant bit first. */
static void put_code(bitw *w, uint32_t code, unsigned len)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < len; i++)
        r |= ((code >> i) & 1u) << (len - 1 - i);
    put_bits(w, r, len);
}

static void put_symbol(bitw *w, unsigned sym)
{
    if (sym < 144)
        put_code(w, 0x30 + sym, 8);
    else if (sym < 256)
        put_code(w, 0x190 + sym - 144, 9);
    else if (sym < 280)
        put_code(w, sym - 256, 7);
    else
        put_code(w, 0xc0 + sym - 280, 8);
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static void put_match(bitw *w, unsigned length, unsigned distance)
{
    unsigned i = 28;
    while (len_base[i] > length)
        i--;
    put_symbol(w, 257 + i);
    put_bits(w, length - len_base[i], len_extra[i]);
    unsigned d = 29;
    while (dist_base[d] > distance)
        d--;
    put_code(w, d, 5);
    put_bits(w, distance - dist_base[d], dist_extra[d]);
}

#define HASH_SIZE 4096u

static unsigned hash3(const uint8_t *p) { return ((unsigned)p[0] * 2654435761u ^ (unsigned)p[1] * 40503u ^ p[2]) % HASH_SIZE; }

int deflateInit2(z_stream *s, int level, int method, int window_bits, int mem_level, int strategy)
{
    (void)level, (void)mem_level, (void)strategy;
    if (method != Z_DEFLATED || window_bits != 16 + MAX_WBITS)
        return Z_STREAM_ERROR;
    s->name = NULL;
    s->total_out = 0;
    return Z_OK;
}

int deflateSetHeader(z_stream *s, gz_header *head)
{
    s->name = (const char *)head->name;
    return Z_OK;
}

uLong deflateBound(z_stream *s, uLong len)
{
    (void)s;
    return len + len / 8 + 64; /* 9 bits a literal at worst, the header and the trailer */
}

int deflate(z_stream *s, int flush)
{
    if (flush != Z_FINISH)
        return Z_STREAM_ERROR;
    bitw w = {s->next_out, 0, s->avail_out, 0, 0, 0};
    const uint8_t *in = s->next_in;
    size_t len = s->avail_in;
    uint8_t head[10] = {0x1f, 0x8b, 8, s->name ? 8 : 0, 0, 0, 0, 0, 0, 3};
    for (unsigned i = 0; i < 10; i++)
        put_bits(&w, head[i], 8);
    for (const char *c = s->name; c && *c; c++)
        put_bits(&w, (uint8_t)*c, 8);
    if (s->name)
        put_bits(&w, 0, 8);
    put_bits(&w, 1, 1); /* BFINAL */
    put_bits(&w, 1, 2); /* fixed Huffman codes */
    static uint32_t last[HASH_SIZE];
    for (unsigned i = 0; i < HASH_SIZE; i++)
        last[i] = UINT32_MAX;
    for (size_t i = 0; i < len;) {
        unsigned best = 0, best_d = 0;
        if (i + 3 <= len) {
            unsigned h = hash3(in + i);
            uint32_t cand = last[h];
            last[h] = (uint32_t)i;
            if (cand != UINT32_MAX && i - cand <= 32768u) {
                unsigned n = 0;
                while (n < 258 && i + n < len && in[cand + n] == in[i + n])
                    n++;
                if (n >= 3)
                    best = n, best_d = (unsigned)(i - cand);
            }
        }
        if (best) {
            put_match(&w, best, best_d);
            for (size_t k = i + 1; k < i + best && k + 3 <= len; k++)
                last[hash3(in + k)] = (uint32_t)k;
            i += best;
        } else {
            put_symbol(&w, in[i]);
            i++;
        }
    }
    put_symbol(&w, 256);
    if (w.n)
        put_bits(&w, 0, 8 - w.n);
    uint32_t crc = tiny_crc32(0, in, len);
    for (unsigned i = 0; i < 4; i++)
        put_bits(&w, (crc >> (8 * i)) & 0xffu, 8);
    for (unsigned i = 0; i < 4; i++)
        put_bits(&w, ((uint32_t)len >> (8 * i)) & 0xffu, 8);
    if (w.overflow)
        return Z_STREAM_ERROR;
    s->next_in += len;
    s->avail_in = 0;
    s->next_out += w.pos;
    s->avail_out -= (uInt)w.pos;
    s->total_out = w.pos;
    return Z_STREAM_END;
}

int deflateEnd(z_stream *s)
{
    (void)s;
    return Z_OK;
}
