/*
 * seed.c - apply a seed file through the services (see seed.h).
 *
 * The file:
 *   {"products": [{"productKey", "name", "devices": [{"deviceName", "deviceSecret"}]}],
 *    "groups":   [{"groupId", "name", "devices": [{"productKey", "deviceName"}]}],
 *    "apps":     [{"appName", "appId", "description", "versions": [{"file": "pkg.tar.gz"}]}],
 *    "tasks":    [{"taskId", "appId", "version", "groupId", "timeoutSeconds"}],
 *    "firmwares", "otaJobs", "rollouts": firmware OTA and rollouts (seed_firmware.c)}
 * Every list is optional; version files are relative to the seed file.
 */
#include "seed.h"
#include "seed_internal.h"
#include "api_shared.h"
#include "live.h"
#include "log.h"
#include "package_file.h"
#include "server.h"
#include "service_apps.h"
#include "service_devices.h"
#include "service_groups.h"
#include "service_tasks.h"
#include "service_versions.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int seed_fail(seeder *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(s->err, s->errlen, "seed: ");
    vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int seed_outcome(seeder *s, const service_result *res, const char *exists_code, const char *what)
{
    if (res->status == SERVICE_OK)
        return 1;
    if (res->status == SERVICE_EXISTS && exists_code && !strcmp(res->code, exists_code))
        return 0;
    return seed_fail(s, "%s: %u %s: %s", what, api_http_status(res->status), res->code, res->message);
}

const char *seed_str(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One device of product pk; an existing one must have the seed's secret. */
static int seed_device(seeder *s, const char *pk, cJSON *d)
{
    const char *dn = seed_str(d, "deviceName"), *ds = seed_str(d, "deviceSecret");
    if (!dn || !ds)
        return seed_fail(s, "every device needs deviceName and deviceSecret");
    store_device *have = malloc(sizeof *have);
    service_result res;
    if (!have)
        return seed_fail(s, "out of memory");
    service_device_create(pk, dn, ds, have, &res);
    int rc = seed_outcome(s, &res, "DeviceExists", "device");
    if (rc == 0 && (store_device_get(pk, dn, have) != STORE_OK || strcmp(have->device_secret, ds) != 0))
        rc = seed_fail(s, "device %s/%s exists with another secret than the seed's", pk, dn);
    free(have);
    return rc < 0 ? -1 : 0;
}

static int seed_products(seeder *s, cJSON *list)
{
    cJSON *p, *d;
    cJSON_ArrayForEach(p, list) {
        const char *pk = seed_str(p, "productKey"), *name = seed_str(p, "name");
        if (!pk || !name)
            return seed_fail(s, "every product needs productKey and name");
        store_product product;
        service_result res;
        service_product_create(name, pk, &product, &res);
        if (seed_outcome(s, &res, "ProductExists", "product") < 0)
            return -1;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(p, "devices")) {
            if (seed_device(s, pk, d) < 0)
                return -1;
        }
    }
    return 0;
}

/* The members of a group's "devices" into the group. */
static int seed_members(seeder *s, const char *gid, cJSON *devices)
{
    int n = cJSON_GetArraySize(devices), i = 0, added;
    int64_t count;
    service_member *m = calloc((size_t)n, sizeof *m);
    if (!m)
        return seed_fail(s, "out of memory");
    cJSON *d;
    cJSON_ArrayForEach(d, devices) {
        m[i].product_key = seed_str(d, "productKey");
        m[i].device_name = seed_str(d, "deviceName");
        i++;
    }
    service_result res;
    service_group_add(gid, m, n, &added, &count, &res);
    free(m);
    return seed_outcome(s, &res, NULL, "group members") < 0 ? -1 : 0;
}

static int seed_groups(seeder *s, cJSON *list)
{
    cJSON *g;
    cJSON_ArrayForEach(g, list) {
        const char *id = seed_str(g, "groupId"), *name = seed_str(g, "name");
        if (!id || !name)
            return seed_fail(s, "every group needs groupId and name (fixed ids keep seeding idempotent)");
        store_group group;
        service_result res;
        service_group_create(name, id, &group, &res);
        if (seed_outcome(s, &res, "GroupExists", "group") < 0)
            return -1;
        cJSON *devices = cJSON_GetObjectItemCaseSensitive(g, "devices");
        if (cJSON_GetArraySize(devices) > 0 && seed_members(s, id, devices) < 0)
            return -1;
    }
    return 0;
}

/* Copies in into f, at most max bytes: 0, 1 when it is larger, -1 on an
 * error (errno set). */
static int copy_into(package_file *f, FILE *in, int64_t max)
{
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (package_file_write(f, buf, n) < 0)
            return -1;
        if (package_file_size(f) > max)
            return 1;
    }
    return ferror(in) || package_file_finish(f) < 0 ? -1 : 0;
}

