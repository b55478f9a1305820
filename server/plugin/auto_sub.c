/*
 * auto_sub.c - the automatic-subscription table and per-connection state.
 * See auto_sub.h for what it is for and how the plugin uses it.
 *
 * The table is written as topic templates: `{pk}` and `{dn}` stand for the
 * device's product key and name, `+` for any one level. Matching compares
 * the topic's levels with a template's, with no copies; `{pk}` and `{dn}`
 * capture their level, which must then be a valid identifier (identifiers.h).
 */
#include "auto_sub.h"

#include "topic_acl.h"

#include <stdlib.h>
#include <string.h>

/*
 * The downstream topics the real platform subscribes a `_ss=1` device to:
 * the table of Aliyun's "自动订阅Topic说明" (its groups as comments), plus
 * the downstream topics Link SDK C 4.x registers handlers for without
 * subscribing (NTP, RRPC over /ext/rrpc, batch post replies, firmware get,
 * log config, reset, bootstrap notify). `/ota/device/request/{pk}/{dn}`,
 * listed by an older version of the table, is an uplink a device may not
 * receive (topic_acl.h) and is left out.
 */
static const char *const TEMPLATES[] = {
    /* 物模型通信 (thing model) */
    "/sys/{pk}/{dn}/thing/model/down_raw",
    "/sys/{pk}/{dn}/thing/model/up_raw_reply",
    "/sys/{pk}/{dn}/thing/event/+/post_reply",
    "/sys/{pk}/{dn}/thing/event/property/batch/post_reply",
    "/sys/{pk}/{dn}/thing/event/property/history/post_reply",
    "/sys/{pk}/{dn}/thing/deviceinfo/update_reply",
    "/sys/{pk}/{dn}/thing/deviceinfo/delete_reply",
    "/sys/{pk}/{dn}/thing/dynamicTsl/get_reply",
    "/sys/{pk}/{dn}/thing/dsltemplate/get_reply",
    "/sys/{pk}/{dn}/rrpc/request/+",
    "/ext/rrpc/+/sys/{pk}/{dn}/thing/service/+",
    "/ext/rrpc/+/sys/{pk}/{dn}/thing/model/down_raw",
    "/sys/{pk}/{dn}/thing/service/property/set",
    "/sys/{pk}/{dn}/thing/service/property/get",
    "/sys/{pk}/{dn}/thing/service/+",
    /* 子设备管理 (sub-devices of a gateway) */
    "/sys/{pk}/{dn}/thing/gateway/permit",
    "/sys/{pk}/{dn}/thing/topo/change",
    "/sys/{pk}/{dn}/thing/sub/register_reply",
    "/sys/{pk}/{dn}/thing/sub/unregister_reply",
    "/sys/{pk}/{dn}/thing/topo/add_reply",
    "/sys/{pk}/{dn}/thing/topo/delete_reply",
    "/sys/{pk}/{dn}/thing/disable_reply",
    "/sys/{pk}/{dn}/thing/topo/get_reply",
    /* 固件升级 (firmware OTA) */
    "/ota/device/upgrade/{pk}/{dn}",
    "/sys/{pk}/{dn}/thing/ota/firmware/get_reply",
    /* 远程配置 (remote configuration) and log configuration */
    "/sys/{pk}/{dn}/thing/config/push",
    "/sys/{pk}/{dn}/thing/config/get_reply",
    "/sys/{pk}/{dn}/thing/config/log/push",
    "/sys/{pk}/{dn}/thing/config/log/get_reply",
    /* 本地通信 (LAN) */
    "/sys/{pk}/{dn}/thing/lan/prefix/get_reply",
    "/sys/{pk}/{dn}/thing/lan/blacklist/update_reply",
    "/sys/{pk}/{dn}/thing/lan/prefix/update",
    /* 影子设备 (shadow and desired properties) */
    "/sys/{pk}/{dn}/thing/property/desired/get_reply",
    "/sys/{pk}/{dn}/thing/property/desired/delete_reply",
    "/shadow/get/{pk}/{dn}",
    /* 设备重置 (reset) */
    "/sys/{pk}/{dn}/thing/reset",
    "/sys/{pk}/{dn}/thing/reset_reply",
    /* 设备接入 (provisioning: awss, one-type-one-secret, bootstrap) */
    "/sys/{pk}/{dn}/thing/awss/enrollee/match_reply",
    "/sys/{pk}/{dn}/thing/awss/enrollee/checkin",
    "/sys/{pk}/{dn}/thing/awss/enrollee/found_reply",
    "/sys/{pk}/{dn}/thing/cipher/get_reply",
    "/sys/{pk}/{dn}/thing/awss/device/switchap",
    "/sys/{pk}/{dn}/thing/proxy/provisioning/product_register_reply",
    "/sys/{pk}/{dn}/thing/bootstrap/config/push",
    "/sys/{pk}/{dn}/thing/bootstrap/notify",
    /* 统一通知 / 统一消息上报 (notifications and their replies) */
    "/sys/{pk}/{dn}/_thing/event/notify",
    "/sys/{pk}/{dn}/_thing/service/post_reply",
    /* 任务管理 (jobs) */
    "/sys/{pk}/{dn}/thing/job/notify",
    "/sys/{pk}/{dn}/thing/job/get_reply",
    "/sys/{pk}/{dn}/thing/job/update_reply",
    /* NTP (Link SDK registers it and never subscribes) */
    "/ext/ntp/{pk}/{dn}/response",
};
#define N_TEMPLATES (sizeof TEMPLATES / sizeof TEMPLATES[0])

