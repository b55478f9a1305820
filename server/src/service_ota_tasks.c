/*
 * service_ota_tasks.c - canceling a firmware job's devices by state (see
 * service_ota_tasks.h).
 */
#include "service_ota_tasks.h"
#include "clock.h"

service_status service_ota_cancel_states(const char *id, unsigned states, int *n, service_result *res)
{
    *n = 0;
    if (!(states & ((1u << OTA_QUEUED) | (1u << OTA_PUSHED) | (1u << OTA_DOWNLOADING))))
        return service_fail(res, SERVICE_INVALID, "InvalidStates", "choose the states of the devices to cancel");
    int64_t now = clock_now();
    store_status s = store_ota_cancel_states(id, states, now, n);
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "JobNotFound", "no job %.40s", id);
    if (s == STORE_CONFLICT)
        return service_fail(res, SERVICE_CONFLICT, "JobEnded", "job %.40s has ended", id);
    if (s == STORE_OK)
        s = store_ota_jobs_settle(now);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "cancel the devices");
}
