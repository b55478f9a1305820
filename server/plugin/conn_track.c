/*
 * conn_track.c - hash tables of live device connections (by client pointer
 * and by MQTT client id) and of per-device connection counts (by product
 * key + device name). See conn_track.h.
 *
 * Each table starts with INITIAL_BUCKETS chains and doubles whenever it
 * holds more records than chains (load factor 1), so a look-up stays O(1)
 * at 100,000 connections and more; it never shrinks. Every record keeps its
 * full hash, so growing rehashes without reading the keys again, and a
 * chain is walked comparing hashes before strings. When growing fails (out
 * of memory) the table keeps its chains: slower, still correct.
 */
#include "conn_track.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 1024u /* power of two */

struct conn_entry;

/* Per-device live connection count, the list of those connections and the
 * device's last lifecycle event. Freed when it has neither. */
struct dev_entry {
    struct haas_device_id dev;
    size_t hash;              /* dev_hash(&dev), unmasked */
    size_t count;
    struct conn_entry *first; /* its connections, linked by dev_next */
    struct dev_entry *next;   /* same bucket of devs */
    bool has_status;          /* `status` was set */
    struct haas_status_event status;
};

/* One live connection; points at its device's counter. */
struct conn_entry {
    const void *client;
    void *data;                  /* the caller's, freed by free_data */
    struct dev_entry *dev;
    struct conn_entry *next;     /* same bucket of conns (by pointer) */
    struct conn_entry *dev_next; /* same device */
    struct conn_entry *id_next;  /* same bucket of ids (by client id) */
    size_t ptr_hash;             /* ptr_hash(client), unmasked */
    size_t id_hash;              /* str_hash(client_id), unmasked */
    bool has_id;                 /* indexed by client id */
    char client_id[];            /* its MQTT client id ("" when not indexed) */
};

/* A chained hash table: `mask + 1` (a power of two) bucket heads. */
struct chains {
    void **heads;
    size_t mask;
    size_t count;
};

struct haas_conn_table {
    struct chains conns; /* struct conn_entry, linked by next */
    struct chains devs;  /* struct dev_entry, linked by next */
    struct chains ids;   /* struct conn_entry with has_id, linked by id_next */
    void (*free_data)(void *data);
};

static size_t ptr_hash(const void *p)
{
    uint64_t v = (uint64_t)(uintptr_t)p;
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    v *= 0xc4ceb9fe1a85ec53ull;
    v ^= v >> 33;
    return (size_t)v;
}

/* FNV-1a (64 bits) step over a string. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    }
    return h;
}

#define FNV_BASIS 14695981039346656037ull

static size_t str_hash(const char *s)
{
    return (size_t)fnv_str(FNV_BASIS, s);
}

/* FNV-1a over "pk" NUL "dn". */
static size_t dev_hash(const struct haas_device_id *dev)
{
    uint64_t h = fnv_str(FNV_BASIS, dev->product_key);
    h = (h ^ 0u) * 1099511628211ull;
    return (size_t)fnv_str(h, dev->device_name);
}

static bool dev_equal(const struct haas_device_id *a, const struct haas_device_id *b)
{
    return strcmp(a->product_key, b->product_key) == 0 &&
           strcmp(a->device_name, b->device_name) == 0;
}

static bool chains_init(struct chains *c)
{
    c->heads = calloc(INITIAL_BUCKETS, sizeof(*c->heads));
    c->mask = INITIAL_BUCKETS - 1;
    c->count = 0;
    return c->heads != NULL;
}

/* The record's link to the next one of its chain, its hash. */
typedef void **(*link_of)(void *rec);
typedef size_t (*hash_of)(const void *rec);

static void **conn_link(void *rec) { return (void **)&((struct conn_entry *)rec)->next; }
static size_t conn_hash_of(const void *rec) { return ((const struct conn_entry *)rec)->ptr_hash; }
static void **dev_link(void *rec) { return (void **)&((struct dev_entry *)rec)->next; }
static size_t dev_hash_of(const void *rec) { return ((const struct dev_entry *)rec)->hash; }
static void **id_link(void *rec) { return (void **)&((struct conn_entry *)rec)->id_next; }
static size_t id_hash_of(const void *rec) { return ((const struct conn_entry *)rec)->id_hash; }

