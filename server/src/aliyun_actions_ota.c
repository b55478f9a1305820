/*
 * aliyun_actions_ota.c - the IoT Platform API's firmware OTA
 * (aliyun_actions.h) on haas-emu's firmware and jobs (docs/protocol.md,
 * firmware OTA): GenerateOTAUploadURL and the OSS PostObject form upload it
 * prepares (POST /iotx-ota: key, policy, OSSAccessKeyId, Signature, file;
 * the policy signed with the AccessKeySecret, valid 10 minutes, naming the
 * one key), CreateOTAFirmware from the uploaded file, ListOTAFirmware,
 * QueryOTAFirmware, CreateOTAStaticUpgradeJob (ALL, SPECIFIC or GROUP
 * devices, on SrcVersion.N), QueryOTAJob, ListOTAJobByFirmware,
 * ListOTATaskByJob, CancelOTATaskByJob (a JobId that is no static job is
 * a dynamic one: aliyun_actions_ota_dynamic.c). Job states in the API's words:
 * inProgress IN_PROGRESS, completed COMPLETED, canceled CANCELED; a
 * device's (a task's) queued QUEUED, pushed NOTIFIED, downloading
 * IN_PROGRESS, succeeded SUCCEEDED, failed FAILED, timedOut TIMEOUT,
 * canceled CANCELED.
 */
#include "aliyun_actions.h"
#include "clock.h"
#include "ids.h"
#include "ota_push.h"
#include "package_file.h"
#include "server.h"
#include "service_firmwares.h"
#include "service_ota_jobs.h"
#include "service_ota_tasks.h"
#include "store_products.h"
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define UPLOAD_TTL 600 /* seconds a GenerateOTAUploadURL answer may be used */
#define LIST_MAX 100

static const char *const task_status[OTA_STATES] = {"QUEUED", "NOTIFIED", "IN_PROGRESS", "SUCCEEDED",
                                                    "FAILED", "TIMEOUT", "CANCELED"};

static const char *job_status(const char *status)
{
    return !strcmp(status, "completed") ? "COMPLETED" : !strcmp(status, "canceled") ? "CANCELED" : "IN_PROGRESS";
}

static const char *target_selection(const char *type)
{
    return !strcmp(type, "devices") ? "SPECIFIC" : !strcmp(type, "group") ? "GROUP" : "ALL";
}

/* ---- the OSS upload ---- */

/* Where the file uploaded under key is kept until CreateOTAFirmware:
 * <tmp>/oss-<sha1 of key>. */
static void upload_path(const char *key, char *out, size_t size)
{
    unsigned char d[SHA_DIGEST_LENGTH];
    char hex[2 * SHA_DIGEST_LENGTH + 1];
    SHA1((const unsigned char *)key, strlen(key), d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    snprintf(out, size, "%s/oss-%s", server.tmp_dir, hex);
}

/* "<public url>/iotx-ota": the Host of the answers. */
static void oss_host(char *out, size_t size) { snprintf(out, size, "%s/%s", server.cfg.public_url, ALIYUN_OTA_BUCKET); }

enum MHD_Result aliyun_generate_ota_upload_url(aliyun_call *c)
{
    static const char *const suffixes[] = {"bin", "dav", "apk", "tar", "gz", "tar.gz", "zip", "gzip"};
    const char *suffix = aliyun_get(c, "FileSuffix");
    size_t i = 0;
    if (!suffix || !*suffix)
        suffix = "bin";
    while (i < sizeof suffixes / sizeof suffixes[0] && strcmp(suffixes[i], suffix) != 0)
        i++;
    if (i == sizeof suffixes / sizeof suffixes[0])
        return aliyun_invalid(c, "FileSuffix");
    char dir[33], name[21], key[128], policy[512], b64[700], sig[64], host[600], url[800], t[32];
    if (ids_random_hex(dir, 32) < 0 || ids_random_alnum(name, 20) < 0)
        return aliyun_error(c, "iot.system.SystemException", "cannot make a name");
    snprintf(key, sizeof key, "ota/%s/%s.%s", dir, name, suffix);
    snprintf(policy, sizeof policy, "{\"expiration\":\"%s\",\"conditions\":[[\"content-length-range\",0,%lld],"
             "[\"eq\",\"$key\",\"%s\"]]}", aliyun_utc(clock_now() + UPLOAD_TTL, t),
             (long long)server.cfg.max_package_size, key);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)policy, (int)strlen(policy));
    if (!aliyun_api_oss_sign(b64, sig))
        return aliyun_error(c, "iot.system.SystemException", "cannot sign the policy");
    oss_host(host, sizeof host);
    snprintf(url, sizeof url, "%s/%s", host, key);
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "Key", key);
    cJSON_AddStringToObject(data, "Host", host);
    cJSON_AddStringToObject(data, "Policy", b64);
    cJSON_AddStringToObject(data, "OSSAccessKeyId", aliyun_api_key_id());
    cJSON_AddStringToObject(data, "Signature", sig);
    cJSON_AddStringToObject(data, "FirmwareUrl", url);
    cJSON_AddStringToObject(data, "ObjectStorage", "OSS");
    cJSON_AddStringToObject(data, "UtcCreate", aliyun_utc(clock_now(), t));
    return aliyun_ok_data(c, data);
}

