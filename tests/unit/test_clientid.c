/*
 * test_clientid.c - cmocka unit tests of the haas_auth plugin's identity
 * modules: clientid.c (username and clientId parsing, incl. malformed
 * input), device_sign.c (the test vector of docs/protocol.md section 2 and
 * every sign method) and conn_track.c / status_msg.c / status_batch.c (lifecycle bookkeeping
 * keyed by identity).
 *
 * Built by `make unit-tests` (the sources: test_clientid_SRC in the
 * Makefile) as build/tests/test_clientid; run by tests/run.py test_clientid
 * (exit status non-zero on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientid.h"
#include "conn_track.h"
#include "device_sign.h"
#include "status_batch.h"
#include "status_msg.h"
#include "status_watch.h"

#define VEC_PK "a14Xib5kdYd"
#define VEC_DN "light1983432"
#define VEC_DS "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"
#define VEC_ID "SN1928339"
#define VEC_TS "1539421321846"

/* ---- username ---------------------------------------------------------- */

static void test_username_ok(void **state)
{
    (void)state;
    struct haas_device_id d;
    assert_true(haas_parse_username("light1983432&a14Xib5kdYd", &d));
    assert_string_equal(d.device_name, "light1983432");
    assert_string_equal(d.product_key, "a14Xib5kdYd");
    assert_true(haas_parse_username("a_b@c.d:e-f&PK345678901", &d));
    assert_string_equal(d.device_name, "a_b@c.d:e-f");
    /* dn of exactly 4 and 32 characters */
    assert_true(haas_parse_username("abcd&a14Xib5kdYd", &d));
    assert_true(haas_parse_username("abcdefghijklmnopqrstuvwxyz012345&a14Xib5kdYd", &d));
}

static void test_username_bad(void **state)
{
    (void)state;
    struct haas_device_id d;
    const char *bad[] = {
        "",
        "&",
        "light1983432",                /* no & */
        "light1983432&",               /* empty pk */
        "&a14Xib5kdYd",                /* empty dn */
        "abc&a14Xib5kdYd",             /* dn too short */
        "abcdefghijklmnopqrstuvwxyz0123456&a14Xib5kdYd", /* dn 33 chars */
        "light1983432&a14Xib5kdYd&x",  /* second & */
        "light 1983432&a14Xib5kdYd",   /* space */
        "light/1983432&a14Xib5kdYd",   /* slash */
        "light+#&a14Xib5kdYd",         /* wildcards */
        "light1983432&a14Xib5k_dYd",   /* _ not allowed in pk */
        "light1983432&a14Xib5kdYda14Xib5kdYda14Xib5kdYd", /* pk too long */
        "light1983432&a14Xib5kdY",     /* pk of 10: the API's rule (identifiers.h) */
        "light1983432&a14Xib5kdYdX",   /* pk of 12 */
        "a_b@c.d:e-f&PK1",             /* pk of 3 */
        "light\xc3\xa9" "1983&a14Xib5kdYd", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&d, 0x55, sizeof(d));
        if (haas_parse_username(bad[i], &d)) {
            fail_msg("accepted bad username #%zu \"%s\"", i, bad[i]);
        }
        assert_int_equal(d.device_name[0], 0);
        assert_int_equal(d.product_key[0], 0);
    }
    assert_false(haas_parse_username(NULL, &d));
    assert_false(haas_parse_username("light1983432&a14Xib5kdYd", NULL));

    /* very long input is bounded, not read past */
    char big[10000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[20] = '&';
    assert_false(haas_parse_username(big, &d));
}

/* ---- clientId ---------------------------------------------------------- */

static void test_clientid_link_sdk_c(void **state)
{
    (void)state;
    struct haas_client_id c;
    assert_true(haas_parse_client_id(
        "a14Xib5kdYd.light1983432|timestamp=2524608000000,_ss=1,_v=sdk-c-4.0.0,"
        "securemode=3,signmethod=hmacsha256,ext=3,|", &c));
    assert_string_equal(c.id, "a14Xib5kdYd.light1983432");
    assert_true(c.has_timestamp);
    assert_string_equal(c.timestamp, "2524608000000");
    assert_true(c.has_signmethod);
    assert_string_equal(c.signmethod, "hmacsha256");
    assert_true(c.has_securemode);
    assert_string_equal(c.securemode, "3");
}

static void test_clientid_nodejs(void **state)
{
    (void)state;
    struct haas_client_id c;
    assert_true(haas_parse_client_id(
        "a14Xib5kdYd&light1983432|securemode=3,signmethod=hmacsha1,timestamp=1700000000000,"
        "lan=NODEJS,_v=1.2.8|", &c));
    assert_string_equal(c.id, "a14Xib5kdYd&light1983432");
    assert_string_equal(c.timestamp, "1700000000000");
    assert_string_equal(c.signmethod, "hmacsha1");
}

static void test_clientid_generic_and_variants(void **state)
{
    (void)state;
    struct haas_client_id c;
    assert_true(haas_parse_client_id("SN1928339|securemode=3,signmethod=hmacsha1,timestamp=1539421321846|", &c));
    assert_string_equal(c.id, "SN1928339");
    assert_string_equal(c.timestamp, "1539421321846");

    /* no timestamp, no signmethod, empty list */
    assert_true(haas_parse_client_id("dev1||", &c));
    assert_string_equal(c.id, "dev1");
    assert_false(c.has_timestamp);
    assert_false(c.has_signmethod);
    assert_string_equal(c.timestamp, "");

    /* empty items, bare flags and unknown keys are ignored */
    assert_true(haas_parse_client_id("dev1|,,flag,foo=bar,,signmethod=HmacMD5,|", &c));
    assert_string_equal(c.signmethod, "HmacMD5");
    assert_false(c.has_timestamp);

    /* value may contain '=' */
    assert_true(haas_parse_client_id("dev1|x=a=b,timestamp=1=2|", &c));
    assert_string_equal(c.timestamp, "1=2");

    /* empty timestamp value still counts as present */
    assert_true(haas_parse_client_id("dev1|timestamp=|", &c));
    assert_true(c.has_timestamp);
    assert_string_equal(c.timestamp, "");
}

