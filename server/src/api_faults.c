/*
 * api_faults.c - /api/v1/faults: fault injection rules (faults.h): add,
 * list, get, enable, disable, delete. A rule is answered with its id, its
 * state and how often it fired.
 */
#include "api_shared.h"
#include "faults.h"
#include "routes.h"

enum MHD_Result api_fault_create(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    const char *code;
    char message[600];
    cJSON *rule = faults_add(in, &code, message, sizeof message);
    cJSON_Delete(in);
    return rule ? reply_json(r, 201, rule) : reply_error(r, 400, code, "%s", message);
}

enum MHD_Result api_fault_list(http_request *r)
{
    cJSON *items = faults_list();
    int n = cJSON_GetArraySize(items);
    return reply_json(r, 200, http_list(items, n, 0, n));
}

enum MHD_Result api_fault_get(http_request *r)
{
    cJSON *rule = faults_get(r->params[0]);
    return rule ? reply_json(r, 200, rule) : reply_error(r, 404, "FaultNotFound", "no fault %.40s", r->params[0]);
}

static enum MHD_Result switch_rule(http_request *r, bool on)
{
    if (!faults_enable(r->params[0], on))
        return reply_error(r, 404, "FaultNotFound", "no fault %.40s", r->params[0]);
    return api_fault_get(r);
}

enum MHD_Result api_fault_enable(http_request *r) { return switch_rule(r, true); }
enum MHD_Result api_fault_disable(http_request *r) { return switch_rule(r, false); }

enum MHD_Result api_fault_delete(http_request *r)
{
    if (!faults_delete(r->params[0]))
        return reply_error(r, 404, "FaultNotFound", "no fault %.40s", r->params[0]);
    return reply_json(r, 204, NULL);
}
