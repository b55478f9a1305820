/*
 * seed.c - apply a seed file through the REST API (see seed.h).
 *
 * The file:
 *   {"products": [{"productKey", "name", "devices": [{"deviceName", "deviceSecret"}]}],
 *    "groups":   [{"groupId", "name", "devices": [{"productKey", "deviceName"}]}],
 *    "apps":     [{"appName", "appId", "description", "versions": [{"file": "pkg.tar.gz"}]}],
 *    "tasks":    [{"taskId", "appId", "version", "groupId"}]}
 * Every list is optional; version files are relative to the seed file.
 */
#include "seed.h"
#include "log.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    const char *host, *token;
    int port;
    char *err;
    size_t errlen;
} seeder;

typedef struct {
    int status;
    cJSON *json; /* the parsed body, or NULL */
} answer;

static int fail(seeder *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(seeder *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(s->err, s->errlen, "seed: ");
    vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One HTTP/1.0 request to ourselves; the answer's JSON is parsed. */
static int request(seeder *s, const char *method, const char *path, const void *body, size_t len,
                   const char *ctype, answer *a)
{
    a->status = 0;
    a->json = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    if (getaddrinfo(s->host, port, &hints, &ai) != 0 || !ai)
        return fail(s, "cannot resolve %s", s->host);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    freeaddrinfo(ai);
    char head[1024];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.0\r\nHost: %s:%d\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "%s%s%s\r\n", method, path, s->host, s->port, ctype, len,
                     s->token ? "Authorization: Bearer " : "", s->token ? s->token : "", s->token ? "\r\n" : "");
    ok = ok && n > 0 && (size_t)n < sizeof head && send_all(fd, head, (size_t)n) == 0 &&
         (len == 0 || send_all(fd, body, len) == 0);
    size_t cap = 1 << 16, got = 0;
    char *buf = ok ? malloc(cap + 1) : NULL;
    ssize_t r;
    while (buf && (r = recv(fd, buf + got, cap - got, 0)) > 0) {
        got += (size_t)r;
        if (got == cap) {
            char *bigger = cap < (64u << 20) ? realloc(buf, cap * 2 + 1) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (fd >= 0)
        close(fd);
    if (!buf)
        return fail(s, "%s %s: no answer from haas-emu", method, path);
    buf[got] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &a->status) != 1 || !sep) {
        free(buf);
        return fail(s, "%s %s: malformed answer", method, path);
    }
    a->json = cJSON_Parse(sep + 4);
    free(buf);
    return 0;
}

static const char *code_of(const answer *a)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(a->json, "code");
    return cJSON_IsString(c) ? c->valuestring : "";
}

static const char *message_of(const answer *a)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(a->json, "message");
    return cJSON_IsString(m) ? m->valuestring : "";
}

/* POSTs a JSON object; 2xx, or 409 with exists_code, are fine. Returns 1
 * created, 0 existed, -1 error. */
static int post_json(seeder *s, const char *path, cJSON *body, const char *exists_code, const char *what)
{
    char *text = cJSON_PrintUnformatted(body);
    answer a;
    int rc = text ? request(s, "POST", path, text, strlen(text), "application/json", &a) : -1;
    cJSON_free(text);
    if (rc < 0)
        return -1;
    int result = a.status / 100 == 2 ? 1 : (a.status == 409 && !strcmp(code_of(&a), exists_code)) ? 0 : -1;
    if (result < 0)
        fail(s, "%s: %d %s: %s", what, a.status, code_of(&a), message_of(&a));
    cJSON_Delete(a.json);
    return result;
}

static const char *str(cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int seed_products(seeder *s, cJSON *list)
{
    cJSON *p;
    cJSON_ArrayForEach(p, list) {
        const char *pk = str(p, "productKey"), *name = str(p, "name");
        if (!pk || !name)
            return fail(s, "every product needs productKey and name");
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "productKey", pk);
        cJSON_AddStringToObject(body, "name", name);
        int rc = post_json(s, "/api/v1/products", body, "ProductExists", "product");
        cJSON_Delete(body);
        if (rc < 0)
            return -1;
        cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(p, "devices")) {
            const char *dn = str(d, "deviceName"), *ds = str(d, "deviceSecret");
            if (!dn || !ds)
                return fail(s, "every device needs deviceName and deviceSecret");
            char path[160];
            snprintf(path, sizeof path, "/api/v1/products/%s/devices", pk);
            body = cJSON_Duplicate(d, 1);
            rc = post_json(s, path, body, "DeviceExists", "device");
            cJSON_Delete(body);
            if (rc < 0)
                return -1;
            if (rc == 0) { /* it exists: it must be the seed's device */
                answer a;
                char one[200];
                snprintf(one, sizeof one, "/api/v1/products/%s/devices/%s", pk, dn);
                if (request(s, "GET", one, NULL, 0, "application/json", &a) < 0)
                    return -1;
                const char *have = str(a.json, "deviceSecret");
                int same = have && !strcmp(have, ds);
                cJSON_Delete(a.json);
                if (!same)
                    return fail(s, "device %s/%s exists with another secret than the seed's", pk, dn);
            }
        }
    }
    return 0;
}