/* OSS's XML error. */
static enum MHD_Result oss_error(http_request *r, unsigned status, const char *code, const char *message)
{
    char body[700];
    snprintf(body, sizeof body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n"
             "  <Message>%s</Message>\n  <HostId>%s</HostId>\n</Error>\n", code, message, ALIYUN_OTA_BUCKET);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/xml");
    return reply_response(r, status, resp);
}

/* A form field, under its OSS name or in lower case. */
static const char *field(http_request *r, const char *name, const char *lower)
{
    const char *v = upload_field(r->upload, name);
    return v ? v : upload_field(r->upload, lower);
}

/* Does the policy (base64) allow key now? */
static bool policy_allows(const char *b64, const char *key)
{
    size_t len = strlen(b64);
    unsigned char *text = len < 4096 ? calloc(1, len + 4) : NULL;
    int n = text ? EVP_DecodeBlock(text, (const unsigned char *)b64, (int)len) : -1;
    cJSON *p = n > 0 ? cJSON_Parse((const char *)text) : NULL;
    free(text);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p, "expiration"), *cond;
    long long until;
    bool ok = cJSON_IsString(exp) && aliyun_parse_timestamp(exp->valuestring, &until) && until >= clock_now();
    bool key_ok = false;
    cJSON_ArrayForEach(cond, cJSON_GetObjectItemCaseSensitive(p, "conditions")) {
        const cJSON *op = cJSON_GetArrayItem(cond, 0), *name = cJSON_GetArrayItem(cond, 1),
                    *value = cJSON_GetArrayItem(cond, 2);
        if (cJSON_IsString(op) && !strcmp(op->valuestring, "eq") && cJSON_IsString(name) &&
            !strcmp(name->valuestring, "$key") && cJSON_IsString(value) && !strcmp(value->valuestring, key))
            key_ok = true;
    }
    cJSON_Delete(p);
    return ok && key_ok;
}

enum MHD_Result aliyun_oss_post_object(http_request *r)
{
    const char *key = field(r, "key", "key"), *policy = field(r, "policy", "Policy"),
               *id = field(r, "OSSAccessKeyId", "ossaccesskeyid"), *sig = field(r, "Signature", "signature");
    char want[64], path[700];
    if (!key || !policy || !id || !sig)
        return oss_error(r, 400, "InvalidArgument", "key, policy, OSSAccessKeyId and Signature are required");
    if (strcmp(id, aliyun_api_key_id()) != 0)
        return oss_error(r, 403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist.");
    if (!aliyun_api_oss_sign(policy, want) || strcmp(want, sig) != 0)
        return oss_error(r, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match "
                         "the signature you provided.");
    if (!policy_allows(policy, key))
        return oss_error(r, 403, "AccessDenied", "Invalid according to Policy: Policy expired or the key is "
                         "not the one it names.");
    package_file *f = upload_file(r->upload);
    upload_path(key, path, sizeof path);
    if (rename(package_file_path(f), path) != 0)
        return oss_error(r, 500, "InternalError", "cannot keep the upload");
    package_file_keep(f);
    const char *status = field(r, "success_action_status", "Success_Action_Status");
    unsigned code = status && (!strcmp(status, "200") || !strcmp(status, "201")) ? (unsigned)atoi(status) : 204;
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (resp)
        MHD_add_response_header(resp, "ETag", package_file_md5(f));
    return reply_response(r, code, resp);
}

/* ---- firmware ---- */

/* Copies the uploaded file at path into a new package file; NULL when it
 * cannot. */
static package_file *copy_upload(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    package_file *f = fd >= 0 ? package_file_open(server.tmp_dir) : NULL;
    char buf[65536];
    ssize_t n = 0;
    while (f && (n = read(fd, buf, sizeof buf)) > 0)
        if (package_file_write(f, buf, (size_t)n) < 0)
            break;
    if (f && (n != 0 || package_file_finish(f) != 0)) {
        package_file_free(f);
        f = NULL;
    }
    if (fd >= 0)
        close(fd);
    return f;
}

/* The file FirmwareUrl names (an upload of GenerateOTAUploadURL) into
 * path; false when it is none. */
static bool uploaded_file(const char *url, char *path, size_t size)
{
    char host[600];
    oss_host(host, sizeof host);
    size_t n = strlen(host);
    if (!url || strncmp(url, host, n) != 0 || url[n] != '/')
        return false;
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(url + n + 1, "?"), url + n + 1);
    upload_path(key, path, size);
    return access(path, R_OK) == 0;
}