static void test_clientid_bad(void **state)
{
    (void)state;
    struct haas_client_id c;
    const char *bad[] = {
        "",
        "SN1928339",                            /* no | at all */
        "SN1928339|securemode=3",               /* no closing | */
        "|securemode=3|",                       /* empty id */
        "SN1928339|securemode=3|x",             /* text after closing | */
        "SN1928339|securemode=3||",             /* second closing | */
        "SN 1928339|securemode=3|",             /* space in id */
        "SN1928339|secure mode=3|",             /* space in key */
        "SN1928339|securemode=3 |",             /* space in value */
        "SN1928339|=3|",                        /* empty key */
        "SN1928339|se-cure=3|",                 /* bad key char */
        "SN1928339|timestamp=1,timestamp=2|",   /* duplicated known key */
        "SN1928339|signmethod=hmacsha1,signmethod=hmacmd5|",
        "SN1928339|securemode=3,securemode=2|",
        "SN\t1928339|x=1|",                     /* control char */
        "SN1928339|x=\x01|",
        "SN\xe4\xb8\xad|x=1|",                  /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&c, 0x55, sizeof(c));
        if (haas_parse_client_id(bad[i], &c)) {
            fail_msg("accepted bad clientId #%zu \"%s\"", i, bad[i]);
        }
        assert_int_equal(c.id[0], 0);
        assert_false(c.has_timestamp);
    }
    assert_false(haas_parse_client_id(NULL, &c));
    assert_false(haas_parse_client_id("a|b|", NULL));
}

static void test_clientid_bounds(void **state)
{
    (void)state;
    struct haas_client_id c;
    char buf[HAAS_CLIENTID_MAX * 4];

    /* id of exactly HAAS_ID_MAX is fine, one more is not */
    memset(buf, 'i', HAAS_ID_MAX);
    strcpy(buf + HAAS_ID_MAX, "||");
    assert_true(haas_parse_client_id(buf, &c));
    assert_int_equal(strlen(c.id), HAAS_ID_MAX);
    memset(buf, 'i', HAAS_ID_MAX + 1);
    strcpy(buf + HAAS_ID_MAX + 1, "||");
    assert_false(haas_parse_client_id(buf, &c));

    /* timestamp of HAAS_TIMESTAMP_MAX ok, longer refused */
    int n = snprintf(buf, sizeof(buf), "id|timestamp=");
    memset(buf + n, '7', HAAS_TIMESTAMP_MAX);
    strcpy(buf + n + HAAS_TIMESTAMP_MAX, "|");
    assert_true(haas_parse_client_id(buf, &c));
    memset(buf + n, '7', HAAS_TIMESTAMP_MAX + 1);
    strcpy(buf + n + HAAS_TIMESTAMP_MAX + 1, "|");
    assert_false(haas_parse_client_id(buf, &c));

    /* overlong signmethod / key / unknown value */
    n = snprintf(buf, sizeof(buf), "id|signmethod=");
    memset(buf + n, 'h', HAAS_SIGNMETHOD_MAX + 1);
    strcpy(buf + n + HAAS_SIGNMETHOD_MAX + 1, "|");
    assert_false(haas_parse_client_id(buf, &c));
    memset(buf, 0, sizeof(buf));
    buf[0] = 'i';
    buf[1] = '|';
    memset(buf + 2, 'k', HAAS_KEY_MAX + 1);
    strcat(buf, "=1|");
    assert_false(haas_parse_client_id(buf, &c));
    n = snprintf(buf, sizeof(buf), "id|x=");
    memset(buf + n, 'v', HAAS_VALUE_MAX + 1);
    strcpy(buf + n + HAAS_VALUE_MAX + 1, "|");
    assert_false(haas_parse_client_id(buf, &c));

    /* whole clientId longer than HAAS_CLIENTID_MAX, though each item is fine */
    n = snprintf(buf, sizeof(buf), "id|");
    while (n < HAAS_CLIENTID_MAX + 10) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "a=b,");
    }
    strcpy(buf + n, "|");
    assert_false(haas_parse_client_id(buf, &c));
}

/* ---- sign -------------------------------------------------------------- */

static void test_sign_method_names(void **state)
{
    (void)state;
    assert_int_equal(haas_sign_method_from_name("hmacsha1"), HAAS_SIGN_HMACSHA1);
    assert_int_equal(haas_sign_method_from_name("HMACSHA1"), HAAS_SIGN_HMACSHA1);
    assert_int_equal(haas_sign_method_from_name("hmacSha256"), HAAS_SIGN_HMACSHA256);
    assert_int_equal(haas_sign_method_from_name("hmacmd5"), HAAS_SIGN_HMACMD5);
    assert_int_equal(haas_sign_method_from_name("sha1"), HAAS_SIGN_UNKNOWN);
    assert_int_equal(haas_sign_method_from_name("hmacsha512"), HAAS_SIGN_UNKNOWN);
    assert_int_equal(haas_sign_method_from_name(""), HAAS_SIGN_UNKNOWN);
    assert_int_equal(haas_sign_method_from_name(NULL), HAAS_SIGN_UNKNOWN);
    assert_int_equal(HAAS_SIGN_DEFAULT, HAAS_SIGN_HMACSHA1);
}

