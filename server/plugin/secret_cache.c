/*
 * secret_cache.c - device secrets kept between logins (see secret_cache.h).
 */
#include "secret_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 1024u /* power of two */

/* One device: "pk\0dn\0secret\0" in text. */
struct secret_entry {
    size_t hash;
    bool enabled;
    size_t secret_at; /* offset of the secret in text */
    size_t text_len;  /* bytes of text, the last NUL included */
    char text[];
};

struct haas_secret_cache {
    struct secret_entry **slots; /* NULL until the first entry */
    size_t mask;                 /* slots - 1 */
    size_t count;
    size_t max_entries;
};

/* FNV-1a (64 bits) over "pk" NUL "dn". */
static size_t key_hash(const char *pk, const char *dn)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *s = pk; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    }
    h *= 1099511628211ull; /* the NUL between them */
    for (const char *s = dn; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    }
    return (size_t)h;
}

static bool entry_is(const struct secret_entry *e, size_t hash, const char *pk, const char *dn)
{
    return e->hash == hash && strcmp(e->text, pk) == 0 && strcmp(e->text + strlen(e->text) + 1, dn) == 0;
}

static void free_entry(struct secret_entry *e)
{
    if (e != NULL) {
        explicit_bzero(e->text, e->text_len);
        free(e);
    }
}

/* The slot of (pk, dn): its entry, or the empty slot where it would go. */
static struct secret_entry **find_slot(const struct haas_secret_cache *c, size_t hash, const char *pk,
                                       const char *dn)
{
    size_t i = hash & c->mask;
    while (c->slots[i] != NULL && !entry_is(c->slots[i], hash, pk, dn)) {
        i = (i + 1) & c->mask;
    }
    return &c->slots[i];
}

/* Makes room for one more entry (at most half the slots in use); false out
 * of memory. */
static bool make_room(struct haas_secret_cache *c)
{
    size_t size = c->slots == NULL ? INITIAL_SLOTS : (c->mask + 1) * 2;
    if (c->slots != NULL && (c->count + 1) * 2 <= c->mask + 1) {
        return true;
    }
    if (size > SIZE_MAX / sizeof(*c->slots)) {
        return false;
    }
    struct secret_entry **slots = calloc(size, sizeof(*slots));
    if (slots == NULL) {
        return false;
    }
    for (size_t i = 0; c->slots != NULL && i <= c->mask; i++) {
        struct secret_entry *e = c->slots[i];
        if (e != NULL) {
            size_t j = e->hash & (size - 1);
            while (slots[j] != NULL) {
                j = (j + 1) & (size - 1);
            }
            slots[j] = e;
        }
    }
    free(c->slots);
    c->slots = slots;
    c->mask = size - 1;
    return true;
}

struct haas_secret_cache *haas_secret_cache_new(size_t max_entries)
{
    struct haas_secret_cache *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->max_entries = max_entries;
    }
    return c;
}

void haas_secret_cache_reset(struct haas_secret_cache *c)
{
    if (c == NULL || c->slots == NULL) {
        return;
    }
    for (size_t i = 0; i <= c->mask; i++) {
        free_entry(c->slots[i]);
        c->slots[i] = NULL;
    }
    c->count = 0;
}

void haas_secret_cache_free(struct haas_secret_cache *c)
{
    if (c == NULL) {
        return;
    }
    haas_secret_cache_reset(c);
    free(c->slots);
    free(c);
}

bool haas_secret_cache_get(const struct haas_secret_cache *c, const char *pk, const char *dn, char *secret,
                           size_t secret_size, bool *enabled)
{
    if (c == NULL || c->slots == NULL || secret_size == 0) {
        return false;
    }
    const struct secret_entry *e = *find_slot(c, key_hash(pk, dn), pk, dn);
    if (e == NULL || e->text_len - e->secret_at > secret_size) {
        return false;
    }
    memcpy(secret, e->text + e->secret_at, e->text_len - e->secret_at);
    *enabled = e->enabled;
    return true;
}

bool haas_secret_cache_put(struct haas_secret_cache *c, const char *pk, const char *dn, const char *secret,
                           bool enabled)
{
    if (c == NULL) {
        return false;
    }
    size_t pk_len = strlen(pk), dn_len = strlen(dn), secret_len = strlen(secret);
    size_t text_len = pk_len + dn_len + secret_len + 3;
    struct secret_entry *e = malloc(sizeof(*e) + text_len);
    if (e == NULL) {
        return false;
    }
    e->hash = key_hash(pk, dn);
    e->enabled = enabled;
    e->secret_at = pk_len + dn_len + 2;
    e->text_len = text_len;
    memcpy(e->text, pk, pk_len + 1);
    memcpy(e->text + pk_len + 1, dn, dn_len + 1);
    memcpy(e->text + e->secret_at, secret, secret_len + 1);
    struct secret_entry **slot = c->slots != NULL ? find_slot(c, e->hash, pk, dn) : NULL;
    if (slot != NULL && *slot != NULL) { /* kept already: replaced */
        free_entry(*slot);
        *slot = e;
        return true;
    }
    if (c->count >= c->max_entries || !make_room(c)) {
        free_entry(e);
        return false;
    }
    *find_slot(c, e->hash, pk, dn) = e;
    c->count++;
    return true;
}

size_t haas_secret_cache_count(const struct haas_secret_cache *c)
{
    return c == NULL ? 0 : c->count;
}