/* Size and sign given with the firmware agree with the file? */
static const char *mismatch(aliyun_call *c, const package_file *f, bool sha256)
{
    long size;
    const char *sign = aliyun_get(c, "FirmwareSign");
    if (!aliyun_get_int(c, "FirmwareSize", package_file_size(f), 0, 0x7fffffffL, &size) ||
        size != package_file_size(f))
        return "FirmwareSize";
    if (sign && *sign && strcasecmp(sign, sha256 ? package_file_sha256(f) : package_file_md5(f)) != 0)
        return "FirmwareSign";
    return NULL;
}

static cJSON *firmware_info(const store_firmware *fw)
{
    char t[32];
    cJSON *o = cJSON_CreateObject();
    bool sha = !strcmp(fw->sign_method, "SHA256");
    cJSON_AddStringToObject(o, "FirmwareId", fw->firmware_id);
    cJSON_AddStringToObject(o, "FirmwareName", fw->name);
    cJSON_AddStringToObject(o, "ProductKey", fw->product_key);
    cJSON_AddStringToObject(o, "ModuleName", fw->module_name);
    cJSON_AddStringToObject(o, "DestVersion", fw->version);
    cJSON_AddStringToObject(o, "SrcVersion", fw->src_versions);
    cJSON_AddStringToObject(o, "SignMethod", sha ? "SHA256" : "MD5");
    cJSON_AddStringToObject(o, "FirmwareSign", sha ? fw->sha256 : fw->md5);
    cJSON_AddStringToObject(o, "Md5", fw->md5);
    cJSON_AddNumberToObject(o, "FirmwareSize", (double)fw->size);
    cJSON_AddNumberToObject(o, "Type", 0);
    cJSON_AddNumberToObject(o, "Status", -1); /* no verification needed */
    cJSON_AddStringToObject(o, "FirmwareDesc", "");
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(fw->created_at, t));
    cJSON_AddStringToObject(o, "UtcModified", t);
    return o;
}

enum MHD_Result aliyun_create_ota_firmware(aliyun_call *c)
{
    static const char *const required[] = {"FirmwareName", "DestVersion", "FirmwareUrl", "ProductKey"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!aliyun_get(c, required[i]) || !*aliyun_get(c, required[i]))
            return aliyun_missing(c, required[i]);
    const char *method = aliyun_get(c, "SignMethod");
    if (method && *method && strcasecmp(method, "MD5") && strcasecmp(method, "SHA256"))
        return aliyun_invalid(c, "SignMethod");
    char path[700];
    if (!uploaded_file(aliyun_get(c, "FirmwareUrl"), path, sizeof path))
        return aliyun_error(c, "iot.ota.InvalidFirmwareUrl", "The FirmwareUrl names no file uploaded with "
                            "GenerateOTAUploadURL.");
    package_file *f = copy_upload(path);
    if (!f)
        return aliyun_error(c, "iot.system.SystemException", "cannot read the uploaded file");
    const char *bad = mismatch(c, f, method && !strcasecmp(method, "SHA256"));
    if (bad) {
        package_file_free(f);
        return aliyun_error(c, "iot.ota.FirmwareCheckFailed", "%s does not match the uploaded file.", bad);
    }
    const char *module = aliyun_get(c, "ModuleName");
    service_firmware_spec spec = {
        .product_key = aliyun_get(c, "ProductKey"),
        .module_name = module && *module ? module : NULL,
        .version = aliyun_get(c, "DestVersion"),
        .name = aliyun_get(c, "FirmwareName"),
        .sign_method = method && *method && !strcasecmp(method, "SHA256") ? "SHA256" : "Md5",
        .src_versions = aliyun_get(c, "SrcVersion"),
    };
    store_firmware fw;
    service_result res;
    service_firmware_add(&spec, f, server.packages_dir, &fw, &res);
    package_file_free(f);
    if (res.status != SERVICE_OK)
        return aliyun_service_error(c, &res);
    char t[32];
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "FirmwareId", fw.firmware_id);
    cJSON_AddStringToObject(data, "UtcCreate", aliyun_utc(fw.created_at, t));
    return aliyun_ok_data(c, data);
}

