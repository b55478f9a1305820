/*
 * alink_envelope.c - Alink request envelopes and the platform's replies (alink_envelope.h).
 */
#include "alink_envelope.h"

#include "topics.h"

bool alink_wants_reply(const cJSON *msg)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    if (!cJSON_IsString(id) && !cJSON_IsNumber(id))
        return false;
    /* Link SDK C 4.x sends "ack":1 by default and 0 when the firmware turned
     * post replies off; anything but a literal 0 keeps the reply. */
    const cJSON *ack = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(msg, "sys"), "ack");
    return !(cJSON_IsNumber(ack) && ack->valuedouble == 0);
}

char *alink_reply_text(const char *topic, const cJSON *msg)
{
    return alink_reply_with_data(topic, msg, cJSON_CreateObject());
}

char *alink_reply_with_data(const char *topic, const cJSON *msg, cJSON *data)
{
    char method[TOPIC_MAX];
    cJSON *r = NULL;
    if (!data || !alink_wants_reply(msg) || topic_alink_method(method, sizeof method, topic) < 0 ||
        !(r = cJSON_CreateObject())) {
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddItemToObject(r, "id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(msg, "id"), 0));
    cJSON_AddNumberToObject(r, "code", 200);
    cJSON_AddItemToObject(r, "data", data);
    cJSON_AddStringToObject(r, "message", "success");
    cJSON_AddStringToObject(r, "method", method);
    cJSON_AddStringToObject(r, "version", "1.0");
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return text;
}
