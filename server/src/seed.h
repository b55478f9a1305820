/*
 * seed.h - --seed FILE.json: create products, devices with fixed secrets,
 * groups, apps, versions (from local .tar.gz files) and tasks at start,
 * idempotently: starting twice with the same seed changes nothing.
 *
 * The seed goes through haas-emu's own REST API (over loopback), so it is
 * validated exactly like a user's requests; "already exists" answers are
 * accepted when the existing thing matches the seed, and are an error when
 * it does not (a device with another secret, a version with other bytes).
 */
#ifndef HAAS_SEED_H
#define HAAS_SEED_H

#include <stddef.h>

/* Applies the seed file through the API at host:port. Returns 0, or -1
 * with a message in err. */
int seed_apply(const char *file, const char *host, int port, const char *token, char *err, size_t errlen);

#endif