/*
 * A list of at most HAAS_AUTO_SUB_FILTERS_MAX filters, each at most
 * HAAS_AUTO_SUB_FILTER_LEN bytes. Its array grows on demand (most
 * connections record one subscription or none), so a connection's state
 * costs about 100 bytes, not the 1 KiB of a full array, allocated and
 * zeroed at every login.
 */
#define LIST_FIRST_CAP 4

struct filter_list {
    char **items; /* NULL until the first filter */
    size_t count;
    size_t cap;
};

struct haas_auto_sub {
    struct haas_device_id dev;
    struct filter_list subscribed; /* the connection's own subscriptions */
    struct filter_list removed;    /* filters it unsubscribed */
};

/*
 * Matching. A topic is split into its levels once; each template was split
 * once too (on the first match: the plugin runs on the broker's one
 * thread), with the kind of each level, so a template of another depth is
 * passed over by its level count and the others compare level by level.
 * Every message the emulator sends a device is matched (it is then matched
 * again by each connection of the device), so this is on the path of every
 * push to 100,000 devices: splitting the topic for each of the 55 templates
 * in turn was 4.5% of the broker's CPU in such a push (perf, bench-100k).
 */
#define LEVELS_MAX 12 /* more than any template has */

enum level_kind { LEVEL_TEXT, LEVEL_PK, LEVEL_DN, LEVEL_ANY };

struct level {
    const char *text;
    size_t len;
};

struct split_template {
    size_t n; /* levels */
    struct level levels[LEVELS_MAX];
    enum level_kind kinds[LEVELS_MAX];
};

/* Splits `topic` into its levels (a leading '/' gives an empty first one,
 * as in MQTT); returns how many, or 0 when it has more than `max`. */
static size_t split_levels(const char *topic, struct level *out, size_t max)
{
    size_t n = 0;
    const char *p = topic;
    for (;;) {
        if (n == max) {
            return 0;
        }
        const char *slash = strchr(p, '/');
        out[n].text = p;
        out[n].len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        n++;
        if (slash == NULL) {
            return n;
        }
        p = slash + 1;
    }
}

/* What a template's level stands for. */
static enum level_kind kind_of(const struct level *lv)
{
    if (lv->len == 4 && memcmp(lv->text, "{pk}", 4) == 0) {
        return LEVEL_PK;
    }
    if (lv->len == 4 && memcmp(lv->text, "{dn}", 4) == 0) {
        return LEVEL_DN;
    }
    return lv->len == 1 && lv->text[0] == '+' ? LEVEL_ANY : LEVEL_TEXT;
}

/* The templates, split on first use. */
static const struct split_template *split_templates(void)
{
    static struct split_template split[N_TEMPLATES];
    static bool ready;
    if (!ready) {
        for (size_t i = 0; i < N_TEMPLATES; i++) {
            split[i].n = split_levels(TEMPLATES[i], split[i].levels, LEVELS_MAX);
            for (size_t k = 0; k < split[i].n; k++) {
                split[i].kinds[k] = kind_of(&split[i].levels[k]);
            }
        }
        ready = true;
    }
    return split;
}

/* Copies a level into a buffer of cap bytes; false if too long. */
static bool capture(char *out, size_t cap, const struct level *lv)
{
    if (lv->len >= cap) {
        return false;
    }
    memcpy(out, lv->text, lv->len);
    out[lv->len] = '\0';
    return true;
}

/*
 * Matches the n levels of a topic against template `t`; on success fills
 * `dev` with the captured identifiers (validated).
 */