static void test_sign_vectors(void **state)
{
    (void)state;
    char hex[HAAS_SIGN_HEX_MAX];
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       hex, sizeof(hex)), 40);
    assert_string_equal(hex, "b2488041f64f425016b467ee1c94959ebd592ad1");
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA256, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       hex, sizeof(hex)), 64);
    assert_string_equal(hex, "e6ad631b665206c0bf2efbe1b48ac4d84ff2a61fe89bac30065e17975a482c40");
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACMD5, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       hex, sizeof(hex)), 32);
    assert_string_equal(hex, "56e22c4a903e6035658c6694db63d57a");
    /* no timestamp: the "timestamp" part is left out */
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, NULL,
                                       hex, sizeof(hex)), 40);
    assert_string_equal(hex, "8d73dc7f16e2bfbbdb70cf37019602e2233d3d76");
}

static void test_sign_compute_errors(void **state)
{
    (void)state;
    char hex[HAAS_SIGN_HEX_MAX];
    char small[40]; /* one short for sha1 + NUL */
    assert_int_equal(haas_sign_compute(HAAS_SIGN_UNKNOWN, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       hex, sizeof(hex)), -1);
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, NULL, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       hex, sizeof(hex)), -1);
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       small, sizeof(small)), -1);
    char longsecret[HAAS_SECRET_MAX + 2];
    memset(longsecret, 's', sizeof(longsecret) - 1);
    longsecret[sizeof(longsecret) - 1] = '\0';
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, longsecret, VEC_ID, VEC_DN, VEC_PK,
                                       VEC_TS, hex, sizeof(hex)), -1);
    char longid[2000];
    memset(longid, 'i', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, VEC_DS, longid, VEC_DN, VEC_PK, VEC_TS,
                                       hex, sizeof(hex)), -1);
}

static void test_sign_verify(void **state)
{
    (void)state;
    assert_true(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                 "b2488041f64f425016b467ee1c94959ebd592ad1"));
    /* hex case does not matter: Link SDK C 4.x sends upper case */
    assert_true(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                 "B2488041F64F425016B467EE1C94959EBD592AD1"));
    assert_true(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                 "b2488041F64f425016B467ee1c94959ebd592aD1"));
    /* folding case is all: a non-hex letter still fails */
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                  "b2488041f64f425016b467ee1c94959ebd592adl"));
    /* one digit off, truncated, extended, empty, NULL */
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                  "b2488041f64f425016b467ee1c94959ebd592ad2"));
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                  "b2488041f64f425016b467ee1c94959ebd592ad"));
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                  "b2488041f64f425016b467ee1c94959ebd592ad10"));
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS, ""));
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS, NULL));
    /* right password, wrong method / timestamp / secret */
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA256, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                  "b2488041f64f425016b467ee1c94959ebd592ad1"));
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, NULL,
                                  "b2488041f64f425016b467ee1c94959ebd592ad1"));
    assert_false(haas_sign_verify(HAAS_SIGN_HMACSHA1, "x" VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                  "b2488041f64f425016b467ee1c94959ebd592ad1"));
}

/*
 * One signer reused across methods, secrets and contents (as the plugin
 * does for every login) gives what a fresh one gives; an empty secret is
 * a key of its own, not the previous call's key kept.
 */
static void test_signer_reuse(void **state)
{
    (void)state;
    struct haas_signer *s = haas_signer_new();
    assert_non_null(s);
    char hex[HAAS_SIGN_HEX_MAX];
    char fresh[HAAS_SIGN_HEX_MAX];
    for (int round = 0; round < 3; round++) {
        assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACSHA256, VEC_DS, VEC_ID, VEC_DN, VEC_PK,
                                             VEC_TS, hex, sizeof(hex)), 64);
        assert_string_equal(hex, "e6ad631b665206c0bf2efbe1b48ac4d84ff2a61fe89bac30065e17975a482c40");
        assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK,
                                             VEC_TS, hex, sizeof(hex)), 40);
        assert_string_equal(hex, "b2488041f64f425016b467ee1c94959ebd592ad1");
        assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACMD5, VEC_DS, VEC_ID, VEC_DN, VEC_PK,
                                             VEC_TS, hex, sizeof(hex)), 32);
        assert_string_equal(hex, "56e22c4a903e6035658c6694db63d57a");
        /* another secret, then the empty one: each its own key */
        assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACSHA1, "x" VEC_DS, VEC_ID, VEC_DN, VEC_PK,
                                             NULL, hex, sizeof(hex)), 40);
        assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, "x" VEC_DS, VEC_ID, VEC_DN, VEC_PK, NULL,
                                           fresh, sizeof(fresh)), 40);
        assert_string_equal(hex, fresh);
        assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACSHA1, "", VEC_ID, VEC_DN, VEC_PK, NULL,
                                             hex, sizeof(hex)), 40);
        assert_string_not_equal(hex, fresh);
        assert_int_equal(haas_sign_compute(HAAS_SIGN_HMACSHA1, "", VEC_ID, VEC_DN, VEC_PK, NULL,
                                           fresh, sizeof(fresh)), 40);
        assert_string_equal(hex, fresh);
        assert_true(haas_signer_verify(s, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                       "B2488041F64F425016B467EE1C94959EBD592AD1"));
        assert_false(haas_signer_verify(s, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                        "b2488041f64f425016b467ee1c94959ebd592ad"));
        assert_false(haas_signer_verify(s, HAAS_SIGN_UNKNOWN, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                        "b2488041f64f425016b467ee1c94959ebd592ad1"));
    }
    /* errors leave the signer usable */
    char small[40];
    assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                         small, sizeof(small)), -1);
    assert_int_equal(haas_signer_compute(s, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                         hex, sizeof(hex)), 40);
    assert_string_equal(hex, "b2488041f64f425016b467ee1c94959ebd592ad1");
    assert_int_equal(haas_signer_compute(NULL, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK,
                                         VEC_TS, hex, sizeof(hex)), -1);
    assert_false(haas_signer_verify(NULL, HAAS_SIGN_HMACSHA1, VEC_DS, VEC_ID, VEC_DN, VEC_PK, VEC_TS,
                                    "b2488041f64f425016b467ee1c94959ebd592ad1"));
    haas_signer_free(s);
    haas_signer_free(NULL);
}

