/*
 * api_firmwares.c - firmware OTA's modules and firmware files:
 * /api/v1/products/{pk}/ota/modules and /api/v1/products/{pk}/firmwares
 * (upload), /api/v1/firmwares (list, get, delete). The rules are
 * service_firmwares.h's; an upload streams to <data>/tmp first (upload.c).
 */
#include "api_shared.h"
#include "routes.h"
#include "server.h"
#include "service_firmwares.h"
#include "upload.h"

#include <stdio.h>
#include <string.h>

static cJSON *module_json(const store_ota_module *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", m->product_key);
    cJSON_AddStringToObject(o, "moduleName", m->module_name);
    cJSON_AddStringToObject(o, "alias", m->alias);
    cJSON_AddStringToObject(o, "description", m->description);
    cJSON_AddItemToObject(o, "createdAt", json_time(m->created_at));
    return o;
}

static cJSON *module_row(const void *row) { return module_json(row); }

enum MHD_Result api_module_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    store_ota_module m;
    service_result res;
    service_module_add(r->params[0], api_text(in, "moduleName", 0), api_text(in, "alias", 1),
                       api_text(in, "description", 1), &m, &res);
    cJSON_Delete(in);
    return res.status == SERVICE_OK ? reply_json(r, 201, module_json(&m)) : api_fail(r, &res);
}

/* The modules: "default" first, then the named ones. */
enum MHD_Result api_module_list(http_request *r)
{
    store_ota_module def;
    service_result res;
    if (service_module_get(r->params[0], STORE_OTA_DEFAULT_MODULE, &def, &res) != SERVICE_OK)
        return api_fail(r, &res);
    api_page pg;
    if (!api_page_begin(r, &pg, module_row))
        return pg.ret;
    return api_page_end(r, &pg, store_module_list(r->params[0], &pg.page));
}

enum MHD_Result api_module_delete(http_request *r)
{
    service_result res;
    if (service_module_delete(r->params[0], r->params[1], &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 204, NULL);
}

cJSON *api_version_array(const char *list)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char item[STORE_OTA_WORD_SIZE];
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        cJSON_AddItemToArray(a, cJSON_CreateString(item));
        p += len + (p[len] == ',');
    }
    return a;
}

static cJSON *firmware_json(const store_firmware *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "firmwareId", f->firmware_id);
    cJSON_AddStringToObject(o, "productKey", f->product_key);
    cJSON_AddStringToObject(o, "moduleName", f->module_name);
    cJSON_AddStringToObject(o, "version", f->version);
    cJSON_AddStringToObject(o, "name", f->name);
    cJSON_AddNumberToObject(o, "size", (double)f->size);
    cJSON_AddStringToObject(o, "md5", f->md5);
    cJSON_AddStringToObject(o, "sha256", f->sha256);
    cJSON_AddStringToObject(o, "signMethod", f->sign_method);
    cJSON_AddStringToObject(o, "sign", strcmp(f->sign_method, "SHA256") == 0 ? f->sha256 : f->md5);
    cJSON_AddItemToObject(o, "srcVersions", api_version_array(f->src_versions));
    cJSON_AddItemToObject(o, "createdAt", json_time(f->created_at));
    return o;
}

static cJSON *firmware_row(const void *row) { return firmware_json(row); }

enum MHD_Result api_firmware_upload(http_request *r)
{
    const char *name = http_query(r, "name");
    if (!name || !*name)
        name = upload_part_filename(r->upload);
    service_firmware_spec spec = {
        .product_key = r->params[0],
        .module_name = http_query(r, "module"),
        .version = http_query(r, "version"),
        .name = name && *name ? name : NULL,
        .sign_method = http_query(r, "signMethod"),
        .src_versions = http_query(r, "srcVersions"),
        .firmware_id = http_query(r, "firmwareId"),
    };
    store_firmware f;
    service_result res;
    if (service_firmware_add(&spec, upload_file(r->upload), server.packages_dir, &f, &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 201, firmware_json(&f));
}

enum MHD_Result api_firmware_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, firmware_row))
        return pg.ret;
    return api_page_end(r, &pg, store_firmware_list(http_query(r, "productKey"), &pg.page));
}

enum MHD_Result api_firmware_get(http_request *r)
{
    store_firmware f;
    service_result res;
    if (service_firmware_get(r->params[0], &f, &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 200, firmware_json(&f));
}

enum MHD_Result api_firmware_delete(http_request *r)
{
    service_result res;
    if (service_firmware_delete(r->params[0], server.packages_dir, &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 204, NULL);
}
