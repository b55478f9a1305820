/*
 * aliyun_api.c - the IoT Platform API's gateway (see aliyun_api.h): the
 * parameters of GET /?Action= and of a form POST /, the common parameters,
 * the AccessKey, Timestamp, signature and nonce checks, the action table,
 * and the answers in the cloud's shape.
 */
#include "aliyun_api.h"
#include "aliyun_actions.h"
#include "clock.h"
#include "ids.h"
#include "routes.h"
#include "text_buf.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HOST_ID "iot.cn-shanghai.aliyuncs.com"

static char key_id[128], key_secret[128];

void aliyun_api_set_credentials(const char *id, const char *secret)
{
    snprintf(key_id, sizeof key_id, "%s", id);
    snprintf(key_secret, sizeof key_secret, "%s", secret);
}

const char *aliyun_api_key_id(void) { return key_id; }

bool aliyun_api_oss_sign(const char *text, char out[64]) { return aliyun_hmac_sha1_base64(key_secret, text, out, 64); }

/* ---- the action table ---- */

static const aliyun_action actions[] = {
    {"CreateProduct", aliyun_create_product},
    {"QueryProduct", aliyun_query_product},
    {"QueryProductList", aliyun_query_product_list},
    {"DeleteProduct", aliyun_delete_product},
    {"RegisterDevice", aliyun_register_device},
    {"BatchRegisterDevice", aliyun_batch_register_device},
    {"QueryBatchRegisterDeviceStatus", aliyun_query_batch_register_status},
    {"QueryPageByApplyId", aliyun_query_page_by_apply_id},
    {"QueryDeviceDetail", aliyun_query_device_detail},
    {"QueryDevice", aliyun_query_device},
    {"GetDeviceStatus", aliyun_get_device_status},
    {"BatchGetDeviceState", aliyun_batch_get_device_state},
    {"DisableThing", aliyun_disable_thing},
    {"EnableThing", aliyun_enable_thing},
    {"DeleteDevice", aliyun_delete_device},
    {"CreateDeviceGroup", aliyun_create_device_group},
    {"BatchAddDeviceGroupRelations", aliyun_batch_add_device_group_relations},
    {"QueryDeviceGroupList", aliyun_query_device_group_list},
    {"Pub", aliyun_pub},
    {"RRpc", aliyun_rrpc},
    {"InvokeThingService", aliyun_invoke_thing_service},
    {"SetDeviceProperty", aliyun_set_device_property},
    {"QueryDevicePropertyStatus", aliyun_query_device_property_status},
    {"GenerateOTAUploadURL", aliyun_generate_ota_upload_url},
    {"CreateOTAFirmware", aliyun_create_ota_firmware},
    {"ListOTAFirmware", aliyun_list_ota_firmware},
    {"QueryOTAFirmware", aliyun_query_ota_firmware},
    {"CreateOTAStaticUpgradeJob", aliyun_create_ota_static_upgrade_job},
    {"CreateOTADynamicUpgradeJob", aliyun_create_ota_dynamic_upgrade_job},
    {"QueryOTAJob", aliyun_query_ota_job},
    {"ListOTAJobByFirmware", aliyun_list_ota_job_by_firmware},
    {"ListOTATaskByJob", aliyun_list_ota_task_by_job},
    {"CancelOTATaskByJob", aliyun_cancel_ota_task_by_job},
    {"CancelOTAStrategyByJob", aliyun_cancel_ota_strategy_by_job},
};

const aliyun_action *aliyun_action_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(actions[i].name, name))
            return &actions[i];
    return NULL;
}

/* ---- the nonce cache: nonces of accepted calls, for 15 minutes ---- */

#define NONCE_BUCKETS 4096
#define NONCE_MAX_LEN 256

typedef struct nonce_entry {
    struct nonce_entry *next;
    int64_t at;
    char text[];
} nonce_entry;

static nonce_entry *nonces[NONCE_BUCKETS];
static pthread_mutex_t nonce_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned nonce_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % NONCE_BUCKETS;
}

