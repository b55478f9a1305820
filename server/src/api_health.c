/*
 * api_health.c - GET /healthz (readiness, for scripts and compose health
 * checks: 200 only when the database is open and the MQTT link is up) and
 * GET / (where to go from here).
 */
#include "broker.h"
#include "db.h"
#include "mqtt_link.h"
#include "routes.h"
#include "server.h"

#include <time.h>

enum MHD_Result api_health(http_request *r)
{
    int schema = db_schema_version();
    int linked = mqtt_link_connected();
    int ready = schema > 0 && linked && !server.seeding;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", ready ? "ok" : server.seeding ? "seeding" : "starting");
    cJSON_AddStringToObject(o, "broker", linked ? "connected" : "disconnected");
    cJSON_AddStringToObject(o, "brokerMode", server.cfg.broker[0] ? "external" : "managed");
    if (!server.cfg.broker[0]) {
        cJSON_AddNumberToObject(o, "brokerPid", broker_pid());
        cJSON_AddNumberToObject(o, "brokerStarts", broker_starts());
    }
    cJSON_AddNumberToObject(o, "linkConnects", (double)mqtt_link_connects());
    cJSON_AddNumberToObject(o, "schemaVersion", schema);
    cJSON_AddNumberToObject(o, "uptimeSeconds", (double)(time(NULL) - server.started));
    return reply_json(r, ready ? 200 : 503, o);
}

enum MHD_Result api_root(http_request *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "service", "haas-emu");
    cJSON_AddStringToObject(o, "api", "/api/v1");
    cJSON_AddStringToObject(o, "health", "/healthz");
    /* Where devices connect (the console shows it; null = not offered). */
    const config *cfg = &server.cfg;
    int managed = !cfg->broker[0];
    cJSON *mq = cJSON_AddObjectToObject(o, "endpoints");
    if (managed)
        cJSON_AddNumberToObject(mq, "mqttPort", cfg->mqtt_port);
    else
        cJSON_AddStringToObject(mq, "externalBroker", cfg->broker);
    if (managed && server.tls.cert_path[0] && cfg->mqtts_port)
        cJSON_AddNumberToObject(mq, "mqttsPort", cfg->mqtts_port);
    else
        cJSON_AddNullToObject(mq, "mqttsPort");
    if (server.https_port)
        cJSON_AddNumberToObject(mq, "httpsPort", server.https_port);
    else
        cJSON_AddNullToObject(mq, "httpsPort");
    cJSON_AddStringToObject(mq, "publicUrl", cfg->public_url);
    if (server.ca_pem)
        cJSON_AddStringToObject(mq, "caPem", "/api/v1/ca.pem");
    else
        cJSON_AddNullToObject(mq, "caPem");
    return reply_json(r, 200, o);
}
