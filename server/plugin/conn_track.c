/*
 * conn_track.c - hash tables of live device connections (by client pointer)
 * and of per-device connection counts (by product key + device name).
 * See conn_track.h.
 */
#include "conn_track.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024u /* power of two; chains grow beyond that */

struct conn_entry;

/* Per-device live connection count and the list of those connections. */
struct dev_entry {
    struct haas_device_id dev;
    size_t count;
    struct conn_entry *first; /* its connections, linked by dev_next */
    struct dev_entry *next;
};

/* One live connection; points at its device's counter. */
struct conn_entry {
    const void *client;
    char *client_id;             /* its MQTT client id, NULL when not indexed */
    void *data;                  /* the caller's, freed by free_data */
    struct dev_entry *dev;
    struct conn_entry *next;     /* same hash bucket (by pointer) */
    struct conn_entry *dev_next; /* same device */
    struct conn_entry *id_next;  /* same hash bucket (by client id) */
};

struct haas_conn_table {
    struct conn_entry *conns[BUCKETS];
    struct dev_entry *devs[BUCKETS];
    struct conn_entry *ids[BUCKETS];
    size_t total;
    void (*free_data)(void *data);
};

static size_t ptr_hash(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= (uintptr_t)0x9E3779B97F4A7C15ull;
    v ^= v >> 29;
    return (size_t)(v & (BUCKETS - 1));
}

/* FNV-1a over a string. */
static size_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return (size_t)(h & (BUCKETS - 1));
}

