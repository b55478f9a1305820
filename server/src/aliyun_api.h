/*
 * aliyun_api.h - Alibaba Cloud's own IoT Platform API (version 2018-01-20,
 * RPC style) on the emulator, so that the official SDKs (pop-core and
 * @alicloud/iot20180120, aliyun-python-sdk-core, the Java SDK, aliyun CLI)
 * and scripts written for the cloud work by switching the endpoint to
 * http://<host>:<port> (README: "Use Alibaba Cloud's SDKs against the
 * emulator").
 *
 * Requests: GET /?Action=...&<common parameters>&Signature=..., or POST /
 * with the parameters as an application/x-www-form-urlencoded body (and
 * some in the query: the Python SDK does that); routes.c sends both here
 * (aliyun_api_route). The gateway's checks, in the cloud's order and with
 * its codes: a missing common parameter (Missing<Name>, 400), an unknown
 * AccessKeyId (InvalidAccessKeyId.NotFound, 404), SignatureMethod
 * (InvalidSignatureMethod: only HMAC-SHA1; InvalidSignatureVersion: 1.0), the Timestamp (InvalidTimeStamp.Format, InvalidTimeStamp.Expired:
 * more than 15 minutes from the emulator's clock, clock.h), the signature
 * (aliyun_sign.h; SignatureDoesNotMatch with the server's StringToSign),
 * the SignatureNonce (SignatureNonceUsed within 15 minutes), the Version
 * (InvalidVersion) and the Action (InvalidAction.NotFound, 404: never a
 * silent success). Answers are JSON with Format=JSON, else XML (the
 * cloud's default; the root <Action>Response, or Error for the gateway's
 * refusals, a list one element per item): {"RequestId","Success":true,...} for
 * an action, {"RequestId","Success":false,"Code","ErrorMessage"} (HTTP
 * 200, as the IoT Platform answers a refused call) for a business error,
 * {"RequestId","HostId","Code","Message"} with a 4xx status for the
 * gateway's.
 *
 * The actions (aliyun_actions.h) work on the data the REST API and the
 * console show, through the same services.
 */
#ifndef HAAS_ALIYUN_API_H
#define HAAS_ALIYUN_API_H

#include "aliyun_sign.h"
#include "http.h"
#include "service.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

#define ALIYUN_API_VERSION "2018-01-20"
#define ALIYUN_MAX_PARAMS 1200       /* parameters of one call (DeviceName.1..1000 and the common ones) */
#define ALIYUN_WINDOW_SECONDS (15 * 60) /* Timestamp skew allowed, and how long a nonce is remembered */

/* One call: its parameters (decoded) and its request id. */
typedef struct {
    http_request *r;
    aliyun_param params[ALIYUN_MAX_PARAMS];
    size_t n;
    char request_id[40];
    bool in_handle; /* the route's handler is running the action (aliyun_run_aside) */
} aliyun_call;

/* The AccessKey pair the API accepts (main.c sets it at start). */
void aliyun_api_set_credentials(const char *key_id, const char *key_secret);

/* The AccessKeyId the API accepts. */
const char *aliyun_api_key_id(void);

/* base64(HMAC-SHA1(AccessKeySecret, text)) into out (64 bytes): the OSS
 * PostObject policy signature of GenerateOTAUploadURL. */
bool aliyun_api_oss_sign(const char *text, char out[64]);

/* The route of the API for a request to "/" (GET or HEAD with an Action,
 * AccessKeyId or Signature parameter, or any POST) or of the OSS upload
 * (POST /iotx-ota), else NULL: routes.c asks first. */
const struct route *aliyun_api_route(http_request *r, const char *method, const char *path);

/* The first value of parameter name, or NULL. */
const char *aliyun_get(const aliyun_call *c, const char *name);

/*
 * The integer parameter name into *out: def when absent, false when it is
 * not an integer in lo..hi (a business error InvalidParameter answered by
 * the caller with aliyun_invalid).
 */
bool aliyun_get_int(const aliyun_call *c, const char *name, long def, long lo, long hi, long *out);

/* A boolean parameter ("true"/"false", any case); def when absent. */
bool aliyun_get_bool(const aliyun_call *c, const char *name, bool def);

/*
 * Runs work(c, state) on a thread of its own, for an action that waits (an
 * RRpc waits up to 8 s for the device's answer): a waiting handler would
 * hold up every other connection of its HTTP thread. The call is then
 * answered with answer(c, state), which frees state. c stays alive until
 * then (the caller does not free it). Returns what the handler returns.
 */
enum MHD_Result aliyun_run_aside(aliyun_call *c, void *state, void (*work)(aliyun_call *c, void *state),
                                 enum MHD_Result (*answer)(aliyun_call *c, void *state));

/* Answers success: the object body gets RequestId and Success (body may
 * already hold Data and paging members); frees body. */
enum MHD_Result aliyun_ok(aliyun_call *c, cJSON *body);

/* Answers success with body {"RequestId","Success":true,"Data":data}. */
enum MHD_Result aliyun_ok_data(aliyun_call *c, cJSON *data);

/* Answers a business error: HTTP 200, Success false, Code code,
 * ErrorMessage the printf-style message. */
enum MHD_Result aliyun_error(aliyun_call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A required action parameter that is missing or empty: the gateway's
 * 400 Missing<Name>, "<Name> is mandatory for this action." */
enum MHD_Result aliyun_missing(aliyun_call *c, const char *name);

/* An action parameter with a bad value (iot.common.InvalidFormattedParameter). */
enum MHD_Result aliyun_invalid(aliyun_call *c, const char *name);

/*
 * Answers a service's error (res not SERVICE_OK) with the IoT Platform's
 * code for it (ProductNotFound -> iot.prod.NotExistedProduct,
 * DeviceNotFound -> iot.device.NotExistedDevice, ...; a code without a
 * counterpart: iot.common.InvalidFormattedParameter for a rule,
 * iot.system.SystemException for the store) and the service's message.
 */
enum MHD_Result aliyun_service_error(aliyun_call *c, const service_result *res);

/* An ISO 8601 UTC time with milliseconds ("2026-12-02T01:30:00.000Z"), as
 * the API's Utc* fields, or "" for 0; into out (32 bytes). */
const char *aliyun_utc(int64_t t, char out[32]);

/* A time as the API's Gmt* fields ("2026-12-02 01:30:00"), into out (32
 * bytes), or "" for 0. */
const char *aliyun_gmt(int64_t t, char out[32]);

#endif
