/*
 * ota_msg.c - standard firmware OTA messages (see ota_msg.h).
 */
#include "private/ota_msg.h"
#include "haas_util.h"
#include "json_scan.h"

static bool is_hex(const char *s, size_t want)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return n == want;
}

/* "data" is an object with no member (white space only inside). */
static bool data_is_empty(const json_value *data)
{
    for (size_t i = 1; i + 1 < data->len; i++) {
        char c = data->start[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return true;
}

/* size: a positive integer, as a number (Link SDK) or a string of digits. */
static bool parse_size(const char *doc, size_t len, uint64_t *out)
{
    json_value v;
    int64_t n;
    char digits[24];
    if (!json_find(doc, len, "data.size", &v))
        return false;
    if (json_int(&v, &n))
        *out = n > 0 ? (uint64_t)n : 0;
    else if (!json_string(&v, digits, sizeof digits) || !haas_parse_u64(digits, haas_strlen(digits), out))
        return false;
    return *out > 0;
}

/* http:// or https:// followed by a host and a '/': what Link SDK needs. */
static bool url_ok(const char *url)
{
    const char *host = haas_starts_with(url, "https://") ? url + 8 : haas_starts_with(url, "http://") ? url + 7 : 0;
    if (!host || *host == '/' || *host == '\0')
        return false;
    for (const char *s = host; *s; s++)
        if (*s == '/')
            return true;
    return false;
}

static ota_verdict parse_sign(const char *doc, size_t len, ota_task *out)
{
    char method[16];
    if (!json_get_string(doc, len, "data.signMethod", method, sizeof method))
        return OTA_MSG_BAD_SIGN_METHOD;
    if (haas_strcmp(method, "Md5") == 0)
        out->sign_method = OTA_SIGN_MD5;
    else if (haas_strcmp(method, "SHA256") == 0 || haas_strcmp(method, "Sha256") == 0)
        out->sign_method = OTA_SIGN_SHA256;
    else
        return OTA_MSG_BAD_SIGN_METHOD;
    if (!json_get_string(doc, len, "data.sign", out->sign, sizeof out->sign) ||
        !is_hex(out->sign, out->sign_method == OTA_SIGN_MD5 ? 32 : 64))
        return OTA_MSG_BAD_SIGN;
    json_value v;
    out->md5[0] = '\0';
    if (json_find(doc, len, "data.md5", &v) && (!json_string(&v, out->md5, sizeof out->md5) || !is_hex(out->md5, 32)))
        return OTA_MSG_BAD_MD5;
    return OTA_MSG_OK;
}

static ota_verdict parse_data(const char *doc, size_t len, ota_task *out)
{
    json_value v;
    haas_memset(out, 0, sizeof *out);
    if (!parse_size(doc, len, &out->size))
        return OTA_MSG_BAD_SIZE;
    if (!json_get_string(doc, len, "data.version", out->version, sizeof out->version) || !out->version[0])
        return OTA_MSG_BAD_VERSION;
    if (!json_get_string(doc, len, "data.url", out->url, sizeof out->url) || !url_ok(out->url))
        return OTA_MSG_BAD_URL;
    ota_verdict s = parse_sign(doc, len, out);
    if (s != OTA_MSG_OK)
        return s;
    haas_strlcpy(out->module, OTA_DEFAULT_MODULE, sizeof out->module);
    if (json_find(doc, len, "data.module", &v) && (!json_string(&v, out->module, sizeof out->module) || !out->module[0]))
        return OTA_MSG_BAD_MODULE;
    return OTA_MSG_OK;
}

ota_verdict ota_parse_upgrade(const char *payload, size_t len, ota_task *out)
{
    json_value data;
    if (!payload || !json_find(payload, len, "data", &data) || data.type != JSON_OBJECT)
        return OTA_MSG_MALFORMED;
    if (data_is_empty(&data))
        return OTA_MSG_EMPTY;
    return parse_data(payload, len, out);
}

ota_verdict ota_parse_get_reply(const char *payload, size_t len, ota_task *out)
{
    int64_t code;
    if (!payload || !json_valid(payload, len))
        return OTA_MSG_MALFORMED;
    if (!json_get_int(payload, len, "code", &code) || code != 200)
        return OTA_MSG_CODE;
    return ota_parse_upgrade(payload, len, out);
}

const char *ota_verdict_text(ota_verdict v)
{
    switch (v) {
    case OTA_MSG_OK: return "ok";
    case OTA_MSG_MALFORMED: return "not JSON, or no data object";
    case OTA_MSG_EMPTY: return "no firmware pending";
    case OTA_MSG_CODE: return "the reply's code is not 200";
    case OTA_MSG_BAD_SIZE: return "size is missing, not a positive integer";
    case OTA_MSG_BAD_VERSION: return "version is missing, empty or too long";
    case OTA_MSG_BAD_URL: return "url is not http(s)://host/path or too long";
    case OTA_MSG_BAD_SIGN_METHOD: return "signMethod is not Md5, SHA256 or Sha256";
    case OTA_MSG_BAD_SIGN: return "sign is not the hex digest of signMethod";
    case OTA_MSG_BAD_MD5: return "md5 is not 32 hex digits";
    case OTA_MSG_BAD_MODULE: return "module is not a non-empty string";
    }
    return "?";
}

bool ota_module_is_default(const char *module)
{
    return !module || !module[0] || haas_strcmp(module, OTA_DEFAULT_MODULE) == 0;
}

/* {"id":<id>, "params":{ ... the caller's params ... }} */
static void begin(haas_sb *sb, char *out, size_t cap, uint32_t id)
{
    haas_sb_init(sb, out, cap);
    haas_sb_str(sb, "{\"id\":");
    haas_sb_u64(sb, id);
    haas_sb_str(sb, ", \"params\":{");
}

static void str_member(haas_sb *sb, const char *sep, const char *key, const char *value)
{
    haas_sb_str(sb, sep);
    haas_sb_str(sb, "\"");
    haas_sb_str(sb, key);
    haas_sb_str(sb, "\":\"");
    haas_sb_json_escaped(sb, value ? value : "");
    haas_sb_str(sb, "\"");
}

static size_t end(haas_sb *sb)
{
    haas_sb_str(sb, "}}");
    return sb->ok ? sb->len : 0;
}

size_t ota_build_inform(char *out, size_t cap, uint32_t id, const char *version, const char *module)
{
    haas_sb sb;
    begin(&sb, out, cap, id);
    str_member(&sb, "", "version", version);
    if (!ota_module_is_default(module))
        str_member(&sb, ",", "module", module);
    return end(&sb);
}

size_t ota_build_progress(char *out, size_t cap, uint32_t id, int step, const char *desc, const char *module)
{
    char num[8];
    haas_sb sb;
    if (step < -4 || step > 100)
        return 0;
    haas_sb_init(&sb, num, sizeof num);
    haas_sb_i64(&sb, step);
    begin(&sb, out, cap, id);
    str_member(&sb, "", "step", num);
    str_member(&sb, ",", "desc", desc);
    if (module && module[0])
        str_member(&sb, ",", "module", module);
    return end(&sb);
}

size_t ota_build_get(char *out, size_t cap, uint32_t id, const char *module)
{
    haas_sb sb;
    begin(&sb, out, cap, id);
    if (!ota_module_is_default(module))
        str_member(&sb, "", "module", module);
    return end(&sb);
}

bool ota_topic(char *out, size_t cap, ota_topic_kind kind, const char *pk, const char *dn)
{
    static const char *const prefix[] = {"/ota/device/inform/", "/ota/device/progress/", "/ota/device/upgrade/",
                                         "/sys/", "/sys/"};
    haas_sb sb;
    if ((unsigned)kind > OTA_TOPIC_GET_REPLY)
        return false;
    haas_sb_init(&sb, out, cap);
    haas_sb_str(&sb, prefix[kind]);
    haas_sb_str(&sb, pk);
    haas_sb_str(&sb, "/");
    haas_sb_str(&sb, dn);
    if (kind == OTA_TOPIC_GET)
        haas_sb_str(&sb, "/thing/ota/firmware/get");
    else if (kind == OTA_TOPIC_GET_REPLY)
        haas_sb_str(&sb, "/thing/ota/firmware/get_reply");
    return sb.ok;
}

/* Length of the host in authority a[0..n): without ":port" (the last ':'
 * outside an IPv6 literal's brackets). */
static size_t host_len(const char *a, size_t n)
{
    size_t close = 0; /* just past a ']' */
    for (size_t i = 0; i < n; i++)
        if (a[i] == ']')
            close = i + 1;
    for (size_t i = n; i > close; i--)
        if (a[i - 1] == ':')
            return i - 1;
    return n;
}

bool ota_url_with_port(char *out, size_t cap, const char *url, uint16_t port)
{
    if (!url || !url_ok(url))
        return false;
    bool tls = haas_starts_with(url, "https://");
    size_t scheme = tls ? 8 : 7, n = 0;
    const char *auth = url + scheme;
    while (auth[n] != '/')
        n++;
    size_t h = host_len(auth, n);
    if (h == 0)
        return false;
    haas_sb sb;
    haas_sb_init(&sb, out, cap);
    haas_sb_mem(&sb, url, scheme + h);
    haas_sb_str(&sb, ":");
    haas_sb_u64(&sb, port ? port : tls ? 443 : 80);
    haas_sb_str(&sb, auth + n);
    return sb.ok;
}