package_file *seed_copy_file(seeder *s, const char *path)
{
    FILE *in = fopen(path, "rb");
    package_file *f = in ? package_file_open(server.tmp_dir) : NULL;
    int rc = f ? copy_into(f, in, server.cfg.max_package_size) : -1, e = errno;
    if (in)
        fclose(in);
    if (rc == 0 && package_file_size(f) > 0)
        return f;
    if (rc > 0)
        seed_fail(s, "%s: 413 PackageTooLarge: the package is larger than the limit of %lld bytes (--max-package-size)",
             path, (long long)server.cfg.max_package_size);
    else if (rc == 0)
        seed_fail(s, "%s: 400 EmptyPackage: the request carries no package bytes", path);
    else
        seed_fail(s, "cannot read %s: %s", path, strerror(e));
    package_file_free(f);
    return NULL;
}

/* One version file of app id; an existing version must have its bytes. */
static int seed_version(seeder *s, const char *id, const char *full)
{
    package_file *f = seed_copy_file(s, full);
    if (!f)
        return -1;
    const char *fname = strrchr(full, '/') ? strrchr(full, '/') + 1 : full;
    const service_packages packages = {
        server.packages_dir, {server.cfg.max_unpacked_size, server.cfg.max_entries, server.cfg.max_ratio}};
    store_version v;
    service_result res;
    service_version_add(id, fname, f, &packages, &v, &res);
    int rc = seed_outcome(s, &res, "VersionExists", full);
    if (rc == 0) { /* already there: it must be the same bytes */
        char version[64] = "";
        const char *dash = strrchr(fname, '-');
        if (dash)
            snprintf(version, sizeof version, "%.*s", (int)(strlen(dash + 1) - 7), dash + 1);
        if (store_version_get(id, version, &v) != STORE_OK || strcmp(v.md5, package_file_md5(f)) != 0)
            rc = seed_fail(s, "version %s of %s exists with other bytes than %s", version, id, full);
    }
    package_file_free(f);
    return rc < 0 ? -1 : 0;
}

static int seed_apps(seeder *s, cJSON *list, const char *base)
{
    cJSON *app, *v;
    cJSON_ArrayForEach(app, list) {
        const char *id = seed_str(app, "appId"), *name = seed_str(app, "appName");
        if (!id || !name)
            return seed_fail(s, "every app needs appName and appId");
        store_app a;
        service_result res;
        service_app_create(name, id, seed_str(app, "description"), &a, &res);
        if (seed_outcome(s, &res, "AppExists", "app") < 0)
            return -1;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(app, "versions")) {
            const char *file = seed_str(v, "file");
            if (!file)
                return seed_fail(s, "every version needs file (a .tar.gz)");
            char full[1024];
            snprintf(full, sizeof full, "%s%s", file[0] == '/' ? "" : base, file);
            if (seed_version(s, id, full) < 0)
                return -1;
        }
    }
    return 0;
}

static int seed_tasks(seeder *s, cJSON *list)
{
    cJSON *t;
    cJSON_ArrayForEach(t, list) {
        if (!seed_str(t, "taskId"))
            return seed_fail(s, "every task needs a taskId (fixed ids keep seeding idempotent)");
        char id[STORE_ID_SIZE];
        service_result res;
        const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(t, "timeoutSeconds");
        service_task_create_timed(seed_str(t, "appId"), seed_str(t, "version"), seed_str(t, "groupId"),
                                  seed_str(t, "taskId"), cJSON_IsNumber(timeout) ? timeout->valueint : -1, id, &res);
        if (seed_outcome(s, &res, "TaskExists", "task") < 0)
            return -1;
    }
    return 0;
}

/* The seed file's JSON object, or NULL after seed_fail(). */
static cJSON *read_seed(seeder *s, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        seed_fail(s, "cannot read %s: %s", file, strerror(errno));
        return NULL;
    }
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!text) {
        seed_fail(s, "out of memory");
        return NULL;
    }
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        seed_fail(s, "%s is not a JSON object", file);
        return NULL;
    }
    return root;
}

int seed_apply(const char *file, char *err, size_t errlen)
{
    seeder s = {err, errlen};
    cJSON *root = read_seed(&s, file);
    if (!root)
        return -1;
    char base[1024] = "";
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(base, sizeof base, "%.*s/", (int)(slash - file), file);
    int rc = seed_products(&s, cJSON_GetObjectItemCaseSensitive(root, "products"));
    if (rc == 0)
        rc = seed_groups(&s, cJSON_GetObjectItemCaseSensitive(root, "groups"));
    if (rc == 0)
        rc = seed_apps(&s, cJSON_GetObjectItemCaseSensitive(root, "apps"), base);
    if (rc == 0)
        rc = seed_tasks(&s, cJSON_GetObjectItemCaseSensitive(root, "tasks"));
    if (rc == 0)
        rc = seed_firmware(&s, root, base);
    cJSON_Delete(root);
    live_changed();
    if (rc == 0)
        log_msg(LOG_INFO, "seed %s applied", file);
    return rc;
}
