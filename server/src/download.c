/*
 * download.c - GET /<bucket>/<object>: serve a package (or a firmware,
 * "fw/<firmwareId>.bin") the way OSS serves a presigned URL
 * (docs/protocol.md sections 8 and 12).
 *
 * Devices differ in how they fetch: the stock HaaS Python code sends an
 * HTTP/1.0 GET and reads a plain body until the connection closes; Link SDK
 * C 4.x asks for byte ranges and resumes after a drop. So: a Content-Length
 * always (never chunked), Accept-Ranges, one range per request (206 with
 * Content-Range, 416 with "bytes * /size" when unsatisfiable; several ranges
 * are answered with the whole file, which RFC 7233 allows), ETag (OSS's
 * quoted upper-case MD5) and If-Range by ETag or date. The file is handed to
 * libmicrohttpd as a descriptor, which sends it with sendfile(2): nothing is
 * read into memory. Failures answer with OSS's XML error body.
 */
#include "clock.h"
#include "copy_text.h"
#include "download_faults.h"
#include "faults.h"
#include "ids.h"
#include "store_device_ip.h"
#include "log.h"
#include "routes.h"
#include "server.h"
#include "store.h"
#include "store_firmwares.h"
#include "store_versions.h"
#include "web.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum MHD_Result oss_error(http_request *r, unsigned status, const char *code, const char *message)
{
    char body[1024];
    char request_id[25];
    unsigned char r4[4] = {0};
    ids_bytes(r4, sizeof r4);
    snprintf(request_id, sizeof request_id, "%08lX%02X%02X%02X%02X", (unsigned long)clock_now(), r4[0], r4[1], r4[2],
             r4[3]);
    int n = snprintf(body, sizeof body,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n"
                     "  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n  <HostId>%s</HostId>\n</Error>\n",
                     code, message, request_id, server.cfg.oss_bucket);
    struct MHD_Response *resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/xml");
        MHD_add_response_header(resp, "x-oss-request-id", request_id);
    }
    return reply_response(r, status, resp);
}

/* Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" against size.
 * Returns 1 with [*first, *last] set, 0 to serve the whole file (absent,
 * malformed or several ranges), -1 when unsatisfiable. */
