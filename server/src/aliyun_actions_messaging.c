/*
 * aliyun_actions_messaging.c - the IoT Platform API's messaging
 * (aliyun_actions.h): Pub (a base64 MessageContent published to a device's
 * custom topic, /{pk}/{dn}/user/..., or /broadcast/{pk}/..., through the
 * MQTT link), RRpc (OFFLINE for a device that is not online; to an online
 * one the request goes out and the device's answer comes back as
 * PayloadBase64Byte, SUCCESS, or TIMEOUT after Timeout ms: rrpc.h), and
 * the thing model's InvokeThingService, SetDeviceProperty and
 * QueryDevicePropertyStatus: haas-emu's products have no thing model (TSL),
 * so a device has no properties (an empty list) and no service or property
 * to call or set (iot.tsl.NotExistedService, iot.tsl.NotExistedProperty).
 */
#include "aliyun_actions.h"
#include "clock.h"
#include "copy_text.h"
#include "live.h"
#include "mqtt_link.h"
#include "rrpc.h"
#include "store_devices.h"
#include "store_products.h"

#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE_MAX (256 * 1024) /* bytes of one Pub or RRpc message, as the cloud's */

static atomic_long message_seq;

/* A message id as the cloud's: a large number, new for every message. */
static long long message_id(void)
{
    return clock_now_ms() * 1000 + (atomic_fetch_add(&message_seq, 1) % 1000);
}

/* base64 text into a new buffer (*len its bytes); NULL when not base64 or
 * too big. */
static unsigned char *decode_base64(const char *text, int *len)
{
    size_t n = strlen(text);
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > MESSAGE_MAX)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    int got = out ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)n) : -1;
    if (got < 0) {
        free(out);
        return NULL;
    }
    got -= (text[n - 1] == '=') + (text[n - 2] == '=');
    *len = got;
    return out;
}

/* May the API publish to topic of product pk (what devices subscribe to)? */
static bool pub_topic_ok(const char *pk, const char *topic)
{
    size_t n = strlen(pk);
    const char *rest = NULL;
    if (topic[0] == '/' && !strncmp(topic + 1, pk, n) && topic[n + 1] == '/') {
        const char *dn_end = strchr(topic + n + 2, '/');
        rest = dn_end && dn_end > topic + n + 2 ? dn_end : NULL;
        if (rest && strncmp(rest, "/user/", 6) != 0)
            rest = NULL;
    } else if (!strncmp(topic, "/broadcast/", 11) && !strncmp(topic + 11, pk, n) && topic[11 + n] == '/') {
        rest = topic + 11 + n;
    }
    return rest && rest[1] && !strpbrk(topic, "+#") && strlen(topic) < 256;
}

enum MHD_Result aliyun_pub(aliyun_call *c)
{
    static const char *const required[] = {"ProductKey", "TopicFullName", "MessageContent"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!aliyun_get(c, required[i]) || !*aliyun_get(c, required[i]))
            return aliyun_missing(c, required[i]);
    const char *pk = aliyun_get(c, "ProductKey"), *topic = aliyun_get(c, "TopicFullName");
    long qos;
    if (!aliyun_get_int(c, "Qos", 0, 0, 1, &qos))
        return aliyun_invalid(c, "Qos");
    store_product p;
    store_status s = store_product_get(pk, &p);
    if (s != STORE_OK)
        return s == STORE_NOT_FOUND ? aliyun_error(c, "iot.prod.NotExistedProduct", "The product does not exist.")
                                    : aliyun_error(c, "iot.system.SystemException", "cannot read the product");
    if (!pub_topic_ok(pk, topic))
        return aliyun_error(c, "iot.messagebroker.InvalidTopicName", "The topic is not a custom topic "
                            "(/%s/{DeviceName}/user/...) or a broadcast topic of the product.", pk);
    int len = 0;
    unsigned char *payload = decode_base64(aliyun_get(c, "MessageContent"), &len);
    if (!payload)
        return aliyun_error(c, "iot.messagebroker.InvalidFormattedMessageContent", "MessageContent must be base64 "
                            "of at most %d bytes.", MESSAGE_MAX);
    int rc = mqtt_link_publish(topic, payload, (size_t)len, (int)qos);
    if (rc == 0) {
        char dn[STORE_DN_SIZE] = "";
        if (topic[1 + strlen(pk)] == '/' && strncmp(topic, "/broadcast/", 11) != 0)
            snprintf(dn, sizeof dn, "%.*s", (int)strcspn(topic + 2 + strlen(pk), "/"), topic + 2 + strlen(pk));
        live_log("out", "pub", pk, dn, NULL, topic, payload, (size_t)len); /* the console's message log */
    }
    free(payload);
    if (rc < 0)
        return aliyun_error(c, "iot.messagebroker.PublishMessageFailed", "The broker cannot be reached now.");
    cJSON *o = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof id, "%lld", message_id());
    cJSON_AddStringToObject(o, "MessageId", id);
    return aliyun_ok(c, o);
}

/* The device ProductKey/DeviceName into d; answers and returns false when
 * missing or unknown. */
static bool named_device(aliyun_call *c, store_device *d, enum MHD_Result *ret)
{
    const char *pk = aliyun_get(c, "ProductKey"), *dn = aliyun_get(c, "DeviceName");
    if (!pk || !*pk || !dn || !*dn) {
        *ret = aliyun_missing(c, !pk || !*pk ? "ProductKey" : "DeviceName");
        return false;
    }
    store_status s = store_device_get(pk, dn, d);
    if (s == STORE_OK)
        return true;
    *ret = s == STORE_NOT_FOUND ? aliyun_error(c, "iot.device.NotExistedDevice", "The device does not exist.")
                                : aliyun_error(c, "iot.system.SystemException", "cannot read the device");
    return false;
}

