/*
 * routes.c - the REST API's paths (schema/openapi.yaml documents them) and the matcher.
 */
#include "routes.h"
#include "aliyun_api.h"

#include <string.h>

static const route table[] = {
    {"GET", "/healthz", BODY_NONE, api_health},
    {"GET", "/", BODY_NONE, web_index},
    {"GET", "/api/v1", BODY_NONE, api_root},
    {"GET", "/api/v1/rev", BODY_NONE, api_rev},
    {"GET", "/api/v1/messages", BODY_NONE, api_messages},
    {"GET", "/api/v1/ca.pem", BODY_NONE, api_ca_pem},
    {"GET", "/api/v1/clock", BODY_NONE, api_clock_get},
    {"POST", "/api/v1/clock", BODY_JSON, api_clock_move},
    {"POST", "/api/v1/faults", BODY_JSON, api_fault_create},
    {"GET", "/api/v1/faults", BODY_NONE, api_fault_list},
    {"GET", "/api/v1/faults/{id}", BODY_NONE, api_fault_get},
    {"DELETE", "/api/v1/faults/{id}", BODY_NONE, api_fault_delete},
    {"POST", "/api/v1/faults/{id}/enable", BODY_NONE, api_fault_enable},
    {"POST", "/api/v1/faults/{id}/disable", BODY_NONE, api_fault_disable},

    {"POST", "/api/v1/products", BODY_JSON, api_product_create},
    {"GET", "/api/v1/products", BODY_NONE, api_product_list},
    {"GET", "/api/v1/products/{pk}", BODY_NONE, api_product_get},
    {"DELETE", "/api/v1/products/{pk}", BODY_NONE, api_product_delete},
    {"POST", "/api/v1/products/{pk}/devices", BODY_JSON, api_device_create},
    {"GET", "/api/v1/products/{pk}/devices", BODY_NONE, api_device_list},
    {"GET", "/api/v1/products/{pk}/devices/{dn}", BODY_NONE, api_device_get},
    {"DELETE", "/api/v1/products/{pk}/devices/{dn}", BODY_NONE, api_device_delete},
    {"POST", "/api/v1/products/{pk}/devices/{dn}/disable", BODY_NONE, api_device_disable},
    {"POST", "/api/v1/products/{pk}/devices/{dn}/enable", BODY_NONE, api_device_enable},
    {"GET", "/api/v1/devices", BODY_NONE, api_device_list_all},

    {"POST", "/api/v1/groups", BODY_JSON, api_group_create},
    {"GET", "/api/v1/groups", BODY_NONE, api_group_list},
    {"GET", "/api/v1/groups/{id}", BODY_NONE, api_group_get},
    {"DELETE", "/api/v1/groups/{id}", BODY_NONE, api_group_delete},
    {"POST", "/api/v1/groups/{id}/devices", BODY_JSON, api_group_add_devices},
    {"GET", "/api/v1/groups/{id}/devices", BODY_NONE, api_group_list_devices},
    {"DELETE", "/api/v1/groups/{id}/devices/{pk}/{dn}", BODY_NONE, api_group_remove_device},

    {"POST", "/api/v1/apps", BODY_JSON, api_app_create},
    {"GET", "/api/v1/apps", BODY_NONE, api_app_list},
    {"GET", "/api/v1/apps/{appId}", BODY_NONE, api_app_get},
    {"DELETE", "/api/v1/apps/{appId}", BODY_NONE, api_app_delete},
    {"POST", "/api/v1/apps/{appId}/versions", BODY_UPLOAD, api_version_upload},
    {"GET", "/api/v1/apps/{appId}/versions", BODY_NONE, api_version_list},
    {"GET", "/api/v1/apps/{appId}/versions/{version}", BODY_NONE, api_version_get},
    {"DELETE", "/api/v1/apps/{appId}/versions/{version}", BODY_NONE, api_version_delete},
    {"POST", "/api/v1/apps/{appId}/versions/{version}/deprecate", BODY_NONE, api_version_deprecate},

    {"POST", "/api/v1/tasks", BODY_JSON, api_task_create},
    {"GET", "/api/v1/tasks", BODY_NONE, api_task_list},
    {"GET", "/api/v1/tasks/{id}", BODY_NONE, api_task_get},
    {"POST", "/api/v1/tasks/{id}/push", BODY_NONE, api_task_push},
    {"GET", "/api/v1/tasks/{id}/devices", BODY_NONE, api_task_devices},
    {"GET", "/api/v1/tasks/{id}/timeline", BODY_NONE, api_task_timeline},
    {"GET", "/api/v1/products/{pk}/devices/{dn}/timeline", BODY_NONE, api_device_timeline},

    {"GET", "/api/v1/products/{pk}/ota/modules", BODY_NONE, api_module_list},
    {"POST", "/api/v1/products/{pk}/ota/modules", BODY_JSON, api_module_create},
    {"DELETE", "/api/v1/products/{pk}/ota/modules/{module}", BODY_NONE, api_module_delete},
    {"POST", "/api/v1/products/{pk}/firmwares", BODY_UPLOAD, api_firmware_upload},
    {"GET", "/api/v1/firmwares", BODY_NONE, api_firmware_list},
    {"GET", "/api/v1/firmwares/{id}", BODY_NONE, api_firmware_get},
    {"DELETE", "/api/v1/firmwares/{id}", BODY_NONE, api_firmware_delete},
    {"POST", "/api/v1/ota/jobs", BODY_JSON, api_ota_job_create},
    {"GET", "/api/v1/ota/jobs", BODY_NONE, api_ota_job_list},
    {"GET", "/api/v1/ota/jobs/{id}", BODY_NONE, api_ota_job_get},
    {"POST", "/api/v1/ota/jobs/{id}/cancel", BODY_NONE, api_ota_job_cancel},

    {"POST", "/api/v1/rollouts", BODY_JSON, api_rollout_create},
    {"GET", "/api/v1/rollouts", BODY_NONE, api_rollout_list},
    {"GET", "/api/v1/rollouts/{id}", BODY_NONE, api_rollout_get},
    {"GET", "/api/v1/rollouts/{id}/devices/{pk}/{dn}", BODY_NONE, api_rollout_device},
    {"POST", "/api/v1/rollouts/{id}/pause", BODY_NONE, api_rollout_pause},
    {"POST", "/api/v1/rollouts/{id}/resume", BODY_NONE, api_rollout_resume},
    {"POST", "/api/v1/rollouts/{id}/cancel", BODY_NONE, api_rollout_cancel},

    /* The console's files at the top (/app.js), and package downloads at
     * /<bucket>/<object>; the download handler passes other folders on to
     * the console's files. */
    {"GET", "/{file}", BODY_NONE, web_file},
    {"GET", "/{bucket}/{*}", BODY_NONE, download_package},
};

