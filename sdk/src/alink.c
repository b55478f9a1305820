/*
 * alink.c - HaaS upgrade messages (see alink.h).
 */
#include "alink.h"
#include "haas_util.h"
#include "json_scan.h"

#define LINK_SDK_TIMESTAMP "2524608000000"

bool alink_version_parse(const char *s, alink_version *v)
{
    for (int i = 0; i < 3; i++) {
        uint32_t x = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 9)
                return false;
            x = x * 10 + (uint32_t)(*s++ - '0');
        }
        if (digits == 0)
            return false;
        v->part[i] = x;
        if (i < 2 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

int alink_version_compare(const alink_version *a, const alink_version *b)
{
    for (int i = 0; i < 3; i++)
        if (a->part[i] != b->part[i])
            return a->part[i] < b->part[i] ? -1 : 1;
    return 0;
}

int alink_credentials(const haas_port *port, const char *pk, const char *dn, const char *ds,
                      char client_id[160], char username[80], char password[65])
{
    char content[256];
    haas_sb sb;
    haas_sb_init(&sb, content, sizeof content);
    haas_sb_str(&sb, "clientId");
    haas_sb_str(&sb, pk);
    haas_sb_str(&sb, ".");
    haas_sb_str(&sb, dn);
    haas_sb_str(&sb, "deviceName");
    haas_sb_str(&sb, dn);
    haas_sb_str(&sb, "productKey");
    haas_sb_str(&sb, pk);
    haas_sb_str(&sb, "timestamp" LINK_SDK_TIMESTAMP);
    if (!sb.ok)
        return HAAS_PORT_ERR;
    uint8_t mac[32];
    if (port->hmac_sha256(port->ctx, ds, haas_strlen(ds), content, sb.len, mac) != 0)
        return HAAS_PORT_ERR;

    haas_sb_init(&sb, password, 65);
    haas_sb_hex(&sb, mac, sizeof mac);
    haas_sb id, user;
    haas_sb_init(&id, client_id, 160);
    haas_sb_str(&id, pk);
    haas_sb_str(&id, ".");
    haas_sb_str(&id, dn);
    haas_sb_str(&id, "|timestamp=" LINK_SDK_TIMESTAMP ",_ss=1,_v=sdk-c-4.0.0,securemode=3,signmethod=hmacsha256,ext=3,|");
    haas_sb_init(&user, username, 80);
    haas_sb_str(&user, dn);
    haas_sb_str(&user, "&");
    haas_sb_str(&user, pk);
    return sb.ok && id.ok && user.ok ? HAAS_PORT_OK : HAAS_PORT_ERR;
}

bool alink_topic(char *out, size_t cap, const char *pk, const char *dn, const char *suffix)
{
    haas_sb sb;
    haas_sb_init(&sb, out, cap);
    haas_sb_str(&sb, "/sys/");
    haas_sb_str(&sb, pk);
    haas_sb_str(&sb, "/");
    haas_sb_str(&sb, dn);
    haas_sb_str(&sb, "/");
    haas_sb_str(&sb, suffix);
    return sb.ok;
}

/* http://host:port/... with an explicit port (stock code defaults to 443). */
static bool url_acceptable(const char *url)
{
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || *c == '"' || *c == '\\')
            return false;
    const char *p;
    if (haas_starts_with(url, "http://"))
        p = url + 7;
    else if (haas_starts_with(url, "https://"))
        p = url + 8;
    else
        return false;
    const char *host = p;
    while (*p && *p != '/' && *p != ':')
        p++;
    if (p == host)
        return false;
    if (*p == ':') {
        const char *port = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == port || p - port > 5)
            return false;
    }
    return *p == '/';
}

static bool is_hex32(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') || (s[n] >= 'A' && s[n] <= 'F')))
            return false;
    return n == 32;
}