/*
 * Link SDK C 4.1.0 (HaaS firmware): clientId with _ss=1, _conn, id = pk.dn,
 * the constant timestamp, and the password in UPPER-case hex. The expected
 * digests were computed with `openssl dgst -hmac` over
 * clientId<pk.dn>deviceName<dn>productKey<pk>timestamp2524608000000.
 */
static void test_sign_link_sdk_c_41(void **state)
{
    (void)state;
    static const char *cid_text =
        "a14Xib5kdYd.light1983432|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=3,"
        "signmethod=hmacsha256,ext=3,_conn=tcp_0|";
    static const struct {
        enum haas_sign_method method;
        const char *upper;
    } cases[] = {
        {HAAS_SIGN_HMACSHA256, "1F22E91857307EFC0C7B47BA8CCE8738FF1B9545F6EB2E5AD98C2BB9992FFC91"},
        {HAAS_SIGN_HMACSHA1, "1932BE2C9505F2B8A1704A6DA0F7CFE66E53088D"},
        {HAAS_SIGN_HMACMD5, "967A44E787E8072B8A5967D4DFC6105E"},
    };
    struct haas_client_id cid;
    assert_true(haas_parse_client_id(cid_text, &cid));
    assert_string_equal(cid.id, "a14Xib5kdYd.light1983432");
    assert_true(cid.auto_subscribe);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char lower[HAAS_SIGN_HEX_MAX];
        size_t n = strlen(cases[i].upper);
        for (size_t k = 0; k <= n; k++) {
            lower[k] = (char)tolower((unsigned char)cases[i].upper[k]);
        }
        assert_true(haas_sign_verify(cases[i].method, VEC_DS, cid.id, VEC_DN, VEC_PK, cid.timestamp,
                                     cases[i].upper));
        assert_true(haas_sign_verify(cases[i].method, VEC_DS, cid.id, VEC_DN, VEC_PK, cid.timestamp,
                                     lower));
        /* another device's secret, or another method's digest, fails */
        assert_false(haas_sign_verify(cases[i].method, "A" VEC_DS, cid.id, VEC_DN, VEC_PK,
                                      cid.timestamp, cases[i].upper));
        assert_false(haas_sign_verify(cases[(i + 1) % 3].method, VEC_DS, cid.id, VEC_DN, VEC_PK,
                                      cid.timestamp, cases[i].upper));
    }
}

/* `_ss` is read as the automatic-subscription flag; twice is malformed. */
static void test_clientid_auto_subscribe_flag(void **state)
{
    (void)state;
    struct haas_client_id c;
    assert_true(haas_parse_client_id("x.y|_ss=1|", &c));
    assert_true(c.has_ss);
    assert_true(c.auto_subscribe);
    assert_true(haas_parse_client_id("x.y|_ss=0,securemode=3|", &c));
    assert_true(c.has_ss);
    assert_false(c.auto_subscribe);
    assert_true(haas_parse_client_id("x.y|_ss=11|", &c));
    assert_false(c.auto_subscribe);
    assert_true(haas_parse_client_id("SN1|securemode=3,signmethod=hmacsha1|", &c));
    assert_false(c.has_ss);
    assert_false(c.auto_subscribe);
    assert_false(haas_parse_client_id("x.y|_ss=1,_ss=1|", &c));
}

static void test_secure_streq(void **state)
{
    (void)state;
    assert_true(haas_secure_streq("secret", "secret"));
    assert_true(haas_secure_streq("", ""));
    assert_false(haas_secure_streq("secret", "secreT"));
    assert_false(haas_secure_streq("secret", "secret2"));
    assert_false(haas_secure_streq("secret", ""));
    assert_false(haas_secure_streq(NULL, "x"));
    assert_false(haas_secure_streq("x", NULL));
    char big[HAAS_PASSWORD_MAX + 2];
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(haas_secure_streq(big, big));
}

/* ---- lifecycle bookkeeping -------------------------------------------- */

static void test_conn_track(void **state)
{
    (void)state;
    struct haas_conn_table *t = haas_conn_table_new(NULL);
    assert_non_null(t);
    struct haas_device_id a = {"a14Xib5kdYd", "dev1"};
    struct haas_device_id b = {"a14Xib5kdYd", "dev2"};
    int c1, c2, c3; /* stand-ins for struct mosquitto * */
    struct haas_device_id out;
    size_t left = 99;

    assert_int_equal(haas_conn_add(t, &c1, NULL, &a, NULL), 1);
    assert_int_equal(haas_conn_add(t, &c2, NULL, &b, NULL), 1);
    /* takeover: a second connection of dev1 before the first goes away */
    assert_int_equal(haas_conn_add(t, &c3, NULL, &a, NULL), 2);
    assert_int_equal(haas_conn_total(t), 3);
    assert_true(haas_conn_remove(t, &c1, &out, &left));
    assert_string_equal(out.device_name, "dev1");
    assert_int_equal(left, 1); /* still online */
    assert_int_equal(haas_conn_count(t, &a), 1);
    /* an unknown (never authenticated) client changes nothing */
    left = 99;
    assert_false(haas_conn_remove(t, &c1, &out, &left));
    assert_int_equal(left, 99);
    assert_true(haas_conn_remove(t, &c3, &out, &left));
    assert_int_equal(left, 0);
    assert_int_equal(haas_conn_count(t, &a), 0);
    assert_int_equal(haas_conn_count(t, &b), 1);
    assert_int_equal(haas_conn_add(t, NULL, NULL, &a, NULL), 0);
    haas_conn_table_free(t); /* frees the remaining record of dev2 */
    haas_conn_table_free(NULL);
}

