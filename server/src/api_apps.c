/*
 * api_apps.c - /api/v1/apps: create, list, get, delete apps (tutorial 5.2).
 * The rules (names, uniqueness, no deleting an app with versions) are
 * service_apps.h's.
 */
#include "api_shared.h"
#include "routes.h"
#include "service_apps.h"

static cJSON *app_json(const store_app *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "appId", a->app_id);
    cJSON_AddStringToObject(o, "appName", a->app_name);
    cJSON_AddStringToObject(o, "description", a->description);
    cJSON_AddItemToObject(o, "createdAt", json_time(a->created_at));
    cJSON_AddNumberToObject(o, "versionCount", (double)a->version_count);
    cJSON_AddItemToObject(o, "latestVersion", api_text_or_null(a->has_latest, a->latest_version));
    return o;
}

static cJSON *app_row(const void *row) { return app_json(row); }

enum MHD_Result api_app_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    store_app a;
    service_result res;
    service_app_create(api_text(in, "appName", 0), api_text(in, "appId", 0), api_text(in, "description", 1), &a,
                       &res);
    cJSON_Delete(in);
    return res.status == SERVICE_OK ? reply_json(r, 201, app_json(&a)) : api_fail(r, &res);
}

enum MHD_Result api_app_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, app_row))
        return pg.ret;
    return api_page_end(r, &pg, store_app_list(&pg.page));
}

enum MHD_Result api_app_get(http_request *r)
{
    store_app a;
    service_result res;
    if (service_app_get(r->params[0], &a, &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 200, app_json(&a));
}

enum MHD_Result api_app_delete(http_request *r)
{
    service_result res;
    if (service_app_delete(r->params[0], &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 204, NULL);
}
