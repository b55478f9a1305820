/*
 * test_server_units.c - unit tests of haas-emu's pure functions: identifier
 * formats and version order (identifiers.c), OSS V1 URL signing and checking
 * (oss_url.c), the ring of timeline events (timeline.c). The HTTP-level
 * behaviour is covered by tests/integration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "oss_url.h"
#include "identifiers.h"
#include "timeline.h"
#include "json_text.h"

#include <stdio.h>
#include <stdlib.h>

#define RESOURCE "/haas-emu/8800100099990000/python9000-8800100099990000-0.0.2.tar.gz"
/* Computed independently (Python hmac/base64) for secret "test-secret". */
#define VECTOR_SIG "B4T86RnmI9ZjRZgxj7HRYuya9ns="

static const oss_signer signer = {"LTAIkey", "test-secret", "haas-emu", "http://127.0.0.1:8080"};

static void test_identifier_formats(void **state)
{
    (void)state;
    assert_true(valid_product_key("a14Xib5kdYd"));
    assert_false(valid_product_key("a14Xib5kdY"));
    assert_false(valid_product_key("a14Xib5kdYd1"));
    assert_false(valid_product_key("a14Xib5kd-d"));
    assert_true(valid_device_name("light1983432"));
    assert_true(valid_device_name("a_b@c.d:e-f"));
    assert_false(valid_device_name("abc"));
    assert_false(valid_device_name("has space"));
    assert_false(valid_device_name("123456789012345678901234567890123"));
    assert_true(valid_app_name("python9000"));
    assert_true(valid_app_name("abcdefghijklmnop"));
    assert_false(valid_app_name("abcdefghijklmnopq"));
    assert_false(valid_app_name(""));
    assert_false(valid_app_name("py_9000"));
    assert_true(valid_app_id("8800100099990000"));
    assert_false(valid_app_id("8800200099990000"));
    assert_false(valid_app_id("880010009999000"));
    assert_false(valid_app_id("88001000999900001"));
    assert_false(valid_app_id("880010009999000x"));
    assert_true(valid_display_name("测试分组", 64));
    assert_false(valid_display_name("a\tb", 64));
    assert_false(valid_display_name("\xff\xfe", 64));
    assert_false(valid_display_name("\xe6\xb5", 64)); /* truncated UTF-8 */
    assert_false(valid_display_name("", 64));
    assert_false(valid_display_name("abcde", 4));
    assert_false(valid_product_key(NULL));
}

