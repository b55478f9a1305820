/*
 * test_ota_msg.c - unit tests of the standard firmware OTA messages of the
 * SDK (sdk/src/ota_msg.c): the upgrade push and firmware/get_reply parsed
 * with every verdict, the inform, progress and firmware/get payloads built
 * byte for byte as Link SDK C 4.x writes them, the topics, and the download
 * URL with the configured port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "private/ota_msg.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF"
#define MD5 "0123456789abcdef0123456789ABCDEF"
#define URL "https://127.0.0.1/haas-emu/fw/abc.bin?Expires=1&OSSAccessKeyId=k&Signature=s%3D"

static char doc[4096];

/* An upgrade message whose data is "{" fields "}". */
static const char *upgrade(const char *fields)
{
    snprintf(doc, sizeof doc, "{\"code\":\"1000\",\"data\":{%s},\"id\":1507707025,\"message\":\"success\"}", fields);
    return doc;
}

static ota_verdict parse(const char *fields, ota_task *t)
{
    const char *d = upgrade(fields);
    return ota_parse_upgrade(d, strlen(d), t);
}

#define GOOD_SIZE "\"size\":123456"
#define GOOD_VERSION "\"version\":\"1.0.1\""
#define GOOD_URL "\"url\":\"" URL "\""
#define GOOD_SIGN "\"sign\":\"" SHA "\",\"signMethod\":\"SHA256\""

static void test_parse_upgrade_ok(void **state)
{
    (void)state;
    ota_task t;
    assert_int_equal(parse(GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"md5\":\"" MD5 "\"," GOOD_SIGN
                                     ",\"module\":\"MCU\"",
                           &t),
                     OTA_MSG_OK);
    assert_int_equal(t.size, 123456);
    assert_string_equal(t.version, "1.0.1");
    assert_string_equal(t.url, "https://127.0.0.1/haas-emu/fw/abc.bin?Expires=1&OSSAccessKeyId=k&Signature=s%3D");
    assert_string_equal(t.md5, MD5);
    assert_string_equal(t.sign, SHA);
    assert_int_equal(t.sign_method, OTA_SIGN_SHA256);
    assert_string_equal(t.module, "MCU");

    /* no module: the default one; no md5: empty; Sha256 and Md5 spellings */
    assert_int_equal(parse(GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" SHA "\",\"signMethod\":\"Sha256\"",
                           &t),
                     OTA_MSG_OK);
    assert_string_equal(t.module, "default");
    assert_string_equal(t.md5, "");
    assert_int_equal(t.sign_method, OTA_SIGN_SHA256);
    assert_int_equal(parse(GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" MD5 "\",\"signMethod\":\"Md5\"", &t),
                     OTA_MSG_OK);
    assert_int_equal(t.sign_method, OTA_SIGN_MD5);
    /* size as a string of digits; an http URL; the code is not judged */
    assert_int_equal(parse("\"size\":\"42\"," GOOD_VERSION ",\"url\":\"http://h/x\"," GOOD_SIGN, &t), OTA_MSG_OK);
    assert_int_equal(t.size, 42);
    const char *other_code = "{\"code\":\"9999\",\"data\":{" GOOD_SIZE "," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN "}}";
    assert_int_equal(ota_parse_upgrade(other_code, strlen(other_code), &t), OTA_MSG_OK);
}