/* Doubles the chains when they hold more records than buckets. */
static void chains_maybe_grow(struct chains *c, link_of link, hash_of hash)
{
    if (c->count <= c->mask + 1 || c->mask + 1 > SIZE_MAX / 2 / sizeof(*c->heads)) {
        return;
    }
    size_t size = (c->mask + 1) * 2;
    void **heads = calloc(size, sizeof(*heads));
    if (heads == NULL) {
        return; /* longer chains, still correct */
    }
    for (size_t i = 0; i <= c->mask; i++) {
        void *rec = c->heads[i];
        while (rec != NULL) {
            void **next = link(rec);
            void *following = *next;
            size_t b = hash(rec) & (size - 1);
            *next = heads[b];
            heads[b] = rec;
            rec = following;
        }
    }
    free(c->heads);
    c->heads = heads;
    c->mask = size - 1;
}

/* Links `rec` (hash `h`) at the head of its chain. */
static void chains_insert(struct chains *c, void *rec, size_t h, link_of link, hash_of hash)
{
    void **head = &c->heads[h & c->mask];
    *link(rec) = *head;
    *head = rec;
    c->count++;
    chains_maybe_grow(c, link, hash);
}

/* Unlinks `rec` (hash `h`), which must be in the chains. */
static void chains_remove(struct chains *c, void *rec, size_t h, link_of link)
{
    void **pp = &c->heads[h & c->mask];
    while (*pp != rec) {
        pp = link(*pp);
    }
    *pp = *link(rec);
    c->count--;
}

struct haas_conn_table *haas_conn_table_new(void (*free_data)(void *data))
{
    struct haas_conn_table *table = calloc(1, sizeof(struct haas_conn_table));
    if (table == NULL) {
        return NULL;
    }
    if (!chains_init(&table->conns) || !chains_init(&table->devs) || !chains_init(&table->ids)) {
        free(table->conns.heads);
        free(table->devs.heads);
        free(table->ids.heads);
        free(table);
        return NULL;
    }
    table->free_data = free_data;
    return table;
}

/* Frees one connection record and the caller's data attached to it. */
static void free_conn(const struct haas_conn_table *table, struct conn_entry *c)
{
    if (c->data != NULL && table->free_data != NULL) {
        table->free_data(c->data);
    }
    free(c);
}

void haas_conn_table_free(struct haas_conn_table *table)
{
    if (table == NULL) {
        return;
    }
    for (size_t i = 0; i <= table->conns.mask; i++) {
        struct conn_entry *c = table->conns.heads[i];
        while (c != NULL) {
            struct conn_entry *next = c->next;
            free_conn(table, c);
            c = next;
        }
    }
    for (size_t i = 0; i <= table->devs.mask; i++) {
        struct dev_entry *d = table->devs.heads[i];
        while (d != NULL) {
            struct dev_entry *next = d->next;
            free(d);
            d = next;
        }
    }
    free(table->conns.heads);
    free(table->devs.heads);
    free(table->ids.heads);
    free(table);
}

/* Finds the device entry of hash `h`, or NULL. */
static struct dev_entry *find_dev(const struct haas_conn_table *table,
                                  const struct haas_device_id *dev, size_t h)
{
    for (struct dev_entry *d = table->devs.heads[h & table->devs.mask]; d != NULL; d = d->next) {
        if (d->hash == h && dev_equal(&d->dev, dev)) {
            return d;
        }
    }
    return NULL;
}

/* Finds the record of connection `client`, or NULL. */
static struct conn_entry *find_conn(const struct haas_conn_table *table, const void *client)
{
    size_t h = ptr_hash(client);
    for (struct conn_entry *c = table->conns.heads[h & table->conns.mask]; c != NULL; c = c->next) {
        if (c->client == client) {
            return c;
        }
    }
    return NULL;
}

/* Finds the entry of device `dev`, adding an empty one if there is none;
 * NULL when out of memory. */
static struct dev_entry *find_or_add_dev(struct haas_conn_table *table, const struct haas_device_id *dev)
{
    size_t dh = dev_hash(dev);
    struct dev_entry *d = find_dev(table, dev, dh);
    if (d == NULL) {
        d = calloc(1, sizeof(*d));
        if (d == NULL) {
            return NULL;
        }
        d->dev = *dev;
        d->hash = dh;
        chains_insert(&table->devs, d, dh, dev_link, dev_hash_of);
    }
    return d;
}

