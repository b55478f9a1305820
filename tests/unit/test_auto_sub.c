/*
 * test_auto_sub.c - unit tests of the automatic-subscription table and the
 * per-connection state (server/plugin/auto_sub.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auto_sub.h"

#define PK "a14Xib5kdYd"
#define DN "light1983432"

/* Every downstream family Link SDK C 4.x relies on maps to its device. */
static void test_table_topics(void **state)
{
    (void)state;
    static const char *const topics[] = {
        "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push",
        "/sys/" PK "/" DN "/thing/service/property/set",
        "/sys/" PK "/" DN "/thing/event/hli_event/post_reply",
        "/sys/" PK "/" DN "/thing/event/property/post_reply",
        "/sys/" PK "/" DN "/thing/deviceinfo/update_reply",
        "/sys/" PK "/" DN "/thing/deviceinfo/delete_reply",
        "/sys/" PK "/" DN "/thing/config/push",
        "/sys/" PK "/" DN "/thing/config/get_reply",
        "/sys/" PK "/" DN "/thing/ota/firmware/get_reply",
        "/sys/" PK "/" DN "/rrpc/request/1234",
        "/sys/" PK "/" DN "/thing/model/down_raw",
        "/ota/device/upgrade/" PK "/" DN,
        "/ext/ntp/" PK "/" DN "/response",
        "/shadow/get/" PK "/" DN,
        "/ext/rrpc/99/sys/" PK "/" DN "/thing/service/switch",
    };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        struct haas_device_id dev;
        memset(&dev, 0x55, sizeof dev);
        if (!haas_auto_sub_topic_device(topics[i], &dev)) {
            fail_msg("not in the table: %s", topics[i]);
        }
        assert_string_equal(dev.product_key, PK);
        assert_string_equal(dev.device_name, DN);
    }
}

/* Uplinks, other families, wildcards and malformed topics are not downstream. */
static void test_table_rejects(void **state)
{
    (void)state;
    static const char *const topics[] = {
        "/sys/" PK "/" DN "/thing/event/hli_event/post",
        "/sys/" PK "/" DN "/thing/event/property/post",
        "/sys/" PK "/" DN "/thing/deviceinfo/update",
        "/sys/" PK "/" DN "/thing/service/a/b",
        "/sys/" PK "/" DN "/thing/service/property/set/x",
        "/sys/" PK "/" DN "/thing/service",
        "/ota/device/inform/" PK "/" DN,
        "/ota/device/request/" PK "/" DN,
        "/ota/device/upgrade/" PK "/" DN "/x",
        "/" PK "/" DN "/user/get",
        "/as/mqtt/status/" PK "/" DN,
        "/sys/" PK "/" DN "/thing/service/+",
        "/sys/+/" DN "/thing/config/push",
        "/sys/#",
        "/sys/" PK "/ab/thing/config/push",        /* device name too short */
        "/sys/p-k/" DN "/thing/config/push",       /* bad product key */
        "/sys/" PK "/" DN "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/thing/config/push",
        "sys/" PK "/" DN "/thing/config/push",
        "/sys/" PK "/" DN "/thing/proxy/provisioning/product_register_reply/a/b/c/d/e/f/g", /* deeper than any */
        "/sys/" PK "//thing/config/push",          /* empty device name */
        "//" PK "/" DN "/thing/config/push",
        "",
    };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        struct haas_device_id dev;
        if (haas_auto_sub_topic_device(topics[i], &dev)) {
            fail_msg("taken as downstream: %s", topics[i]);
        }
    }
    struct haas_device_id dev;
    assert_false(haas_auto_sub_topic_device(NULL, &dev));
    assert_false(haas_auto_sub_topic_device("/shadow/get/" PK "/" DN, NULL));
}