/* Records nonce at now; false when it was used within the window. Expired
 * entries of its bucket go on the way. */
static bool nonce_fresh(const char *nonce, int64_t now)
{
    unsigned b = nonce_hash(nonce);
    bool fresh = true;
    pthread_mutex_lock(&nonce_lock);
    for (nonce_entry **p = &nonces[b]; *p;) {
        nonce_entry *e = *p;
        if (now - e->at > ALIYUN_WINDOW_SECONDS) {
            *p = e->next;
            free(e);
            continue;
        }
        if (!strcmp(e->text, nonce))
            fresh = false;
        p = &e->next;
    }
    nonce_entry *e = fresh ? malloc(sizeof *e + strlen(nonce) + 1) : NULL;
    if (e) {
        e->at = now;
        strcpy(e->text, nonce);
        e->next = nonces[b];
        nonces[b] = e;
    }
    pthread_mutex_unlock(&nonce_lock);
    return fresh;
}

/* At exit: the cache (for the leak checker). */
static void nonces_free(void)
{
    pthread_mutex_lock(&nonce_lock);
    for (size_t b = 0; b < NONCE_BUCKETS; b++) {
        while (nonces[b]) {
            nonce_entry *e = nonces[b];
            nonces[b] = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&nonce_lock);
}

static void free_at_exit(void) { atexit(nonces_free); }

/* ---- answers ---- */

static void xml_text(text_buf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : NULL;
        text_buf_put(b, e ? e : s, e ? strlen(e) : 1);
    }
}

/* Member name with value v: an array as one element per item, as the
 * cloud's XML has lists. */
static void xml_member(text_buf *b, const char *name, const cJSON *v)
{
    const cJSON *item;
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(item, v)
            xml_member(b, name, item);
        return;
    }
    text_buf_put(b, "<", 1);
    text_buf_put(b, name, strlen(name));
    text_buf_put(b, ">", 1);
    if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(item, v)
            xml_member(b, item->string, item);
    } else if (cJSON_IsString(v)) {
        xml_text(b, v->valuestring);
    } else {
        char *t = cJSON_PrintUnformatted(v);
        if (t)
            text_buf_put(b, t, strlen(t));
        free(t);
    }
    text_buf_put(b, "</", 2);
    text_buf_put(b, name, strlen(name));
    text_buf_put(b, ">", 1);
}

/* Answers body (freed) as JSON, or as XML (root: <Action>Response, or
 * Error for a refusal) when the call's Format is XML or absent, as the
 * cloud's default is. */
