/*
 * api_page.c - what the API files share (see api_shared.h): paged lists,
 * text inputs, error answers.
 */
#include "api_shared.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* store_row_fn of a page: the row as JSON into the items. */
static void add_row(const void *row, void *ctx)
{
    api_page *pg = ctx;
    cJSON_AddItemToArray(pg->items, pg->json(row));
}

bool api_page_begin(http_request *r, api_page *pg, api_row_fn json)
{
    pg->items = NULL;
    if (http_paging(r, &pg->page.offset, &pg->page.limit, &pg->ret) < 0)
        return false;
    pg->page.each = add_row;
    pg->page.ctx = pg;
    pg->page.total = 0;
    pg->items = cJSON_CreateArray();
    pg->json = json;
    return true;
}

enum MHD_Result api_page_end(http_request *r, api_page *pg, store_status s)
{
    if (s != STORE_OK) {
        cJSON_Delete(pg->items);
        return reply_error(r, 500, "StorageError", "cannot read the list");
    }
    return reply_json(r, 200, http_list(pg->items, (long)pg->page.total, pg->page.offset, pg->page.limit));
}

cJSON *api_text_or_null(bool has, const char *text) { return has ? cJSON_CreateString(text) : cJSON_CreateNull(); }

const char *api_text(const cJSON *in, const char *key, int null_is_absent)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
    if (!v || (null_is_absent && cJSON_IsNull(v)))
        return NULL;
    return cJSON_IsString(v) ? v->valuestring : service_not_text;
}

unsigned api_http_status(service_status s)
{
    static const unsigned http_status[] = {
        [SERVICE_OK] = 200,       [SERVICE_INVALID] = 400,     [SERVICE_NOT_FOUND] = 404, [SERVICE_EXISTS] = 409,
        [SERVICE_CONFLICT] = 409, [SERVICE_UNAVAILABLE] = 503, [SERVICE_ERROR] = 500,
        [SERVICE_FULL] = 507,
    };
    return http_status[s];
}

enum MHD_Result api_fail(http_request *r, const service_result *res)
{
    return reply_error(r, api_http_status(res->status), res->code ? res->code : "StorageError", "%s", res->message);
}

enum MHD_Result api_store_fail(http_request *r, store_status s, const char *what, const char *code, const char *fmt,
                               ...)
{
    if (s != STORE_NOT_FOUND && store_disk_full())
        return reply_error(r, 507, "InsufficientStorage", "cannot %s: the disk is full", what);
    if (s != STORE_NOT_FOUND)
        return reply_error(r, 500, "StorageError", "cannot %s", what);
    char message[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return reply_error(r, 404, code, "%s", message);
}

const char *api_text_list(const cJSON *in, const char *key, char *buf, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key), *item;
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v))
        return v->valuestring;
    if (!cJSON_IsArray(v))
        return service_not_text;
    size_t used = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(item, v) {
        if (!cJSON_IsString(item) || strchr(item->valuestring, ',') || used + strlen(item->valuestring) + 2 > len)
            return service_not_text;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", item->valuestring);
    }
    return buf;
}

int api_name_list(const cJSON *in, const char *key, const char **names, size_t max, size_t *n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(in, key), *item;
    *n = 0;
    if (!list)
        return 0;
    if (!cJSON_IsArray(list) || (size_t)cJSON_GetArraySize(list) > max)
        return -1;
    cJSON_ArrayForEach(item, list)
        names[(*n)++] = cJSON_IsString(item) ? item->valuestring : service_not_text;
    return 0;
}