static void test_parse_upgrade_verdicts(void **state)
{
    (void)state;
    ota_task t;
    static const struct {
        const char *fields;
        ota_verdict want;
    } cases[] = {
        {"", OTA_MSG_EMPTY},
        {" \n\t ", OTA_MSG_EMPTY},
        {GOOD_VERSION "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_SIZE},
        {"\"size\":0," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_SIZE},
        {"\"size\":-5," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_SIZE},
        {"\"size\":1.5," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_SIZE},
        {"\"size\":\"12a\"," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_SIZE},
        {"\"size\":true," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_SIZE},
        {GOOD_SIZE "," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_VERSION},
        {GOOD_SIZE ",\"version\":\"\"," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_VERSION},
        {GOOD_SIZE ",\"version\":\"0123456789012345678901234567890123\"," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_VERSION},
        {GOOD_SIZE ",\"version\":101," GOOD_URL "," GOOD_SIGN, OTA_MSG_BAD_VERSION},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_SIGN, OTA_MSG_BAD_URL},
        {GOOD_SIZE "," GOOD_VERSION ",\"url\":\"ftp://h/x\"," GOOD_SIGN, OTA_MSG_BAD_URL},
        {GOOD_SIZE "," GOOD_VERSION ",\"url\":\"https://host-only\"," GOOD_SIGN, OTA_MSG_BAD_URL},
        {GOOD_SIZE "," GOOD_VERSION ",\"url\":\"https:///path\"," GOOD_SIGN, OTA_MSG_BAD_URL},
        {GOOD_SIZE "," GOOD_VERSION ",\"url\":\"https://\"," GOOD_SIGN, OTA_MSG_BAD_URL},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" SHA "\"", OTA_MSG_BAD_SIGN_METHOD},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" SHA "\",\"signMethod\":\"sha256\"",
         OTA_MSG_BAD_SIGN_METHOD},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" MD5 "\",\"signMethod\":\"MD5\"", OTA_MSG_BAD_SIGN_METHOD},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"signMethod\":\"SHA256\"", OTA_MSG_BAD_SIGN},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" MD5 "\",\"signMethod\":\"SHA256\"", OTA_MSG_BAD_SIGN},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"" SHA "\",\"signMethod\":\"Md5\"", OTA_MSG_BAD_SIGN},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL ",\"sign\":\"0123456789abcdef0123456789abcdeg\",\"signMethod\":\"Md5\"",
         OTA_MSG_BAD_SIGN},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN ",\"md5\":\"abc\"", OTA_MSG_BAD_MD5},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN ",\"md5\":5", OTA_MSG_BAD_MD5},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN ",\"module\":\"\"", OTA_MSG_BAD_MODULE},
        {GOOD_SIZE "," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN ",\"module\":7", OTA_MSG_BAD_MODULE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ota_verdict v = parse(cases[i].fields, &t);
        if (v != cases[i].want)
            fail_msg("case %zu {%s}: %d (%s), want %d", i, cases[i].fields, v, ota_verdict_text(v), cases[i].want);
    }

    /* a URL of OTA_URL_MAX bytes or more */
    char fields[1200];
    char longurl[OTA_URL_MAX + 1];
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "http://h/", 9);
    longurl[sizeof longurl - 1] = '\0';
    snprintf(fields, sizeof fields, GOOD_SIZE "," GOOD_VERSION ",\"url\":\"%s\"," GOOD_SIGN, longurl);
    assert_int_equal(parse(fields, &t), OTA_MSG_BAD_URL);
    longurl[OTA_URL_MAX - 1] = '\0'; /* 511 bytes: fits */
    snprintf(fields, sizeof fields, GOOD_SIZE "," GOOD_VERSION ",\"url\":\"%s\"," GOOD_SIGN, longurl);
    assert_int_equal(parse(fields, &t), OTA_MSG_OK);

    /* not JSON, no data, data not an object */
    static const char *const malformed[] = {"", "{", "{\"code\":\"1000\"}", "{\"data\":[]}", "{\"data\":\"x\"}",
                                            "{\"data\":{}", "[1,2]"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        assert_int_equal(ota_parse_upgrade(malformed[i], strlen(malformed[i]), &t), OTA_MSG_MALFORMED);
    assert_int_equal(ota_parse_upgrade(NULL, 0, &t), OTA_MSG_MALFORMED);
}