static enum MHD_Result answer(aliyun_call *c, unsigned status, cJSON *body, bool error)
{
    const char *format = aliyun_get(c, "Format"), *action = aliyun_get(c, "Action");
    if (format && strcasecmp(format, "XML") != 0)
        return reply_json(c->r, status, body);
    char root[96];
    snprintf(root, sizeof root, "%s%s", error || !action ? "Error" : action, error || !action ? "" : "Response");
    text_buf b = {0};
    text_buf_put(&b, "<?xml version='1.0' encoding='UTF-8'?>", 38);
    xml_member(&b, root, body);
    cJSON_Delete(body);
    struct MHD_Response *resp =
        b.failed ? NULL : MHD_create_response_from_buffer(b.len, b.text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(b.text);
        return reply_error(c->r, 500, "OutOfMemory", "out of memory");
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/xml;charset=utf-8");
    return reply_response(c->r, status, resp);
}

static void make_request_id(char out[40])
{
    char hex[33];
    if (ids_random_hex(hex, 32) < 0)
        snprintf(hex, sizeof hex, "%032llx", (unsigned long long)clock_now_ms());
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

enum MHD_Result aliyun_ok(aliyun_call *c, cJSON *body)
{
    cJSON_AddStringToObject(body, "RequestId", c->request_id);
    cJSON_AddBoolToObject(body, "Success", 1);
    return answer(c, 200, body, false);
}

enum MHD_Result aliyun_ok_data(aliyun_call *c, cJSON *data)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Data", data);
    return aliyun_ok(c, o);
}

static enum MHD_Result business_errorv(aliyun_call *c, const char *code, const char *fmt, va_list ap)
{
    char msg[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "RequestId", c->request_id);
    cJSON_AddBoolToObject(o, "Success", 0);
    cJSON_AddStringToObject(o, "Code", code);
    cJSON_AddStringToObject(o, "ErrorMessage", msg);
    return answer(c, 200, o, false);
}

enum MHD_Result aliyun_error(aliyun_call *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result ret = business_errorv(c, code, fmt, ap);
    va_end(ap);
    return ret;
}

/* The gateway's refusal: {"RequestId","HostId","Code","Message"}. */
static enum MHD_Result gateway_error(aliyun_call *c, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result gateway_error(aliyun_call *c, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "RequestId", c->request_id);
    cJSON_AddStringToObject(o, "HostId", HOST_ID);
    cJSON_AddStringToObject(o, "Code", code);
    cJSON_AddStringToObject(o, "Message", msg);
    return answer(c, status, o, true);
}

enum MHD_Result aliyun_missing(aliyun_call *c, const char *name)
{
    char code[96];
    snprintf(code, sizeof code, "Missing%s", name);
    return gateway_error(c, 400, code, "%s is mandatory for this action.", name);
}

enum MHD_Result aliyun_invalid(aliyun_call *c, const char *name)
{
    return aliyun_error(c, "iot.common.InvalidFormattedParameter", "The parameter %s is invalid.", name);
}

/* The IoT Platform's codes for the services' error codes. */
static const struct {
    const char *service;
    const char *aliyun;
} codes[] = {
    {"ProductNotFound", "iot.prod.NotExistedProduct"},
    {"ProductExists", "iot.prod.AlreadyExistedProductKey"},
    {"InvalidProductKey", "iot.prod.InvalidFormattedProductkey"},
    {"DeviceNotFound", "iot.device.NotExistedDevice"},
    {"DeviceExists", "iot.device.AlreadyExistedDeviceName"},
    {"InvalidDeviceName", "iot.device.InvalidFormattedDeviceName"},
    {"InvalidDeviceSecret", "iot.device.InvalidFormattedDeviceSecret"},
    {"InvalidPrefix", "iot.device.InvalidFormattedDeviceName"},
    {"DeviceNamesExhausted", "iot.device.AlreadyExistedDeviceName"},
    {"InvalidCount", "iot.device.InvalidFormattedDeviceCount"},
    {"GroupNotFound", "iot.group.NotExistedGroup"},
    {"GroupExists", "iot.group.AlreadyExistedGroup"},
    {"InvalidDevices", "iot.common.InvalidFormattedParameter"},
    {"FirmwareNotFound", "iot.ota.NotExistedFirmware"},
    {"FirmwareExists", "iot.ota.AlreadyExistedFirmwareVersion"},
    {"ModuleNotFound", "iot.ota.NotExistedModule"},
    {"InvalidFirmware", "iot.ota.InvalidFormattedFirmware"},
    {"InvalidJob", "iot.ota.InvalidFormattedJob"},
    {"JobNotFound", "iot.ota.NotExistedJob"},
    {"JobEnded", "iot.ota.JobStatusNotSupportCancel"},
    {"BrokerUnavailable", "iot.system.SystemException"},
};

enum MHD_Result aliyun_service_error(aliyun_call *c, const service_result *res)
{
    for (size_t i = 0; res->code && i < sizeof codes / sizeof codes[0]; i++)
        if (!strcmp(codes[i].service, res->code))
            return aliyun_error(c, codes[i].aliyun, "%s", res->message);
    if (res->status == SERVICE_INVALID)
        return aliyun_error(c, "iot.common.InvalidFormattedParameter", "%s", res->message);
    return aliyun_error(c, "iot.system.SystemException", "%s", res->message);
}

const char *aliyun_utc(int64_t t, char out[32])
{
    out[0] = '\0';
    if (t <= 0)
        return out;
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return out;
}

const char *aliyun_gmt(int64_t t, char out[32])
{
    out[0] = '\0';
    if (t <= 0)
        return out;
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    return out;
}

/* ---- parameters ---- */

const char *aliyun_get(const aliyun_call *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->params[i].name, name))
            return c->params[i].value;
    return NULL;
}