static int parse_range(const char *h, int64_t size, int64_t *first, int64_t *last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return 0;
    h += 6;
    while (*h == ' ')
        h++;
    if (strchr(h, ','))
        return 0;
    char *end;
    if (*h == '-') {
        if (!isdigit((unsigned char)h[1]))
            return 0;
        errno = 0;
        long long n = strtoll(h + 1, &end, 10);
        if (errno || *end)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return 1;
    }
    if (!isdigit((unsigned char)*h))
        return 0;
    errno = 0;
    long long a = strtoll(h, &end, 10);
    if (errno || *end != '-')
        return 0;
    const char *b_text = end + 1;
    long long b = size - 1;
    if (*b_text) {
        if (!isdigit((unsigned char)*b_text))
            return 0;
        b = strtoll(b_text, &end, 10);
        if (errno || *end || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

static void http_date(time_t t, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Does If-Range (an ETag or an HTTP date) still describe this file? */
static int if_range_matches(const char *if_range, const char *etag, const char *last_modified)
{
    if (!if_range)
        return 1;
    if (if_range[0] == '"' || !strncmp(if_range, "W/", 2))
        return strcmp(if_range, etag) == 0; /* strong comparison: W/ never matches */
    return strcmp(if_range, last_modified) == 0;
}

/* The MD5 and time of the package or firmware stored at object; -1 when
 * there is none. */
static int find_object(const char *object, char md5[STORE_MD5_SIZE], int64_t *created)
{
    store_version v;
    store_firmware f;
    if (store_version_by_object(object, &v) == STORE_OK && v.md5[0]) {
        snprintf(md5, STORE_MD5_SIZE, "%s", v.md5);
        *created = v.created_at;
        return 0;
    }
    if (store_firmware_by_object(object, &f) == STORE_OK && f.md5[0]) {
        snprintf(md5, STORE_MD5_SIZE, "%s", f.md5);
        *created = f.created_at;
        return 0;
    }
    return -1;
}

/*
 * What a download looks up in the database, kept by each HTTP thread while
 * store_generation() stays the same: the object's MD5 and time, and the
 * task and device a download of it from one address is noted under. A
 * fleet's devices download one package from one address (a NAT, or
 * simulators on one machine) many times between two commits, and the
 * three statements cost about 23 µs of a download's 130 µs of CPU (wrk, a
 * 64 KiB package, one connection per request).
 */
typedef struct {
    uint64_t generation; /* store_generation() before the reads; 0: empty */
    char object[400], ip[64];
    char md5[STORE_MD5_SIZE];
    int64_t created;
    bool owner_known;
    char task[STORE_ID_SIZE], pk[STORE_PK_SIZE], dn[STORE_DN_SIZE];
} download_memo;

static _Thread_local download_memo memo;

/* This thread's memo of object from ip, read again when the database has
 * changed since; NULL when there is no such object. */
static download_memo *memo_of(const char *object, const char *ip)
{
    uint64_t now = store_generation();
    if (memo.generation == now && !strcmp(memo.object, object) && !strcmp(memo.ip, ip))
        return &memo;
    memo.generation = 0;
    if (find_object(object, memo.md5, &memo.created) < 0)
        return NULL;
    copy_text(memo.object, sizeof memo.object, object);
    copy_text(memo.ip, sizeof memo.ip, ip);
    memo.owner_known = false;
    memo.generation = now;
    return &memo;
}

/* The stored file of object, opened, and its size; -1 (logged) when the
 * database names a file that cannot be opened. */
static int open_object(const char *object, int64_t *size)
{
    char path[1400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", server.packages_dir, object);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        log_msg(LOG_ERROR, "package %s is in the database but cannot be opened: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *size = sb.st_size;
    return fd;
}

/* OSS's ETag: the MD5 in upper case, quoted. */
static void make_etag(const char *md5, char *etag, size_t len)
{
    snprintf(etag, len, "\"");
    for (int i = 0; i < 32 && md5[i]; i++)
        etag[1 + i] = (char)toupper((unsigned char)md5[i]), etag[2 + i] = '\0';
    strncat(etag, "\"", len - strlen(etag) - 1);
}

/* The body: the file from first as it is (sendfile), or broken as a fault
 * plan says. Takes fd; NULL when out of memory. */
static struct MHD_Response *body_response(http_request *r, int fd, int64_t first, uint64_t length,
                                          const fault_download *plan)
{
    if (plan->any)
        return download_faulty_response(r->conn, fd, first, (int64_t)length, plan);
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(length, fd, (uint64_t)first);
    if (!resp)
        close(fd);
    return resp;
}

/* Puts the download on its task's timeline when it ends (http_server.c
 * adds the duration): object, range, status, bytes of the body. */
static void note_download(http_request *r, download_memo *m, unsigned status, int ranged, const char *content_range,
                          int64_t length)
{
    char note[900];
    const char *object = m->object, *ip = m->ip;
    const char *range = ranged > 0 ? content_range : NULL;
    int64_t bytes = status == 416 ? 0 : length;
    if (!m->owner_known)
        m->owner_known = store_download_owner(object, ip, m->task, m->pk, m->dn) == STORE_OK;
    copy_text(r->note_task, sizeof r->note_task, m->owner_known ? m->task : "");
    copy_text(r->note_pk, sizeof r->note_pk, m->owner_known ? m->pk : "");
    copy_text(r->note_dn, sizeof r->note_dn, m->owner_known ? m->dn : "");
    snprintf(note, sizeof note, "{\"object\":\"%.300s\",\"status\":%u,\"range\":%s%.100s%s,\"bytes\":%lld,"
             "\"client\":\"%s\"", object, status, range ? "\"" : "", range ? range : "null", range ? "\"" : "",
             (long long)bytes, ip);
    r->timeline_note = strdup(note);
    r->started_ms = clock_now_ms();
}

/* The download faults that fire for this request (faults.h). Called again
 * after a delay (http_answer_later), the request has its plan already:
 * the rules fired once. */
static bool faults_planned(http_request *r, const char *object, const char *ip, fault_download *plan)
{
    if (r->later) {
        *plan = *(const fault_download *)r->later;
        plan->delay_ms = 0; /* waited out */
        return true;
    }
    return faults_active() && faults_on_download(object, ip, plan);
}

/* A planned fault that answers the request itself, taking fd: a delay
 * (the handler is called again after it, and the connection waits, not the
 * server's thread) or an error status. False when the plan leaves the
 * answer to the body. */
static bool fault_answers(http_request *r, int fd, const fault_download *plan, enum MHD_Result *ret)
{
    if (plan->delay_ms > 0) {
        fault_download *kept = malloc(sizeof *kept);
        if (kept) {
            *kept = *plan;
            close(fd);
            *ret = http_answer_later(r, plan->delay_ms, kept);
            return true;
        }
    }
    if (plan->status) {
        close(fd);
        *ret = oss_error(r, (unsigned)plan->status, plan->status == 404 ? "NoSuchKey" : "InternalError",
                         "Injected fault.");
        return true;
    }
    return false;
}

enum MHD_Result download_package(http_request *r)
{
    const char *bucket = r->params[0], *object = r->params[1];
    if (strcmp(bucket, server.cfg.oss_bucket) != 0) {
        int found;
        enum MHD_Result ret = web_serve(r, r->path + 1, &found); /* a console file in a folder */
        return found ? ret : oss_error(r, 404, "NoSuchBucket", "The specified bucket does not exist.");
    }

    char resource[400];
    if ((size_t)snprintf(resource, sizeof resource, "/%s/%s", bucket, object) >= sizeof resource)
        return oss_error(r, 400, "InvalidObjectName", "The object name is too long.");
    oss_check_result check = oss_check(&server.signer, resource, http_query(r, "Expires"),
                                       http_query(r, "OSSAccessKeyId"), http_query(r, "Signature"), clock_now());
    if (check != OSS_OK)
        return oss_error(r, check == OSS_BAD_EXPIRES ? 400 : 403, oss_check_code(check), oss_check_message(check));

    char ip[64];
    download_client_ip(r, ip, sizeof ip);
    download_memo *m = memo_of(object, ip);
    if (!m)
        return oss_error(r, 404, "NoSuchKey", "The specified key does not exist.");

    int64_t size;
    int fd = open_object(object, &size);
    if (fd < 0)
        return oss_error(r, 404, "NoSuchKey", "The specified key does not exist.");

    char etag[48], last_modified[64];
    make_etag(m->md5, etag, sizeof etag);
    http_date((time_t)m->created, last_modified, sizeof last_modified);

    int64_t first = 0, last = size - 1;
    int ranged = parse_range(http_header(r, MHD_HTTP_HEADER_RANGE), size, &first, &last);
    if (ranged != 0 && !if_range_matches(http_header(r, MHD_HTTP_HEADER_IF_RANGE), etag, last_modified))
        ranged = 0, first = 0, last = size - 1;
    fault_download plan = {.any = false};
    enum MHD_Result faulted;
    if (faults_planned(r, object, ip, &plan) && fault_answers(r, fd, &plan, &faulted))
        return faulted;
    if (plan.refuse_range)
        ranged = 0, first = 0, last = size - 1;

    struct MHD_Response *resp;
    unsigned status;
    char content_range[96];
    if (ranged < 0) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        status = 416;
        snprintf(content_range, sizeof content_range, "bytes */%" PRId64, size);
    } else {
        uint64_t length = size == 0 ? 0 : (uint64_t)(last - first + 1);
        resp = body_response(r, fd, first, length, &plan);
        status = ranged ? 206 : 200;
        snprintf(content_range, sizeof content_range, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, first, last, size);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, last_modified);
    if (status != 200)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    if (status != 416)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    note_download(r, m, status, ranged, content_range, last - first + 1);
    return reply_response(r, status, resp);
}
