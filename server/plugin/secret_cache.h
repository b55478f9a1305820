/*
 * secret_cache.h - the broker plugin's memory of device secrets between
 * logins, so that a device logging in again (a fleet reconnecting after a
 * broker restart, a reboot after an upgrade) is checked without a database
 * look-up.
 *
 * It only keeps what store_device_auth.c read from the database and hands
 * it back; it knows nothing of when an entry stops being true. The caller
 * empties it (haas_secret_cache_reset) whenever the database says device
 * credentials changed (the version row of migration 0018: any change of a
 * device's secret or enabled flag, any device deleted), so a cached answer
 * is always the one the database would give in the same snapshot.
 *
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full; entries are never removed one by one, only all at once.
 * At most `max_entries` are kept (more are simply not cached). Secrets are
 * wiped from memory when forgotten. One thread only (the broker's).
 */
#ifndef HAAS_SECRET_CACHE_H
#define HAAS_SECRET_CACHE_H

#include <stdbool.h>
#include <stddef.h>

struct haas_secret_cache;

/* An empty cache of at most max_entries devices; NULL out of memory. */
struct haas_secret_cache *haas_secret_cache_new(size_t max_entries);

/* Wipes the secrets and frees the cache. NULL is a no-op. */
void haas_secret_cache_free(struct haas_secret_cache *cache);

/* Forgets every entry (their secrets wiped). NULL is a no-op. */
void haas_secret_cache_reset(struct haas_secret_cache *cache);

/*
 * Looks up device (pk, dn). When kept, copies its secret into `secret`
 * (capacity `secret_size`; a secret that does not fit counts as not kept)
 * and its enabled flag into *enabled, and returns true.
 */
bool haas_secret_cache_get(const struct haas_secret_cache *cache, const char *pk, const char *dn,
                           char *secret, size_t secret_size, bool *enabled);

/*
 * Keeps device (pk, dn) with its secret and enabled flag, replacing what
 * was kept for it. Returns false when it was not kept (full, out of
 * memory); the cache is then as it was.
 */
bool haas_secret_cache_put(struct haas_secret_cache *cache, const char *pk, const char *dn,
                           const char *secret, bool enabled);

/* How many devices are kept. */
size_t haas_secret_cache_count(const struct haas_secret_cache *cache);

#endif /* HAAS_SECRET_CACHE_H */