bool aliyun_get_int(const aliyun_call *c, const char *name, long def, long lo, long hi, long *out)
{
    const char *v = aliyun_get(c, name);
    if (!v || !*v) {
        *out = def;
        return true;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

bool aliyun_get_bool(const aliyun_call *c, const char *name, bool def)
{
    const char *v = aliyun_get(c, name);
    return v && *v ? strcasecmp(v, "true") == 0 : def;
}

/* Parameters beyond ALIYUN_MAX_PARAMS are counted, not kept. */
static void add_param(aliyun_call *c, const char *name, const char *value)
{
    if (c->n < ALIYUN_MAX_PARAMS)
        c->params[c->n] = (aliyun_param){name, value ? value : ""};
    c->n++;
}

static enum MHD_Result query_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    add_param(cls, key, value);
    return MHD_YES;
}

/* The form body's parameters, decoded in place; false when malformed. */
static bool form_params(aliyun_call *c, char *body)
{
    for (char *save = NULL, *pair = strtok_r(body, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq)
            *eq = '\0';
        if (!aliyun_form_decode(pair) || (eq && !aliyun_form_decode(eq + 1)))
            return false;
        add_param(c, pair, eq ? eq + 1 : "");
    }
    return true;
}

/* ---- the gateway's checks ---- */

static const char *const common[] = {"AccessKeyId", "Timestamp", "SignatureNonce", "SignatureMethod",
                                     "SignatureVersion", "Signature", "Version", "Action"};

/* Timestamp, signature and nonce; answers and returns false on a refusal. */
static bool signed_by_us(aliyun_call *c, enum MHD_Result *ret)
{
    const char *ts = aliyun_get(c, "Timestamp"), *nonce = aliyun_get(c, "SignatureNonce");
    long long t;
    int64_t now = clock_now();
    if (strlen(aliyun_get(c, "AccessKeyId")) != strlen(key_id) ||
        CRYPTO_memcmp(aliyun_get(c, "AccessKeyId"), key_id, strlen(key_id)) != 0)
        *ret = gateway_error(c, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    else if (strcmp(aliyun_get(c, "SignatureMethod"), "HMAC-SHA1") != 0)
        *ret = gateway_error(c, 400, "InvalidSignatureMethod", "Specified signature method is not supported.");
    else if (strcmp(aliyun_get(c, "SignatureVersion"), "1.0") != 0)
        *ret = gateway_error(c, 400, "InvalidSignatureVersion", "Specified signature version is not valid.");
    else if (!aliyun_parse_timestamp(ts, &t))
        *ret = gateway_error(c, 400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well "
                             "formatted.");
    else if (t < now - ALIYUN_WINDOW_SECONDS || t > now + ALIYUN_WINDOW_SECONDS)
        *ret = gateway_error(c, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    else if (!aliyun_signature_ok(key_secret, c->r->method, c->params, c->n, aliyun_get(c, "Signature"))) {
        char *text = aliyun_string_to_sign(c->r->method, c->params, c->n);
        *ret = gateway_error(c, 400, "SignatureDoesNotMatch", "Specified signature is not matched with our "
                             "calculation. server string to sign is:%.1800s", text ? text : "");
        free(text);
    } else if (strlen(nonce) > NONCE_MAX_LEN || !nonce_fresh(nonce, now))
        *ret = gateway_error(c, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    else
        return true;
    return false;
}

/* The call's parameters: the query's, and a POST's form body. */
static bool collect(aliyun_call *c, enum MHD_Result *ret)
{
    http_request *r = c->r;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_param, c);
    const char *ctype = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->body && r->body_len) {
        if ((ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0) ||
            strlen(r->body) != r->body_len || !form_params(c, r->body)) {
            *ret = gateway_error(c, 400, "InvalidParameter", "The body is not an application/x-www-form-urlencoded "
                                 "form.");
            return false;
        }
    }
    if (c->n > ALIYUN_MAX_PARAMS) {
        *ret = gateway_error(c, 400, "InvalidParameter", "A call takes at most %d parameters.", ALIYUN_MAX_PARAMS);
        return false;
    }
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        const char *v = aliyun_get(c, common[i]);
        if (!v || !*v) {
            *ret = aliyun_missing(c, common[i]);
            return false;
        }
    }
    return true;
}

/* An action's work running aside (aliyun_run_aside): r->aside meanwhile. */
typedef struct {
    aliyun_call *c;
    void *state;
    void (*work)(aliyun_call *c, void *state);
    enum MHD_Result (*answer)(aliyun_call *c, void *state);
} aliyun_aside;

static void run_aside_work(http_request *r)
{
    aliyun_aside *a = r->aside;
    a->work(a->c, a->state);
}

enum MHD_Result aliyun_run_aside(aliyun_call *c, void *state, void (*work)(aliyun_call *c, void *state),
                                 enum MHD_Result (*answer)(aliyun_call *c, void *state))
{
    aliyun_aside *a = malloc(sizeof *a);
    if (!a) {
        work(c, state); /* here and now */
        return answer(c, state);
    }
    *a = (aliyun_aside){c, state, work, answer};
    return http_run_aside(c->r, a, run_aside_work);
}

/* The handler called again once an action's work aside is done: by
 * libmicrohttpd when the connection resumes, or by http_run_aside() at once
 * when it could not start a thread (then the action's handler is still
 * running, and frees the call itself). */
static enum MHD_Result answer_aside(http_request *r)
{
    aliyun_aside a = *(aliyun_aside *)r->aside;
    free(r->aside);
    r->aside = NULL;
    enum MHD_Result ret = a.answer(a.c, a.state);
    if (!a.c->in_handle)
        free(a.c);
    return ret;
}

static enum MHD_Result handle(http_request *r)
{
    if (r->aside)
        return answer_aside(r);
    aliyun_call *c = calloc(1, sizeof *c);
    if (!c)
        return reply_error(r, 500, "OutOfMemory", "out of memory");
    c->r = r;
    make_request_id(c->request_id);
    enum MHD_Result ret;
    const aliyun_action *a = NULL;
    if (collect(c, &ret) && signed_by_us(c, &ret)) {
        a = aliyun_action_find(aliyun_get(c, "Action"));
        if (strcmp(aliyun_get(c, "Version"), ALIYUN_API_VERSION) != 0)
            ret = gateway_error(c, 400, "InvalidVersion", "Specified parameter Version is not valid.");
        else if (!a)
            ret = gateway_error(c, 404, "InvalidAction.NotFound", "Specified api is not found, please check your "
                                "url and method.");
        else {
            c->in_handle = true;
            ret = a->run(c);
            c->in_handle = false;
        }
    }
    if (!r->aside) /* else its work runs aside: answer_aside frees it */
        free(c);
    return ret;
}

/* ---- routes ---- */

static const route get_route = {"GET", "/", BODY_NONE, handle};
static const route post_route = {"POST", "/", BODY_FORM, handle};
static const route oss_route = {"POST", "/" ALIYUN_OTA_BUCKET, BODY_UPLOAD, aliyun_oss_post_object};

const struct route *aliyun_api_route(http_request *r, const char *method, const char *path)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, free_at_exit);
    if (!strcmp(path, "/") && (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
        (http_query(r, "Action") || http_query(r, "AccessKeyId") || http_query(r, "Signature")))
        return &get_route;
    if (!strcmp(path, "/") && !strcmp(method, "POST"))
        return &post_route;
    if (!strcmp(path, "/" ALIYUN_OTA_BUCKET) && !strcmp(method, "POST"))
        return &oss_route;
    return NULL;
}
