/*
 * api_products.c - /api/v1/products: create, list, get, delete.
 *
 * A product groups devices, like a product of Alibaba Cloud IoT Platform
 * linked to the HaaS console (tutorial 2.2-2.3). Deleting a product deletes
 * its devices and their group memberships, and disconnects them. The rules
 * are service_devices.h's.
 */
#include "api_shared.h"
#include "kick.h"
#include "routes.h"
#include "service_devices.h"
#include "store_products.h"

static cJSON *product_json(const store_product *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "productKey", p->product_key);
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddItemToObject(o, "createdAt", json_time(p->created_at));
    cJSON_AddNumberToObject(o, "deviceCount", (double)p->device_count);
    return o;
}

static cJSON *product_row(const void *row) { return product_json(row); }

enum MHD_Result api_product_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    store_product p;
    service_result res;
    service_product_create(api_text(in, "name", 0), api_text(in, "productKey", 1), &p, &res);
    cJSON_Delete(in);
    return res.status == SERVICE_OK ? reply_json(r, 201, product_json(&p)) : api_fail(r, &res);
}

enum MHD_Result api_product_list(http_request *r)
{
    api_page pg;
    if (!api_page_begin(r, &pg, product_row))
        return pg.ret;
    return api_page_end(r, &pg, store_product_list(&pg.page));
}

enum MHD_Result api_product_get(http_request *r)
{
    store_product p;
    store_status s = store_product_get(r->params[0], &p);
    if (s != STORE_OK)
        return api_store_fail(r, s, "read the product", "ProductNotFound", "no product %s", r->params[0]);
    return reply_json(r, 200, product_json(&p));
}

/* DELETE: the product, its devices, and their connections (kick.h). */
enum MHD_Result api_product_delete(http_request *r)
{
    service_result res;
    if (service_product_delete(r->params[0], kick_devices, NULL, &res) != SERVICE_OK)
        return api_fail(r, &res);
    return reply_json(r, 204, NULL);
}