static bool template_match(const struct split_template *t, const struct level *topic, size_t n,
                           struct haas_device_id *dev)
{
    if (t->n != n) {
        return false;
    }
    const struct level *pk = NULL;
    const struct level *dn = NULL;
    for (size_t i = 0; i < n; i++) {
        if (t->kinds[i] == LEVEL_PK) {
            pk = &topic[i];
        } else if (t->kinds[i] == LEVEL_DN) {
            dn = &topic[i];
        } else if (t->kinds[i] == LEVEL_TEXT &&
                   (topic[i].len != t->levels[i].len || memcmp(topic[i].text, t->levels[i].text, topic[i].len) != 0)) {
            return false;
        }
    }
    return pk != NULL && dn != NULL && capture(dev->product_key, sizeof dev->product_key, pk) &&
           capture(dev->device_name, sizeof dev->device_name, dn) && valid_product_key(dev->product_key) &&
           valid_device_name(dev->device_name);
}

bool haas_auto_sub_topic_device(const char *topic, struct haas_device_id *dev)
{
    if (topic == NULL || dev == NULL || strpbrk(topic, "+#") != NULL) {
        return false;
    }
    struct level levels[LEVELS_MAX];
    size_t n = split_levels(topic, levels, LEVELS_MAX);
    const struct split_template *templates = split_templates();
    for (size_t i = 0; i < N_TEMPLATES && n > 0; i++) {
        struct haas_device_id found;
        if (template_match(&templates[i], levels, n, &found)) {
            *dev = found;
            return true;
        }
    }
    return false;
}

struct haas_auto_sub *haas_auto_sub_new(const struct haas_device_id *dev)
{
    if (dev == NULL) {
        return NULL;
    }
    struct haas_auto_sub *st = calloc(1, sizeof *st);
    if (st != NULL) {
        st->dev = *dev;
    }
    return st;
}

/* Frees every filter of a list, and its array. */
static void list_clear(struct filter_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

void haas_auto_sub_free(void *state)
{
    struct haas_auto_sub *st = state;
    if (st == NULL) {
        return;
    }
    list_clear(&st->subscribed);
    list_clear(&st->removed);
    free(st);
}

/* Index of `filter` in the list, or -1. */
static long list_find(const struct filter_list *l, const char *filter)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i], filter) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* Adds `filter` unless present; false when full or too long. */
static bool list_add(struct filter_list *l, const char *filter)
{
    if (list_find(l, filter) >= 0) {
        return true;
    }
    size_t n = strnlen(filter, HAAS_AUTO_SUB_FILTER_LEN + 1);
    if (n > HAAS_AUTO_SUB_FILTER_LEN || l->count == HAAS_AUTO_SUB_FILTERS_MAX) {
        return false;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap == 0 ? LIST_FIRST_CAP : l->cap * 2;
        if (cap > HAAS_AUTO_SUB_FILTERS_MAX) {
            cap = HAAS_AUTO_SUB_FILTERS_MAX;
        }
        char **items = realloc(l->items, cap * sizeof(*items));
        if (items == NULL) {
            return false;
        }
        l->items = items;
        l->cap = cap;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        return false;
    }
    memcpy(copy, filter, n + 1);
    l->items[l->count++] = copy;
    return true;
}

/* Removes `filter` if present (order is not kept). */
static void list_remove(struct filter_list *l, const char *filter)
{
    long i = list_find(l, filter);
    if (i >= 0) {
        free(l->items[i]);
        l->items[i] = l->items[--l->count];
    }
}

/* True when some filter of the list matches topic name `topic`. */
static bool list_matches(const struct filter_list *l, const char *topic)
{
    for (size_t i = 0; i < l->count; i++) {
        if (haas_filter_within(topic, l->items[i])) {
            return true;
        }
    }
    return false;
}

bool haas_auto_sub_subscribed(struct haas_auto_sub *state, const char *filter)
{
    if (state == NULL || filter == NULL) {
        return false;
    }
    list_remove(&state->removed, filter);
    return list_add(&state->subscribed, filter);
}

bool haas_auto_sub_unsubscribed(struct haas_auto_sub *state, const char *filter)
{
    if (state == NULL || filter == NULL) {
        return false;
    }
    list_remove(&state->subscribed, filter);
    return list_add(&state->removed, filter);
}

bool haas_auto_sub_delivers_to(const struct haas_auto_sub *state, const struct haas_device_id *dev,
                               const char *topic)
{
    if (state == NULL || dev == NULL || topic == NULL || strcmp(dev->product_key, state->dev.product_key) != 0 ||
        strcmp(dev->device_name, state->dev.device_name) != 0) {
        return false;
    }
    return !list_matches(&state->subscribed, topic) && !list_matches(&state->removed, topic);
}

bool haas_auto_sub_delivers(const struct haas_auto_sub *state, const char *topic)
{
    struct haas_device_id dev;
    return haas_auto_sub_topic_device(topic, &dev) && haas_auto_sub_delivers_to(state, &dev, topic);
}