/* valid_utf8: well-formed UTF-8 only (the Unicode standard's table 3-7). */
static void test_utf8_strictly(void **state)
{
    (void)state;
    const char *good[] = {"", "abc", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf" /* U+D7FF */,
                          "\xee\x80\x80" /* U+E000 */, "\xef\xbf\xbf", "\xf0\x90\x80\x80",
                          "\xf4\x8f\xbf\xbf" /* U+10FFFF */, "\xe6\xb5\x8b\xe8\xaf\x95"};
    const char *bad[] = {"\x80", "\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf",
                         "\xed\xa0\x80" /* U+D800 */, "\xed\xbf\xbf" /* U+DFFF */, "\xf0\x80\x80\xaf",
                         "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xe6\xb5",
                         "a\xe6", "\xc2", "\xe6\x41\x41"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(valid_utf8(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(valid_utf8(bad[i], strlen(bad[i])));
    assert_int_equal(utf8_valid_prefix("ab\xed\xa0\x80", 5), 2);
    assert_false(valid_utf8(NULL, 0));
    assert_false(valid_display_name("a\xed\xa0\x80" "b", 64)); /* an encoded surrogate */
}

static void test_version_parse_and_order(void **state)
{
    (void)state;
    long a[3], b[3];
    assert_true(version_parse("0.0.10", a));
    assert_int_equal(a[2], 10);
    assert_true(version_parse("0.0.9", b));
    assert_true(version_compare(a, b) > 0);
    assert_true(version_compare(b, a) < 0);
    assert_true(version_parse("1.02.3", a));
    assert_true(version_parse("1.2.3", b));
    assert_int_equal(version_compare(a, b), 0);
    assert_true(version_parse("999999999.0.0", a));
    const char *bad[] = {"", "1", "1.2", "1.2.3.4", "1..3", ".1.2", "1.2.", "a.b.c", "1.2.3a",
                         "-1.2.3", "+1.2.3", "1000000000.0.0", " 1.2.3", "1.2.3 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(version_parse(bad[i], a));
}

static void test_package_file_names(void **state)
{
    (void)state;
    char name[17], id[17], ver[32];
    assert_null(package_filename_parse("python9000-8800100099990000-0.0.2.tar.gz", name, id, ver));
    assert_string_equal(name, "python9000");
    assert_string_equal(id, "8800100099990000");
    assert_string_equal(ver, "0.0.2");
    assert_string_equal(package_filename_parse("python9000-8800100099990000-0.0.2.tgz", name, id, ver), "InvalidFileName");
    assert_string_equal(package_filename_parse("python9000-8800100099990000.tar.gz", name, id, ver), "InvalidFileName");
    assert_string_equal(package_filename_parse("a-b-c-d.tar.gz", name, id, ver), "InvalidFileName");
    assert_string_equal(package_filename_parse(".tar.gz", name, id, ver), "InvalidFileName");
    assert_string_equal(package_filename_parse("py_9000-8800100099990000-0.0.2.tar.gz", name, id, ver), "InvalidAppName");
    assert_string_equal(package_filename_parse("python90001234567890-8800100099990000-0.0.2.tar.gz", name, id, ver), "InvalidAppName");
    assert_string_equal(package_filename_parse("python9000-8800200099990000-0.0.2.tar.gz", name, id, ver), "InvalidAppId");
    assert_string_equal(package_filename_parse("python9000-8800100099990000-0.2.tar.gz", name, id, ver), "InvalidVersion");
    assert_string_equal(package_filename_parse("python9000-8800100099990000-0.0.12345678901234567890123456789012.tar.gz",
                                               name, id, ver), "InvalidVersion");
}

static void test_oss_signature_vector(void **state)
{
    (void)state;
    char sig[64];
    oss_signature("test-secret", 1700000000, RESOURCE, sig, sizeof sig);
    assert_string_equal(sig, VECTOR_SIG);
    char url[1024];
    assert_int_equal(oss_sign_url(&signer, "8800100099990000/python9000-8800100099990000-0.0.2.tar.gz", 1700000000,
                                  url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:8080" RESOURCE
                             "?Expires=1700000000&OSSAccessKeyId=LTAIkey&Signature=B4T86RnmI9ZjRZgxj7HRYuya9ns%3D");
    assert_int_equal(oss_sign_url(&signer, "x", 1, url, 20), -1); /* too small: refused, not cut */
}

/* The signing context is kept keyed between signatures: another secret
 * keys it again, and the first one signs as before after it. The other
 * secret's signature is computed here with OpenSSL's one-shot HMAC(). */
static void test_oss_signature_secret_changes(void **state)
{
    (void)state;
    static const char content[] = "GET\n\n\n1700000000\n" RESOURCE;
    unsigned char mac[EVP_MAX_MD_SIZE], b64[64];
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha1(), "another-secret", 14, (const unsigned char *)content, strlen(content), mac, &len));
    EVP_EncodeBlock(b64, mac, (int)len);
    for (int round = 0; round < 3; round++) {
        char sig[64];
        oss_signature("another-secret", 1700000000, RESOURCE, sig, sizeof sig);
        assert_string_equal(sig, (const char *)b64);
        oss_signature("test-secret", 1700000000, RESOURCE, sig, sizeof sig);
        assert_string_equal(sig, VECTOR_SIG);
        oss_signature("test-secret", 1700000000, RESOURCE, sig, sizeof sig); /* same key: only reset */
        assert_string_equal(sig, VECTOR_SIG);
    }
}

static void test_oss_check(void **state)
{
    (void)state;
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", "LTAIkey", VECTOR_SIG, 1699999999), OSS_OK);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", "LTAIkey", VECTOR_SIG, 1700000000), OSS_OK);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", "LTAIkey", VECTOR_SIG, 1700000001), OSS_EXPIRED);
    /* '+' decoded to ' ' by a sloppy client still matches */
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000003", "LTAIkey", "/To+3LX3RmDoOakWNNixgySJ1hE=", 0), OSS_OK);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000003", "LTAIkey", "/To 3LX3RmDoOakWNNixgySJ1hE=", 0), OSS_OK);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000001", "LTAIkey", VECTOR_SIG, 0), OSS_BAD_SIGNATURE);
    assert_int_equal(oss_check(&signer, "/haas-emu/other", "1700000000", "LTAIkey", VECTOR_SIG, 0), OSS_BAD_SIGNATURE);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", "LTAIkey", "short", 0), OSS_BAD_SIGNATURE);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", "LTAIother", VECTOR_SIG, 0), OSS_BAD_KEY_ID);
    assert_int_equal(oss_check(&signer, RESOURCE, "17e8", "LTAIkey", VECTOR_SIG, 0), OSS_BAD_EXPIRES);
    assert_int_equal(oss_check(&signer, RESOURCE, "-5", "LTAIkey", VECTOR_SIG, 0), OSS_BAD_EXPIRES);
    assert_int_equal(oss_check(&signer, RESOURCE, NULL, "LTAIkey", VECTOR_SIG, 0), OSS_MISSING);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", NULL, VECTOR_SIG, 0), OSS_MISSING);
    assert_int_equal(oss_check(&signer, RESOURCE, "1700000000", "LTAIkey", NULL, 0), OSS_MISSING);
    assert_string_equal(oss_check_code(OSS_EXPIRED), "AccessDenied");
    assert_string_equal(oss_check_code(OSS_BAD_SIGNATURE), "SignatureDoesNotMatch");
    assert_string_equal(oss_check_code(OSS_BAD_KEY_ID), "InvalidAccessKeyId");
    assert_string_equal(oss_check_message(OSS_EXPIRED), "Request has expired.");
}