static void test_parse_get_reply(void **state)
{
    (void)state;
    ota_task t;
    const char *ok = "{\"code\":200,\"data\":{" GOOD_SIZE "," GOOD_VERSION "," GOOD_URL "," GOOD_SIGN
                     "},\"id\":2,\"message\":\"success\",\"method\":\"thing.ota.firmware.get\",\"version\":\"1.0\"}";
    assert_int_equal(ota_parse_get_reply(ok, strlen(ok), &t), OTA_MSG_OK);
    assert_string_equal(t.version, "1.0.1");
    const char *empty = "{\"code\":200,\"data\":{},\"id\":2,\"message\":\"success\"}";
    assert_int_equal(ota_parse_get_reply(empty, strlen(empty), &t), OTA_MSG_EMPTY);
    const char *string_code = "{\"code\":\"200\",\"data\":{}}";
    assert_int_equal(ota_parse_get_reply(string_code, strlen(string_code), &t), OTA_MSG_CODE);
    const char *error = "{\"code\":460,\"data\":{},\"message\":\"request parameter error\"}";
    assert_int_equal(ota_parse_get_reply(error, strlen(error), &t), OTA_MSG_CODE);
    const char *no_code = "{\"data\":{}}";
    assert_int_equal(ota_parse_get_reply(no_code, strlen(no_code), &t), OTA_MSG_CODE);
    const char *no_data = "{\"code\":200}";
    assert_int_equal(ota_parse_get_reply(no_data, strlen(no_data), &t), OTA_MSG_MALFORMED);
    assert_int_equal(ota_parse_get_reply("{x", 2, &t), OTA_MSG_MALFORMED);
    assert_int_equal(ota_parse_get_reply(NULL, 0, &t), OTA_MSG_MALFORMED);
}

static void test_verdict_texts(void **state)
{
    (void)state;
    for (int v = OTA_MSG_OK; v <= OTA_MSG_BAD_MODULE; v++) {
        const char *text = ota_verdict_text((ota_verdict)v);
        assert_non_null(text);
        assert_string_not_equal(text, "?");
        for (int w = OTA_MSG_OK; w < v; w++)
            assert_string_not_equal(text, ota_verdict_text((ota_verdict)w));
    }
    assert_string_equal(ota_verdict_text((ota_verdict)99), "?");
    assert_true(ota_module_is_default(NULL));
    assert_true(ota_module_is_default(""));
    assert_true(ota_module_is_default("default"));
    assert_false(ota_module_is_default("MCU"));
    assert_false(ota_module_is_default("Default"));
}

static void test_build_payloads(void **state)
{
    (void)state;
    char out[256];
    size_t n = ota_build_inform(out, sizeof out, 1, "1.0.1", NULL);
    assert_string_equal(out, "{\"id\":1, \"params\":{\"version\":\"1.0.1\"}}");
    assert_int_equal(n, strlen(out));
    ota_build_inform(out, sizeof out, 7, "1.0.1", "default");
    assert_string_equal(out, "{\"id\":7, \"params\":{\"version\":\"1.0.1\"}}");
    ota_build_inform(out, sizeof out, 4294967295u, "1.0.1", "MCU");
    assert_string_equal(out, "{\"id\":4294967295, \"params\":{\"version\":\"1.0.1\",\"module\":\"MCU\"}}");
    ota_build_inform(out, sizeof out, 2, "v\"1\\", NULL);
    assert_string_equal(out, "{\"id\":2, \"params\":{\"version\":\"v\\\"1\\\\\"}}");

    ota_build_progress(out, sizeof out, 3, 45, "", "default");
    assert_string_equal(out, "{\"id\":3, \"params\":{\"step\":\"45\",\"desc\":\"\",\"module\":\"default\"}}");
    ota_build_progress(out, sizeof out, 4, -4, "burn failed", "MCU");
    assert_string_equal(out, "{\"id\":4, \"params\":{\"step\":\"-4\",\"desc\":\"burn failed\",\"module\":\"MCU\"}}");
    ota_build_progress(out, sizeof out, 5, 100, NULL, "");
    assert_string_equal(out, "{\"id\":5, \"params\":{\"step\":\"100\",\"desc\":\"\"}}");
    ota_build_progress(out, sizeof out, 5, 0, "x", NULL);
    assert_string_equal(out, "{\"id\":5, \"params\":{\"step\":\"0\",\"desc\":\"x\"}}");
    assert_int_equal(ota_build_progress(out, sizeof out, 6, -5, "", NULL), 0);
    assert_int_equal(ota_build_progress(out, sizeof out, 6, 101, "", NULL), 0);

    ota_build_get(out, sizeof out, 8, NULL);
    assert_string_equal(out, "{\"id\":8, \"params\":{}}");
    ota_build_get(out, sizeof out, 8, "default");
    assert_string_equal(out, "{\"id\":8, \"params\":{}}");
    ota_build_get(out, sizeof out, 9, "MCU");
    assert_string_equal(out, "{\"id\":9, \"params\":{\"module\":\"MCU\"}}");

    /* too small: 0, never an overflow */
    char small[16];
    assert_int_equal(ota_build_inform(small, sizeof small, 1, "1.0.1", NULL), 0);
    assert_int_equal(ota_build_progress(small, sizeof small, 1, 10, "", NULL), 0);
    assert_int_equal(ota_build_get(small, 10, 1, NULL), 0);
}

