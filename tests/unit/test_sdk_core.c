/*
 * test_sdk_core.c - unit tests of the SDK's portable core: JSON scanning,
 * versions, credentials, parsing the push with the stock rules, building the
 * query and result events, UTF-8 and the manifest rules of the package rule
 * list (which haas-emu runs too). (The tar reader has its own test file; the
 * install flow is tested end to end with haas-device in tests/integration.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alink.h"
#include "haas_util.h"
#include "json_scan.h"
#include "manifest.h"

#define APP "8800100099990000"

static const char PUSH[] =
    "{\"id\":\"1657023114\",\"version\":\"1.0\",\"method\":\"thing.service.hli_service_upgrade_push\","
    "\"params\":{\"app\":[{\"size\":1269,\"appId\":\"8800100099990000\",\"rollingBack\":0,\"version\":\"0.0.2\","
    "\"url\":\"http://127.0.0.1:8080/haas-emu/x.tar.gz?Expires=1&OSSAccessKeyId=k&Signature=a%2Bb\","
    "\"md5\":\"8366bb1b8ad9766335b733b226ad178c\",\"needRestart\":0}],\"appUpdateCount\":1,\"errorCode\":\"200\","
    "\"needUpdateFirmware\":0,\"haasTraceId\":\"0bc1747b16546803930783531e538d\"}}";

/* HMAC through OpenSSL: the same job the POSIX port does. */
static int hmac_sha256(void *ctx, const void *key, size_t klen, const void *data, size_t len, uint8_t out[32])
{
    (void)ctx;
    unsigned int n = 32;
    return HMAC(EVP_sha256(), key, (int)klen, data, len, out, &n) ? 0 : -1;
}

