/*
 * test_port_tiny.c - unit tests of the microcontroller port kit
 * (sdk/port/tiny): the small inflater against zlib (stored, fixed and
 * dynamic blocks, every compression level, input split at every size,
 * header fields, corrupt data, wrong CRC-32 and ISIZE, trailing bytes, a
 * sink that stops) and the digests against OpenSSL and published vectors.
 */
#define ZLIB_CONST
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "tiny_digest.h"
#include "tiny_inflate.h"

static tiny_inflate z;

typedef struct {
    uint8_t *p;
    size_t len, cap;
    long stop_after; /* the sink stops once this many bytes arrived; <0 never */
} sinkbuf;

static int sink(void *core, const uint8_t *data, size_t len)
{
    sinkbuf *s = core;
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->p = realloc(s->p, s->cap);
        assert_non_null(s->p);
    }
    memcpy(s->p + s->len, data, len);
    s->len += len;
    return s->stop_after >= 0 && (long)s->len >= s->stop_after;
}

/* gzip of in at level (strategy, header name/comment/extra/hcrc optional). */
static uint8_t *gzip(const uint8_t *in, size_t len, int level, int strategy, int fancy, size_t *out_len)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    assert_int_equal(deflateInit2(&s, level, Z_DEFLATED, 16 + MAX_WBITS, 8, strategy), Z_OK);
    gz_header head;
    memset(&head, 0, sizeof head);
    if (fancy) {
        static uint8_t extra[] = {'A', 'B', 3, 0, 1, 2, 3};
        head.name = (Bytef *)"package.tar";
        head.comment = (Bytef *)"a comment";
        head.extra = extra;
        head.extra_len = sizeof extra;
        head.hcrc = 1;
        assert_int_equal(deflateSetHeader(&s, &head), Z_OK);
    }
    size_t cap = deflateBound(&s, (uLong)len) + 256;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    s.next_in = in;
    s.avail_in = (uInt)len;
    s.next_out = out;
    s.avail_out = (uInt)cap;
    assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
    *out_len = cap - s.avail_out;
    deflateEnd(&s);
    return out;
}

/* Feeds gz in pieces of `piece` bytes; returns the last result. */
static int inflate_all(const uint8_t *gz, size_t len, size_t piece, sinkbuf *out)
{
    tiny_inflate_begin(&z);
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0;) {
        size_t n = len - off < piece ? len - off : piece;
        rc = tiny_inflate_feed(&z, gz + off, n, sink, out);
        off += n;
    }
    tiny_inflate_end(&z);
    return rc;
}

static uint8_t *sample(size_t len, unsigned seed, int kind)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    uint32_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        if (kind == 0)
            b[i] = (uint8_t)(x >> 16); /* noise: stored blocks */
        else if (kind == 1)
            b[i] = "print('hello')\n#abcdefgh"[(x >> 16) % 24]; /* text-like */
        else
            b[i] = (uint8_t)((i / 7) % 5 == 0 ? x >> 20 : 'a' + i % 3); /* long matches */
    }
    return b;
}

static void roundtrip(size_t len, int level, int strategy, int kind, int fancy)
{
    uint8_t *in = sample(len, (unsigned)(len * 31 + (size_t)level), kind);
    size_t gl;
    uint8_t *gz = gzip(in, len, level, strategy, fancy, &gl);
    static const size_t pieces[] = {1, 2, 3, 7, 64, 1000, 65536, 1 << 24};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        sinkbuf out = {NULL, 0, 0, -1};
        int rc = inflate_all(gz, gl, pieces[i], &out);
        assert_int_equal(rc, 1);
        assert_int_equal(out.len, len);
        assert_true(len == 0 || memcmp(out.p, in, len) == 0);
        free(out.p);
    }
    free(gz);
    free(in);
}

static void test_inflate_matches_zlib(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 5000, 40000, 200000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int kind = 0; kind < 3; kind++) {
            roundtrip(sizes[s], 0, Z_DEFAULT_STRATEGY, kind, 0); /* stored */
            roundtrip(sizes[s], 1, Z_FIXED, kind, 0);            /* fixed Huffman */
            roundtrip(sizes[s], 6, Z_DEFAULT_STRATEGY, kind, 0); /* dynamic */
            roundtrip(sizes[s], 9, Z_HUFFMAN_ONLY, kind, 0);
            roundtrip(sizes[s], 9, Z_RLE, kind, 1);
        }
}

static void test_inflate_header_fields(void **state)
{
    (void)state;
    roundtrip(3000, 6, Z_DEFAULT_STRATEGY, 1, 1); /* name, comment, extra, header CRC */
    uint8_t *in = sample(100, 1, 1);
    size_t gl;
    uint8_t *gz = gzip(in, 100, 6, Z_DEFAULT_STRATEGY, 1, &gl);
    /* the header CRC is checked: change a byte of the name */
    gz[12 + 7 + 2] ^= 1;
    sinkbuf out = {NULL, 0, 0, -1};
    assert_int_equal(inflate_all(gz, gl, 5, &out), HAAS_PORT_ERR);
    free(out.p);
    free(gz);
    /* not gzip; another method; reserved flags */
    gz = gzip(in, 100, 6, Z_DEFAULT_STRATEGY, 0, &gl);
    for (int i = 0; i < 3; i++) {
        uint8_t *bad = malloc(gl);
        memcpy(bad, gz, gl);
        if (i == 0)
            bad[1] = 0x8c;
        else if (i == 1)
            bad[2] = 7;
        else
            bad[3] |= 0x20;
        sinkbuf o = {NULL, 0, 0, -1};
        assert_int_equal(inflate_all(bad, gl, gl, &o), HAAS_PORT_ERR);
        free(o.p);
        free(bad);
    }
    free(gz);
    free(in);
}