/* A fresh connection gets every table topic of its own device, none of another's. */
static void test_delivers_own_only(void **state)
{
    (void)state;
    struct haas_device_id me = {PK, DN};
    struct haas_auto_sub *st = haas_auto_sub_new(&me);
    assert_non_null(st);
    assert_true(haas_auto_sub_delivers(st, "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push"));
    assert_true(haas_auto_sub_delivers(st, "/ota/device/upgrade/" PK "/" DN));
    assert_false(haas_auto_sub_delivers(st, "/sys/" PK "/other1/thing/service/hli_service_upgrade_push"));
    assert_false(haas_auto_sub_delivers(st, "/sys/b14Xib5kdYd/" DN "/thing/service/x"));
    assert_false(haas_auto_sub_delivers(st, "/" PK "/" DN "/user/get"));
    assert_false(haas_auto_sub_delivers(st, NULL));
    assert_false(haas_auto_sub_delivers(NULL, "/ota/device/upgrade/" PK "/" DN));
    haas_auto_sub_free(st);
    haas_auto_sub_free(NULL);
    assert_null(haas_auto_sub_new(NULL));
}

/* The deepest template and a '+' level that is empty still match. */
static void test_table_depths(void **state)
{
    (void)state;
    struct haas_device_id dev;
    assert_true(haas_auto_sub_topic_device("/sys/" PK "/" DN "/thing/proxy/provisioning/product_register_reply", &dev));
    assert_string_equal(dev.device_name, DN);
    assert_true(haas_auto_sub_topic_device("/sys/" PK "/" DN "/thing/service/", &dev));
    assert_true(haas_auto_sub_topic_device("/ext/rrpc//sys/" PK "/" DN "/thing/model/down_raw", &dev));
    assert_string_equal(dev.product_key, PK);
}

/* delivers_to: the device found once for the topic, asked of each connection. */
static void test_delivers_to(void **state)
{
    (void)state;
    struct haas_device_id me = {PK, DN}, other = {PK, "other1"};
    struct haas_auto_sub *st = haas_auto_sub_new(&me);
    const char *push = "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push";
    assert_true(haas_auto_sub_delivers_to(st, &me, push));
    assert_false(haas_auto_sub_delivers_to(st, &other, push)); /* another device's connection */
    assert_false(haas_auto_sub_delivers_to(NULL, &me, push));
    assert_false(haas_auto_sub_delivers_to(st, NULL, push));
    assert_false(haas_auto_sub_delivers_to(st, &me, NULL));
    assert_true(haas_auto_sub_subscribed(st, push));
    assert_false(haas_auto_sub_delivers_to(st, &me, push)); /* its own subscription delivers it */
    haas_auto_sub_free(st);
}

/* A subscription of its own covers a topic (the broker delivers it then). */
static void test_subscribed_not_doubled(void **state)
{
    (void)state;
    struct haas_device_id me = {PK, DN};
    struct haas_auto_sub *st = haas_auto_sub_new(&me);
    const char *push = "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push";
    const char *reply = "/sys/" PK "/" DN "/thing/event/hli_event/post_reply";
    assert_true(haas_auto_sub_subscribed(st, "/sys/" PK "/" DN "/thing/service/+"));
    assert_false(haas_auto_sub_delivers(st, push));
    assert_true(haas_auto_sub_delivers(st, reply));
    assert_true(haas_auto_sub_subscribed(st, "/sys/" PK "/" DN "/#"));
    assert_false(haas_auto_sub_delivers(st, reply));
    /* the same filter twice is one entry: one unsubscribe removes it */
    assert_true(haas_auto_sub_subscribed(st, "/sys/" PK "/" DN "/#"));
    assert_true(haas_auto_sub_unsubscribed(st, "/sys/" PK "/" DN "/#"));
    assert_false(haas_auto_sub_delivers(st, reply)); /* unsubscribed: removed */
    haas_auto_sub_free(st);
}