static void test_conn_track_many(void **state)
{
    (void)state;
    struct haas_conn_table *t = haas_conn_table_new(NULL);
    assert_non_null(t);
    static char clients[5000];
    for (size_t i = 0; i < sizeof(clients); i++) {
        struct haas_device_id d = {"pk", ""};
        snprintf(d.device_name, sizeof(d.device_name), "dev%zu", i % 2500);
        assert_int_equal(haas_conn_add(t, &clients[i], NULL, &d, NULL), i < 2500 ? 1 : 2);
    }
    assert_int_equal(haas_conn_total(t), 5000);
    size_t zeros = 0;
    for (size_t i = 0; i < sizeof(clients); i++) {
        size_t left = 9;
        assert_true(haas_conn_remove(t, &clients[i], NULL, &left));
        zeros += left == 0;
    }
    assert_int_equal(zeros, 2500);
    assert_int_equal(haas_conn_total(t), 0);
    haas_conn_table_free(t);
}

/* haas_conn_each_status() visitor: counts the devices, sums their
 * lastTime and counts those online. */
struct status_sums {
    size_t devices, online;
    long long last_times;
};
static void sum_status(const struct haas_device_id *dev, const struct haas_status_event *ev, void *arg)
{
    struct status_sums *s = arg;
    assert_non_null(dev);
    s->devices++;
    s->online += ev->online;
    s->last_times += ev->last_time_ms;
}

static void test_conn_track_status(void **state)
{
    (void)state;
    struct haas_conn_table *t = haas_conn_table_new(NULL);
    struct haas_device_id a = {"a14Xib5kdYd", "dev1"};
    struct haas_device_id b = {"a14Xib5kdYd", "dev2"};
    int c1, c2;
    struct haas_status_event on = {.online = true, .time_ms = 5, .last_time_ms = 10, .client_ip = "127.0.0.1"};
    struct haas_status_event off = {.online = false, .time_ms = 6, .last_time_ms = 20, .client_ip = "::1"};
    struct status_sums s = {0, 0, 0};
    assert_int_equal(haas_conn_each_status(t, sum_status, &s), 0);

    /* an event of a device with a live connection, then of one without */
    assert_int_equal(haas_conn_add(t, &c1, NULL, &a, NULL), 1);
    assert_true(haas_conn_set_status(t, &a, &on));
    assert_true(haas_conn_set_status(t, &b, &off));
    assert_int_equal(haas_conn_count(t, &b), 0);
    assert_int_equal(haas_conn_each_status(t, sum_status, &s), 2);
    assert_int_equal(s.online, 1);
    assert_int_equal(s.last_times, 30);

    /* the last connection going keeps the device's event; a new one replaces it */
    size_t left = 9;
    assert_true(haas_conn_remove(t, &c1, NULL, &left));
    assert_int_equal(left, 0);
    assert_true(haas_conn_set_status(t, &a, &off));
    s = (struct status_sums){0, 0, 0};
    assert_int_equal(haas_conn_each_status(t, sum_status, &s), 2);
    assert_int_equal(s.online, 0);
    assert_int_equal(s.last_times, 40);
    /* and its connections are counted from 0 again */
    assert_int_equal(haas_conn_add(t, &c2, NULL, &a, NULL), 1);
    assert_true(haas_conn_remove(t, &c2, NULL, &left));
    assert_int_equal(left, 0);
    assert_int_equal(haas_conn_each_status(t, sum_status, &s), 2);

    /* a device without an event is not kept once its connection goes */
    struct haas_device_id c = {"a14Xib5kdYd", "dev3"};
    assert_int_equal(haas_conn_add(t, &c1, NULL, &c, NULL), 1);
    assert_true(haas_conn_remove(t, &c1, NULL, NULL));
    assert_int_equal(haas_conn_each_status(t, sum_status, &s), 2);

    assert_false(haas_conn_set_status(NULL, &a, &on));
    assert_false(haas_conn_set_status(t, NULL, &on));
    assert_false(haas_conn_set_status(t, &a, NULL));
    assert_int_equal(haas_conn_each_status(t, NULL, &s), 0);
    haas_conn_table_free(t); /* frees the two kept devices (ASan: no leak) */
}

