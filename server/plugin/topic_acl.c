/*
 * topic_acl.c - per-device topic permissions with wildcard containment.
 * See topic_acl.h for the rule table and semantics.
 *
 * Filters are walked level by level with pointers (no copies of the topic,
 * which may be up to 64 KiB); the rules are expanded for (pk, dn) into small
 * fixed buffers whose size is bounded by clientid.h's limits.
 */
#include "topic_acl.h"

#include "clientid.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* One topic family; the format takes pk then dn. */
struct acl_rule {
    const char *format;
    unsigned perms; /* bit set of enum haas_acl_access */
};

#define PUB ((unsigned)HAAS_ACL_PUBLISH)
#define SUB ((unsigned)HAAS_ACL_SUBSCRIBE)

static const struct acl_rule RULES[] = {
    {"/sys/%s/%s/#", PUB | SUB},
    {"/ota/device/inform/%s/%s", PUB},
    {"/ota/device/progress/%s/%s", PUB},
    {"/ota/device/request/%s/%s", PUB},
    {"/ota/device/upgrade/%s/%s", SUB},
    {"/shadow/update/%s/%s", PUB},
    {"/shadow/get/%s/%s", SUB},
    {"/ext/session/%s/%s/#", PUB | SUB},
    {"/ext/ntp/%s/%s/#", PUB | SUB},
    {"/ext/rrpc/+/sys/%s/%s/#", PUB | SUB},
    {"/%s/%s/user/#", PUB | SUB},
};

/* Longest expanded rule: longest format + pk + dn. */
#define RULE_BUF (64 + HAAS_PK_MAX + HAAS_DN_MAX)

/* One level of a filter: [start, start+len). */
struct level {
    const char *start;
    size_t len;
};

/*
 * Reads the level starting at *pos into *lv and advances *pos past it and
 * its '/' separator. Returns false when there are no more levels (*pos is
 * NULL). A trailing '/' yields a final empty level, as in MQTT.
 */
static bool next_level(const char **pos, struct level *lv)
{
    const char *p = *pos;
    if (p == NULL) {
        return false;
    }
    const char *slash = strchr(p, '/');
    lv->start = p;
    if (slash != NULL) {
        lv->len = (size_t)(slash - p);
        *pos = slash + 1;
    } else {
        lv->len = strlen(p);
        *pos = NULL;
    }
    return true;
}

static bool level_is(const struct level *lv, char c)
{
    return lv->len == 1 && lv->start[0] == c;
}

/* True when a level contains '+' or '#' without being exactly that. */
static bool level_malformed(const struct level *lv)
{
    if (lv->len <= 1) {
        return false;
    }
    return memchr(lv->start, '+', lv->len) != NULL || memchr(lv->start, '#', lv->len) != NULL;
}

/*
 * True when the filter levels from `lv` (already read) and then `rest` on are
 * well formed: no mixed wildcard levels and '#' only as the very last level.
 */
static bool rest_well_formed(struct level lv, const char *rest)
{
    for (;;) {
        if (level_malformed(&lv)) {
            return false;
        }
        if (level_is(&lv, '#') && rest != NULL) {
            return false;
        }
        if (!next_level(&rest, &lv)) {
            return true;
        }
    }
}

bool haas_filter_within(const char *filter, const char *rule)
{
    if (filter == NULL || rule == NULL) {
        return false;
    }
    const char *fp = filter;
    const char *rp = rule;
    for (;;) {
        struct level f;
        struct level r;
        bool has_f = next_level(&fp, &f);
        bool has_r = next_level(&rp, &r);
        if (has_f && level_malformed(&f)) {
            return false;
        }
        if (has_r && level_is(&r, '#')) {
            /* Rule matches everything from here on (and the parent). */
            return !has_f || rest_well_formed(f, fp);
        }
        if (!has_f && !has_r) {
            return true; /* same depth, every level contained */
        }
        if (!has_f || !has_r) {
            return false; /* one side matches topics of a depth the other cannot */
        }
        if (level_is(&f, '#')) {
            return false; /* filter reaches deeper than a non-# rule level */
        }
        if (level_is(&r, '+')) {
            continue; /* any single filter level (literal or '+') fits */
        }
        if (level_is(&f, '+')) {
            return false; /* '+' matches more than the rule's literal */
        }
        if (f.len != r.len || memcmp(f.start, r.start, f.len) != 0) {
            return false;
        }
    }
}

bool haas_filters_overlap(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return false;
    }
    const char *ap = a;
    const char *bp = b;
    for (;;) {
        struct level la;
        struct level lb;
        bool has_a = next_level(&ap, &la);
        bool has_b = next_level(&bp, &lb);
        if ((has_a && level_malformed(&la)) || (has_b && level_malformed(&lb))) {
            return false;
        }
        if ((has_a && level_is(&la, '#')) || (has_b && level_is(&lb, '#'))) {
            return true; /* the rest of the other one (or its parent) */
        }
        if (!has_a || !has_b) {
            return !has_a && !has_b; /* same depth: the topic of these levels */
        }
        if (level_is(&la, '+') || level_is(&lb, '+')) {
            continue;
        }
        if (la.len != lb.len || memcmp(la.start, lb.start, la.len) != 0) {
            return false;
        }
    }
}

bool haas_acl_device_allows(const char *pk, const char *dn, const char *topic,
                            enum haas_acl_access access)
{
    if (topic == NULL || topic[0] == '\0' ||
        !valid_product_key(pk) || !valid_device_name(dn)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(RULES) / sizeof(RULES[0]); i++) {
        if ((RULES[i].perms & (unsigned)access) == 0) {
            continue;
        }
        /* The levels of a rule before its first `%s` or `+` are literal,
         * and a filter within the rule has exactly those levels (a
         * wildcard or any other text there is not within a literal level):
         * a filter that does not start with them is skipped unexpanded. */
        size_t literal = strcspn(RULES[i].format, "%+");
        if (strncmp(topic, RULES[i].format, literal) != 0) {
            continue;
        }
        char rule[RULE_BUF];
        int n = snprintf(rule, sizeof(rule), RULES[i].format, pk, dn);
        if (n < 0 || (size_t)n >= sizeof(rule)) {
            continue;
        }
        if (haas_filter_within(topic, rule)) {
            return true;
        }
    }
    return false;
}
