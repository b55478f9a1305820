/*
 * api_versions.c - /api/v1/apps/{appId}/versions: upload a package, list,
 * get, deprecate, delete (tutorial 5.3 and 5.7).
 *
 * The body is streamed to <data>/tmp (upload.c); service_versions.h decides
 * whether the package is accepted and stores it, all or nothing. A version
 * is answered with a freshly signed download URL.
 */
#include "clock.h"
#include "api_shared.h"
#include "routes.h"
#include "server.h"
#include "service_apps.h"
#include "service_versions.h"
#include "upload.h"

#include <string.h>
#include <time.h>

static cJSON *version_json(const store_version *v)
{
    cJSON *o = cJSON_CreateObject();
    const char *slash = strrchr(v->object_key, '/');
    cJSON_AddStringToObject(o, "appId", v->app_id);
    cJSON_AddStringToObject(o, "version", v->version);
    cJSON_AddStringToObject(o, "fileName", slash ? slash + 1 : v->object_key);
    cJSON_AddNumberToObject(o, "size", (double)v->size);
    cJSON_AddStringToObject(o, "md5", v->md5);
    cJSON_AddStringToObject(o, "sha256", v->sha256);
    cJSON_AddStringToObject(o, "status", v->status);
    cJSON_AddItemToObject(o, "createdAt", json_time(v->created_at));
    int64_t expires = clock_now() + server.cfg.url_ttl;
    char url[1400];
    if (oss_sign_url(&server.signer, v->object_key, expires, url, sizeof url) == 0)
        cJSON_AddStringToObject(o, "url", url);
    cJSON_AddItemToObject(o, "urlExpiresAt", json_time(expires));
    return o;
}

static cJSON *version_row(const void *row) { return version_json(row); }

/* Answers the version of a service call, or its error. */
static enum MHD_Result reply_version(http_request *r, unsigned status, const store_version *v,
                                     const service_result *res)
{
    return res->status == SERVICE_OK ? reply_json(r, status, version_json(v)) : api_fail(r, res);
}

enum MHD_Result api_version_upload(http_request *r)
{
    const char *filename = http_query(r, "filename");
    if (!filename || !*filename)
        filename = upload_part_filename(r->upload);
    /* Browsers may send a path ("C:\fakepath\x.tar.gz"): keep the last part. */
    const char *base = filename;
    for (const char *p = filename; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    if (!*base)
        return reply_error(r, 400, "MissingFileName", "give the package file name as ?filename= "
                           "(or as the multipart file name)");
    const service_packages packages = {
        server.packages_dir, {server.cfg.max_unpacked_size, server.cfg.max_entries, server.cfg.max_ratio}};
    store_version v;
    service_result res;
    service_version_add(r->params[0], base, upload_file(r->upload), &packages, &v, &res);
    return reply_version(r, 201, &v, &res);
}

enum MHD_Result api_version_list(http_request *r)
{
    const char *app = r->params[0];
    store_app a;
    service_result res;
    if (service_app_get(app, &a, &res) != SERVICE_OK)
        return api_fail(r, &res);
    api_page pg;
    if (!api_page_begin(r, &pg, version_row))
        return pg.ret;
    return api_page_end(r, &pg, store_version_list(app, &pg.page));
}

enum MHD_Result api_version_get(http_request *r)
{
    store_version v;
    service_result res;
    service_version_get(r->params[0], r->params[1], &v, &res);
    return reply_version(r, 200, &v, &res);
}

enum MHD_Result api_version_deprecate(http_request *r)
{
    store_version v;
    service_result res;
    service_version_deprecate(r->params[0], r->params[1], &v, &res);
    return reply_version(r, 200, &v, &res);
}

enum MHD_Result api_version_delete(http_request *r)
{
    service_result res;
    if (service_version_delete(r->params[0], r->params[1], server.packages_dir, &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 204, NULL);
}
