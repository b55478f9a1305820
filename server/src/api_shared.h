/*
 * api_shared.h - what the api_*.c files share: the JSON of a device (more
 * than one resource returns devices; defined in api_devices.c), reading
 * text inputs, answering a service's or the store's error, and paged lists
 * (api_page.c).
 *
 * An API handler parses the request, calls a service (service_*.h) or the
 * store (store_*.h), and turns the outcome into HTTP: the status of a
 * service_result maps to the HTTP status (400, 404, 409, 503, 500) and its
 * code and message become the {"code","message"} body.
 */
#ifndef HAAS_API_SHARED_H
#define HAAS_API_SHARED_H

#include "http.h"
#include "service.h"
#include "service_rollouts.h"
#include "store_devices.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* text as a JSON string when has is true, else JSON null. */
cJSON *api_text_or_null(bool has, const char *text);

/* A device as the API's JSON. */
cJSON *device_json(const store_device *d);

/*
 * The text of in's member key for a service: NULL when absent (or JSON
 * null, when null_is_absent), its string, or service_not_text for any other
 * value.
 */
const char *api_text(const cJSON *in, const char *key, int null_is_absent);

/* A comma-separated list of firmware versions ("1.0.0,1.0.1") as a JSON
 * array of strings (api_firmwares.c). */
cJSON *api_version_array(const char *list);

/* Room for what api_rollout_spec reads out of a rollout's JSON. */
typedef struct {
    char src[STORE_SRC_VERSIONS_SIZE];
    char batches[STORE_BATCHES_SIZE];
    const char *names[SERVICE_ROLLOUT_DEVICES_MAX];
} api_rollout_buffers;

/* A rollout's JSON (the body of POST /api/v1/rollouts, or a seed's entry)
 * as a spec, its texts pointing into in and buf (api_rollouts.c). Errors:
 * SERVICE_INVALID InvalidRollout (a malformed devices list); the service
 * checks the rest. */
service_status api_rollout_spec(const cJSON *in, service_rollout_spec *spec, api_rollout_buffers *buf,
                                service_result *res);

/*
 * A list member as one comma-separated text in buf (len bytes): an array
 * of strings (none holding a comma), or a string taken as it is. NULL when
 * absent (or JSON null), service_not_text when it is neither or does not
 * fit.
 */
const char *api_text_list(const cJSON *in, const char *key, char *buf, size_t len);

/* An array member of names into names (their texts, service_not_text for
 * one that is not a string); *n gets how many. 0, or -1 when it is not an
 * array of at most max. Absent: 0 names. */
int api_name_list(const cJSON *in, const char *key, const char **names, size_t max, size_t *n);

/* The HTTP status a service status is answered with (400, 404, 409, 503,
 * 500, 507). */
unsigned api_http_status(service_status s);

/* Answers a service's error (res->status not SERVICE_OK) with its HTTP status. */
enum MHD_Result api_fail(http_request *r, const service_result *res);

/*
 * Answers a store call that did not succeed: STORE_NOT_FOUND as 404 with
 * code and the printf-style message, a full disk (store_disk_full) as 507
 * InsufficientStorage, anything else as 500 StorageError "cannot <what>".
 */
enum MHD_Result api_store_fail(http_request *r, store_status s, const char *what, const char *code, const char *fmt,
                               ...) __attribute__((format(printf, 5, 6)));

/* Turns one row of a page into JSON. */
typedef cJSON *(*api_row_fn)(const void *row);

/* One page of a list being answered: page goes to the store's list call. */
typedef struct {
    store_page page;     /* offset and limit from the request; the rows come to items */
    cJSON *items;
    api_row_fn json;
    enum MHD_Result ret; /* the answer when api_page_begin failed */
} api_page;

/*
 * Starts a page whose rows json turns into JSON: reads ?offset=&limit=.
 * Returns true, or false after answering 400 InvalidParameter (the result
 * in pg->ret).
 */
bool api_page_begin(http_request *r, api_page *pg, api_row_fn json);

/*
 * Answers the page the store walked (s its status) as {"items", "total",
 * "offset", "limit"}, or 500 when s is not STORE_OK.
 */
enum MHD_Result api_page_end(http_request *r, api_page *pg, store_status s);

#endif
