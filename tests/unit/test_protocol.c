/*
 * test_protocol.c - unit tests of the protocol module (server/protocol/):
 * building and reading every topic, and the identifier rules the server
 * and the broker plugin now share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alink_envelope.h"
#include "clientid.h"
#include "identifiers.h"
#include "topics.h"

#define PK "a14Xib5kdYd"
#define DN "light1983432"

static void test_parse_kinds(void **state)
{
    (void)state;
    struct topic_parts t;
    assert_int_equal(topic_parse("/as/mqtt/status/" PK "/" DN, &t), TOPIC_STATUS);
    assert_string_equal(t.product_key, PK);
    assert_string_equal(t.device_name, DN);
    assert_string_equal(t.name, "");
    assert_int_equal(topic_parse(TOPIC_REFUSED, &t), TOPIC_REFUSED_LOGIN);
    assert_string_equal(t.product_key, "");
    assert_int_equal(topic_parse("/sys/" PK "/" DN "/thing/event/hli_event/post", &t), TOPIC_EVENT_POST);
    assert_string_equal(t.name, "hli_event");
    assert_string_equal(t.device_name, DN);
    assert_int_equal(topic_parse("/sys/" PK "/" DN "/thing/deviceinfo/update", &t), TOPIC_DEVICEINFO_UPDATE);
    assert_string_equal(t.name, "");
    assert_int_equal(topic_parse("/sys/" PK "/" DN "/thing/service/" SERVICE_UPGRADE_PUSH, &t), TOPIC_SERVICE);
    assert_string_equal(t.name, SERVICE_UPGRADE_PUSH);
    assert_int_equal(t.kind, TOPIC_SERVICE);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/", "sys/" PK "/" DN "/thing/event/x/post", "/sys/" PK "/" DN "/thing/event/x/post/",
        "/sys/" PK "/" DN "/thing/event//post", "/sys/" PK "/" DN "/thing/event/+/post",
        "/sys/" PK "/" DN "/thing/event/x/post_reply", "/sys/" PK "/" DN "/thing/deviceinfo/update_reply",
        "/sys/PK1/" DN "/thing/event/x/post", "/sys/" PK "/abc/thing/event/x/post",
        "/sys/" PK "/" DN "/other/event/x/post", "/as/mqtt/status/" PK, "/as/mqtt/status/" PK "/" DN "/x",
        "/as/mqtt/refused/x", "/a/b/c/d/e/f/g/h/i/j/k",
        "/sys/" PK "/" DN "/thing/event/"
        "x234567890123456789012345678901234567890123456789012345678901234x/post", /* 66-char name */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct topic_parts t;
        memset(&t, 0x55, sizeof t);
        if (topic_parse(bad[i], &t) != TOPIC_UNKNOWN)
            fail_msg("parsed: %s", bad[i]);
        assert_int_equal(t.product_key[0], 0);
        assert_int_equal(t.name[0], 0);
    }
    struct topic_parts t;
    assert_int_equal(topic_parse(NULL, &t), TOPIC_UNKNOWN);
}

static void test_build(void **state)
{
    (void)state;
    char buf[TOPIC_MAX];
    struct topic_parts t;
    assert_int_equal(topic_kick(buf, sizeof buf, PK, DN), 38);
    assert_string_equal(buf, "/as/mqtt/kick/" PK "/" DN);
    assert_int_equal(topic_parse(buf, &t), TOPIC_KICK);
    assert_string_equal(t.device_name, DN);
    assert_int_equal(topic_kick(buf, sizeof buf, PK, "a/b/c"), -1);
    assert_int_equal(topic_status(buf, sizeof buf, PK, DN), 40);
    assert_string_equal(buf, "/as/mqtt/status/" PK "/" DN);
    assert_true(topic_service(buf, sizeof buf, PK, DN, SERVICE_UPGRADE_PUSH) > 0);
    assert_string_equal(buf, "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push");
    /* what is built reads back as itself */
    assert_int_equal(topic_parse(buf, &t), TOPIC_SERVICE);
    assert_int_equal(topic_reply(buf, sizeof buf, "/sys/" PK "/" DN "/thing/event/x/post"), 54);
    assert_string_equal(buf, "/sys/" PK "/" DN "/thing/event/x/post_reply");
    /* never a topic with a smuggled level or wildcard, never past the buffer */
    assert_int_equal(topic_service(buf, sizeof buf, PK, DN, "a/b"), -1);
    assert_int_equal(topic_service(buf, sizeof buf, PK, DN, "#"), -1);
    assert_int_equal(topic_service(buf, sizeof buf, PK, DN, ""), -1);
    assert_int_equal(topic_service(buf, sizeof buf, PK, "ab/c", "x"), -1);
    assert_int_equal(topic_status(buf, sizeof buf, "PK1", DN), -1);
    assert_int_equal(topic_status(buf, 10, PK, DN), -1);
    assert_int_equal(topic_reply(buf, 5, "/long/topic"), -1);
    assert_int_equal(topic_reply(NULL, 5, "/x"), -1);
}