/* Matches one pattern; fills r->params on success. */
static int match(const char *pattern, const char *path, http_request *r)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++, s++;
        const char *pe = strchr(p, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        const char *se = strchr(s, '/');
        size_t slen = se ? (size_t)(se - s) : strlen(s);
        if (plen == 3 && !strncmp(p, "{*}", 3)) {
            slen = strlen(s);
            se = NULL;
        }
        if (p[0] == '{') {
            if (slen == 0 || slen >= sizeof r->params[0] || n >= HTTP_MAX_PARAMS)
                return 0;
            memcpy(r->params[n], s, slen);
            r->params[n][slen] = '\0';
            n++;
        } else if (plen != slen || strncmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
    if (*p || *s)
        return 0;
    r->nparams = n;
    return 1;
}

const route *routes_match(http_request *r, const char *method, const char *path, int *path_known)
{
    *path_known = 0;
    /* Alibaba Cloud's IoT Platform API: GET /?Action=..., POST / (aliyun_api.h) */
    const route *aliyun = aliyun_api_route(r, method, path);
    if (aliyun)
        return aliyun;
    if (!strcmp(method, "HEAD"))
        method = "GET";
    int is_api = !strncmp(path, "/api/", 5);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const route *rt = &table[i];
        if (!is_api || strncmp(rt->pattern, "/api/", 5) == 0) {
            if (!match(rt->pattern, path, r))
                continue;
            if (!strcmp(rt->method, method))
                return rt;
            *path_known = 1;
        }
    }
    return NULL;
}
