/*
 * api_live.c - GET /api/v1/rev and GET /api/v1/messages: the cheap
 * endpoints the console polls for live updates (live.h).
 */
#include "live.h"
#include "routes.h"

#include <stdlib.h>

enum MHD_Result api_rev(http_request *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rev", (double)live_rev());
    return reply_json(r, 200, o);
}

enum MHD_Result api_messages(http_request *r)
{
    const char *after_text = http_query(r, "after"), *limit_text = http_query(r, "limit");
    char *end = NULL;
    unsigned long long after = after_text ? strtoull(after_text, &end, 10) : 0;
    long limit = limit_text ? strtol(limit_text, NULL, 10) : 100;
    if ((after_text && (end == after_text || *end)) || limit < 1 || limit > 500)
        return reply_error(r, 400, "InvalidParameter", "after must be a sequence number and limit 1..500");
    uint64_t next;
    cJSON *items = live_messages(after, http_query(r, "taskId"), http_query(r, "productKey"),
                                 http_query(r, "deviceName"), (int)limit, &next);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    cJSON_AddNumberToObject(o, "next", (double)next);
    cJSON_AddNumberToObject(o, "rev", (double)live_rev());
    return reply_json(r, 200, o);
}
