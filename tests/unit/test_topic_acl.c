/*
 * test_topic_acl.c - cmocka unit tests of topic_acl.c, the haas_auth
 * plugin's per-device topic permissions: the full allow/deny matrix of
 * docs/protocol.md section 3 and MQTT wildcard containment.
 *
 * Built by `make unit-tests` (the sources: test_topic_acl_SRC in the
 * Makefile) as build/tests/test_topic_acl; run by tests/run.py
 * test_topic_acl (exit status non-zero on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "topic_acl.h"

#define PK "a14Xib5kdYd"
#define DN "light1983432"

enum { P = 1, S = 2 }; /* expected permissions: publish, subscribe */

struct row {
    const char *topic;
    int perms;
};

/* Checks one row both ways (publish and subscribe) for device PK/DN. */
static void check_rows(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool pub = haas_acl_device_allows(PK, DN, rows[i].topic, HAAS_ACL_PUBLISH);
        bool sub = haas_acl_device_allows(PK, DN, rows[i].topic, HAAS_ACL_SUBSCRIBE);
        if (pub != ((rows[i].perms & P) != 0) || sub != ((rows[i].perms & S) != 0)) {
            fail_msg("topic \"%s\": publish %d subscribe %d, expected %d %d", rows[i].topic,
                     pub, sub, (rows[i].perms & P) != 0, (rows[i].perms & S) != 0);
        }
    }
}

