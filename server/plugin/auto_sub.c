/*
 * auto_sub.c - the automatic-subscription table and per-connection state.
 * See auto_sub.h for what it is for and how the plugin uses it.
 *
 * The table is written as topic templates: `{pk}` and `{dn}` stand for the
 * device's product key and name, `+` for any one level. Matching walks the
 * template and the topic level by level, with no copies; `{pk}` and `{dn}`
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

/* Length of the level starting at p (up to '/' or the end). */
static size_t level_len(const char *p)
{
    const char *slash = strchr(p, '/');
    return slash ? (size_t)(slash - p) : strlen(p);
}

/* Copies a level of `len` bytes into a buffer of cap bytes; false if too long. */
static bool capture(char *out, size_t cap, const char *p, size_t len)
{
    if (len >= cap) {
        return false;
    }
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

/*
 * Matches `topic` against template `tpl`; on success fills `dev` with the
 * captured identifiers (validated).
 */
static bool template_match(const char *tpl, const char *topic, struct haas_device_id *dev)
{
    const char *t = tpl;
    const char *p = topic;
    bool have_pk = false;
    bool have_dn = false;
    for (;;) {
        size_t tl = level_len(t);
        size_t pl = level_len(p);
        if (tl == 4 && memcmp(t, "{pk}", 4) == 0) {
            have_pk = capture(dev->product_key, sizeof dev->product_key, p, pl);
            if (!have_pk) {
                return false;
            }
        } else if (tl == 4 && memcmp(t, "{dn}", 4) == 0) {
            have_dn = capture(dev->device_name, sizeof dev->device_name, p, pl);
            if (!have_dn) {
                return false;
            }
        } else if (!(tl == 1 && t[0] == '+') && (tl != pl || memcmp(t, p, tl) != 0)) {
            return false;
        }
        bool t_end = t[tl] == '\0';
        bool p_end = p[pl] == '\0';
        if (t_end || p_end) {
            return t_end && p_end && have_pk && have_dn &&
                   valid_product_key(dev->product_key) &&
                   valid_device_name(dev->device_name);
        }
        t += tl + 1;
        p += pl + 1;
    }
}

bool haas_auto_sub_topic_device(const char *topic, struct haas_device_id *dev)
{
    if (topic == NULL || dev == NULL || strchr(topic, '+') || strchr(topic, '#')) {
        return false;
    }
    for (size_t i = 0; i < N_TEMPLATES; i++) {
        struct haas_device_id found;
        memset(&found, 0, sizeof found);
        if (template_match(TEMPLATES[i], topic, &found)) {
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

bool haas_auto_sub_delivers(const struct haas_auto_sub *state, const char *topic)
{
    struct haas_device_id dev;
    if (state == NULL || !haas_auto_sub_topic_device(topic, &dev) ||
        strcmp(dev.product_key, state->dev.product_key) != 0 ||
        strcmp(dev.device_name, state->dev.device_name) != 0) {
        return false;
    }
    return !list_matches(&state->subscribed, topic) && !list_matches(&state->removed, topic);
}
