/*
 * manifest.c - the manifest rules (see manifest.h).
 */
#include "manifest.h"
#include "haas_util.h"
#include "json_scan.h"

#define STR_(x) #x
#define STR(x) STR_(x)

manifest_result manifest_read(const char *doc, size_t len, manifest_fields *out)
{
    haas_memset(out, 0, sizeof *out);
    if (len > MANIFEST_MAX)
        return MANIFEST_TOO_LARGE;
    switch (json_plain_object(doc, len)) {
    case JSON_PLAIN_OK: break;
    case JSON_PLAIN_DUPLICATE_KEY: return MANIFEST_DUPLICATE_KEY;
    case JSON_PLAIN_BAD_STRING: return MANIFEST_BAD_STRING;
    default: return MANIFEST_NOT_JSON;
    }
    if (!json_get_string(doc, len, "appName", out->app_name, sizeof out->app_name))
        return MANIFEST_NO_APP_NAME;
    if (!json_get_string(doc, len, "appid", out->appid, sizeof out->appid))
        return MANIFEST_NO_APPID;
    if (!json_get_string(doc, len, "version", out->version, sizeof out->version))
        return MANIFEST_NO_VERSION;
    return MANIFEST_OK;
}

const char *manifest_result_text(manifest_result r)
{
    switch (r) {
    case MANIFEST_OK: return "ok";
    case MANIFEST_TOO_LARGE: return "manifest.json is larger than " STR(MANIFEST_MAX) " bytes";
    case MANIFEST_NOT_JSON: return "manifest.json is not one plain JSON object in UTF-8 (no comments, no "
                                   "trailing text)";
    case MANIFEST_DUPLICATE_KEY: return "manifest.json has a key twice in an object";
    case MANIFEST_BAD_STRING: return "manifest.json has a control character (such as \\u0000 or \\n) or an "
                                     "unpaired surrogate in a string";
    case MANIFEST_NO_APP_NAME: return "manifest.json has no string \"appName\" (of at most 31 bytes)";
    case MANIFEST_NO_APPID: return "manifest.json has no string \"appid\" (of at most 19 bytes)";
    case MANIFEST_NO_VERSION: return "manifest.json has no string \"version\" (of at most 31 bytes)";
    }
    return "?";
}
