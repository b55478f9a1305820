/*
 * seed.h - --seed FILE.json: create products, devices with fixed secrets,
 * groups, apps, versions (from local .tar.gz files) and tasks at start,
 * idempotently: starting twice with the same seed changes nothing.
 *
 * The seed goes through the same services as the REST API (service_*.h),
 * so it is validated exactly like a user's requests; "already exists" is
 * accepted when the existing thing matches the seed, and is an error when
 * it does not (a device with another secret, a version with other bytes).
 */
#ifndef HAAS_SEED_H
#define HAAS_SEED_H

#include <stddef.h>

/* Applies the seed file (the database is open, server.h is filled).
 * Returns 0, or -1 with a message in err. */
int seed_apply(const char *file, char *err, size_t errlen);

#endif