/* The one event of the timeline that is for device dn, as JSON text (the
 * caller frees it), or NULL. */
static char *event_of(const char *dn)
{
    cJSON *list = timeline_json(NULL, "a14Xib5kdYd", dn);
    char *text = cJSON_GetArraySize(list) == 1 ? cJSON_PrintUnformatted(cJSON_GetArrayItem(list, 0)) : NULL;
    cJSON_Delete(list);
    return text;
}

static void test_timeline_ring(void **state)
{
    (void)state;
    char big[2000], topic[600], dn[40], *text;
    /* a detail longer than 1 KiB is cut (and kept as text: no longer JSON) */
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 1] = '\0';
    timeline_add("download", "T1", "a14Xib5kdYd", "cut", big);
    assert_non_null(text = event_of("cut"));
    cJSON *e = cJSON_Parse(text);
    assert_int_equal(strlen(cJSON_GetObjectItem(e, "detail")->valuestring), 1023);
    cJSON_Delete(e);
    free(text);
    /* a message keeps its topic up to 400 bytes and its payload up to 600 */
    memset(topic, 't', sizeof topic);
    topic[sizeof topic - 1] = '\0';
    memset(big, 'p', sizeof big);
    timeline_add_message("in", "result", "T1", "a14Xib5kdYd", "long", topic, big, sizeof big);
    assert_non_null(text = event_of("long"));
    e = cJSON_Parse(text);
    cJSON *detail = cJSON_GetObjectItem(e, "detail");
    assert_int_equal(strlen(cJSON_GetObjectItem(detail, "topic")->valuestring), TIMELINE_TOPIC_MAX);
    assert_int_equal(strlen(cJSON_GetObjectItem(detail, "payload")->valuestring), TIMELINE_PAYLOAD_MAX);
    assert_string_equal(cJSON_GetObjectItem(detail, "direction")->valuestring, "in");
    assert_string_equal(cJSON_GetObjectItem(e, "kind")->valuestring, "mqtt");
    cJSON_Delete(e);
    free(text);
    timeline_add_message("out", "push", "", "a14Xib5kdYd", "short", "/a/b", "{\"id\":1}", 8);
    assert_non_null(text = event_of("short"));
    assert_non_null(strstr(text, "\"topic\":\"/a/b\",\"payload\":\"{\\\"id\\\":1}\""));
    free(text);
    /* the ring keeps the newest TIMELINE_CAPACITY events, oldest first */
    for (int i = 0; i < TIMELINE_CAPACITY + 10; i++) {
        snprintf(dn, sizeof dn, "dev-%d", i);
        timeline_add_message("in", "status", "", "a14Xib5kdYd", dn, "/as/mqtt/status", "{}", 2);
    }
    assert_null(event_of("short")); /* replaced */
    assert_null(event_of("dev-9"));
    assert_non_null(text = event_of("dev-10"));
    free(text);
    cJSON *all = timeline_json(NULL, NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(all), TIMELINE_CAPACITY);
    double first = cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "seq")->valuedouble;
    double last = cJSON_GetObjectItem(cJSON_GetArrayItem(all, TIMELINE_CAPACITY - 1), "seq")->valuedouble;
    assert_true(last - first == TIMELINE_CAPACITY - 1);
    cJSON_Delete(all);
    timeline_free();
}

