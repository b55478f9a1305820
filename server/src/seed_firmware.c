/*
 * seed_firmware.c - the firmware OTA and rollout part of a --seed file
 * (seed.h):
 *
 *   {"products": [{"productKey": ..., "modules": [{"moduleName", "alias", "description"}],
 *                  "firmwares": [{"firmwareId", "file", "version", "module", "name",
 *                                 "signMethod", "srcVersions": ["1.0.0"]}]}],
 *    "otaJobs":  [{"jobId", "firmwareId", "targetType", "devices", "groupId",
 *                  "srcVersions", "timeoutMinutes"}],
 *    "rollouts": [{"rolloutId", ... as POST /api/v1/rollouts}]}
 *
 * Firmware, jobs and rollouts need fixed ids (firmwareId, jobId,
 * rolloutId) so that seeding twice changes nothing; an existing firmware
 * must have the seed file's bytes. Jobs and rollouts made at start find
 * every device offline: each device gets its notice when it connects.
 */
#include "seed_internal.h"
#include "faults.h"
#include "api_shared.h"
#include "server.h"
#include "service_firmwares.h"
#include "service_ota_jobs.h"

#include <stdio.h>
#include <string.h>

static int seed_modules(seeder *s, const char *pk, const cJSON *list)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        store_ota_module out;
        service_result res;
        service_module_add(pk, seed_str(m, "moduleName"), seed_str(m, "alias"), seed_str(m, "description"), &out,
                           &res);
        if (seed_outcome(s, &res, "ModuleExists", "module") < 0)
            return -1;
    }
    return 0;
}

/* "srcVersions": an array of versions as one comma-separated text in buf
 * (NULL when absent); -1 after seed_fail when not an array of strings. */
static int version_list(seeder *s, const cJSON *o, char *buf, size_t len, const char **out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "srcVersions"), *v;
    size_t used = 0;
    *out = NULL;
    if (!list)
        return 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(v, list) {
        if (!cJSON_IsString(v) || used + strlen(v->valuestring) + 2 > len)
            return seed_fail(s, "srcVersions is an array of versions");
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", v->valuestring);
    }
    *out = cJSON_IsArray(list) ? buf : NULL;
    return cJSON_IsArray(list) ? 0 : seed_fail(s, "srcVersions is an array of versions");
}

/* One firmware of product pk; an existing one must have the file's bytes. */
static int seed_one_firmware(seeder *s, const char *pk, const cJSON *fw, const char *base)
{
    const char *file = seed_str(fw, "file"), *id = seed_str(fw, "firmwareId");
    char full[1024], src[STORE_SRC_VERSIONS_SIZE];
    service_firmware_spec spec = {pk, seed_str(fw, "module"), seed_str(fw, "version"), seed_str(fw, "name"),
                                  seed_str(fw, "signMethod"), NULL, id};
    if (!file || !id)
        return seed_fail(s, "every firmware needs file and firmwareId (fixed ids keep seeding idempotent)");
    if (version_list(s, fw, src, sizeof src, &spec.src_versions) < 0)
        return -1;
    snprintf(full, sizeof full, "%s%s", file[0] == '/' ? "" : base, file);
    package_file *f = seed_copy_file(s, full);
    if (!f)
        return -1;
    store_firmware out;
    service_result res;
    service_firmware_add(&spec, f, server.packages_dir, &out, &res);
    int rc = seed_outcome(s, &res, "FirmwareExists", full);
    if (rc == 0 && (service_firmware_get(id, &out, &res) != SERVICE_OK ||
                    strcmp(out.md5, package_file_md5(f)) != 0))
        rc = seed_fail(s, "firmware %s exists with other bytes than %s (or another firmware has its version)", id,
                       full);
    package_file_free(f);
    return rc < 0 ? -1 : 0;
}