static int seed_groups(seeder *s, cJSON *list)
{
    cJSON *g;
    cJSON_ArrayForEach(g, list) {
        const char *id = str(g, "groupId"), *name = str(g, "name");
        if (!id || !name)
            return fail(s, "every group needs groupId and name (fixed ids keep seeding idempotent)");
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "groupId", id);
        cJSON_AddStringToObject(body, "name", name);
        int rc = post_json(s, "/api/v1/groups", body, "GroupExists", "group");
        cJSON_Delete(body);
        cJSON *devices = cJSON_GetObjectItemCaseSensitive(g, "devices");
        if (rc >= 0 && cJSON_GetArraySize(devices) > 0) {
            char path[160];
            snprintf(path, sizeof path, "/api/v1/groups/%s/devices", id);
            body = cJSON_CreateObject();
            cJSON_AddItemToObject(body, "devices", cJSON_Duplicate(devices, 1));
            rc = post_json(s, path, body, "-", "group members");
            cJSON_Delete(body);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* md5 hex of a file's bytes, read into *data (caller frees). */
static int read_file(const char *path, char **data, size_t *len, char md5[33])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16;
    *data = malloc(cap);
    *len = 0;
    size_t n;
    while (*data && (n = fread(*data + *len, 1, cap - *len, f)) > 0) {
        *len += n;
        if (*len == cap) {
            char *bigger = realloc(*data, cap * 2);
            if (!bigger) {
                free(*data);
                *data = NULL;
            }
            *data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!*data)
        return -1;
    unsigned char d[16];
    unsigned int dl = 0;
    EVP_Digest(*data, *len, d, &dl, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(md5 + 2 * i, 3, "%02x", d[i]);
    return 0;
}

static int seed_apps(seeder *s, cJSON *list, const char *base)
{
    cJSON *app;
    cJSON_ArrayForEach(app, list) {
        const char *id = str(app, "appId"), *name = str(app, "appName");
        if (!id || !name)
            return fail(s, "every app needs appName and appId");
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "appName", name);
        cJSON_AddStringToObject(body, "appId", id);
        if (str(app, "description"))
            cJSON_AddStringToObject(body, "description", str(app, "description"));
        int rc = post_json(s, "/api/v1/apps", body, "AppExists", "app");
        cJSON_Delete(body);
        if (rc < 0)
            return -1;
        cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(app, "versions")) {
            const char *file = str(v, "file");
            if (!file)
                return fail(s, "every version needs file (a .tar.gz)");
            char full[1024], md5[33], path[1400];
            snprintf(full, sizeof full, "%s%s", file[0] == '/' ? "" : base, file);
            char *data;
            size_t len;
            if (read_file(full, &data, &len, md5) < 0)
                return fail(s, "cannot read %s: %s", full, strerror(errno));
            const char *fname = strrchr(full, '/') ? strrchr(full, '/') + 1 : full;
            snprintf(path, sizeof path, "/api/v1/apps/%s/versions?filename=%s", id, fname);
            answer a;
            rc = request(s, "POST", path, data, len, "application/gzip", &a);
            free(data);
            if (rc < 0)
                return -1;
            int ok = a.status == 201;
            if (a.status == 409 && !strcmp(code_of(&a), "VersionExists")) {
                /* already there: it must be the same bytes */
                char version[64] = "";
                const char *dash = strrchr(fname, '-');
                if (dash)
                    snprintf(version, sizeof version, "%.*s", (int)(strlen(dash + 1) - 7), dash + 1);
                answer got;
                snprintf(path, sizeof path, "/api/v1/apps/%s/versions/%s", id, version);
                if (request(s, "GET", path, NULL, 0, "application/json", &got) < 0) {
                    cJSON_Delete(a.json);
                    return -1;
                }
                const char *have = str(got.json, "md5");
                ok = have && !strcmp(have, md5);
                cJSON_Delete(got.json);
                if (!ok) {
                    cJSON_Delete(a.json);
                    return fail(s, "version %s of %s exists with other bytes than %s", version, id, full);
                }
            }
            if (!ok)
                fail(s, "%s: %d %s: %s", full, a.status, code_of(&a), message_of(&a));
            cJSON_Delete(a.json);
            if (!ok)
                return -1;
        }
    }
    return 0;
}

static int seed_tasks(seeder *s, cJSON *list)
{
    cJSON *t;
    cJSON_ArrayForEach(t, list) {
        if (!str(t, "taskId"))
            return fail(s, "every task needs a taskId (fixed ids keep seeding idempotent)");
        cJSON *body = cJSON_Duplicate(t, 1);
        int rc = post_json(s, "/api/v1/tasks", body, "TaskExists", "task");
        cJSON_Delete(body);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int seed_apply(const char *file, const char *host, int port, const char *token, char *err, size_t errlen)
{
    seeder s = {host, token && *token ? token : NULL, port, err, errlen};
    FILE *f = fopen(file, "rb");
    if (!f)
        return fail(&s, "cannot read %s: %s", file, strerror(errno));
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!text)
        return fail(&s, "out of memory");
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fail(&s, "%s is not a JSON object", file);
    }
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
    cJSON_Delete(root);
    if (rc == 0)
        log_msg(LOG_INFO, "seed %s applied", file);
    return rc;
}