/* Runs act for the named device (read into a heap copy: a row is large). */
static enum MHD_Result with_device(aliyun_call *c, enum MHD_Result (*act)(aliyun_call *c, store_device *d))
{
    store_device *d = malloc(sizeof *d);
    enum MHD_Result ret;
    if (!d)
        return aliyun_error(c, "iot.system.SystemException", "out of memory");
    if (named_device(c, d, &ret))
        ret = act(c, d);
    free(d);
    return ret;
}

/* An RRpc call: what is sent, and what came back. */
typedef struct {
    char pk[STORE_PK_SIZE], dn[STORE_DN_SIZE];
    long long id;
    unsigned char *payload;
    int len;
    long timeout;
    bool online;
    rrpc_outcome out;
    unsigned char *answer;
    size_t answer_len;
} rrpc_run;

/* Sends the request and waits for the device's answer (aside: up to
 * Timeout ms). */
static void rrpc_wait(aliyun_call *c, void *state)
{
    (void)c;
    rrpc_run *p = state;
    p->out = rrpc_call(p->pk, p->dn, p->id, p->payload, (size_t)p->len, (int)p->timeout, &p->answer, &p->answer_len);
}

static enum MHD_Result rrpc_answer(aliyun_call *c, void *state)
{
    rrpc_run *p = state;
    const char *code = !p->online ? "OFFLINE" : p->out == RRPC_SUCCESS ? "SUCCESS"
                                              : p->out == RRPC_TIMEOUT ? "TIMEOUT" : "HALFCONN";
    size_t answer_len = p->answer ? p->answer_len : 0; /* an answer only on RRPC_SUCCESS */
    char text[32];
    char *b64 = malloc(answer_len / 3 * 4 + 8);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, answer_len ? p->answer : (const unsigned char *)"", (int)answer_len);
    snprintf(text, sizeof text, "%lld", p->id);
    free(p->answer);
    free(p->payload);
    free(p);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "MessageId", text);
    cJSON_AddStringToObject(o, "RrpcCode", code);
    cJSON_AddStringToObject(o, "PayloadBase64Byte", b64 ? b64 : "");
    free(b64);
    return aliyun_ok(c, o);
}

static enum MHD_Result rrpc(aliyun_call *c, store_device *d)
{
    const char *request = aliyun_get(c, "RequestBase64Byte");
    long timeout;
    if (!request || !*request)
        return aliyun_missing(c, "RequestBase64Byte");
    if (!aliyun_get(c, "Timeout"))
        return aliyun_missing(c, "Timeout");
    if (!aliyun_get_int(c, "Timeout", 0, 1000, 8000, &timeout))
        return aliyun_invalid(c, "Timeout");
    int len = 0;
    unsigned char *payload = decode_base64(request, &len);
    if (!payload)
        return aliyun_error(c, "iot.messagebroker.InvalidFormattedMessageContent", "RequestBase64Byte must be "
                            "base64 of at most %d bytes.", MESSAGE_MAX);
    rrpc_run *p = calloc(1, sizeof *p);
    if (!p) {
        free(payload);
        return aliyun_error(c, "iot.system.SystemException", "out of memory");
    }
    copy_text(p->pk, sizeof p->pk, d->product_key);
    copy_text(p->dn, sizeof p->dn, d->device_name);
    p->id = message_id();
    p->payload = payload;
    p->len = len;
    p->timeout = timeout;
    p->online = !strcmp(d->status, "online");
    /* the wait for the device's answer runs aside: this HTTP thread's
     * other connections go on meanwhile */
    return p->online ? aliyun_run_aside(c, p, rrpc_wait, rrpc_answer) : rrpc_answer(c, p);
}

enum MHD_Result aliyun_rrpc(aliyun_call *c) { return with_device(c, rrpc); }

static enum MHD_Result invoke(aliyun_call *c, store_device *d)
{
    const char *identifier = aliyun_get(c, "Identifier");
    (void)d;
    if (!identifier || !*identifier)
        return aliyun_missing(c, "Identifier");
    if (!aliyun_get(c, "Args"))
        return aliyun_missing(c, "Args");
    return aliyun_error(c, "iot.tsl.NotExistedService", "The product's thing model has no service %.64s.", identifier);
}

enum MHD_Result aliyun_invoke_thing_service(aliyun_call *c) { return with_device(c, invoke); }

static enum MHD_Result set_property(aliyun_call *c, store_device *d)
{
    const char *items = aliyun_get(c, "Items");
    (void)d;
    if (!items || !*items)
        return aliyun_missing(c, "Items");
    cJSON *o = cJSON_Parse(items);
    bool object = cJSON_IsObject(o), empty = object && !o->child;
    const char *first = object && o->child ? o->child->string : "";
    char name[65];
    snprintf(name, sizeof name, "%s", first);
    cJSON_Delete(o);
    if (!object || empty)
        return aliyun_invalid(c, "Items");
    return aliyun_error(c, "iot.tsl.NotExistedProperty", "The product's thing model has no property %s.", name);
}

enum MHD_Result aliyun_set_device_property(aliyun_call *c) { return with_device(c, set_property); }

static enum MHD_Result property_status(aliyun_call *c, store_device *d)
{
    (void)d;
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(cJSON_AddObjectToObject(data, "List"), "PropertyStatusInfo", cJSON_CreateArray());
    return aliyun_ok_data(c, data);
}

enum MHD_Result aliyun_query_device_property_status(aliyun_call *c) { return with_device(c, property_status); }