/* CurrentPage and PageSize (1..LIST_MAX); answers and returns false when bad. */
static bool paging(aliyun_call *c, long *current, long *size, enum MHD_Result *ret)
{
    if (aliyun_get_int(c, "CurrentPage", 1, 1, 100000000, current) &&
        aliyun_get_int(c, "PageSize", 10, 1, LIST_MAX, size))
        return true;
    *ret = aliyun_error(c, "iot.common.InvalidPageParams", "CurrentPage must be 1 or more and PageSize 1..%d.",
                        LIST_MAX);
    return false;
}

static void list_answer(cJSON *o, long current, long size, int64_t total)
{
    cJSON_AddNumberToObject(o, "CurrentPage", (double)current);
    cJSON_AddNumberToObject(o, "PageSize", (double)size);
    cJSON_AddNumberToObject(o, "PageCount", (double)((total + size - 1) / size));
    cJSON_AddNumberToObject(o, "Total", (double)total);
}

static void add_firmware(const void *row, void *list) { cJSON_AddItemToArray(list, firmware_info(row)); }

enum MHD_Result aliyun_list_ota_firmware(aliyun_call *c)
{
    long current, size;
    enum MHD_Result ret;
    if (!paging(c, &current, &size, &ret))
        return ret;
    const char *pk = aliyun_get(c, "ProductKey");
    cJSON *items = cJSON_CreateArray();
    store_page pg = {.offset = (int)((current - 1) * size), .limit = (int)size, .each = add_firmware, .ctx = items};
    if (store_firmware_list(pk && *pk ? pk : NULL, &pg) != STORE_OK) {
        cJSON_Delete(items);
        return aliyun_error(c, "iot.system.SystemException", "cannot list the firmware");
    }
    cJSON *o = cJSON_CreateObject();
    list_answer(o, current, size, pg.total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "FirmwareInfo"), "SimpleFirmwareInfo", items);
    return aliyun_ok(c, o);
}

enum MHD_Result aliyun_query_ota_firmware(aliyun_call *c)
{
    const char *id = aliyun_get(c, "FirmwareId");
    if (!id || !*id)
        return aliyun_missing(c, "FirmwareId");
    store_firmware fw;
    service_result res;
    if (service_firmware_get(id, &fw, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "FirmwareInfo", firmware_info(&fw));
    return aliyun_ok(c, o);
}

/* ---- jobs ---- */

/* The values of Name.1, Name.2, ... (at most max) into list; *n how many. */
static void repeated(aliyun_call *c, const char *name, const char **list, size_t max, size_t *n)
{
    char key[64];
    for (*n = 0; *n < max; (*n)++) {
        snprintf(key, sizeof key, "%s.%zu", name, *n + 1);
        if (!(list[*n] = aliyun_get(c, key)))
            break;
    }
}

/* SrcVersion.N as one comma-separated text into buf; NULL when none. */
static const char *src_versions(aliyun_call *c, char *buf, size_t size)
{
    const char *list[64];
    size_t n, used = 0;
    repeated(c, "SrcVersion", list, 64, &n);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "", strchr(list[i], ',') ? "," : list[i]);
    return n ? buf : NULL;
}

/* The job spec of a static job's parameters; false with the bad one in
 * *bad. */
