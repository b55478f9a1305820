/*
 * api_shared.h - the JSON shapes that more than one api_*.c file returns.
 * Each is defined in the file of the resource it describes.
 */
#ifndef HAAS_API_SHARED_H
#define HAAS_API_SHARED_H

#include "http.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>

/* Columns device_json() reads, from table devices aliased d. */
#define DEVICE_COLUMNS \
    "d.product_key, d.device_name, d.device_secret, d.status, d.last_online_at, d.ip, d.created_at, " \
    "(SELECT json_group_array(json_object('appId', a.app_id, 'version', a.version)) " \
    "   FROM device_apps a WHERE a.product_key = d.product_key AND a.device_name = d.device_name), " \
    "d.firmware_version, d.device_info, d.device_info_at, d.last_refusal"

/* A device row (DEVICE_COLUMNS starting at column 0) as the API's JSON. */
cJSON *device_json(sqlite3 *db, sqlite3_stmt *st);

/* Both devices exist? Caller holds the lock. */
int device_exists(sqlite3 *db, const char *pk, const char *dn);

/* Turns one row of a list query into JSON. */
typedef cJSON *(*api_row_fn)(sqlite3 *db, sqlite3_stmt *st);

/*
 * Answers one page of a list ({"items","total","offset","limit"}), paged by
 * the request's ?offset=&limit=. items_sql takes ?1 and ?2 (p1 and p2, NULL
 * binds SQL NULL) and ends with "LIMIT ?3 OFFSET ?4"; count_sql counts the
 * same rows with ?1 and ?2. Takes the database lock itself.
 */
enum MHD_Result api_page(http_request *r, const char *items_sql, const char *count_sql, const char *p1,
                         const char *p2, api_row_fn row);

#endif