/* The service account's lifecycle subscriptions (status_watch.h). */
static void test_status_watch(void **state)
{
    (void)state;
    struct haas_status_watch *w = haas_status_watch_new();
    assert_non_null(w);
    int link, user, user2; /* stand-ins for struct mosquitto * */
    assert_false(haas_status_watch_any(w));

    /* haas-emu's link: subscribes and unsubscribes at once */
    haas_status_watch_login(w, "haas-emu", &link, false);
    haas_status_watch_subscribed(w, "haas-emu", "/as/mqtt/statuses"); /* not a lifecycle filter */
    assert_false(haas_status_watch_any(w));
    haas_status_watch_subscribed(w, "haas-emu", "/as/mqtt/status/+/+");
    assert_true(haas_status_watch_any(w));
    haas_status_watch_unsubscribed(w, "haas-emu", "/as/mqtt/status/+/+");
    assert_false(haas_status_watch_any(w));

    /* a clean session ends with its connection; twice the same filter is one */
    haas_status_watch_login(w, "watcher", &user, true);
    haas_status_watch_subscribed(w, "watcher", "#");
    haas_status_watch_subscribed(w, "watcher", "#");
    haas_status_watch_subscribed(w, "watcher", "/as/mqtt/status/a1/+");
    assert_int_equal(haas_status_watch_count(w), 2);
    haas_status_watch_unsubscribed(w, "watcher", "/as/mqtt/status/+/+"); /* never subscribed */
    haas_status_watch_unsubscribed(w, "other", "#");                      /* someone else's */
    assert_int_equal(haas_status_watch_count(w), 2);
    haas_status_watch_logout(w, "watcher", &user, true);
    assert_false(haas_status_watch_any(w));

    /* a persistent session outlives its connection ... */
    haas_status_watch_login(w, "keeper", &user, false);
    haas_status_watch_subscribed(w, "keeper", "/as/mqtt/#");
    haas_status_watch_logout(w, "keeper", &user, false);
    assert_true(haas_status_watch_any(w));
    /* ... and a connection that never logged in changes nothing */
    haas_status_watch_logout(w, "keeper", &user2, true);
    assert_true(haas_status_watch_any(w));
    /* resumed, then ended by a clean start */
    haas_status_watch_login(w, "keeper", &user2, false);
    assert_true(haas_status_watch_any(w));
    haas_status_watch_login(w, "keeper", &user, true);
    assert_false(haas_status_watch_any(w));

    /* a takeover: the newer connection holds the subscriptions, so the
     * older one's disconnect (which mosquitto reports as clean) keeps them */
    haas_status_watch_subscribed(w, "keeper", "/as/mqtt/#");
    haas_status_watch_login(w, "keeper", &user2, false);
    haas_status_watch_logout(w, "keeper", &user, true);
    assert_true(haas_status_watch_any(w));
    haas_status_watch_logout(w, "keeper", &user2, true);
    assert_false(haas_status_watch_any(w));

    /* too many records: from then on someone may always listen */
    char id[32];
    for (int i = 0; i <= HAAS_STATUS_WATCH_MAX; i++) {
        snprintf(id, sizeof id, "w%d", i);
        haas_status_watch_subscribed(w, id, "#");
    }
    assert_int_equal(haas_status_watch_count(w), HAAS_STATUS_WATCH_MAX);
    for (int i = 0; i <= HAAS_STATUS_WATCH_MAX; i++) {
        snprintf(id, sizeof id, "w%d", i);
        haas_status_watch_unsubscribed(w, id, "#");
    }
    assert_int_equal(haas_status_watch_count(w), 0);
    assert_true(haas_status_watch_any(w));

    assert_true(haas_status_watch_filter("#"));
    assert_false(haas_status_watch_filter("/as/mqtt/statuses"));
    assert_true(haas_status_watch_filter("$share/g//as/mqtt/status/+/+"));
    assert_true(haas_status_watch_filter("$share/g/#"));
    assert_false(haas_status_watch_filter("$share/g//as/mqtt/statuses"));
    assert_false(haas_status_watch_filter("$share/g"));
    assert_true(haas_status_watch_shared("$share/g/#"));
    assert_false(haas_status_watch_shared("/as/mqtt/status/+/+"));
    assert_false(haas_status_watch_shared(NULL));
    assert_false(haas_status_watch_filter(NULL));
    haas_status_watch_subscribed(NULL, "x", "#");
    haas_status_watch_subscribed(w, NULL, "#");
    haas_status_watch_login(NULL, "x", &user, true);
    haas_status_watch_logout(w, NULL, &user, true);
    haas_status_watch_free(w);
    haas_status_watch_free(NULL);
}

/* Counts frees of attached data. */
static int freed_data;
static void count_free(void *data)
{
    (void)data;
    freed_data++;
}

/* haas_conn_each() visitor: sums the ints attached as data. */
static void sum_data(const void *client, void *data, void *arg)
{
    (void)client;
    *(int *)arg += *(int *)data;
}

static void test_conn_track_data(void **state)
{
    (void)state;
    struct haas_conn_table *t = haas_conn_table_new(count_free);
    struct haas_device_id a = {"a14Xib5kdYd", "dev1"};
    struct haas_device_id b = {"a14Xib5kdYd", "dev2"};
    int c1, c2, c3, c4;
    int d1 = 1, d2 = 10, d3 = 100, d4 = 1000;
    freed_data = 0;
    assert_int_equal(haas_conn_add(t, &c1, NULL, &a, &d1), 1);
    assert_int_equal(haas_conn_add(t, &c2, NULL, &a, &d2), 2);
    assert_int_equal(haas_conn_add(t, &c3, NULL, &b, &d3), 1);
    assert_int_equal(haas_conn_add(t, &c4, NULL, &a, NULL), 3);
    assert_ptr_equal(haas_conn_data(t, &c2), &d2);
    assert_null(haas_conn_data(t, &c4));
    assert_null(haas_conn_data(t, &d4)); /* unknown client */
    int sum = 0;
    struct haas_device_id none = {"a14Xib5kdYd", "nobody"};
    assert_int_equal(haas_conn_each(t, &none, sum_data, &sum), 0);
    /* only dev1's connections with data, dev2's are not visited */
    assert_true(haas_conn_remove(t, &c4, NULL, NULL));
    assert_int_equal(freed_data, 0); /* NULL data is not handed to free_data */
    assert_int_equal(haas_conn_each(t, &a, sum_data, &sum), 2);
    assert_int_equal(sum, 11);
    /* removing the middle of a device's list keeps the rest reachable */
    assert_int_equal(haas_conn_add(t, &c4, NULL, &a, &d4), 3);
    assert_true(haas_conn_remove(t, &c2, NULL, NULL));
    assert_int_equal(freed_data, 1);
    sum = 0;
    assert_int_equal(haas_conn_each(t, &a, sum_data, &sum), 2);
    assert_int_equal(sum, 1001);
    assert_int_equal(haas_conn_each(NULL, &a, sum_data, &sum), 0);
    haas_conn_table_free(t);
    assert_int_equal(freed_data, 4); /* d1, d3, d4 at the end */
}

