/*
 * status_watch.c - the service account's subscriptions that can match the
 * per-device lifecycle topics, and its live connections. See status_watch.h.
 *
 * Two small arrays searched linearly: the service account has a handful of
 * clients (haas-emu's link, a user's watcher or two), not thousands. Order
 * is not kept (a removal moves the last record into the hole).
 */
#include "status_watch.h"

#include "topic_acl.h"
#include "topics.h"

#include <stdlib.h>
#include <string.h>

/* One subscription: client id and filter in one allocation. */
struct watch_sub {
    char *client_id;
    const char *filter; /* points into client_id's allocation */
};

/* The latest connection of one client id. */
struct watch_conn {
    char *client_id;
    const void *conn;
};

struct haas_status_watch {
    struct watch_sub *subs;
    size_t sub_count, sub_cap;
    struct watch_conn *conns;
    size_t conn_count, conn_cap;
    bool unsure; /* a record was lost: someone may always be listening */
};

struct haas_status_watch *haas_status_watch_new(void)
{
    return calloc(1, sizeof(struct haas_status_watch));
}

void haas_status_watch_free(struct haas_status_watch *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->sub_count; i++) {
        free(w->subs[i].client_id);
    }
    for (size_t i = 0; i < w->conn_count; i++) {
        free(w->conns[i].client_id);
    }
    free(w->subs);
    free(w->conns);
    free(w);
}

#define SHARE_PREFIX "$share/"

bool haas_status_watch_shared(const char *filter)
{
    return filter != NULL && strncmp(filter, SHARE_PREFIX, strlen(SHARE_PREFIX)) == 0;
}

bool haas_status_watch_filter(const char *filter)
{
    if (haas_status_watch_shared(filter)) {
        const char *group_end = strchr(filter + strlen(SHARE_PREFIX), '/');
        if (group_end == NULL) {
            return false; /* no filter after the group: the broker refuses it */
        }
        filter = group_end + 1;
    }
    return haas_filters_overlap(filter, TOPIC_LIFECYCLE_FILTER);
}

/* The array `items` (`count` of `*cap` items of `size` bytes) with room for
 * one more: itself, or a larger copy (*cap updated); NULL when full
 * (HAAS_STATUS_WATCH_MAX) or out of memory, `items` unchanged then. */
static void *with_room(void *items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap) {
        return items;
    }
    if (*cap >= HAAS_STATUS_WATCH_MAX) {
        return NULL;
    }
    size_t grown = *cap ? *cap * 2 : 8;
    void *p = realloc(items, grown * size);
    if (p != NULL) {
        *cap = grown;
    }
    return p;
}

/* Drops subscription record `i` (the last one moves into its place). */
static void drop_sub(struct haas_status_watch *w, size_t i)
{
    free(w->subs[i].client_id);
    w->subs[i] = w->subs[--w->sub_count];
}

/* Forgets every subscription of `client_id`. */
static void forget_subs(struct haas_status_watch *w, const char *client_id)
{
    for (size_t i = 0; i < w->sub_count;) {
        if (strcmp(w->subs[i].client_id, client_id) == 0) {
            drop_sub(w, i);
        } else {
            i++;
        }
    }
}

/* The index of the record of `client_id`'s subscription to `filter`, or -1. */
static long find_sub(const struct haas_status_watch *w, const char *client_id, const char *filter)
{
    for (size_t i = 0; i < w->sub_count; i++) {
        if (strcmp(w->subs[i].client_id, client_id) == 0 && strcmp(w->subs[i].filter, filter) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* The index of the connection record of `client_id`, or -1. */
static long find_conn(const struct haas_status_watch *w, const char *client_id)
{
    for (size_t i = 0; i < w->conn_count; i++) {
        if (strcmp(w->conns[i].client_id, client_id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

void haas_status_watch_login(struct haas_status_watch *w, const char *client_id, const void *conn,
                             bool clean_start)
{
    if (w == NULL || client_id == NULL) {
        return;
    }
    if (clean_start) {
        forget_subs(w, client_id);
    }
    long i = find_conn(w, client_id);
    if (i >= 0) {
        w->conns[i].conn = conn; /* a takeover: the older one's logout changes nothing */
        return;
    }
    struct watch_conn *conns = with_room(w->conns, w->conn_count, &w->conn_cap, sizeof(*conns));
    char *copy = conns != NULL ? strdup(client_id) : NULL;
    if (conns != NULL) {
        w->conns = conns;
    }
    if (copy == NULL) {
        return; /* its logout will not be recognised: its subscriptions stay */
    }
    w->conns[w->conn_count++] = (struct watch_conn){copy, conn};
}

void haas_status_watch_logout(struct haas_status_watch *w, const char *client_id, const void *conn,
                              bool session_ends)
{
    if (w == NULL || client_id == NULL) {
        return;
    }
    long i = find_conn(w, client_id);
    if (i < 0 || w->conns[i].conn != conn) {
        return; /* never logged in, or taken over by a newer connection */
    }
    free(w->conns[i].client_id);
    w->conns[i] = w->conns[--w->conn_count];
    if (session_ends) {
        forget_subs(w, client_id);
    }
}

void haas_status_watch_subscribed(struct haas_status_watch *w, const char *client_id, const char *filter)
{
    if (w == NULL || client_id == NULL || !haas_status_watch_filter(filter) || find_sub(w, client_id, filter) >= 0) {
        return;
    }
    size_t id_len = strlen(client_id);
    size_t filter_len = strlen(filter);
    struct watch_sub *subs = with_room(w->subs, w->sub_count, &w->sub_cap, sizeof(*subs));
    char *both = subs != NULL ? malloc(id_len + filter_len + 2) : NULL;
    if (subs != NULL) {
        w->subs = subs;
    }
    if (both == NULL) {
        w->unsure = true; /* not recorded: someone may always be listening */
        return;
    }
    memcpy(both, client_id, id_len + 1);
    memcpy(both + id_len + 1, filter, filter_len + 1);
    w->subs[w->sub_count++] = (struct watch_sub){both, both + id_len + 1};
}

void haas_status_watch_unsubscribed(struct haas_status_watch *w, const char *client_id,
                                    const char *filter)
{
    if (w == NULL || client_id == NULL || filter == NULL) {
        return;
    }
    long i = find_sub(w, client_id, filter);
    if (i >= 0) {
        drop_sub(w, (size_t)i);
    }
}

bool haas_status_watch_any(const struct haas_status_watch *w)
{
    return w == NULL || w->unsure || w->sub_count > 0;
}

size_t haas_status_watch_count(const struct haas_status_watch *w)
{
    return w ? w->sub_count : 0;
}