static bool job_spec(aliyun_call *c, service_job_spec *spec, const char **names, char *src, const char **bad)
{
    const char *sel = aliyun_get(c, "TargetSelection");
    long timeout;
    *bad = "TargetSelection";
    spec->firmware_id = aliyun_get(c, "FirmwareId");
    spec->src_versions = src_versions(c, src, STORE_SRC_VERSIONS_SIZE);
    if (!strcmp(sel, "ALL")) {
        spec->target_type = "product";
    } else if (!strcmp(sel, "SPECIFIC")) {
        spec->target_type = "devices";
        spec->devices = names;
        repeated(c, "TargetDeviceName", names, SERVICE_JOB_DEVICES_MAX, &spec->device_count);
        *bad = "TargetDeviceName.1";
        if (!spec->device_count)
            return false;
    } else if (!strcmp(sel, "GROUP")) {
        spec->target_type = "group";
        spec->group_id = aliyun_get(c, "GroupId");
        *bad = "GroupId";
        if (!spec->group_id || !*spec->group_id)
            return false;
    } else {
        return false;
    }
    *bad = "TimeoutInMinutes";
    if (!aliyun_get_int(c, "TimeoutInMinutes", 0, 1, SERVICE_JOB_TIMEOUT_MAX, &timeout))
        return false;
    spec->timeout_minutes = (int)timeout;
    return true;
}

enum MHD_Result aliyun_create_ota_static_upgrade_job(aliyun_call *c)
{
    static const char *const required[] = {"FirmwareId", "ProductKey", "TargetSelection"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!aliyun_get(c, required[i]) || !*aliyun_get(c, required[i]))
            return aliyun_missing(c, required[i]);
    store_firmware fw;
    service_result res;
    if (service_firmware_get(aliyun_get(c, "FirmwareId"), &fw, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    if (strcmp(fw.product_key, aliyun_get(c, "ProductKey")) != 0)
        return aliyun_error(c, "iot.ota.FirmwareNotInProduct", "The firmware is not of this product.");
    const char **names = calloc(SERVICE_JOB_DEVICES_MAX, sizeof *names);
    char *src = malloc(STORE_SRC_VERSIONS_SIZE);
    service_job_spec spec = {0};
    const char *bad = NULL;
    char id[STORE_ID_SIZE];
    int devices = 0;
    bool valid = names && src && job_spec(c, &spec, names, src, &bad);
    if (!names || !src)
        service_fail(&res, SERVICE_ERROR, "OutOfMemory", "cannot take the job now");
    else if (valid)
        service_ota_job_create(&spec, id, &devices, &res);
    free(names);
    free(src);
    if (names && src && !valid)
        return aliyun_invalid(c, bad);
    if (res.status != SERVICE_OK)
        return aliyun_service_error(c, &res);
    int pushed = 0;
    ota_push_job(id, &pushed); /* a link that is down: devices get it when they come back */
    char t[32];
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "JobId", id);
    cJSON_AddStringToObject(data, "UtcCreate", aliyun_utc(clock_now(), t));
    return aliyun_ok_data(c, data);
}

static cJSON *job_info(const store_ota_job *j)
{
    char t[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "JobId", j->job_id);
    cJSON_AddStringToObject(o, "FirmwareId", j->firmware_id);
    cJSON_AddStringToObject(o, "ProductKey", j->product_key);
    cJSON_AddStringToObject(o, "JobStatus", job_status(j->status));
    cJSON_AddStringToObject(o, "JobType", "UPGRADE_FIRMWARE");
    cJSON_AddStringToObject(o, "SelectionType", "STATIC");
    cJSON_AddStringToObject(o, "TargetSelection", target_selection(j->target_type));
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(j->created_at, t));
    cJSON_AddStringToObject(o, "UtcStartTime", t);
    cJSON_AddStringToObject(o, "UtcModified", aliyun_utc(j->ended_at ? j->ended_at : j->created_at, t));
    cJSON_AddStringToObject(o, "UtcEndTime", aliyun_utc(j->ended_at, t));
    return o;
}

/* Static job id into j, each device to each: STORE_OK, STORE_NOT_FOUND
 * (then it may be a dynamic one) or STORE_ERROR. */
static store_status static_job(const char *id, store_ota_job *j, store_row_fn each, void *ctx)
{
    return id && *id ? store_ota_job_get(id, j, each, ctx) : STORE_NOT_FOUND;
}

