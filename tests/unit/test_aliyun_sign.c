/*
 * test_aliyun_sign.c - unit tests of Alibaba Cloud's RPC signature version
 * 1 (server/src/aliyun_sign.c): percent-encoding as the SDKs do it, the
 * canonicalised query (sorted, Signature left out), the StringToSign, the
 * HMAC-SHA1 signature, timestamps and form decoding. The signatures were
 * worked out independently (Python hmac/base64); the first is Alibaba
 * Cloud's own documented example (ECS DescribeRegions, secret testsecret).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aliyun_sign.h"

static const aliyun_param documented[] = {
    {"Version", "2014-05-26"},
    {"Timestamp", "2016-02-23T12:46:24Z"},
    {"SignatureVersion", "1.0"},
    {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
    {"SignatureMethod", "HMAC-SHA1"},
    {"Format", "XML"},
    {"Signature", "left out"},
    {"Action", "DescribeRegions"},
    {"AccessKeyId", "testid"},
};
#define N_DOC (sizeof documented / sizeof documented[0])

static void test_percent_encode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(aliyun_percent_encode("a b*c~d+e/f", 11, out, sizeof out), 19);
    assert_string_equal(out, "a%20b%2Ac~d%2Be%2Ff");
    assert_int_equal(aliyun_percent_encode("\xe4\xb8\xad:=&", 6, out, sizeof out), 18);
    assert_string_equal(out, "%E4%B8%AD%3A%3D%26");
    assert_int_equal(aliyun_percent_encode("-_.~AZaz09", 10, out, sizeof out), 10);
    assert_int_equal(aliyun_percent_encode("   ", 3, out, 9), -1); /* 9 bytes + NUL do not fit */
}

static void test_documented_example(void **state)
{
    (void)state;
    char *text = aliyun_string_to_sign("GET", documented, N_DOC);
    assert_non_null(text);
    assert_string_equal(text, "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
                              "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
                              "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z"
                              "%26Version%3D2014-05-26");
    char sig[64];
    assert_true(aliyun_sign_text("testsecret", text, sig, sizeof sig));
    assert_string_equal(sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    free(text);
    assert_true(aliyun_signature_ok("testsecret", "GET", documented, N_DOC, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="));
    assert_false(aliyun_signature_ok("testsecreT", "GET", documented, N_DOC, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="));
    assert_false(aliyun_signature_ok("testsecret", "POST", documented, N_DOC, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="));
    assert_false(aliyun_signature_ok("testsecret", "GET", documented, N_DOC, "OLeaidS1JvxuMvnyHOwuJ+uX5qY"));
    assert_false(aliyun_signature_ok("testsecret", "GET", documented, N_DOC, NULL));
}

/* Values are encoded twice (once in the query, once as a whole): UTF-8, a
 * space, '*', '+' and '~'. */
static void test_special_values(void **state)
{
    (void)state;
    const aliyun_param p[] = {{"B", "a+b"}, {"A", "\xe4\xb8\xad *~"}};
    char *text = aliyun_string_to_sign("POST", p, 2);
    assert_string_equal(text, "POST&%2F&A%3D%25E4%25B8%25AD%2520%252A~%26B%3Da%252Bb");
    char sig[64];
    assert_true(aliyun_sign_text("k", text, sig, sizeof sig));
    assert_string_equal(sig, "DP2P5ZkggbaOWYW3VrUckoo5Vp0=");
    free(text);
}

static void test_timestamps(void **state)
{
    (void)state;
    long long t;
    assert_true(aliyun_parse_timestamp("2016-02-23T12:46:24Z", &t));
    assert_int_equal(t, 1456231584);
    assert_true(aliyun_parse_timestamp("2016-02-23T12:46:24.123Z", &t));
    assert_int_equal(t, 1456231584);
    assert_false(aliyun_parse_timestamp("2016-02-23 12:46:24Z", &t));
    assert_false(aliyun_parse_timestamp("2016-02-23T12:46:24", &t));
    assert_false(aliyun_parse_timestamp("2016-02-23T12:46:24+08:00", &t));
    assert_false(aliyun_parse_timestamp("2016-13-23T12:46:24Z", &t));
    assert_false(aliyun_parse_timestamp("2016-02-23T12:46:24.Z", &t));
    assert_false(aliyun_parse_timestamp("", &t));
    assert_false(aliyun_parse_timestamp(NULL, &t));
}

static void test_form_decode(void **state)
{
    (void)state;
    char a[] = "a+b%2Ac%e4%B8%ad";
    assert_true(aliyun_form_decode(a));
    assert_string_equal(a, "a b*c\xe4\xb8\xad");
    char b[] = "bad%2";
    assert_false(aliyun_form_decode(b));
    char c[] = "bad%zz";
    assert_false(aliyun_form_decode(c));
    char d[] = "nul%00";
    assert_false(aliyun_form_decode(d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_encode),
        cmocka_unit_test(test_documented_example),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_form_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