/*
 * The tables grow past their first 1024 buckets (load factor 1): 50,000
 * connections of 20,000 devices, with client ids and data; every look-up
 * still answers right, removal after growth (every other connection) keeps
 * the counts, the owners and the data, and records added after it too.
 */
static void test_conn_track_grow(void **state)
{
    (void)state;
    enum { N = 50000, DEVS = 20000 };
    freed_data = 0;
    struct haas_conn_table *t = haas_conn_table_new(count_free);
    assert_non_null(t);
    size_t first = haas_conn_buckets(t);
    assert_int_equal(first, 1024);
    static char clients[N];
    static int data[N];
    char id[64];
    for (int i = 0; i < N; i++) {
        struct haas_device_id d = {"a14Xib5kdYd", ""};
        snprintf(d.device_name, sizeof(d.device_name), "dev%d", i % DEVS);
        snprintf(id, sizeof(id), "a14Xib5kdYd.dev%d|n=%d|", i % DEVS, i);
        data[i] = i;
        assert_int_equal(haas_conn_add(t, &clients[i], id, &d, &data[i]), (size_t)(i / DEVS + 1));
        if (i == 1024) {
            assert_true(haas_conn_buckets(t) > first); /* grew at 1025 records */
        }
    }
    assert_int_equal(haas_conn_total(t), N);
    assert_true(haas_conn_buckets(t) >= N);
    for (int i = 0; i < N; i++) {
        struct haas_device_id owner;
        snprintf(id, sizeof(id), "a14Xib5kdYd.dev%d|n=%d|", i % DEVS, i);
        assert_true(haas_conn_owner(t, id, &owner));
        char dn[HAAS_DN_MAX + 1];
        snprintf(dn, sizeof(dn), "dev%d", i % DEVS);
        assert_string_equal(owner.device_name, dn);
        assert_ptr_equal(haas_conn_data(t, &clients[i]), &data[i]);
    }
    /* removal after growth: every odd connection */
    for (int i = 1; i < N; i += 2) {
        struct haas_device_id out;
        size_t left = 99;
        assert_true(haas_conn_remove(t, &clients[i], &out, &left));
        assert_false(haas_conn_remove(t, &clients[i], NULL, NULL));
        /* dev k (odd k, as DEVS is even) had its connections at k, k+DEVS, k+2*DEVS (< N) */
        int k = i % DEVS;
        int total = (N - k + DEVS - 1) / DEVS;
        int gone = i / DEVS + 1;
        assert_int_equal(left, (size_t)(total - gone));
    }
    assert_int_equal(freed_data, N / 2);
    assert_int_equal(haas_conn_total(t), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "a14Xib5kdYd.dev%d|n=%d|", i % DEVS, i);
        bool live = i % 2 == 0;
        assert_int_equal(haas_conn_owner(t, id, NULL), live);
        assert_ptr_equal(haas_conn_data(t, &clients[i]), live ? &data[i] : NULL);
        struct haas_device_id d = {"a14Xib5kdYd", ""};
        snprintf(d.device_name, sizeof(d.device_name), "dev%d", i % DEVS);
        assert_int_equal(haas_conn_count(t, &d), live ? (size_t)((N - i % DEVS + DEVS - 1) / DEVS) : 0);
    }
    /* the odd ones back, under other ids */
    for (int i = 1; i < N; i += 2) {
        struct haas_device_id d = {"a14Xib5kdYd", ""};
        snprintf(d.device_name, sizeof(d.device_name), "dev%d", i % DEVS);
        snprintf(id, sizeof(id), "again%d", i);
        assert_true(haas_conn_add(t, &clients[i], id, &d, &data[i]) >= 1);
        assert_true(haas_conn_owner(t, id, NULL));
    }
    assert_int_equal(haas_conn_total(t), N);
    int sum = 0;
    struct haas_device_id d7 = {"a14Xib5kdYd", "dev7"};
    assert_int_equal(haas_conn_each(t, &d7, sum_data, &sum), 3);
    assert_int_equal(sum, 7 + 7 + DEVS + 7 + 2 * DEVS);
    haas_conn_table_free(t);
    assert_int_equal(freed_data, N / 2 + N);
}