/* FNV-1a over "pk" NUL "dn". */
static size_t dev_hash(const struct haas_device_id *dev)
{
    uint32_t h = 2166136261u;
    for (const char *s = dev->product_key; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    h = (h ^ 0u) * 16777619u;
    for (const char *s = dev->device_name; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return (size_t)(h & (BUCKETS - 1));
}

static bool dev_equal(const struct haas_device_id *a, const struct haas_device_id *b)
{
    return strcmp(a->product_key, b->product_key) == 0 &&
           strcmp(a->device_name, b->device_name) == 0;
}

struct haas_conn_table *haas_conn_table_new(void (*free_data)(void *data))
{
    struct haas_conn_table *table = calloc(1, sizeof(struct haas_conn_table));
    if (table != NULL) {
        table->free_data = free_data;
    }
    return table;
}

/* Frees one connection record and the caller's data attached to it. */
static void free_conn(const struct haas_conn_table *table, struct conn_entry *c)
{
    if (c->data != NULL && table->free_data != NULL) {
        table->free_data(c->data);
    }
    free(c->client_id);
    free(c);
}

void haas_conn_table_free(struct haas_conn_table *table)
{
    if (table == NULL) {
        return;
    }
    for (size_t i = 0; i < BUCKETS; i++) {
        struct conn_entry *c = table->conns[i];
        while (c != NULL) {
            struct conn_entry *next = c->next;
            free_conn(table, c);
            c = next;
        }
        struct dev_entry *d = table->devs[i];
        while (d != NULL) {
            struct dev_entry *next = d->next;
            free(d);
            d = next;
        }
    }
    free(table);
}

/* Finds the device entry, or NULL. */
static struct dev_entry *find_dev(const struct haas_conn_table *table,
                                  const struct haas_device_id *dev)
{
    for (struct dev_entry *d = table->devs[dev_hash(dev)]; d != NULL; d = d->next) {
        if (dev_equal(&d->dev, dev)) {
            return d;
        }
    }
    return NULL;
}

size_t haas_conn_add(struct haas_conn_table *table, const void *client, const char *client_id,
                     const struct haas_device_id *dev, void *data)
{
    if (table == NULL || client == NULL || dev == NULL) {
        return 0;
    }
    struct conn_entry *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return 0;
    }
    if (client_id != NULL && (c->client_id = strdup(client_id)) == NULL) {
        free(c);
        return 0;
    }
    struct dev_entry *d = find_dev(table, dev);
    if (d == NULL) {
        d = calloc(1, sizeof(*d));
        if (d == NULL) {
            free(c);
            return 0;
        }
        d->dev = *dev;
        size_t h = dev_hash(dev);
        d->next = table->devs[h];
        table->devs[h] = d;
    }
    d->count++;
    c->client = client;
    c->data = data;
    c->dev = d;
    c->dev_next = d->first;
    d->first = c;
    if (c->client_id != NULL) {
        size_t ih = str_hash(c->client_id);
        c->id_next = table->ids[ih];
        table->ids[ih] = c;
    }
    size_t h = ptr_hash(client);
    c->next = table->conns[h];
    table->conns[h] = c;
    table->total++;
    return d->count;
}

/* Unlinks and frees a device entry whose count reached 0. */
static void drop_dev(struct haas_conn_table *table, struct dev_entry *d)
{
    struct dev_entry **pp = &table->devs[dev_hash(&d->dev)];
    while (*pp != NULL) {
        if (*pp == d) {
            *pp = d->next;
            free(d);
            return;
        }
        pp = &(*pp)->next;
    }
}

bool haas_conn_remove(struct haas_conn_table *table, const void *client,
                      struct haas_device_id *dev_out, size_t *remaining)
{
    if (table == NULL || client == NULL) {
        return false;
    }
    struct conn_entry **pp = &table->conns[ptr_hash(client)];
    while (*pp != NULL && (*pp)->client != client) {
        pp = &(*pp)->next;
    }
    struct conn_entry *c = *pp;
    if (c == NULL) {
        return false;
    }
    *pp = c->next;
    struct dev_entry *d = c->dev;
    struct conn_entry **dp = &d->first;
    while (*dp != c) {
        dp = &(*dp)->dev_next;
    }
    *dp = c->dev_next;
    if (c->client_id != NULL) {
        struct conn_entry **ip = &table->ids[str_hash(c->client_id)];
        while (*ip != c) {
            ip = &(*ip)->id_next;
        }
        *ip = c->id_next;
    }
    free_conn(table, c);
    table->total--;
    d->count--;
    if (dev_out != NULL) {
        *dev_out = d->dev;
    }
    if (remaining != NULL) {
        *remaining = d->count;
    }
    if (d->count == 0) {
        drop_dev(table, d);
    }
    return true;
}

size_t haas_conn_count(const struct haas_conn_table *table, const struct haas_device_id *dev)
{
    if (table == NULL || dev == NULL) {
        return 0;
    }
    const struct dev_entry *d = find_dev(table, dev);
    return d ? d->count : 0;
}

size_t haas_conn_total(const struct haas_conn_table *table)
{
    return table ? table->total : 0;
}

bool haas_conn_owner(const struct haas_conn_table *table, const char *client_id,
                     struct haas_device_id *dev_out)
{
    if (table == NULL || client_id == NULL) {
        return false;
    }
    for (const struct conn_entry *c = table->ids[str_hash(client_id)]; c != NULL; c = c->id_next) {
        if (strcmp(c->client_id, client_id) == 0) {
            if (dev_out != NULL) {
                *dev_out = c->dev->dev;
            }
            return true;
        }
    }
    return false;
}

void *haas_conn_data(const struct haas_conn_table *table, const void *client)
{
    if (table == NULL || client == NULL) {
        return NULL;
    }
    for (const struct conn_entry *c = table->conns[ptr_hash(client)]; c != NULL; c = c->next) {
        if (c->client == client) {
            return c->data;
        }
    }
    return NULL;
}

size_t haas_conn_each(const struct haas_conn_table *table, const struct haas_device_id *dev,
                      haas_conn_visit visit, void *arg)
{
    if (table == NULL || dev == NULL || visit == NULL) {
        return 0;
    }
    const struct dev_entry *d = find_dev(table, dev);
    size_t n = 0;
    for (const struct conn_entry *c = d ? d->first : NULL; c != NULL; c = c->dev_next) {
        visit(c->client, c->data, arg);
        n++;
    }
    return n;
}