static int seed_products(seeder *s, const cJSON *list, const char *base)
{
    const cJSON *p, *fw;
    cJSON_ArrayForEach(p, list) {
        const char *pk = seed_str(p, "productKey");
        if (seed_modules(s, pk, cJSON_GetObjectItemCaseSensitive(p, "modules")) < 0)
            return -1;
        cJSON_ArrayForEach(fw, cJSON_GetObjectItemCaseSensitive(p, "firmwares")) {
            if (seed_one_firmware(s, pk, fw, base) < 0)
                return -1;
        }
    }
    return 0;
}

/* The job's "devices": an array of device names (at most the job limit). */
static int job_devices(seeder *s, const cJSON *job, const char **names, size_t *n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(job, "devices"), *d;
    *n = 0;
    cJSON_ArrayForEach(d, list) {
        if (*n == SERVICE_JOB_DEVICES_MAX || !cJSON_IsString(d))
            return seed_fail(s, "a job's devices are at most %d device names", SERVICE_JOB_DEVICES_MAX);
        names[(*n)++] = d->valuestring;
    }
    return 0;
}

static int seed_jobs(seeder *s, const cJSON *list)
{
    static const char *names[SERVICE_JOB_DEVICES_MAX];
    const cJSON *j;
    cJSON_ArrayForEach(j, list) {
        char src[STORE_SRC_VERSIONS_SIZE], id[STORE_ID_SIZE];
        const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(j, "timeoutMinutes");
        service_job_spec spec = {seed_str(j, "firmwareId"), seed_str(j, "targetType"), names, 0,
                                 seed_str(j, "groupId"), NULL, cJSON_IsNumber(timeout) ? timeout->valueint : 0,
                                 seed_str(j, "jobId")};
        if (!spec.job_id)
            return seed_fail(s, "every OTA job needs a jobId (fixed ids keep seeding idempotent)");
        if (job_devices(s, j, names, &spec.device_count) < 0 ||
            version_list(s, j, src, sizeof src, &spec.src_versions) < 0)
            return -1;
        int devices = 0;
        service_result res;
        service_ota_job_create(&spec, id, &devices, &res);
        if (seed_outcome(s, &res, "JobExists", "OTA job") < 0)
            return -1;
    }
    return 0;
}

/* Staged rollouts (of firmware or app versions), read as the API reads them. */
static int seed_rollouts(seeder *s, const cJSON *list)
{
    const cJSON *ro;
    static api_rollout_buffers buf;
    cJSON_ArrayForEach(ro, list) {
        service_rollout_spec spec;
        service_result res;
        char id[STORE_ID_SIZE];
        int devices = 0;
        if (!seed_str(ro, "rolloutId"))
            return seed_fail(s, "every rollout needs a rolloutId (fixed ids keep seeding idempotent)");
        if (api_rollout_spec(ro, &spec, &buf, &res) == SERVICE_OK)
            service_rollout_create(&spec, id, &devices, &res);
        if (seed_outcome(s, &res, "RolloutExists", "rollout") < 0)
            return -1;
    }
    return 0;
}

/* Fault rules (faults.h), as POST /api/v1/faults takes them. */
static int seed_faults(seeder *s, const cJSON *list)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, list) {
        const char *code;
        char message[600];
        cJSON *added = faults_add(f, &code, message, sizeof message);
        if (!added)
            return seed_fail(s, "fault: 400 %s: %s", code, message);
        cJSON_Delete(added);
    }
    return 0;
}

int seed_firmware(seeder *s, const cJSON *root, const char *base)
{
    if (seed_faults(s, cJSON_GetObjectItemCaseSensitive(root, "faults")) < 0)
        return -1;
    if (seed_products(s, cJSON_GetObjectItemCaseSensitive(root, "products"), base) < 0 ||
        seed_jobs(s, cJSON_GetObjectItemCaseSensitive(root, "otaJobs")) < 0)
        return -1;
    return seed_rollouts(s, cJSON_GetObjectItemCaseSensitive(root, "rollouts"));
}