/* json_text_array_items: what each element's text is, joined by '|'. */
typedef struct {
    char text[256];
    size_t used;
} items_seen;

static void note_item(const char *item, size_t len, void *ctx)
{
    items_seen *seen = ctx;
    int n = snprintf(seen->text + seen->used, sizeof seen->text - seen->used, "%s%.*s", seen->used ? "|" : "",
                     (int)len, item);
    assert_true(n > 0 && (size_t)n < sizeof seen->text - seen->used);
    seen->used += (size_t)n;
}

static void test_json_array_items(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int count;
        const char *items; /* the elements passed on, joined by '|' */
    } cases[] = {
        {"[]", 0, ""},
        {" \n[ ]\t", 0, ""},
        {"[{\"a\":1}]", 1, "{\"a\":1}"},
        {" [ {\"a\":1} , {\"b\":\"x,]}\"} ] \r\n", 2, "{\"a\":1}|{\"b\":\"x,]}\"}"},
        {"[1, null, \"x\", []]", 4, "1|null|\"x\"|[]"},
        {"[{\"s\":\"q\\\"],\"}]", 1, "{\"s\":\"q\\\"],\"}"},
        {"[\"a\\\\\",\"b\"]", 2, "\"a\\\\\"|\"b\""},
        {"[[1,[2,3]],{\"a\":[4,{\"b\":5}]}]", 2, "[1,[2,3]]|{\"a\":[4,{\"b\":5}]}"},
        {"[}]", 1, "}"}, /* not checked: an element is what lies between the commas */
        /* not one array: nothing, or what came before the fault */
        {"", -1, ""},
        {"   ", -1, ""},
        {"{", -1, ""},
        {"{\"a\":[1]}", -1, ""},
        {"x[1]", -1, ""},
        {"[", -1, ""},
        {"[,]", -1, ""},
        {"[1,,2]", -1, "1"},
        {"[1,]", -1, "1"},
        {"[{\"a\":1},{\"b\":", -1, "{\"a\":1}"},
        {"[\"abc", -1, ""},
        {"[\"ab\\", -1, ""},
        {"[1] x", -1, "1"},
        {"[1][2]", -1, "1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        items_seen seen = {"", 0};
        int n = json_text_array_items(cases[i].text, strlen(cases[i].text), note_item, &seen);
        if (n != cases[i].count || strcmp(seen.text, cases[i].items))
            fail_msg("%s: %d elements \"%s\", expected %d \"%s\"", cases[i].text, n, seen.text, cases[i].count,
                     cases[i].items);
    }
    /* the length bounds the text: no reading past it, even without a NUL */
    char cut[] = {'[', '1', ',', '"', 'a'};
    items_seen seen = {"", 0};
    assert_int_equal(json_text_array_items(cut, sizeof cut, note_item, &seen), -1);
    assert_string_equal(seen.text, "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifier_formats),
        cmocka_unit_test(test_utf8_strictly),
        cmocka_unit_test(test_version_parse_and_order),
        cmocka_unit_test(test_package_file_names),
        cmocka_unit_test(test_oss_signature_vector),
        cmocka_unit_test(test_oss_signature_secret_changes),
        cmocka_unit_test(test_oss_check),
        cmocka_unit_test(test_timeline_ring),
        cmocka_unit_test(test_json_array_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