size_t haas_conn_add(struct haas_conn_table *table, const void *client, const char *client_id,
                     const struct haas_device_id *dev, void *data)
{
    if (table == NULL || client == NULL || dev == NULL) {
        return 0;
    }
    size_t id_len = client_id != NULL ? strlen(client_id) : 0;
    if (id_len > SIZE_MAX - sizeof(struct conn_entry) - 1) {
        return 0;
    }
    struct conn_entry *c = malloc(sizeof(*c) + id_len + 1);
    if (c == NULL) {
        return 0;
    }
    struct dev_entry *d = find_or_add_dev(table, dev);
    if (d == NULL) {
        free(c);
        return 0;
    }
    d->count++;
    c->client = client;
    c->data = data;
    c->dev = d;
    c->dev_next = d->first;
    d->first = c;
    c->has_id = client_id != NULL;
    memcpy(c->client_id, client_id != NULL ? client_id : "", id_len + 1);
    c->id_next = NULL;
    c->id_hash = 0;
    if (c->has_id) {
        c->id_hash = str_hash(c->client_id);
        chains_insert(&table->ids, c, c->id_hash, id_link, id_hash_of);
    }
    c->ptr_hash = ptr_hash(client);
    chains_insert(&table->conns, c, c->ptr_hash, conn_link, conn_hash_of);
    return d->count;
}

bool haas_conn_remove(struct haas_conn_table *table, const void *client,
                      struct haas_device_id *dev_out, size_t *remaining)
{
    if (table == NULL || client == NULL) {
        return false;
    }
    struct conn_entry *c = find_conn(table, client);
    if (c == NULL) {
        return false;
    }
    chains_remove(&table->conns, c, c->ptr_hash, conn_link);
    struct dev_entry *d = c->dev;
    struct conn_entry **dp = &d->first;
    while (*dp != c) {
        dp = &(*dp)->dev_next;
    }
    *dp = c->dev_next;
    if (c->has_id) {
        chains_remove(&table->ids, c, c->id_hash, id_link);
    }
    free_conn(table, c);
    d->count--;
    if (dev_out != NULL) {
        *dev_out = d->dev;
    }
    if (remaining != NULL) {
        *remaining = d->count;
    }
    if (d->count == 0 && !d->has_status) {
        chains_remove(&table->devs, d, d->hash, dev_link);
        free(d);
    }
    return true;
}

size_t haas_conn_count(const struct haas_conn_table *table, const struct haas_device_id *dev)
{
    if (table == NULL || dev == NULL) {
        return 0;
    }
    const struct dev_entry *d = find_dev(table, dev, dev_hash(dev));
    return d ? d->count : 0;
}

size_t haas_conn_total(const struct haas_conn_table *table)
{
    return table ? table->conns.count : 0;
}

bool haas_conn_owner(const struct haas_conn_table *table, const char *client_id,
                     struct haas_device_id *dev_out)
{
    if (table == NULL || client_id == NULL) {
        return false;
    }
    size_t h = str_hash(client_id);
    for (const struct conn_entry *c = table->ids.heads[h & table->ids.mask]; c != NULL; c = c->id_next) {
        if (c->id_hash == h && strcmp(c->client_id, client_id) == 0) {
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
    const struct conn_entry *c = find_conn(table, client);
    return c ? c->data : NULL;
}

size_t haas_conn_each(const struct haas_conn_table *table, const struct haas_device_id *dev,
                      haas_conn_visit visit, void *arg)
{
    if (table == NULL || dev == NULL || visit == NULL) {
        return 0;
    }
    const struct dev_entry *d = find_dev(table, dev, dev_hash(dev));
    size_t n = 0;
    for (const struct conn_entry *c = d ? d->first : NULL; c != NULL; c = c->dev_next) {
        visit(c->client, c->data, arg);
        n++;
    }
    return n;
}

bool haas_conn_set_status(struct haas_conn_table *table, const struct haas_device_id *dev,
                          const struct haas_status_event *ev)
{
    if (table == NULL || dev == NULL || ev == NULL) {
        return false;
    }
    struct dev_entry *d = find_or_add_dev(table, dev);
    if (d == NULL) {
        return false;
    }
    d->status = *ev;
    d->status.client_ip[HAAS_STATUS_IP_MAX] = '\0';
    d->has_status = true;
    return true;
}

size_t haas_conn_each_status(const struct haas_conn_table *table, haas_status_visit visit, void *arg)
{
    if (table == NULL || visit == NULL) {
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i <= table->devs.mask; i++) {
        for (const struct dev_entry *d = table->devs.heads[i]; d != NULL; d = d->next) {
            if (d->has_status) {
                visit(&d->dev, &d->status, arg);
                n++;
            }
        }
    }
    return n;
}

size_t haas_conn_buckets(const struct haas_conn_table *table)
{
    return table ? table->conns.mask + 1 : 0;
}