static void test_inflate_refuses_bad_members(void **state)
{
    (void)state;
    uint8_t *in = sample(20000, 2, 1);
    size_t gl;
    uint8_t *gz = gzip(in, 20000, 6, Z_DEFAULT_STRATEGY, 0, &gl);
    uint8_t *bad = malloc(gl + 20);
    /* wrong CRC-32, wrong ISIZE */
    for (size_t at = gl - 8; at < gl; at += 4) {
        memcpy(bad, gz, gl);
        bad[at] ^= 0x40;
        sinkbuf o = {NULL, 0, 0, -1};
        assert_int_equal(inflate_all(bad, gl, 333, &o), HAAS_PORT_ERR);
        free(o.p);
    }
    /* a cut member wants more input; a byte after it is trailing, in the
     * same feed or in a later one */
    sinkbuf o = {NULL, 0, 0, -1};
    assert_int_equal(inflate_all(gz, gl - 1, 100, &o), 0);
    free(o.p);
    memcpy(bad, gz, gl);
    memcpy(bad + gl, gz, 20);
    o = (sinkbuf){NULL, 0, 0, -1};
    assert_int_equal(inflate_all(bad, gl + 1, gl + 1, &o), HAAS_PORT_ERR_TRAILING);
    free(o.p);
    o = (sinkbuf){NULL, 0, 0, -1};
    tiny_inflate_begin(&z);
    assert_int_equal(tiny_inflate_feed(&z, gz, gl, sink, &o), 1);
    assert_int_equal(tiny_inflate_feed(&z, NULL, 0, sink, &o), 1);
    assert_int_equal(tiny_inflate_feed(&z, gz, 1, sink, &o), HAAS_PORT_ERR_TRAILING);
    free(o.p);
    /* corrupt data in the middle: an error, never a success */
    for (size_t at = 20; at < gl - 8; at += 97) {
        memcpy(bad, gz, gl);
        bad[at] ^= 0x5a;
        o = (sinkbuf){NULL, 0, 0, -1};
        int rc = inflate_all(bad, gl, 512, &o);
        assert_true(rc == HAAS_PORT_ERR || rc == 0);
        free(o.p);
    }
    /* a sink that stops */
    o = (sinkbuf){NULL, 0, 0, 100};
    assert_int_equal(inflate_all(gz, gl, 64, &o), HAAS_PORT_ERR_ABORTED);
    free(o.p);
    /* after an error every feed fails until begin */
    assert_int_equal(tiny_inflate_feed(&z, gz, 10, sink, &o), HAAS_PORT_ERR);
    free(bad);
    free(gz);
    free(in);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_digests_match_openssl(void **state)
{
    (void)state;
    haas_hash_state st;
    uint8_t d[32], e[32];
    char h[65];
    /* published vectors */
    tiny_hash_init(NULL, &st, HAAS_HASH_MD5);
    tiny_hash_update(NULL, &st, "abc", 3);
    tiny_hash_final(NULL, &st, d);
    hex(d, 16, h);
    assert_string_equal(h, "900150983cd24fb0d6963f7d28e17f72");
    tiny_hash_init(NULL, &st, HAAS_HASH_SHA256);
    tiny_hash_update(NULL, &st, "abc", 3);
    tiny_hash_final(NULL, &st, d);
    hex(d, 32, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(tiny_hash_init(NULL, &st, (haas_hash_kind)7), HAAS_PORT_ERR);
    /* every length up to 300, in pieces */
    uint8_t *in = sample(301, 9, 0);
    for (size_t len = 0; len <= 300; len++) {
        for (int k = 0; k < 2; k++) {
            tiny_hash_init(NULL, &st, k ? HAAS_HASH_SHA256 : HAAS_HASH_MD5);
            for (size_t off = 0; off < len; off += 13)
                tiny_hash_update(NULL, &st, in + off, len - off < 13 ? len - off : 13);
            tiny_hash_final(NULL, &st, d);
            unsigned n = 0;
            EVP_Digest(in, len, e, &n, k ? EVP_sha256() : EVP_md5(), NULL);
            assert_memory_equal(d, e, n);
        }
        /* HMAC with keys shorter and longer than a block */
        unsigned n = 32;
        tiny_hmac_sha256(NULL, in, len % 100, in + 1, len, d);
        HMAC(EVP_sha256(), in, (int)(len % 100), in + 1, len, e, &n);
        assert_memory_equal(d, e, 32);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inflate_matches_zlib),
        cmocka_unit_test(test_inflate_header_fields),
        cmocka_unit_test(test_inflate_refuses_bad_members),
        cmocka_unit_test(test_digests_match_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
