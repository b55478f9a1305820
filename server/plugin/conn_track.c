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

/* Per-device live connection count. */
struct dev_entry {
    struct haas_device_id dev;
    size_t count;
    struct dev_entry *next;
};

/* One live connection; points at its device's counter. */
struct conn_entry {
    const void *client;
    struct dev_entry *dev;
    struct conn_entry *next;
};

struct haas_conn_table {
    struct conn_entry *conns[BUCKETS];
    struct dev_entry *devs[BUCKETS];
    size_t total;
};

static size_t ptr_hash(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= (uintptr_t)0x9E3779B97F4A7C15ull;
    v ^= v >> 29;
    return (size_t)(v & (BUCKETS - 1));
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

struct haas_conn_table *haas_conn_table_new(void)
{
    return calloc(1, sizeof(struct haas_conn_table));
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
            free(c);
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

size_t haas_conn_add(struct haas_conn_table *table, const void *client,
                     const struct haas_device_id *dev)
{
    if (table == NULL || client == NULL || dev == NULL) {
        return 0;
    }
    struct conn_entry *c = calloc(1, sizeof(*c));
    if (c == NULL) {
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
    c->dev = d;
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
    free(c);
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