static void test_own_topics(void **state)
{
    (void)state;
    static const struct row rows[] = {
        {"/sys/" PK "/" DN "/thing/event/property/post", P | S},
        {"/sys/" PK "/" DN "/thing/service/hli_service_upgrade", P | S},
        {"/sys/" PK "/" DN "/thing/service/x_reply", P | S},
        {"/sys/" PK "/" DN "/rrpc/request/123", P | S},
        {"/sys/" PK "/" DN, P | S}, /* '#' also matches the parent */
        {"/ota/device/inform/" PK "/" DN, P},
        {"/ota/device/progress/" PK "/" DN, P},
        {"/ota/device/request/" PK "/" DN, P},
        {"/ota/device/upgrade/" PK "/" DN, S},
        {"/shadow/update/" PK "/" DN, P},
        {"/shadow/get/" PK "/" DN, S},
        {"/ext/session/" PK "/" DN "/combine/login", P | S},
        {"/ext/ntp/" PK "/" DN "/request", P | S},
        {"/ext/ntp/" PK "/" DN "/response", P | S},
        {"/ext/rrpc/1234/sys/" PK "/" DN "/thing/service/x", P | S},
        {"/" PK "/" DN "/user/get", P | S},
        {"/" PK "/" DN "/user/a/b/c", P | S},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_other_topics_denied(void **state)
{
    (void)state;
    static const struct row rows[] = {
        /* another device of the same product, another product */
        {"/sys/" PK "/other1/thing/event/property/post", 0},
        {"/sys/bbbbbbbbbbb/" DN "/thing/event/property/post", 0},
        {"/ota/device/upgrade/" PK "/other1", 0},
        {"/ota/device/inform/" PK "/other1", 0},
        {"/shadow/get/" PK "/other1", 0},
        {"/ext/rrpc/1/sys/" PK "/other1/x", 0},
        {"/" PK "/other1/user/get", 0},
        /* prefixes and look-alikes of the own space */
        {"/sys/" PK "/" DN "x/thing", 0},
        {"/sys/" PK "/" DN "/../other", P | S}, /* literal level "..": still under own # */
        {"/sys/" PK, 0},
        {"/sys", 0},
        {"sys/" PK "/" DN "/thing", 0},
        {"/" PK "/" DN "/userx/get", 0},
        {"/" PK "/" DN "/user", P | S},
        {"/" PK "/" DN, 0},
        {"/ota/device/upgrade/" PK "/" DN "/x", 0},
        {"/ota/device/inform/" PK "/" DN "/x", 0},
        {"/ext/rrpc/sys/" PK "/" DN "/x", 0},
        /* the service's own topics */
        {"/as/mqtt/status/" PK "/" DN, 0},
        {"$SYS/broker/uptime", 0},
        {"", 0},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_wildcards(void **state)
{
    (void)state;
    static const struct row rows[] = {
        {"#", 0},
        {"+", 0},
        {"/#", 0},
        {"/+/#", 0},
        {"/sys/#", 0},
        {"/sys/+/+/#", 0},
        {"/sys/" PK "/#", 0},
        {"/sys/" PK "/+/#", 0},
        {"/sys/" PK "/+/thing/service/+", 0},
        {"/sys/+/" DN "/#", 0},
        {"/+/" DN "/user/#", 0},
        {"/" PK "/+/user/#", 0},
        {"/ota/device/upgrade/" PK "/+", 0},
        {"/ota/device/upgrade/+/" DN, 0},
        {"/ota/device/+/" PK "/" DN, 0},
        {"/ext/+/" PK "/" DN "/#", 0},
        {"/ext/rrpc/+/sys/+/" DN "/#", 0},
        /* inside the own space */
        {"/sys/" PK "/" DN "/#", P | S},
        {"/sys/" PK "/" DN "/thing/service/+", P | S},
        {"/sys/" PK "/" DN "/+/+/+", P | S},
        {"/sys/" PK "/" DN "/rrpc/request/+", P | S},
        {"/ext/rrpc/+/sys/" PK "/" DN "/#", P | S},
        {"/ext/rrpc/+/sys/" PK "/" DN "/+", P | S},
        {"/ext/session/" PK "/" DN "/#", P | S},
        {"/" PK "/" DN "/user/#", P | S},
        {"/" PK "/" DN "/user/+", P | S},
        /* malformed filters */
        {"/sys/" PK "/" DN "/#/x", 0},
        {"/sys/" PK "/" DN "/a+", 0},
        {"/sys/" PK "/" DN "/a#", 0},
        {"/sys/" PK "/" DN "/x/#/y", 0},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_filters_overlap(void **state)
{
    (void)state;
    static const char life[] = "/as/mqtt/status/+/+";
    assert_true(haas_filters_overlap("#", life));
    assert_true(haas_filters_overlap(life, "#"));
    assert_true(haas_filters_overlap("/#", life));
    assert_true(haas_filters_overlap("/as/mqtt/#", life));
    assert_true(haas_filters_overlap("/as/mqtt/status/#", life));
    assert_true(haas_filters_overlap(life, life));
    assert_true(haas_filters_overlap("/as/mqtt/status/a1/+", life));
    assert_true(haas_filters_overlap("/as/mqtt/status/a1/dev", life));
    assert_true(haas_filters_overlap("/+/+/status/+/dev", life));
    assert_true(haas_filters_overlap("a/#", "a"));   /* '#' takes in the parent */
    assert_true(haas_filters_overlap("a/+", "+/b"));
    assert_false(haas_filters_overlap("/as/mqtt/statuses", life));
    assert_false(haas_filters_overlap("/as/mqtt/status/+", life));     /* one level short */
    assert_false(haas_filters_overlap("/as/mqtt/status/+/+/x", life)); /* one too deep */
    assert_false(haas_filters_overlap("/as/mqtt/refused", life));
    assert_false(haas_filters_overlap("/sys/+/+/thing/event/+/post", life));
    assert_false(haas_filters_overlap("as/mqtt/status/+/+", life)); /* no leading empty level */
    assert_false(haas_filters_overlap("a", "b"));
    assert_false(haas_filters_overlap("/as/mqtt/status/a+/+", life)); /* malformed */
    assert_false(haas_filters_overlap(NULL, life));
    assert_false(haas_filters_overlap(life, NULL));
}

static void test_filter_within(void **state)
{
    (void)state;
    assert_true(haas_filter_within("a/b", "a/b"));
    assert_true(haas_filter_within("a/b", "a/+"));
    assert_true(haas_filter_within("a/+", "a/+"));
    assert_true(haas_filter_within("a", "a/#"));
    assert_true(haas_filter_within("a/#", "a/#"));
    assert_true(haas_filter_within("a/+/#", "a/#"));
    assert_true(haas_filter_within("#", "#"));
    assert_true(haas_filter_within("a/b/", "a/b/+")); /* empty last level */
    assert_false(haas_filter_within("a/+", "a/b"));
    assert_false(haas_filter_within("a/#", "a/+"));
    assert_false(haas_filter_within("a/#", "a/b/#"));
    assert_false(haas_filter_within("a", "a/+"));
    assert_false(haas_filter_within("a/b/c", "a/+"));
    assert_false(haas_filter_within("a/b", "a/b/c"));
    assert_false(haas_filter_within("#", "a/#"));
    assert_false(haas_filter_within("+/b", "a/b"));
    assert_false(haas_filter_within("ab", "a"));
    assert_false(haas_filter_within(NULL, "a"));
    assert_false(haas_filter_within("a", NULL));
}

static void test_bad_identity_and_long_topic(void **state)
{
    (void)state;
    assert_false(haas_acl_device_allows(NULL, DN, "/sys/x", HAAS_ACL_PUBLISH));
    assert_false(haas_acl_device_allows(PK, NULL, "/sys/x", HAAS_ACL_PUBLISH));
    assert_false(haas_acl_device_allows(PK, DN, NULL, HAAS_ACL_PUBLISH));
    /* a pk/dn with wildcard characters never expands into a broad rule */
    assert_false(haas_acl_device_allows("+", DN, "/sys/x/" DN "/a", HAAS_ACL_SUBSCRIBE));
    assert_false(haas_acl_device_allows(PK, "#", "/sys/" PK "/x", HAAS_ACL_SUBSCRIBE));
    assert_false(haas_acl_device_allows(PK, "dev/x", "/sys/" PK "/dev/x/a", HAAS_ACL_SUBSCRIBE));

    /* 64 KiB topics inside and outside the own space */
    static char big[65536];
    const char *prefix = "/sys/" PK "/" DN "/";
    size_t plen = strlen(prefix);
    memcpy(big, prefix, plen);
    for (size_t i = plen; i < sizeof(big) - 1; i++) {
        big[i] = (i % 7 == 0) ? '/' : 'x';
    }
    big[sizeof(big) - 1] = '\0';
    assert_true(haas_acl_device_allows(PK, DN, big, HAAS_ACL_PUBLISH));
    big[1] = 'S';
    assert_false(haas_acl_device_allows(PK, DN, big, HAAS_ACL_PUBLISH));
    memset(big, '/', sizeof(big) - 1);
    assert_false(haas_acl_device_allows(PK, DN, big, HAAS_ACL_SUBSCRIBE));
}

/*
 * haas_acl_device_allows() skips a rule whose literal leading levels the
 * filter does not start with, without expanding it. Checked against the
 * plain definition (every rule expanded, haas_filter_within) on every
 * filter of up to 6 levels drawn from the pieces below. The rule table is
 * copied from topic_acl.c (docs/protocol.md section 3).
 */
static const struct {
    const char *format;
    int perms;
} REF_RULES[] = {
    {"/sys/%s/%s/#", P | S},
    {"/ota/device/inform/%s/%s", P},
    {"/ota/device/progress/%s/%s", P},
    {"/ota/device/request/%s/%s", P},
    {"/ota/device/upgrade/%s/%s", S},
    {"/shadow/update/%s/%s", P},
    {"/shadow/get/%s/%s", S},
    {"/ext/session/%s/%s/#", P | S},
    {"/ext/ntp/%s/%s/#", P | S},
    {"/ext/rrpc/+/sys/%s/%s/#", P | S},
    {"/%s/%s/user/#", P | S},
};

static bool ref_allows(const char *topic, int access)
{
    for (size_t i = 0; i < sizeof(REF_RULES) / sizeof(REF_RULES[0]); i++) {
        if ((REF_RULES[i].perms & access) == 0) {
            continue;
        }
        char rule[256];
        snprintf(rule, sizeof(rule), REF_RULES[i].format, PK, DN);
        if (haas_filter_within(topic, rule)) {
            return true;
        }
    }
    return false;
}

static const char *const PIECES[] = {
    "", "sys", PK, DN, "+", "#", "ota", "device", "upgrade", "inform", "request", "progress",
    "shadow", "update", "get", "ext", "rrpc", "ntp", "session", "user", "thing", "x+", "sy", "sys#",
};
#define N_PIECES (sizeof(PIECES) / sizeof(PIECES[0]))

/* A small deterministic generator (the test is reproducible). */
static uint32_t next_rand(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

/*
 * Builds a filter into buf: either 1-9 random pieces, or an expanded rule
 * with one level replaced, dropped or added, or a piece appended.
 */
static void random_filter(uint32_t *seed, char *buf, size_t size)
{
    const char *levels[12];
    size_t n = 0;
    char rule[256];
    if (next_rand(seed) % 2 == 0) {
        size_t r = next_rand(seed) % (sizeof(REF_RULES) / sizeof(REF_RULES[0]));
        snprintf(rule, sizeof(rule), REF_RULES[r].format, PK, DN);
        /* split on '/', keeping empty levels */
        char *p = rule;
        levels[n++] = p;
        while ((p = strchr(p, '/')) != NULL && n < 10) {
            *p++ = '\0';
            levels[n++] = p;
        }
        size_t at = next_rand(seed) % (n + 1);
        switch (next_rand(seed) % 4) {
        case 0: /* replace a level */
            if (at < n) {
                levels[at] = PIECES[next_rand(seed) % N_PIECES];
            }
            break;
        case 1: /* drop the last level(s) */
            n = at > 0 ? at : 1;
            break;
        case 2: /* add a level */
            if (n < 11) {
                levels[n++] = PIECES[next_rand(seed) % N_PIECES];
            }
            break;
        default: /* as is */
            break;
        }
    } else {
        n = 1 + next_rand(seed) % 9;
        for (size_t i = 0; i < n; i++) {
            levels[i] = PIECES[next_rand(seed) % N_PIECES];
        }
    }
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", i ? "/" : "", levels[i]);
        if (w < 0 || (size_t)w >= size - len) {
            break;
        }
        len += (size_t)w;
    }
}

static void test_prefix_skip_matches_rules(void **state)
{
    (void)state;
    uint32_t seed = 14;
    char buf[512];
    size_t allowed = 0;
    for (int i = 0; i < 200000; i++) {
        random_filter(&seed, buf, sizeof(buf));
        if (buf[0] == '\0') {
            continue; /* an empty topic is refused before any rule */
        }
        for (int access = P; access <= S; access++) {
            bool got = haas_acl_device_allows(PK, DN, buf, access == P ? HAAS_ACL_PUBLISH : HAAS_ACL_SUBSCRIBE);
            bool want = ref_allows(buf, access);
            if (got != want) {
                fail_msg("filter \"%s\" access %d: %d, the rules expanded say %d", buf, access, got, want);
            }
            allowed += got;
        }
    }
    assert_true(allowed > 10000); /* both answers well represented */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_topics),
        cmocka_unit_test(test_other_topics_denied),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_filter_within),
        cmocka_unit_test(test_filters_overlap),
        cmocka_unit_test(test_bad_identity_and_long_topic),
        cmocka_unit_test(test_prefix_skip_matches_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