alink_push_verdict alink_parse_push(const char *payload, size_t len, const char *installed_app_id,
                                    const char *installed_version, alink_push *out)
{
    haas_memset(out, 0, sizeof *out);
    if (!json_valid(payload, len))
        return ALINK_PUSH_MALFORMED;
    /* The message id is a decimal string on the wire; a number is tolerated. */
    json_value id;
    if (json_find(payload, len, "id", &id)) {
        if (id.type == JSON_STRING)
            json_string(&id, out->msg_id, sizeof out->msg_id);
        else if (id.type == JSON_NUMBER && id.len < sizeof out->msg_id)
            haas_memcpy(out->msg_id, id.start, id.len);
    }
    json_value code;
    if (!json_find(payload, len, "params.errorCode", &code))
        return ALINK_PUSH_MALFORMED;
    if (!json_string(&code, out->error_code, sizeof out->error_code) || haas_strcmp(out->error_code, "200") != 0)
        return ALINK_PUSH_ERROR_CODE;
    int64_t size = 0;
    if (!json_get_string(payload, len, "params.app[0].appId", out->app_id, sizeof out->app_id) ||
        !json_get_string(payload, len, "params.app[0].version", out->version, sizeof out->version) ||
        !json_get_string(payload, len, "params.app[0].md5", out->md5, sizeof out->md5) ||
        !json_get_int(payload, len, "params.app[0].size", &size) || size < 0 ||
        !json_get_int(payload, len, "params.app[0].rollingBack", &out->rolling_back) || !is_hex32(out->md5))
        return ALINK_PUSH_MALFORMED;
    out->size = (uint64_t)size;
    json_value url;
    if (!json_find(payload, len, "params.app[0].url", &url) || !json_string(&url, out->url, sizeof out->url) ||
        !url_acceptable(out->url))
        return ALINK_PUSH_BAD_URL;
    if (out->rolling_back != 0)
        return ALINK_PUSH_ROLLING_BACK;
    if (haas_strcmp(out->app_id, installed_app_id) != 0)
        return ALINK_PUSH_OTHER_APP;
    alink_version pushed, installed;
    if (!alink_version_parse(out->version, &pushed))
        return ALINK_PUSH_BAD_VERSION;
    if (installed_version[0] && alink_version_parse(installed_version, &installed) &&
        alink_version_compare(&pushed, &installed) <= 0)
        return ALINK_PUSH_NOT_NEWER;
    return ALINK_PUSH_OK;
}

const char *alink_push_verdict_text(alink_push_verdict v)
{
    switch (v) {
    case ALINK_PUSH_OK: return "ok";
    case ALINK_PUSH_MALFORMED: return "malformed push";
    case ALINK_PUSH_ERROR_CODE: return "errorCode is not \"200\"";
    case ALINK_PUSH_ROLLING_BACK: return "rollingBack is not 0";
    case ALINK_PUSH_OTHER_APP: return "push for another app";
    case ALINK_PUSH_NOT_NEWER: return "version is not newer than the installed one";
    case ALINK_PUSH_BAD_VERSION: return "version is not three numbers";
    case ALINK_PUSH_BAD_URL: return "url is not http(s)://host[:port]/...";
    }
    return "?";
}

size_t alink_build_query(char *out, size_t cap, uint32_t id, const char *app_id, const char *version,
                         const char *firmware_version)
{
    haas_sb sb;
    haas_sb_init(&sb, out, cap);
    haas_sb_str(&sb, "{\"id\":");
    haas_sb_u64(&sb, id);
    haas_sb_str(&sb, ",\"version\":\"1.0\",\"params\":{\"mac\":\"10:10:10:10:10:10\",\"ip\":\"10.10.10.10\","
                     "\"userScenario\":\"online\",\"vendorId\":\"HaaSPython\",\"buildType\":\"eng\","
                     "\"isSecurityOn\":0,\"firmwareVersion\":\"");
    haas_sb_json_escaped(&sb, firmware_version);
    haas_sb_str(&sb, "\",\"app\":[");
    if (app_id[0]) {
        haas_sb_str(&sb, "{\"appId\":\"");
        haas_sb_json_escaped(&sb, app_id);
        haas_sb_str(&sb, "\",\"version\":\"");
        haas_sb_json_escaped(&sb, version);
        haas_sb_str(&sb, "\"}");
    }
    haas_sb_str(&sb, "]}}");
    return sb.ok ? sb.len : 0;
}

size_t alink_build_result(char *out, size_t cap, uint32_t id, int code, const char *app_id,
                          const char *new_version, const char *old_version)
{
    haas_sb sb;
    haas_sb_init(&sb, out, cap);
    haas_sb_str(&sb, "{\"id\":");
    haas_sb_u64(&sb, id);
    haas_sb_str(&sb, ",\"version\":\"1.0\",\"params\":{\"eventType\":\"haas.upgrade\",\"eventName\":\"app.result\","
                     "\"argInt\":");
    haas_sb_i64(&sb, code);
    /* ext is a JSON document inside a JSON string: its quotes are escaped. */
    haas_sb_str(&sb, ",\"ext\":\"{\\\"appId\\\":\\\"");
    haas_sb_json_escaped(&sb, app_id);
    haas_sb_str(&sb, "\\\",\\\"appNewVersion\\\":\\\"");
    haas_sb_json_escaped(&sb, new_version);
    haas_sb_str(&sb, "\\\",\\\"appOldVersion\\\":\\\"");
    haas_sb_json_escaped(&sb, old_version);
    haas_sb_str(&sb, "\\\"}\"}}");
    return sb.ok ? sb.len : 0;
}