static void test_refusal_json(void **state)
{
    (void)state;
    struct haas_device_id d = {"a14Xib5kdYd", "light1983432"};
    char json[HAAS_REFUSAL_JSON_MAX];
    int n = haas_refusal_json(json, sizeof(json), "WrongPassword", "wrong password", &d,
                              "pk.dn|\"x\"|", "127.0.0.1", 1700000000123LL);
    assert_true(n > 0);
    assert_string_equal(json, "{\"code\":\"WrongPassword\",\"reason\":\"wrong password\","
                              "\"productKey\":\"a14Xib5kdYd\",\"deviceName\":\"light1983432\","
                              "\"clientId\":\"pk.dn|\\\"x\\\"|\",\"clientIp\":\"127.0.0.1\","
                              "\"time\":1700000000123}");
    /* no device, no id, no address */
    n = haas_refusal_json(json, sizeof(json), "NoUsername", "no username", NULL, NULL, NULL, 1);
    assert_string_equal(json, "{\"code\":\"NoUsername\",\"reason\":\"no username\",\"productKey\":\"\","
                              "\"deviceName\":\"\",\"clientId\":\"\",\"clientIp\":\"\",\"time\":1}");
    /* a clientId full of control bytes is escaped and cut, never overflows */
    char id[600];
    memset(id, 1, sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    n = haas_refusal_json(json, sizeof(json), "X", "y", &d, id, id, 1);
    assert_true(n > 0 && (size_t)n < sizeof(json));
    assert_int_equal(haas_refusal_json(json, 10, "X", "y", &d, NULL, NULL, 1), -1);
    assert_int_equal(haas_refusal_json(NULL, 10, "X", "y", &d, NULL, NULL, 1), -1);
}

/* The lifecycle gathered for haas-emu: a JSON array of the objects in
 * their order, never past HAAS_STATUS_BATCH_MAX, empty again once taken. */
static void test_status_batch(void **state)
{
    (void)state;
    struct haas_status_batch b = HAAS_STATUS_BATCH_INIT;
    size_t len = 99;
    assert_null(haas_status_batch_take(&b, &len));
    assert_int_equal(len, 0);
    assert_int_equal(haas_status_batch_add(&b, "{\"a\":1}", 7), 0);
    assert_int_equal(haas_status_batch_add(&b, "{\"b\":2}", 7), 0);
    const char *text = haas_status_batch_take(&b, &len);
    assert_int_equal(len, 17);
    assert_memory_equal(text, "[{\"a\":1},{\"b\":2}]", 17);
    assert_null(haas_status_batch_take(&b, &len)); /* taken: empty */
    assert_int_equal(haas_status_batch_add(&b, "{}", 2), 0);
    text = haas_status_batch_take(&b, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(text, "[{}]", 4);

    /* full: the object that would pass the limit is refused, the others kept */
    static char obj[1000];
    memset(obj, 'x', sizeof obj);
    int added = 0;
    while (haas_status_batch_add(&b, obj, sizeof obj) == 0)
        added++;
    assert_int_equal(added, (HAAS_STATUS_BATCH_MAX - 1) / (sizeof obj + 1));
    text = haas_status_batch_take(&b, &len);
    assert_int_equal(len, 1 + (size_t)added * (sizeof obj + 1));
    assert_true(len <= HAAS_STATUS_BATCH_MAX);
    assert_int_equal(text[0], '[');
    assert_int_equal(text[len - 1], ']');
    assert_int_equal(text[1 + sizeof obj], ',');
    assert_int_equal(haas_status_batch_add(&b, obj, sizeof obj), 0); /* room again */

    /* an object that fits no message is refused even alone */
    haas_status_batch_free(&b);
    char *huge = malloc(HAAS_STATUS_BATCH_MAX);
    assert_non_null(huge);
    memset(huge, 'y', HAAS_STATUS_BATCH_MAX);
    assert_int_equal(haas_status_batch_add(&b, huge, HAAS_STATUS_BATCH_MAX - 1), -1);
    assert_null(haas_status_batch_take(&b, &len));
    assert_int_equal(haas_status_batch_add(&b, huge, HAAS_STATUS_BATCH_MAX - 2), 0); /* '[', it and ']' fit */
    assert_non_null(haas_status_batch_take(&b, &len));
    assert_int_equal(len, HAAS_STATUS_BATCH_MAX);
    free(huge);
    haas_status_batch_free(&b);
    haas_status_batch_free(&b); /* twice is fine */
}

static void test_status_msg(void **state)
{
    (void)state;
    struct haas_device_id d = {"a14Xib5kdYd", "light1983432"};
    char topic[HAAS_STATUS_TOPIC_MAX];
    char json[HAAS_STATUS_JSON_MAX];
    assert_int_equal(haas_status_topic(topic, sizeof(topic), &d), 40);
    assert_string_equal(topic, "/as/mqtt/status/a14Xib5kdYd/light1983432");
    assert_true(haas_status_json(json, sizeof(json), true, &d, 1700000000123LL, "127.0.0.1",
                                 1700000000124LL) > 0);
    assert_string_equal(json,
                        "{\"status\":\"online\",\"productKey\":\"a14Xib5kdYd\","
                        "\"deviceName\":\"light1983432\",\"time\":1700000000123,"
                        "\"clientIp\":\"127.0.0.1\",\"lastTime\":1700000000124}");
    assert_true(haas_status_json(json, sizeof(json), false, &d, 1, "a\"b\\c\n", 2) > 0);
    assert_non_null(strstr(json, "\"status\":\"offline\""));
    assert_non_null(strstr(json, "\"clientIp\":\"a\\\"b\\\\c\\u000a\""));
    assert_true(haas_status_json(json, sizeof(json), false, &d, 1, NULL, 2) > 0);
    assert_non_null(strstr(json, "\"clientIp\":\"\""));
    assert_int_equal(haas_status_json(json, 20, true, &d, 1, "x", 2), -1);
    assert_int_equal(haas_status_topic(topic, 10, &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_username_ok),
        cmocka_unit_test(test_username_bad),
        cmocka_unit_test(test_clientid_link_sdk_c),
        cmocka_unit_test(test_clientid_nodejs),
        cmocka_unit_test(test_clientid_generic_and_variants),
        cmocka_unit_test(test_clientid_bad),
        cmocka_unit_test(test_clientid_bounds),
        cmocka_unit_test(test_sign_method_names),
        cmocka_unit_test(test_sign_vectors),
        cmocka_unit_test(test_sign_compute_errors),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_signer_reuse),
        cmocka_unit_test(test_sign_link_sdk_c_41),
        cmocka_unit_test(test_clientid_auto_subscribe_flag),
        cmocka_unit_test(test_secure_streq),
        cmocka_unit_test(test_conn_track),
        cmocka_unit_test(test_conn_track_many),
        cmocka_unit_test(test_conn_track_data),
        cmocka_unit_test(test_conn_track_status),
        cmocka_unit_test(test_status_watch),
        cmocka_unit_test(test_conn_track_grow),
        cmocka_unit_test(test_refusal_json),
        cmocka_unit_test(test_status_msg),
        cmocka_unit_test(test_status_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