enum MHD_Result aliyun_query_ota_job(aliyun_call *c)
{
    const char *id = aliyun_get(c, "JobId");
    store_ota_job j;
    if (!id || !*id)
        return aliyun_missing(c, "JobId");
    store_status s = static_job(id, &j, NULL, NULL);
    if (s == STORE_NOT_FOUND)
        return aliyun_dynamic_query_job(c, id);
    if (s != STORE_OK)
        return aliyun_error(c, "iot.system.SystemException", "cannot read the job");
    cJSON *o = job_info(&j);
    cJSON_AddStringToObject(o, "DestVersion", j.version);
    cJSON_AddStringToObject(o, "ModuleName", j.module_name);
    cJSON_AddNumberToObject(o, "TimeoutInMinutes", j.timeout_minutes);
    cJSON_AddStringToObject(o, "GroupId", j.group_id);
    cJSON_AddStringToObject(o, "Name", j.job_id);
    cJSON_AddStringToObject(o, "JobDesc", "");
    cJSON *src = cJSON_CreateArray();
    for (const char *p = j.src_versions; *p;) {
        size_t len = strcspn(p, ",");
        char v[STORE_OTA_WORD_SIZE];
        snprintf(v, sizeof v, "%.*s", (int)len, p);
        cJSON_AddItemToArray(src, cJSON_CreateString(v));
        p += len + (p[len] == ',');
    }
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "SrcVersions"), "SrcVersion", src);
    return aliyun_ok_data(c, o);
}

static void add_job(const void *row, void *list) { cJSON_AddItemToArray(list, job_info(row)); }

static int newer_first(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int c = strcmp(cJSON_GetObjectItem(y, "UtcCreate")->valuestring, cJSON_GetObjectItem(x, "UtcCreate")->valuestring);
    return c ? c : strcmp(cJSON_GetObjectItem(y, "JobId")->valuestring, cJSON_GetObjectItem(x, "JobId")->valuestring);
}

/* The entries of all from skip on (at most size), newest first, in a new
 * array; NULL when out of memory. Frees all. */
static cJSON *newest_first_page(cJSON *all, long skip, long size)
{
    int n = cJSON_GetArraySize(all);
    cJSON **v = calloc((size_t)n + 1, sizeof *v), *item, *page = v ? cJSON_CreateArray() : NULL;
    if (page) {
        int i = 0;
        cJSON_ArrayForEach(item, all)
            v[i++] = item;
        qsort(v, (size_t)n, sizeof *v, newer_first);
        for (long k = skip; k < n && k < skip + size; k++)
            cJSON_AddItemToArray(page, cJSON_Duplicate(v[k], 1));
    }
    free(v);
    cJSON_Delete(all);
    return page;
}

enum MHD_Result aliyun_list_ota_job_by_firmware(aliyun_call *c)
{
    const char *id = aliyun_get(c, "FirmwareId");
    long current, size;
    enum MHD_Result ret;
    if (!id || !*id)
        return aliyun_missing(c, "FirmwareId");
    if (!paging(c, &current, &size, &ret))
        return ret;
    store_firmware fw;
    service_result res;
    if (service_firmware_get(id, &fw, &res) != SERVICE_OK)
        return aliyun_service_error(c, &res);
    cJSON *all = cJSON_CreateArray();
    store_page pg = {.offset = 0, .limit = 100000, .each = add_job, .ctx = all};
    if (store_ota_job_list(id, NULL, &pg) != STORE_OK || !aliyun_dynamic_jobs_of_firmware(fw.product_key, id, all)) {
        cJSON_Delete(all);
        return aliyun_error(c, "iot.system.SystemException", "cannot list the jobs");
    }
    int total = cJSON_GetArraySize(all);
    cJSON *items = newest_first_page(all, (current - 1) * size, size);
    if (!items)
        return aliyun_error(c, "iot.system.SystemException", "cannot list the jobs");
    cJSON *o = cJSON_CreateObject();
    list_answer(o, current, size, total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "Data"), "SimpleOTAJobInfo", items);
    return aliyun_ok(c, o);
}

bool aliyun_task_wanted(aliyun_task_filter *f, const char *status, const char *dn, int64_t *total)
{
    bool named = f->nnames == 0;
    for (size_t i = 0; i < f->nnames && !named; i++)
        named = !strcmp(f->names[i], dn);
    if (!named || (f->status && strcmp(f->status, status) != 0))
        return false;
    (*total)++;
    if (f->skip > 0) {
        f->skip--;
        return false;
    }
    return f->left-- > 0;
}

