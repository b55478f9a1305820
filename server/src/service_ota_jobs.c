/*
 * service_ota_jobs.c - the rules for firmware upgrade jobs (see
 * service_ota_jobs.h).
 */
#include "clock.h"
#include "service_ota_jobs.h"
#include "identifiers.h"
#include "ids.h"
#include "service_firmwares.h"
#include "store_devices.h"
#include "store_groups.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int is_text(const char *s) { return s && s != service_not_text; }

static int make_job_id(char *id, size_t len)
{
    (void)len;
    return ids_random_alnum(id, 26);
}

static store_status insert_job(const char *id, void *ctx)
{
    store_ota_job *j = ctx;
    if (id != j->job_id)
        snprintf(j->job_id, sizeof j->job_id, "%s", id);
    return store_ota_job_insert(j);
}

/* Are the devices or the group right for the target type? */
static bool target_valid(const service_job_spec *spec, bool devices, bool group)
{
    if (devices && (spec->device_count == 0 || spec->device_count > SERVICE_JOB_DEVICES_MAX))
        return false;
    for (size_t i = 0; devices && i < spec->device_count; i++)
        if (!is_text(spec->devices[i]) || !valid_device_name(spec->devices[i]))
            return false;
    return !group || (is_text(spec->group_id) && valid_token(spec->group_id));
}

/* Checks the shape of spec: SERVICE_OK or InvalidJob. */
static service_status check_spec(const service_job_spec *spec, store_ota_job *j, service_result *res)
{
    const char *t = is_text(spec->target_type) ? spec->target_type : "";
    bool devices = !strcmp(t, "devices"), group = !strcmp(t, "group"), product = !strcmp(t, "product");
    bool ok = is_text(spec->firmware_id) && (devices || group || product) && target_valid(spec, devices, group) &&
              spec->timeout_minutes >= 0 && spec->timeout_minutes <= SERVICE_JOB_TIMEOUT_MAX &&
              (!spec->job_id || (is_text(spec->job_id) && valid_token(spec->job_id))) &&
              (!spec->src_versions ||
               (is_text(spec->src_versions) && service_version_list(spec->src_versions, j->src_versions)));
    if (!ok)
        return service_fail(res, SERVICE_INVALID, "InvalidJob",
                            "firmwareId and targetType (devices, group or product) are required; devices: 1..%d "
                            "device names; group: groupId; srcVersions: versions; timeoutMinutes 0..%d",
                            SERVICE_JOB_DEVICES_MAX, SERVICE_JOB_TIMEOUT_MAX);
    snprintf(j->target_type, sizeof j->target_type, "%s", t);
    snprintf(j->group_id, sizeof j->group_id, "%s", group ? spec->group_id : "");
    j->timeout_minutes = spec->timeout_minutes;
    return service_ok(res);
}

/* Do the firmware, the group and the named devices exist? */
static service_status check_targets(const service_job_spec *spec, store_ota_job *j, service_result *res)
{
    store_firmware f;
    if (service_firmware_get(spec->firmware_id, &f, res) != SERVICE_OK)
        return res->status;
    snprintf(j->firmware_id, sizeof j->firmware_id, "%s", f.firmware_id);
    snprintf(j->product_key, sizeof j->product_key, "%s", f.product_key);
    snprintf(j->module_name, sizeof j->module_name, "%s", f.module_name);
    snprintf(j->version, sizeof j->version, "%s", f.version);
    /* a group or a product is filtered by the firmware's from-versions by
     * default; devices named one by one are taken as named */
    if (!spec->src_versions && j->target_type[0] != 'd')
        snprintf(j->src_versions, sizeof j->src_versions, "%s", f.src_versions);
    store_group g;
    store_status s = j->group_id[0] ? store_group_get(j->group_id, &g) : STORE_OK;
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "GroupNotFound", "no group %s", j->group_id);
    for (size_t i = 0; s == STORE_OK && j->target_type[0] == 'd' && i < spec->device_count; i++) {
        s = store_device_exists(f.product_key, spec->devices[i]);
        if (s == STORE_NOT_FOUND)
            return service_fail(res, SERVICE_NOT_FOUND, "DeviceNotFound", "product %s has no device %s",
                                f.product_key, spec->devices[i]);
    }
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "read the job's targets");
}

/* Inserts the job and its devices (inside the caller's transaction). */
static store_status add_job(const service_job_spec *spec, store_ota_job *j, int *devices)
{
    int64_t now = j->created_at;
    store_status s = service_insert_id(j->job_id, sizeof j->job_id, spec->job_id, make_job_id, insert_job, j);
    *devices = 0;
    if (s == STORE_OK && j->target_type[0] == 'd') {
        for (size_t i = 0; s == STORE_OK && i < spec->device_count; i++) {
            int added = 0;
            s = store_ota_job_add_devices(j, spec->devices[i], NULL, now, &added);
            *devices += added;
        }
    } else if (s == STORE_OK) {
        s = store_ota_job_add_devices(j, NULL, j->group_id[0] ? j->group_id : NULL, now, devices);
    }
    if (s == STORE_OK)
        s = store_ota_job_supersede(j, now);
    if (s == STORE_OK)
        s = store_ota_jobs_settle(now);
    return s;
}

