/*
 * service.h - what every service (service_*.c) shares: how a service call
 * ends.
 *
 * The services hold haas-emu's rules: what a valid product, device, group,
 * app, version or task is, what may be deleted when, who a push goes to and
 * what a device's result means. They are called by the REST API (api_*.c),
 * the MQTT handlers (push.c, device_events.c) and the --seed loader
 * (seed.c), take plain C values, use the store (store_*.h) and answer with
 * a service_result: a status and, when it is not SERVICE_OK, the error's
 * machine-readable code and human text, the same wherever the call came
 * from. Services know nothing of HTTP or JSON; the API maps each status to
 * its HTTP status (api_shared.h).
 */
#ifndef HAAS_SERVICE_H
#define HAAS_SERVICE_H

#include "store.h"

#include <stddef.h>

typedef enum {
    SERVICE_OK,
    SERVICE_INVALID,     /* the input breaks a rule (the API answers 400) */
    SERVICE_NOT_FOUND,   /* something named does not exist (404) */
    SERVICE_EXISTS,      /* it exists already (409) */
    SERVICE_CONFLICT,    /* not allowed in the present state (409) */
    SERVICE_UNAVAILABLE, /* the MQTT link is down (503) */
    SERVICE_ERROR,       /* the store failed (500) */
    SERVICE_FULL         /* the store failed: the disk is full (507) */
} service_status;

typedef struct {
    service_status status;
    const char *code;   /* e.g. "InvalidName", "ProductExists"; NULL when SERVICE_OK */
    char message[300];  /* what went wrong, in words */
} service_result;

/*
 * What a caller passes for an input that was given but is not text (a JSON
 * number where a name belongs, say): each rule refuses it with the error of
 * that input. Compared by address.
 */
extern const char service_not_text[];

/* Sets res to SERVICE_OK and returns SERVICE_OK. */
service_status service_ok(service_result *res);

/* Sets res to status with code and the printf-style message; returns status. */
service_status service_fail(service_result *res, service_status status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For a store call that failed: SERVICE_ERROR, "StorageError", "cannot
 * <what>"; or, when it failed because the disk is full (store_disk_full),
 * SERVICE_FULL, "InsufficientStorage". */
service_status service_storage_error(service_result *res, const char *what);

/*
 * For the services: adds a row under an id, the given one (not NULL), or
 * else one made by make(id, idlen) - up to 10 of them, until one is free.
 * insert(id, ctx) adds the row and returns its store status. id (idlen
 * bytes) gets the id used. Returns the last insert's status: STORE_EXISTS
 * only for a given id; STORE_ERROR when make failed.
 */
store_status service_insert_id(char *id, size_t idlen, const char *given, int (*make)(char *id, size_t idlen),
                               store_status (*insert)(const char *id, void *ctx), void *ctx);

#endif
