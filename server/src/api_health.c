/*
 * api_health.c - GET /healthz (readiness, for scripts and compose health
 * checks) and GET / (where to go from here).
 */
#include "db.h"
#include "routes.h"
#include "server.h"

#include <time.h>

enum MHD_Result api_health(http_request *r)
{
    int schema = db_schema_version();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", schema > 0 ? "ok" : "error");
    /* No MQTT link in this build: the broker is reported as not used. */
    cJSON_AddStringToObject(o, "broker", "none");
    cJSON_AddNumberToObject(o, "schemaVersion", schema);
    cJSON_AddNumberToObject(o, "uptimeSeconds", (double)(time(NULL) - server.started));
    return reply_json(r, schema > 0 ? 200 : 503, o);
}

enum MHD_Result api_root(http_request *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "service", "haas-emu");
    cJSON_AddStringToObject(o, "api", "/api/v1");
    cJSON_AddStringToObject(o, "health", "/healthz");
    return reply_json(r, 200, o);
}