service_status service_ota_job_create(const service_job_spec *spec, char id[STORE_ID_SIZE], int *devices,
                                      service_result *res)
{
    store_ota_job j;
    memset(&j, 0, sizeof j);
    *devices = 0;
    if (check_spec(spec, &j, res) != SERVICE_OK || check_targets(spec, &j, res) != SERVICE_OK)
        return res->status;
    j.created_at = clock_now();
    if (store_begin() != STORE_OK)
        return service_storage_error(res, "store the job");
    store_status s = add_job(spec, &j, devices);
    if (s != STORE_OK) {
        store_rollback();
        if (s == STORE_EXISTS)
            return service_fail(res, SERVICE_EXISTS, "JobExists", "job %s exists already", j.job_id);
        if (s == STORE_CONFLICT)
            return service_fail(res, SERVICE_NOT_FOUND, "FirmwareNotFound", "no firmware %s", j.firmware_id);
        return service_storage_error(res, "store the job");
    }
    if (store_commit() != STORE_OK)
        return service_storage_error(res, "store the job");
    snprintf(id, STORE_ID_SIZE, "%s", j.job_id);
    return service_ok(res);
}

service_status service_ota_job_cancel(const char *id, service_result *res)
{
    store_status s = valid_token(id) ? store_ota_job_cancel(id, clock_now()) : STORE_NOT_FOUND;
    if (s == STORE_NOT_FOUND)
        return service_fail(res, SERVICE_NOT_FOUND, "JobNotFound", "no job %.40s", id ? id : "");
    if (s == STORE_CONFLICT)
        return service_fail(res, SERVICE_CONFLICT, "JobEnded", "job %s has ended already", id);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "cancel the job");
}

service_status service_ota_inform(const char *pk, const char *dn, const char *module, const char *version,
                                  int *succeeded, service_result *res)
{
    *succeeded = 0;
    if (!valid_ota_word(module) || !valid_ota_word(version))
        return service_fail(res, SERVICE_INVALID, "InvalidVersion",
                            "module and version are 1..64 of A-Z a-z 0-9 . _ -");
    int64_t now = clock_now();
    store_status s = store_device_module_report(pk, dn, module, version, now);
    if (s == STORE_CONFLICT)
        return service_fail(res, SERVICE_NOT_FOUND, "DeviceNotFound", "no device %s/%s", pk, dn);
    if (s == STORE_OK)
        s = store_ota_reached(pk, dn, module, version, now, succeeded);
    if (s == STORE_OK && *succeeded > 0)
        s = store_ota_jobs_settle(now);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "record the version");
}

const char *service_ota_step_meaning(int step)
{
    static const char *const meanings[] = {"upgrade failed", "download failed", "verify failed", "burn failed"};
    return step <= -1 && step >= -4 ? meanings[-step - 1] : NULL;
}

service_status service_ota_progress(const char *pk, const char *dn, const char *module, int step, const char *desc,
                                    char job_id[STORE_ID_SIZE], service_result *res)
{
    job_id[0] = '\0';
    if (step < -4 || step > 100 || !valid_ota_word(module))
        return service_fail(res, SERVICE_INVALID, "InvalidStep",
                            "step is 0..100, or -1 (upgrade failed), -2 (download failed), -3 (verify failed), "
                            "-4 (burn failed)");
    char reason[STORE_REASON_SIZE];
    const char *meaning = service_ota_step_meaning(step);
    if (meaning && desc && *desc && valid_utf8(desc, strlen(desc)))
        snprintf(reason, sizeof reason, "%s: %.100s", meaning, desc);
    else
        snprintf(reason, sizeof reason, "%s", meaning ? meaning : "");
    /* the cut above may split a UTF-8 sequence: keep the whole ones */
    reason[utf8_valid_prefix(reason, strlen(reason))] = '\0';
    int64_t now = clock_now();
    store_status s = store_ota_progress(pk, dn, module, step, reason, now, job_id);
    if (s == STORE_OK && step < 0 && job_id[0])
        s = store_ota_jobs_settle(now);
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "record the progress");
}

service_status service_ota_tick(int64_t now, int *n, service_result *res)
{
    *n = 0;
    store_status s = store_ota_timeouts(now, n);
    if (s == STORE_OK)
        s = store_ota_jobs_settle(now);
    if (s == STORE_OK)
        s = store_ota_refresh_active();
    return s == STORE_OK ? service_ok(res) : service_storage_error(res, "time out job devices");
}