/* The walk of ListOTATaskByJob over a static job. */
typedef struct {
    const store_ota_job *job;
    aliyun_task_filter *filter;
    int64_t total;
    cJSON *items;
} task_walk;

static void add_task(const void *row, void *ctx)
{
    const store_ota_job_device *d = row;
    task_walk *w = ctx;
    if (!aliyun_task_wanted(w->filter, task_status[d->state], d->device_name, &w->total))
        return;
    char t[32], id[STORE_ID_SIZE + STORE_DN_SIZE + 2];
    snprintf(id, sizeof id, "%s-%s", w->job->job_id, d->device_name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "TaskId", id);
    cJSON_AddStringToObject(o, "JobId", w->job->job_id);
    cJSON_AddStringToObject(o, "FirmwareId", w->job->firmware_id);
    cJSON_AddStringToObject(o, "ProductKey", d->product_key);
    cJSON_AddStringToObject(o, "DeviceName", d->device_name);
    cJSON_AddStringToObject(o, "TaskStatus", task_status[d->state]);
    snprintf(t, sizeof t, "%d", d->has_progress ? d->progress : 0);
    cJSON_AddStringToObject(o, "Progress", t);
    cJSON_AddStringToObject(o, "SrcVersion", d->from_version);
    cJSON_AddStringToObject(o, "DestVersion", w->job->version);
    cJSON_AddStringToObject(o, "TaskDesc", d->reason);
    cJSON_AddStringToObject(o, "UtcCreate", aliyun_utc(w->job->created_at, t));
    cJSON_AddStringToObject(o, "UtcModified", aliyun_utc(d->updated_at ? d->updated_at : w->job->created_at, t));
    cJSON_AddItemToArray(w->items, o);
}

enum MHD_Result aliyun_list_ota_task_by_job(aliyun_call *c)
{
    long current, size;
    enum MHD_Result ret;
    const char *id = aliyun_get(c, "JobId");
    if (!id || !*id)
        return aliyun_missing(c, "JobId");
    if (!paging(c, &current, &size, &ret))
        return ret;
    store_ota_job j;
    aliyun_task_filter f = {.status = aliyun_get(c, "TaskStatus"), .skip = (current - 1) * size, .left = size};
    task_walk w = {.job = &j, .filter = &f};
    if (f.status && !*f.status)
        f.status = NULL;
    repeated(c, "DeviceNames", f.names, 100, &f.nnames);
    w.items = cJSON_CreateArray();
    store_status s = static_job(id, &j, add_task, &w);
    if (s == STORE_NOT_FOUND && !aliyun_dynamic_tasks(id, &f, w.items, &w.total)) {
        cJSON_Delete(w.items);
        return aliyun_error(c, "iot.ota.NotExistedJob", "The job does not exist.");
    }
    if (s == STORE_ERROR) {
        cJSON_Delete(w.items);
        return aliyun_error(c, "iot.system.SystemException", "cannot read the job");
    }
    cJSON *o = cJSON_CreateObject();
    list_answer(o, current, size, w.total);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "Data"), "SimpleOTATaskInfo", w.items);
    return aliyun_ok(c, o);
}

enum MHD_Result aliyun_cancel_ota_task_by_job(aliyun_call *c)
{
    const char *id = aliyun_get(c, "JobId");
    store_ota_job j;
    if (!id || !*id)
        return aliyun_missing(c, "JobId");
    if (static_job(id, &j, NULL, NULL) == STORE_NOT_FOUND)
        return aliyun_dynamic_cancel_tasks(c, id);
    unsigned states = (aliyun_get_bool(c, "CancelQueuedTask", false) ? 1u << OTA_QUEUED : 0) |
                      (aliyun_get_bool(c, "CancelNotifiedTask", false) ? 1u << OTA_PUSHED : 0) |
                      (aliyun_get_bool(c, "CancelInProgressTask", false) ? 1u << OTA_DOWNLOADING : 0);
    int n;
    service_result res;
    if (service_ota_cancel_states(id, states, &n, &res) != SERVICE_OK) {
        if (!strcmp(res.code, "InvalidStates"))
            return aliyun_error(c, "iot.ota.CancelOTATaskParamsError", "Choose the tasks to cancel: "
                                "CancelQueuedTask, CancelNotifiedTask or CancelInProgressTask.");
        return aliyun_service_error(c, &res);
    }
    return aliyun_ok(c, cJSON_CreateObject());
}