/* UNSUBSCRIBE stops automatic delivery of what it matches; SUBSCRIBE takes it back. */
static void test_unsubscribe_stops(void **state)
{
    (void)state;
    struct haas_device_id me = {PK, DN};
    struct haas_auto_sub *st = haas_auto_sub_new(&me);
    const char *push = "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push";
    const char *set = "/sys/" PK "/" DN "/thing/service/property/set";
    assert_true(haas_auto_sub_unsubscribed(st, push));
    assert_false(haas_auto_sub_delivers(st, push));
    assert_true(haas_auto_sub_delivers(st, set)); /* only what it matches */
    assert_true(haas_auto_sub_unsubscribed(st, "/sys/" PK "/" DN "/thing/service/+"));
    assert_false(haas_auto_sub_delivers(st, "/sys/" PK "/" DN "/thing/service/reboot"));
    assert_true(haas_auto_sub_delivers(st, set)); /* two levels: `+` does not match it */
    assert_true(haas_auto_sub_unsubscribed(st, "/sys/" PK "/" DN "/thing/#"));
    assert_false(haas_auto_sub_delivers(st, set));
    /* subscribing again: the broker delivers (subscription), the plugin does not */
    assert_true(haas_auto_sub_subscribed(st, push));
    assert_false(haas_auto_sub_delivers(st, push));
    assert_false(haas_auto_sub_subscribed(NULL, push));
    assert_false(haas_auto_sub_unsubscribed(st, NULL));
    haas_auto_sub_free(st);
}

/* The lists are bounded: overflow is reported, never written past. */
static void test_bounds(void **state)
{
    (void)state;
    struct haas_device_id me = {PK, DN};
    struct haas_auto_sub *st = haas_auto_sub_new(&me);
    char filter[64];
    for (int i = 0; i < HAAS_AUTO_SUB_FILTERS_MAX; i++) {
        snprintf(filter, sizeof filter, "/" PK "/" DN "/user/t%d", i);
        assert_true(haas_auto_sub_subscribed(st, filter));
    }
    assert_false(haas_auto_sub_subscribed(st, "/" PK "/" DN "/user/one-more"));
    char long_filter[HAAS_AUTO_SUB_FILTER_LEN + 2];
    memset(long_filter, 'a', sizeof long_filter - 1);
    long_filter[0] = '/';
    long_filter[sizeof long_filter - 1] = '\0';
    assert_false(haas_auto_sub_unsubscribed(st, long_filter));
    assert_true(haas_auto_sub_delivers(st, "/ota/device/upgrade/" PK "/" DN));
    haas_auto_sub_free(st);
}

/*
 * The lists grow as filters come (past their first array) and shrink as
 * they go; what is recorded keeps working all along.
 */
static void test_lists_grow(void **state)
{
    (void)state;
    struct haas_device_id me = {PK, DN};
    struct haas_auto_sub *st = haas_auto_sub_new(&me);
    assert_non_null(st);
    char topic[96];
    enum { N = 20 };
    for (int i = 0; i < N; i++) {
        snprintf(topic, sizeof topic, "/sys/" PK "/" DN "/thing/service/s%d", i);
        assert_true(haas_auto_sub_delivers(st, topic));
        assert_true(haas_auto_sub_subscribed(st, topic));
        assert_true(haas_auto_sub_subscribed(st, topic)); /* once only */
    }
    for (int i = 0; i < N + 5; i++) {
        snprintf(topic, sizeof topic, "/sys/" PK "/" DN "/thing/service/s%d", i);
        assert_int_equal(haas_auto_sub_delivers(st, topic), i >= N); /* subscribed: the broker's */
    }
    for (int i = 0; i < N; i += 2) {
        snprintf(topic, sizeof topic, "/sys/" PK "/" DN "/thing/service/s%d", i);
        assert_true(haas_auto_sub_unsubscribed(st, topic));
    }
    for (int i = 0; i < N; i++) {
        snprintf(topic, sizeof topic, "/sys/" PK "/" DN "/thing/service/s%d", i);
        assert_false(haas_auto_sub_delivers(st, topic)); /* odd: subscribed; even: removed */
    }
    for (int i = 0; i < N; i += 2) {
        snprintf(topic, sizeof topic, "/sys/" PK "/" DN "/thing/service/s%d", i);
        assert_true(haas_auto_sub_subscribed(st, topic)); /* taken back in */
        assert_false(haas_auto_sub_delivers(st, topic));
    }
    assert_true(haas_auto_sub_delivers(st, "/sys/" PK "/" DN "/thing/service/s99"));
    haas_auto_sub_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_topics),
        cmocka_unit_test(test_table_rejects),
        cmocka_unit_test(test_table_depths),
        cmocka_unit_test(test_delivers_to),
        cmocka_unit_test(test_delivers_own_only),
        cmocka_unit_test(test_subscribed_not_doubled),
        cmocka_unit_test(test_unsubscribe_stops),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_lists_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
