/*
 * service_applies.c - device batches of the Alibaba Cloud IoT API (see
 * service_applies.h).
 */
#include "service_applies.h"
#include "clock.h"
#include "service_devices.h"

#include <stdlib.h>
#include <string.h>

/* The names a batch made, collected while it runs. */
typedef struct {
    store_device_id *ids;
    size_t n, cap;
    bool failed;
} name_list;

static void collect(const store_device *d, void *ctx)
{
    name_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        store_device_id *ids = realloc(l->ids, cap * sizeof *ids);
        if (!ids) {
            l->failed = true;
            return;
        }
        l->ids = ids;
        l->cap = cap;
    }
    memcpy(l->ids[l->n].product_key, d->product_key, sizeof l->ids[0].product_key);
    memcpy(l->ids[l->n].device_name, d->device_name, sizeof l->ids[0].device_name);
    l->n++;
}

/* Records the batch of list in one transaction. */
static store_status record(const char *pk, const name_list *list, int64_t *apply_id)
{
    store_status s = store_begin();
    if (s != STORE_OK)
        return s;
    s = store_apply_insert(pk, clock_now(), apply_id);
    for (size_t i = 0; s == STORE_OK && i < list->n; i++)
        s = store_apply_add_device(*apply_id, list->ids[i].product_key, list->ids[i].device_name);
    if (s != STORE_OK) {
        store_rollback();
        return s;
    }
    return store_commit();
}

service_status service_apply_batch(const char *pk, long count, int64_t *apply_id, service_result *res)
{
    name_list list = {0};
    if (service_device_batch(pk, count, NULL, collect, &list, res) != SERVICE_OK) {
        free(list.ids);
        return res->status;
    }
    store_status s = list.failed ? STORE_ERROR : record(pk, &list, apply_id);
    free(list.ids);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "record the batch");
}

service_status service_apply_get(int64_t id, store_apply *out, service_result *res)
{
    store_status s = store_apply_get(id, out);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "ApplyNotFound", "no batch has ApplyId %lld", (long long)id);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the batch");
}

static void keep_one(const store_device *d, void *out) { memcpy(out, d, sizeof *d); }

service_status service_device_one_generated(const char *pk, store_device *out, service_result *res)
{
    return service_device_batch(pk, 1, NULL, keep_one, out, res);
}
