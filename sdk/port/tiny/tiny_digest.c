/*
 * tiny_digest.c - MD5 (RFC 1321), SHA-256 (FIPS 180-4) and HMAC-SHA256
 * (RFC 2104) in a haas_hash_state (see tiny_digest.h).
 */
#include "tiny_digest.h"

typedef char tiny_digest_fits[sizeof(tiny_digest) <= sizeof(haas_hash_state) ? 1 : -1];

static uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32u - n)); }
static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

/* ---- MD5 ---- */

static const uint32_t md5_k[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, 0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u};
static const uint8_t md5_r[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

static void md5_block(uint32_t h[4], const uint8_t *p)
{
    uint32_t w[16];
    for (unsigned i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned g, round = i / 16;
        if (round == 0)
            f = (b & c) | (~b & d), g = i;
        else if (round == 1)
            f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
        else if (round == 2)
            f = b ^ c ^ d, g = (3 * i + 5) % 16;
        else
            f = c ^ (b | ~d), g = (7 * i) % 16;
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rol(a + f + md5_k[i] + w[g], md5_r[round * 4 + i % 4]);
        a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d;
}

/* ---- SHA-256 ---- */

static const uint32_t sha_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (unsigned i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               (uint32_t)p[4 * i + 3];
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* ---- the common part ---- */

static void block(tiny_digest *d, const uint8_t *p)
{
    if (d->kind == HAAS_HASH_MD5)
        md5_block(d->h, p);
    else
        sha_block(d->h, p);
}

static void start(tiny_digest *d, haas_hash_kind kind)
{
    static const uint32_t md5_iv[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    static const uint32_t sha_iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                       0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    d->kind = (uint32_t)kind;
    for (unsigned i = 0; i < 8; i++)
        d->h[i] = kind == HAAS_HASH_MD5 ? (i < 4 ? md5_iv[i] : 0) : sha_iv[i];
    d->length = 0;
    d->fill = 0;
}

static void update(tiny_digest *d, const uint8_t *p, size_t len)
{
    d->length += len;
    while (len > 0) {
        if (d->fill == 0 && len >= 64) {
            block(d, p);
            p += 64, len -= 64;
            continue;
        }
        size_t n = 64u - d->fill < len ? 64u - d->fill : len;
        for (size_t i = 0; i < n; i++)
            d->block[d->fill + i] = p[i];
        d->fill += (uint32_t)n;
        p += n, len -= n;
        if (d->fill == 64) {
            block(d, d->block);
            d->fill = 0;
        }
    }
}

static void finish(tiny_digest *d, uint8_t *out)
{
    uint64_t bits = d->length * 8u;
    static const uint8_t pad = 0x80, zero = 0;
    uint8_t len[8];
    update(d, &pad, 1);
    while (d->fill != 56)
        update(d, &zero, 1);
    for (unsigned i = 0; i < 8; i++) /* MD5: little-endian length; SHA-256: big-endian */
        len[i] = (uint8_t)(bits >> (d->kind == HAAS_HASH_MD5 ? 8 * i : 56 - 8 * i));
    update(d, len, 8);
    unsigned words = d->kind == HAAS_HASH_MD5 ? 4 : 8;
    for (unsigned i = 0; i < words; i++)
        for (unsigned j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(d->kind == HAAS_HASH_MD5 ? d->h[i] >> (8 * j) : d->h[i] >> (24 - 8 * j));
}

int tiny_hash_init(void *ctx, haas_hash_state *st, haas_hash_kind kind)
{
    (void)ctx;
    if (kind != HAAS_HASH_MD5 && kind != HAAS_HASH_SHA256)
        return HAAS_PORT_ERR;
    start((tiny_digest *)(void *)st->bytes, kind);
    return 0;
}

void tiny_hash_update(void *ctx, haas_hash_state *st, const void *data, size_t len)
{
    (void)ctx;
    update((tiny_digest *)(void *)st->bytes, data, len);
}

void tiny_hash_final(void *ctx, haas_hash_state *st, uint8_t *digest)
{
    (void)ctx;
    finish((tiny_digest *)(void *)st->bytes, digest);
}

int tiny_hmac_sha256(void *ctx, const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32])
{
    (void)ctx;
    uint8_t k[64], pad[64], inner[32];
    tiny_digest d;
    for (unsigned i = 0; i < 64; i++)
        k[i] = 0;
    if (key_len > 64) {
        start(&d, HAAS_HASH_SHA256);
        update(&d, key, key_len);
        finish(&d, k);
    } else {
        for (size_t i = 0; i < key_len; i++)
            k[i] = ((const uint8_t *)key)[i];
    }
    for (unsigned i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36u;
    start(&d, HAAS_HASH_SHA256);
    update(&d, pad, 64);
    update(&d, data, len);
    finish(&d, inner);
    for (unsigned i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5cu;
    start(&d, HAAS_HASH_SHA256);
    update(&d, pad, 64);
    update(&d, inner, 32);
    finish(&d, out);
    return 0;
}