static void test_json_valid(void **state)
{
    (void)state;
    const char *good[] = {"{}", "[]", " {\"a\" : [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]} ", "0", "\"s\""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(json_valid(good[i], strlen(good[i])));
    const char *bad[] = {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"",
                         "\"a\nb\"", "tru", "{} {}", "{\"a\":1}x", "\"\\u12G4\"", "[\"unterminated]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(json_valid(bad[i], strlen(bad[i])));
    /* objects without commas between them, as HaaS firmware sends device info */
    assert_false(json_valid("{\"a\":1}{\"b\":2}", 14));
    /* the nesting limit */
    char deep[64];
    memset(deep, '[', 40);
    assert_false(json_valid(deep, 40));
    char ok[40];
    memset(ok, '[', 10);
    memset(ok + 10, ']', 10);
    assert_true(json_valid(ok, 20));
    memset(ok, '[', 18);
    memset(ok + 18, ']', 18);
    assert_false(json_valid(ok, 36));
}

static void test_json_find(void **state)
{
    (void)state;
    char s[1100];
    int64_t v;
    assert_true(json_get_string(PUSH, strlen(PUSH), "params.app[0].version", s, sizeof s));
    assert_string_equal(s, "0.0.2");
    assert_true(json_get_int(PUSH, strlen(PUSH), "params.app[0].size", &v));
    assert_int_equal(v, 1269);
    assert_true(json_get_string(PUSH, strlen(PUSH), "params.errorCode", s, sizeof s));
    assert_string_equal(s, "200");
    assert_false(json_get_string(PUSH, strlen(PUSH), "params.app[1].version", s, sizeof s));
    assert_false(json_get_string(PUSH, strlen(PUSH), "params.nothing", s, sizeof s));
    assert_false(json_get_int(PUSH, strlen(PUSH), "params.errorCode", &v)); /* a string, not a number */
    assert_false(json_get_string(PUSH, strlen(PUSH), "params.app[0].version", s, 5)); /* does not fit */
    const char *esc = "{\"k\":\"a\\\"b\\\\c\\/d\\u00e9\\ud83d\\ude00\"}";
    assert_true(json_get_string(esc, strlen(esc), "k", s, sizeof s));
    assert_string_equal(s, "a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80");
    const char *nul = "{\"k\":\"a\\u0000b\"}";
    assert_false(json_get_string(nul, strlen(nul), "k", s, sizeof s));
    const char *nums = "{\"a\":-12,\"b\":1.5,\"c\":99999999999999999999}";
    assert_true(json_get_int(nums, strlen(nums), "a", &v));
    assert_int_equal(v, -12);
    assert_false(json_get_int(nums, strlen(nums), "b", &v));
    assert_false(json_get_int(nums, strlen(nums), "c", &v));
}

static void test_versions(void **state)
{
    (void)state;
    alink_version a, b;
    assert_true(alink_version_parse("0.0.10", &a));
    assert_true(alink_version_parse("0.0.9", &b));
    assert_true(alink_version_compare(&a, &b) > 0);
    assert_true(alink_version_parse("1.02.3", &a));
    assert_true(alink_version_parse("1.2.3", &b));
    assert_int_equal(alink_version_compare(&a, &b), 0);
    const char *bad[] = {"", "1.2", "1.2.3.4", "a.b.c", "1..2", "1.2.3 ", "1234567890.0.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(alink_version_parse(bad[i], &a));
}

static void test_credentials(void **state)
{
    (void)state;
    haas_port port = {0};
    port.hmac_sha256 = hmac_sha256;
    char cid[160], user[80], pw[65];
    assert_int_equal(alink_credentials(&port, "a14Xib5kdYd", "light1983432", "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq",
                                       cid, user, pw), 0);
    assert_string_equal(cid, "a14Xib5kdYd.light1983432|timestamp=2524608000000,_ss=1,_v=sdk-c-4.0.0,securemode=3,"
                             "signmethod=hmacsha256,ext=3,|");
    assert_string_equal(user, "light1983432&a14Xib5kdYd");
    /* computed independently with Python's hmac */
    assert_string_equal(pw, "1f22e91857307efc0c7b47ba8cce8738ff1b9545f6eb2e5ad98c2bb9992ffc91");
}

/* PUSH with one substring replaced. */
static const char *variant(const char *from, const char *to)
{
    static char buf[2048];
    const char *at = strstr(PUSH, from);
    assert_non_null(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - PUSH), PUSH, to, at + strlen(from));
    return buf;
}

static void test_push_rules(void **state)
{
    (void)state;
    alink_push p;
    assert_int_equal(alink_parse_push(PUSH, strlen(PUSH), APP, "0.0.1", &p), ALINK_PUSH_OK);
    assert_string_equal(p.msg_id, "1657023114");
    assert_string_equal(p.version, "0.0.2");
    assert_int_equal(p.size, 1269);
    assert_string_equal(p.md5, "8366bb1b8ad9766335b733b226ad178c");
    assert_true(strstr(p.url, "Signature=a%2Bb") != NULL);
    /* unknown installed version: any well-formed version is newer */
    assert_int_equal(alink_parse_push(PUSH, strlen(PUSH), APP, "", &p), ALINK_PUSH_OK);
    struct {
        const char *from, *to;
        alink_push_verdict want;
    } cases[] = {
        {"\"errorCode\":\"200\"", "\"errorCode\":200", ALINK_PUSH_ERROR_CODE},
        {"\"errorCode\":\"200\"", "\"errorCode\":\"404\"", ALINK_PUSH_ERROR_CODE},
        {"\"errorCode\":\"200\",", "", ALINK_PUSH_MALFORMED},
        {"\"rollingBack\":0", "\"rollingBack\":1", ALINK_PUSH_ROLLING_BACK},
        {"\"rollingBack\":0", "\"rollingBack\":\"0\"", ALINK_PUSH_MALFORMED},
        {"\"appId\":\"8800100099990000\"", "\"appId\":\"8800100099990001\"", ALINK_PUSH_OTHER_APP},
        {"\"version\":\"0.0.2\"", "\"version\":\"0.0.1\"", ALINK_PUSH_NOT_NEWER},
        {"\"version\":\"0.0.2\"", "\"version\":\"0.0.0\"", ALINK_PUSH_NOT_NEWER},
        {"\"version\":\"0.0.2\"", "\"version\":\"0.2\"", ALINK_PUSH_BAD_VERSION},
        {"\"md5\":\"8366bb1b8ad9766335b733b226ad178c\"", "\"md5\":\"xyz\"", ALINK_PUSH_MALFORMED},
        {"\"size\":1269", "\"size\":-1", ALINK_PUSH_MALFORMED},
        {"http://127.0.0.1:8080/", "ftp://127.0.0.1:8080/", ALINK_PUSH_BAD_URL},
        {"http://127.0.0.1:8080/", "http://127.0.0.1:8080x/", ALINK_PUSH_BAD_URL},
        {"http://127.0.0.1:8080/", "http://:8080/", ALINK_PUSH_BAD_URL},
        {"http://127.0.0.1:8080/", "http://127.0.0.1:8080/a b", ALINK_PUSH_BAD_URL},
        {"{\"id\"", "{{\"id\"", ALINK_PUSH_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *doc = variant(cases[i].from, cases[i].to);
        assert_int_equal(alink_parse_push(doc, strlen(doc), APP, "0.0.1", &p), cases[i].want);
        assert_non_null(alink_push_verdict_text(cases[i].want));
    }
    /* 0.0.10 is newer than 0.0.9: numeric, not textual */
    const char *ten = variant("\"version\":\"0.0.2\"", "\"version\":\"0.0.10\"");
    assert_int_equal(alink_parse_push(ten, strlen(ten), APP, "0.0.9", &p), ALINK_PUSH_OK);
    /* truncated input never reads past its length */
    for (size_t n = 0; n < strlen(PUSH); n += 7)
        assert_int_not_equal(alink_parse_push(PUSH, n, APP, "0.0.1", &p), ALINK_PUSH_OK);
}

static void test_events(void **state)
{
    (void)state;
    char buf[1024], s[256];
    int64_t v;
    size_t n = alink_build_query(buf, sizeof buf, 7, APP, "0.0.1", "1.0.0");
    assert_true(n > 0 && json_valid(buf, n));
    assert_true(json_get_int(buf, n, "id", &v) && v == 7);
    assert_true(json_get_string(buf, n, "params.app[0].appId", s, sizeof s));
    assert_string_equal(s, APP);
    assert_true(json_get_string(buf, n, "params.app[0].version", s, sizeof s));
    assert_string_equal(s, "0.0.1");
    assert_true(json_get_string(buf, n, "params.firmwareVersion", s, sizeof s));
    assert_string_equal(s, "1.0.0");

    n = alink_build_result(buf, sizeof buf, 8, 405, APP, "0.0.2", "0.0.1");
    assert_true(n > 0 && json_valid(buf, n));
    assert_true(json_get_int(buf, n, "params.argInt", &v) && v == 405);
    assert_true(json_get_string(buf, n, "params.eventName", s, sizeof s));
    assert_string_equal(s, "app.result");
    /* ext is JSON inside a string */
    assert_true(json_get_string(buf, n, "params.ext", s, sizeof s));
    assert_true(json_valid(s, strlen(s)));
    char inner[32];
    assert_true(json_get_string(s, strlen(s), "appNewVersion", inner, sizeof inner));
    assert_string_equal(inner, "0.0.2");
    assert_true(json_get_string(s, strlen(s), "appOldVersion", inner, sizeof inner));
    assert_string_equal(inner, "0.0.1");
    /* too small a buffer gives 0, not a cut message */
    assert_int_equal(alink_build_result(buf, 40, 8, 200, APP, "0.0.2", "0.0.1"), 0);
    assert_int_equal(alink_build_query(buf, 40, 8, APP, "0.0.2", "1"), 0);
}

/* 64-bit numbers without the C division and multiplication operators
 * (lx106's libgcc has no __udivdi3, __umoddi3, __muldi3 or __udivsi3). */
static void test_u64_without_division(void **state)
{
    (void)state;
    static const uint64_t values[] = {0, 9, 10, 65535, 65536, 655359, 4294967295u, 4294967296u,
                                      1000000000000000000u, 18446744073709551615u};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint64_t v = values[i];
        assert_int_equal(haas_u64_divmod10(&v), values[i] % 10);
        assert_true(v == values[i] / 10);
        char want[32], buf[32];
        snprintf(want, sizeof want, "%llu", (unsigned long long)values[i]);
        haas_sb sb;
        haas_sb_init(&sb, buf, sizeof buf);
        haas_sb_u64(&sb, values[i]);
        assert_string_equal(buf, want);
        uint64_t back = 0;
        assert_true(haas_parse_u64(want, strlen(want), &back));
        assert_true(back == values[i]);
    }
    uint64_t v = 0;
    assert_false(haas_parse_u64("18446744073709551616", 20, &v));
    assert_false(haas_parse_u64("99999999999999999999", 20, &v));
    assert_int_equal(haas_percent(0, 10), 0);
    assert_int_equal(haas_percent(9, 10), 90);
    assert_int_equal(haas_percent(10, 10), 100);
    assert_int_equal(haas_percent(1, 0), 0);
    assert_int_equal(haas_percent(1u << 24, (1u << 25) - 1), 50);
    assert_int_equal(haas_percent(3ull << 40, 4ull << 40), 75);
    assert_int_equal(haas_percent(1ull << 40, 1ull << 40), 100);
}

static void test_util(void **state)
{
    (void)state;
    char buf[8];
    haas_sb sb;
    haas_sb_init(&sb, buf, sizeof buf);
    haas_sb_str(&sb, "1234567");
    assert_true(sb.ok);
    haas_sb_str(&sb, "8");
    assert_false(sb.ok);
    assert_string_equal(buf, "1234567");
    haas_sb_init(&sb, buf, sizeof buf);
    haas_sb_i64(&sb, -42);
    assert_string_equal(buf, "-42");
    uint64_t u;
    assert_true(haas_parse_u64("18446744073709551615", 20, &u));
    assert_true(u == UINT64_MAX);
    assert_false(haas_parse_u64("18446744073709551616", 20, &u));
    assert_false(haas_parse_u64("", 0, &u));
    assert_int_equal(haas_strlcpy(buf, "abcdefghij", sizeof buf), 10);
    assert_string_equal(buf, "abcdefg");
}

static void test_utf8(void **state)
{
    (void)state;
    const char *good[] = {"", "plain.py", "caf\xc3\xa9.py", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80",
                          "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf" /* U+10FFFF */, "\xed\x9f\xbf" /* U+D7FF */};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(haas_utf8_valid((const uint8_t *)good[i], strlen(good[i])));
    const char *bad[] = {
        "caf\xe9.py",        /* Latin-1 */
        "\x80",              /* a continuation byte alone */
        "\xc3",              /* cut short */
        "\xe4\xb8",          /* cut short */
        "\xc0\xaf",          /* overlong "/" */
        "\xc1\xbf",          /* overlong */
        "\xe0\x80\xaf",      /* overlong "/" */
        "\xf0\x80\x80\xaf",  /* overlong "/" */
        "\xed\xa0\x80",      /* U+D800, a surrogate */
        "\xed\xbf\xbf",      /* U+DFFF */
        "\xf4\x90\x80\x80",  /* above U+10FFFF */
        "\xf5\x80\x80\x80",  /* never a start byte */
        "\xff",
        "a\xc3(b",           /* a start byte followed by ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(haas_utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
    /* the length counts, not a NUL */
    assert_true(haas_utf8_valid((const uint8_t *)"a\0b", 3));
    assert_false(haas_utf8_valid((const uint8_t *)"\xc3\xa9", 1));
}

static json_plain plain(const char *doc) { return json_plain_object(doc, strlen(doc)); }

static void test_json_plain_object(void **state)
{
    (void)state;
    const char *good[] = {
        "{}", " {\"a\":1} \n", "{\"appName\":\"python9000\",\"version\":\"0.0.2\",\"appid\":\"8800100099990000\"}",
        "{\"a\":{\"x\":1},\"b\":{\"x\":2},\"c\":[{\"x\":1},{\"x\":1}]}", /* equal keys in different objects */
        "{\"name\":\"\xe4\xb8\xad\xe6\x96\x87\",\"e\":\"\\u00e9\",\"emoji\":\"\\ud83d\\ude00\",\"q\":\"\\\"\\\\\\/\"}",
        "{\"ab\":1,\"a\":2,\"abc\":3,\"\":4}", /* prefixes are other keys */
        "{\"n\":[1,-2.5e3,true,false,null],\"deep\":[[[[\"x\"]]]]}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(plain(good[i]), JSON_PLAIN_OK);
    const struct {
        const char *doc;
        json_plain want;
    } bad[] = {
        {"", JSON_PLAIN_NOT_JSON},
        {"{\"a\":01}", JSON_PLAIN_NOT_JSON},
        {"{\"a\":1} {}", JSON_PLAIN_NOT_JSON},
        {"// c\n{}", JSON_PLAIN_NOT_JSON},
        {"\xef\xbb\xbf{}", JSON_PLAIN_NOT_JSON}, /* a byte-order mark */
        {"{\"a\":\"caf\xe9\"}", JSON_PLAIN_NOT_UTF8},
        {"[{\"a\":1}]", JSON_PLAIN_NOT_OBJECT},
        {"\"s\"", JSON_PLAIN_NOT_OBJECT},
        {"{\"version\":\"0.0.2\",\"version\":\"0.0.3\"}", JSON_PLAIN_DUPLICATE_KEY},
        {"{\"version\":\"0.0.2\",\"\\u0076ersion\":\"0.0.3\"}", JSON_PLAIN_DUPLICATE_KEY}, /* equal unescaped */
        {"{\"\\u00e9\":1,\"\xc3\xa9\":2}", JSON_PLAIN_DUPLICATE_KEY},
        {"{\"a\":1,\"b\":{\"c\":1,\"c\":2}}", JSON_PLAIN_DUPLICATE_KEY}, /* nested */
        {"{\"a\":[1,{\"c\":1,\"c\":2}]}", JSON_PLAIN_DUPLICATE_KEY},
        {"{\"version\":\"0.0.9\\u0000x\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"a\\nb\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"a\\tb\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"\\u001f\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"\\u007F\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"\x7f\"}", JSON_PLAIN_BAD_STRING}, /* raw DEL */
        {"{\"k\\b\":1}", JSON_PLAIN_BAD_STRING},     /* in a key */
        {"{\"v\":\"\\ud800\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"\\ud800x\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"\\ud800\\u0041\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":\"\\udc00\"}", JSON_PLAIN_BAD_STRING},
        {"{\"v\":[\"ok\",\"\\u0000\"]}", JSON_PLAIN_BAD_STRING},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_plain got = plain(bad[i].doc);
        if (got != bad[i].want)
            fail_msg("%s: %d, want %d", bad[i].doc, got, bad[i].want);
    }
    /* a NUL byte in the document is invalid JSON */
    assert_int_equal(json_plain_object("{\"a\":\"x\0\"}", 10), JSON_PLAIN_NOT_JSON);
    /* the length counts: a valid object cut short is not one */
    assert_int_equal(json_plain_object("{\"a\":1}", 6), JSON_PLAIN_NOT_JSON);
}

static void test_manifest_read(void **state)
{
    (void)state;
    manifest_fields m;
    const char *ok = " {\"version\":\"0.0.2\",\"appid\":\"8800100099990000\",\"appName\":\"python9000\",\"x\":[1]} ";
    assert_int_equal(manifest_read(ok, strlen(ok), &m), MANIFEST_OK);
    assert_string_equal(m.app_name, "python9000");
    assert_string_equal(m.appid, "8800100099990000");
    assert_string_equal(m.version, "0.0.2");
    const struct {
        const char *doc;
        manifest_result want;
    } bad[] = {
        {"{oops", MANIFEST_NOT_JSON},
        {"[]", MANIFEST_NOT_JSON},
        {"{\"appName\":\"p\",\"version\":\"0.0.2\",\"appid\":\"1\",\"version\":\"0.0.3\"}", MANIFEST_DUPLICATE_KEY},
        {"{\"appName\":\"p\",\"version\":\"0.0.9\\u0000x\",\"appid\":\"1\"}", MANIFEST_BAD_STRING},
        {"{\"version\":\"0.0.2\",\"appid\":\"1\"}", MANIFEST_NO_APP_NAME},
        {"{\"appName\":\"p\",\"version\":\"0.0.2\"}", MANIFEST_NO_APPID},
        {"{\"appName\":\"p\",\"appid\":\"1\"}", MANIFEST_NO_VERSION},
        {"{\"appName\":\"p\",\"appid\":\"1\",\"version\":2}", MANIFEST_NO_VERSION},
        {"{\"appName\":\"p\",\"appid\":\"12345678901234567890\",\"version\":\"0.0.2\"}", MANIFEST_NO_APPID},
        {"{\"appName\":\"12345678901234567890123456789012\",\"appid\":\"1\",\"version\":\"0.0.2\"}", MANIFEST_NO_APP_NAME},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        manifest_result got = manifest_read(bad[i].doc, strlen(bad[i].doc), &m);
        if (got != bad[i].want)
            fail_msg("%s: %d, want %d", bad[i].doc, got, bad[i].want);
        assert_true(strlen(manifest_result_text(got)) > 0);
    }
    /* MANIFEST_MAX bytes pass, one more does not */
    char big[MANIFEST_MAX + 2];
    int n = snprintf(big, sizeof big, "{\"appName\":\"p\",\"appid\":\"1\",\"version\":\"0.0.2\",\"pad\":\"");
    memset(big + n, 'x', MANIFEST_MAX - (size_t)n - 2);
    memcpy(big + MANIFEST_MAX - 2, "\"}", 2);
    assert_int_equal(manifest_read(big, MANIFEST_MAX, &m), MANIFEST_OK);
    memmove(big + n + 1, big + n, MANIFEST_MAX - (size_t)n);
    assert_int_equal(manifest_read(big, MANIFEST_MAX + 1, &m), MANIFEST_TOO_LARGE);
    assert_string_equal(manifest_result_text(MANIFEST_TOO_LARGE), "manifest.json is larger than 1536 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_valid), cmocka_unit_test(test_json_find), cmocka_unit_test(test_versions),
        cmocka_unit_test(test_credentials), cmocka_unit_test(test_push_rules), cmocka_unit_test(test_events),
        cmocka_unit_test(test_util), cmocka_unit_test(test_u64_without_division), cmocka_unit_test(test_utf8), cmocka_unit_test(test_json_plain_object),
        cmocka_unit_test(test_manifest_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
