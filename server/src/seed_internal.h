/*
 * seed_internal.h - what the parts of the --seed loader share (seed.c:
 * products, groups, apps, tasks; seed_firmware.c: firmware OTA): the
 * loader's state, its error message, and how a service call's outcome is
 * read. Not for use outside seed*.c.
 */
#ifndef HAAS_SEED_INTERNAL_H
#define HAAS_SEED_INTERNAL_H

#include "package_file.h"
#include "service.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
    char *err;
    size_t errlen;
} seeder;

/* Writes "seed: " and the message into s->err; returns -1. */
int seed_fail(seeder *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What a service call's result means for the seed: 1 created, 0 it existed
 * (SERVICE_EXISTS with exists_code), -1 an error (the message set, naming
 * the HTTP status the API would answer with, as when the seed went through
 * the API). */
int seed_outcome(seeder *s, const service_result *res, const char *exists_code, const char *what);

/* The string member key of o, or NULL. */
const char *seed_str(const cJSON *o, const char *key);

/* The file at path, copied into a package file in the data's tmp folder
 * (as an upload would be: at most --max-package-size, not empty), or NULL
 * after seed_fail(). */
package_file *seed_copy_file(seeder *s, const char *path);

/* The firmware OTA part of the seed (seed_firmware.c): "modules" and
 * "firmwares" of each product, then "otaJobs" and "rollouts". base: the seed file's
 * folder with a trailing '/' ("" for the working directory). */
int seed_firmware(seeder *s, const cJSON *root, const char *base);

#endif