static void test_alink_method(void **state)
{
    (void)state;
    char m[100];
    assert_int_equal(topic_alink_method(m, sizeof m, "/sys/" PK "/" DN "/thing/event/property/post"), 25);
    assert_string_equal(m, "thing.event.property.post");
    assert_true(topic_alink_method(m, sizeof m, "/sys/" PK "/" DN "/thing/deviceinfo/update") > 0);
    assert_string_equal(m, "thing.deviceinfo.update");
    assert_int_equal(topic_alink_method(m, sizeof m, "/ota/device/inform/" PK "/" DN), -1);
    assert_int_equal(topic_alink_method(m, sizeof m, "/sys/" PK "/" DN), -1);
    assert_int_equal(topic_alink_method(m, 5, "/sys/" PK "/" DN "/thing/event/property/post"), -1);
}

static void test_subscriptions_parse(void **state)
{
    (void)state;
    /* each filter the server subscribes to, with its wildcards filled in,
     * is a topic the dispatcher knows */
    static const enum topic_kind want[] = {TOPIC_STATUS_BATCH, TOPIC_REFUSED_LOGIN, TOPIC_EVENT_POST,
                                           TOPIC_DEVICEINFO_UPDATE, TOPIC_OTA_INFORM, TOPIC_OTA_PROGRESS,
                                           TOPIC_OTA_REQUEST,  TOPIC_OTA_FIRMWARE_GET, TOPIC_RRPC_RESPONSE};
    size_t n = 0;
    for (; topic_server_subscriptions[n] && n < sizeof want / sizeof want[0]; n++) {
        char topic[TOPIC_MAX];
        size_t len = 0;
        int plus = 0;
        for (const char *p = topic_server_subscriptions[n]; *p && len + 40 < sizeof topic; p++) {
            if (*p == '+') {
                const char *fill = plus == 0 ? PK : plus == 1 ? DN : "property";
                plus++;
                len += (size_t)snprintf(topic + len, sizeof topic - len, "%s", fill);
            } else {
                topic[len++] = *p;
            }
        }
        topic[len] = '\0';
        struct topic_parts t;
        assert_int_equal(topic_parse(topic, &t), want[n]);
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    assert_null(topic_server_subscriptions[n]);
    /* the gathered lifecycle is that one topic; nothing of a device in it */
    struct topic_parts t;
    assert_int_equal(topic_parse(TOPIC_STATUSES, &t), TOPIC_STATUS_BATCH);
    assert_string_equal(t.product_key, "");
    assert_int_equal(topic_parse(TOPIC_STATUSES "/x", &t), TOPIC_UNKNOWN);
    assert_int_equal(topic_parse("/as/mqtt/status/" PK "/" DN, &t), TOPIC_STATUS);
}

/* Replies: the id echoed as it came, the method named, none for ack 0. */
static void test_alink_reply(void **state)
{
    (void)state;
    const char *topic = "/sys/" PK "/" DN "/thing/event/property/post";
    static const struct {
        const char *request;
        const char *reply; /* NULL: no reply */
    } cases[] = {
        {"{\"id\":\"7\",\"params\":{}}", "{\"id\":\"7\",\"code\":200,\"data\":{},\"message\":\"success\","
                                         "\"method\":\"thing.event.property.post\",\"version\":\"1.0\"}"},
        {"{\"id\":4294967295}", "{\"id\":4294967295,\"code\":200,\"data\":{},\"message\":\"success\","
                                 "\"method\":\"thing.event.property.post\",\"version\":\"1.0\"}"},
        {"{\"id\":\"8\",\"sys\":{\"ack\":1}}", "{\"id\":\"8\",\"code\":200,\"data\":{},\"message\":\"success\","
                                              "\"method\":\"thing.event.property.post\",\"version\":\"1.0\"}"},
        {"{\"id\":\"9\",\"sys\":{\"ack\":0}}", NULL},
        {"{\"params\":{}}", NULL},
        {"{\"id\":[1]}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *msg = cJSON_Parse(cases[i].request);
        assert_non_null(msg);
        char *text = alink_reply_text(topic, msg);
        if (cases[i].reply) {
            assert_non_null(text);
            assert_string_equal(text, cases[i].reply);
        } else {
            assert_null(text);
        }
        cJSON_free(text);
        cJSON_Delete(msg);
    }
    /* a topic outside /sys/ has no method: no reply */
    cJSON *msg = cJSON_Parse("{\"id\":\"1\"}");
    assert_null(alink_reply_text("/ota/device/inform/" PK "/" DN, msg));
    cJSON_Delete(msg);
}

/* The server and the plugin judge identifiers alike (one rule set). */
static void test_identifiers_agree(void **state)
{
    (void)state;
    static const char *const pks[] = {PK, "PK1", "a14Xib5kdY", "a14Xib5kdYdX", "a14Xib5k_Yd", ""};
    static const char *const dns[] = {DN, "abc", "abcd", "a_b@c.d:e-f", "abcdefghijklmnopqrstuvwxyz0123456",
                                      "dev/1", "dev+"};
    for (size_t i = 0; i < sizeof pks / sizeof pks[0]; i++) {
        for (size_t j = 0; j < sizeof dns / sizeof dns[0]; j++) {
            char user[128];
            snprintf(user, sizeof user, "%s&%s", dns[j], pks[i]);
            struct haas_device_id d;
            bool server = valid_product_key(pks[i]) && valid_device_name(dns[j]);
            if (haas_parse_username(user, &d) != server)
                fail_msg("plugin and server disagree on %s", user);
        }
    }
    assert_true(valid_device_secret("oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"));
    assert_false(valid_device_secret("oLyaKqVxtRvjH284LdhqVgVUx1UPy6z"));
    assert_false(valid_device_secret("oLyaKqVxtRvjH284LdhqVgVUx1UPy6z-"));
    assert_false(valid_device_secret(NULL));
}

/* The firmware OTA topics (docs/protocol.md section 12), read and built. */
static void test_ota_topics(void **state)
{
    (void)state;
    struct topic_parts t;
    assert_int_equal(topic_parse("/ota/device/inform/" PK "/" DN, &t), TOPIC_OTA_INFORM);
    assert_string_equal(t.device_name, DN);
    assert_int_equal(topic_parse("/ota/device/progress/" PK "/" DN, &t), TOPIC_OTA_PROGRESS);
    assert_int_equal(topic_parse("/ota/device/request/" PK "/" DN, &t), TOPIC_OTA_REQUEST);
    assert_int_equal(topic_parse("/sys/" PK "/" DN "/thing/ota/firmware/get", &t), TOPIC_OTA_FIRMWARE_GET);
    assert_string_equal(t.product_key, PK);
    static const char *const bad[] = {
        "/ota/device/upgrade/" PK "/" DN, "/ota/device/inform/" PK, "/ota/device/inform/" PK "/" DN "/x",
        "/ota/device/other/" PK "/" DN, "/ota/dev/inform/" PK "/" DN, "/ota/device/inform/PK1/" DN,
        "/sys/" PK "/" DN "/thing/ota/firmware/get_reply", "/sys/" PK "/" DN "/thing/ota/firmware",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (topic_parse(bad[i], &t) != TOPIC_UNKNOWN)
            fail_msg("parsed: %s", bad[i]);
    char buf[TOPIC_MAX];
    assert_int_equal(topic_ota_upgrade(buf, sizeof buf, PK, DN), 44);
    assert_string_equal(buf, "/ota/device/upgrade/" PK "/" DN);
    assert_int_equal(topic_ota_upgrade(buf, sizeof buf, PK, "a/b+"), -1);
    assert_int_equal(topic_ota_upgrade(buf, 20, PK, DN), -1);
    assert_true(valid_ota_word("default"));
    assert_true(valid_ota_word("V2.3_beta-1"));
    assert_false(valid_ota_word(""));
    assert_false(valid_ota_word("1 0"));
    assert_false(valid_ota_word("a/b"));
    assert_false(valid_ota_word(NULL));
    char longest[HAAS_OTA_WORD_MAX + 2];
    memset(longest, 'v', sizeof longest - 1);
    longest[HAAS_OTA_WORD_MAX + 1] = '\0';
    assert_false(valid_ota_word(longest));
    longest[HAAS_OTA_WORD_MAX] = '\0';
    assert_true(valid_ota_word(longest));
}

/* A reply with data: the firmware/get answer keeps the id as it came. */
static void test_alink_reply_with_data(void **state)
{
    (void)state;
    cJSON *msg = cJSON_Parse("{\"id\":12, \"params\":{}}");
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "version", "1.1.0");
    char *text = alink_reply_with_data("/sys/" PK "/" DN "/thing/ota/firmware/get", msg, data);
    assert_string_equal(text, "{\"id\":12,\"code\":200,\"data\":{\"version\":\"1.1.0\"},\"message\":\"success\","
                              "\"method\":\"thing.ota.firmware.get\",\"version\":\"1.0\"}");
    cJSON_free(text);
    /* no reply wanted: the data is freed all the same (ASan would tell) */
    assert_null(alink_reply_with_data("/ota/device/inform/" PK "/" DN, msg, cJSON_CreateObject()));
    assert_null(alink_reply_with_data("/sys/" PK "/" DN "/x", msg, NULL));
    cJSON_Delete(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_kinds),   cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_build),         cmocka_unit_test(test_alink_method),
        cmocka_unit_test(test_subscriptions_parse), cmocka_unit_test(test_identifiers_agree),
        cmocka_unit_test(test_alink_reply),   cmocka_unit_test(test_ota_topics),
        cmocka_unit_test(test_alink_reply_with_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