static void test_topics(void **state)
{
    (void)state;
    char t[128];
    assert_true(ota_topic(t, sizeof t, OTA_TOPIC_INFORM, "a1PK", "dn1"));
    assert_string_equal(t, "/ota/device/inform/a1PK/dn1");
    assert_true(ota_topic(t, sizeof t, OTA_TOPIC_PROGRESS, "a1PK", "dn1"));
    assert_string_equal(t, "/ota/device/progress/a1PK/dn1");
    assert_true(ota_topic(t, sizeof t, OTA_TOPIC_UPGRADE, "a1PK", "dn1"));
    assert_string_equal(t, "/ota/device/upgrade/a1PK/dn1");
    assert_true(ota_topic(t, sizeof t, OTA_TOPIC_GET, "a1PK", "dn1"));
    assert_string_equal(t, "/sys/a1PK/dn1/thing/ota/firmware/get");
    assert_true(ota_topic(t, sizeof t, OTA_TOPIC_GET_REPLY, "a1PK", "dn1"));
    assert_string_equal(t, "/sys/a1PK/dn1/thing/ota/firmware/get_reply");
    assert_false(ota_topic(t, 20, OTA_TOPIC_GET_REPLY, "a1PK", "dn1"));
    assert_false(ota_topic(t, sizeof t, (ota_topic_kind)9, "a1PK", "dn1"));
}

static void test_url_with_port(void **state)
{
    (void)state;
    char out[OTA_URL_MAX + 8];
    assert_true(ota_url_with_port(out, sizeof out, "https://127.0.0.1/b/fw.bin?Expires=1", 0));
    assert_string_equal(out, "https://127.0.0.1:443/b/fw.bin?Expires=1");
    assert_true(ota_url_with_port(out, sizeof out, "http://127.0.0.1/b/fw.bin", 0));
    assert_string_equal(out, "http://127.0.0.1:80/b/fw.bin");
    assert_true(ota_url_with_port(out, sizeof out, "https://oss.example/b/x", 8443));
    assert_string_equal(out, "https://oss.example:8443/b/x");
    /* a port in the URL is not the device's: its own setting wins */
    assert_true(ota_url_with_port(out, sizeof out, "http://127.0.0.1:8080/b/x", 8081));
    assert_string_equal(out, "http://127.0.0.1:8081/b/x");
    assert_true(ota_url_with_port(out, sizeof out, "https://[::1]/b/x", 8443));
    assert_string_equal(out, "https://[::1]:8443/b/x");
    assert_true(ota_url_with_port(out, sizeof out, "https://[::1]:9/b/x", 0));
    assert_string_equal(out, "https://[::1]:443/b/x");
    /* refused */
    assert_false(ota_url_with_port(out, sizeof out, NULL, 0));
    assert_false(ota_url_with_port(out, sizeof out, "ftp://h/x", 0));
    assert_false(ota_url_with_port(out, sizeof out, "https://h", 0));
    assert_false(ota_url_with_port(out, sizeof out, "https://:80/x", 0));
    assert_false(ota_url_with_port(out, 20, "https://127.0.0.1/b/fw.bin", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_upgrade_ok),   cmocka_unit_test(test_parse_upgrade_verdicts),
        cmocka_unit_test(test_parse_get_reply),    cmocka_unit_test(test_verdict_texts),
        cmocka_unit_test(test_build_payloads),     cmocka_unit_test(test_topics),
        cmocka_unit_test(test_url_with_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
