/*
 * http_server.c - the libmicrohttpd daemon and the request life cycle.
 *
 * libmicrohttpd calls access_handler several times per request: once when
 * the headers are in (we match the route and prepare the body sink), once per
 * chunk of body, and once more when the body is complete (we run the
 * handler). An error found while the body is still arriving is remembered and
 * sent at the end, because libmicrohttpd cannot answer mid-body; the rest of
 * the body is discarded, up to a bound past which the connection is dropped.
 *
 * Also here: the small reply helpers of http.h, shared by every handler.
 */
#include "http_server.h"
#include "http.h"
#include "http_guard.h"
#include "http_wait.h"
#include "identifiers.h"
#include "json_text.h"
#include "live.h"
#include "log.h"
#include "routes.h"
#include "store.h"
#include "server.h"
#include "upload.h"
#include "clock.h"
#include "timeline.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <time.h>

/* The plain HTTP daemon and the HTTPS one (same routes), or NULL. */
static struct MHD_Daemon *daemons[2];

/* ---- helpers of http.h ---- */

const char *http_query(http_request *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

enum MHD_Result reply_response(http_request *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    if (r->upload)
        upload_discard(r->upload); /* whatever the answer, no temporary file outlives it */
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (status < 300 && strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        live_changed(); /* a write succeeded: the console refreshes */
    if (server.cfg.verbose)
        log_msg(LOG_INFO, "%s %s -> %u", r->method, r->path, status);
    return ret;
}

/* The JSON text of body (NULL: none) as valid UTF-8: strings may hold
 * bytes a client or a device sent (json_text.h). Free with free() (cJSON
 * allocates with malloc: no hooks are installed). */
static char *json_print(cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    size_t n = text ? strlen(text) : 0;
    if (text && !valid_utf8(text, n)) {
        char *fixed = json_text_repair(text, n, &n);
        free(text);
        return fixed;
    }
    return text;
}

/* Answers with the JSON text (malloc'd, NULL: no body), which it frees. */
static enum MHD_Result reply_json_text(http_request *r, unsigned status, char *text)
{
    struct MHD_Response *resp;
    if (text) {
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        else
            free(text);
    } else {
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    }
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return reply_response(r, status, resp);
}

enum MHD_Result reply_json(http_request *r, unsigned status, cJSON *body)
{
    char *text = json_print(body);
    cJSON_Delete(body);
    return reply_json_text(r, status, text);
}

int json_list_add(json_list *l, cJSON *item)
{
    char *text = item && !l->failed ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (!text)
        l->failed = true;
    else if (l->len)
        text_buf_put(l, ",", 1);
    if (text)
        text_buf_put(l, text, strlen(text));
    free(text);
    return l->failed ? -1 : 0;
}

enum MHD_Result reply_json_list(http_request *r, unsigned status, cJSON *body, const char *key, json_list *l)
{
    char *head = l->failed ? NULL : json_print(body);
    cJSON_Delete(body);
    size_t hlen = head ? strlen(head) : 0, klen = strlen(key);
    char *text = hlen >= 2 ? malloc(hlen + klen + l->len + 8) : NULL;
    if (text) { /* head without its closing brace, then ,"key":[items]} */
        size_t at = hlen - 1;
        memcpy(text, head, at);
        at += (size_t)sprintf(text + at, "%s\"%s\":[", hlen > 2 ? "," : "", key);
        if (l->len)
            memcpy(text + at, l->text, l->len);
        at += l->len;
        memcpy(text + at, "]}", 3);
        at += 2;
        if (!valid_utf8(text, at)) { /* what a device reported may be any bytes */
            char *fixed = json_text_repair(text, at, &at);
            free(text);
            text = fixed;
        }
    }
    free(head);
    free(l->text);
    *l = (json_list){0};
    if (!text)
        return reply_error(r, 500, "OutOfMemory", "out of memory");
    return reply_json_text(r, status, text);
}

static enum MHD_Result reply_errorv(http_request *r, unsigned status, const char *code, const char *fmt, va_list ap)
{
    char raw[512], msg[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    json_text_escape(msg, sizeof msg, raw); /* an echoed path or name may be any bytes */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", msg);
    if (status >= 500)
        log_msg(LOG_ERROR, "%s %s: %u %s: %s", r->method, r->path, status, code, msg);
    return reply_json(r, status, o);
}

enum MHD_Result reply_error(http_request *r, unsigned status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result ret = reply_errorv(r, status, code, fmt, ap);
    va_end(ap);
    return ret;
}

void http_fail_later(http_request *r, unsigned status, const char *code, const char *fmt, ...)
{
    if (r->early_status)
        return;
    r->early_status = status;
    r->early_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->early_message, sizeof r->early_message, fmt, ap);
    va_end(ap);
}

cJSON *http_json_object(http_request *r, enum MHD_Result *result)
{
    const char *end = NULL;
    const char *why = r->body ? json_text_refusal(r->body, r->body_len) : NULL;
    if (why) {
        *result = reply_error(r, 400, "InvalidJson", "%s", why);
        return NULL;
    }
    cJSON *o = r->body ? cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, 0) : NULL;
    if (o && cJSON_IsObject(o)) {
        /* Nothing but white space may follow the object. */
        while (end && end < r->body + r->body_len && strchr(" \t\r\n", *end))
            end++;
        if (end == r->body + r->body_len)
            return o;
    }
    cJSON_Delete(o);
    *result = reply_error(r, 400, "InvalidJson", r->body_len ? "the body is not one JSON object"
                                                             : "a JSON object body is required");
    return NULL;
}

static int parse_nonneg(const char *s, long max, long *out)
{
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int http_paging(http_request *r, int *offset, int *limit, enum MHD_Result *result)
{
    long off = 0, lim = 50;
    if (parse_nonneg(http_query(r, "offset"), 1000000000L, &off) < 0 ||
        parse_nonneg(http_query(r, "limit"), 500, &lim) < 0 || lim == 0) {
        *result = reply_error(r, 400, "InvalidParameter", "offset must be 0 or more and limit 1..500");
        return -1;
    }
    *offset = (int)off;
    *limit = (int)lim;
    return 0;
}

cJSON *http_list(cJSON *items, long total, int offset, int limit)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    cJSON_AddNumberToObject(o, "total", (double)total);
    cJSON_AddNumberToObject(o, "offset", offset);
    cJSON_AddNumberToObject(o, "limit", limit);
    return o;
}

cJSON *json_time(int64_t t)
{
    if (t <= 0)
        return cJSON_CreateNull();
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return cJSON_CreateString(buf);
}

/* ---- request life cycle ---- */

/* Bytes of unwanted body we read before giving up on a connection. */
#define MAX_DISCARD (16 * 1024 * 1024)

static void take_body(http_request *r, const char *data, size_t size)
{
    if (r->early_status) {
        r->discarded += (int64_t)size;
        return;
    }
    if (r->route->body == BODY_UPLOAD) {
        upload_feed(r->upload, r, data, size);
        return;
    }
    if (r->route->body == BODY_NONE)
        return;
    if (r->body_len + size > HTTP_MAX_JSON_BODY) {
        http_fail_later(r, 413, "BodyTooLarge", "JSON bodies are limited to %d bytes", HTTP_MAX_JSON_BODY);
        return;
    }
    char *nb = realloc(r->body, r->body_len + size + 1);
    if (!nb) {
        http_fail_later(r, 500, "OutOfMemory", "out of memory");
        return;
    }
    r->body = nb;
    memcpy(r->body + r->body_len, data, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
}

/* Does the request carry the management token (Authorization: Bearer,
 * X-Api-Token, or ?token=)? */
static int authorized(http_request *r)
{
    const char *given = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (given && !strncasecmp(given, "Bearer ", 7))
        given += 7;
    else
        given = http_header(r, "X-Api-Token");
    if (!given)
        given = http_query(r, "token");
    size_t n = strlen(server.api_token);
    return given && strlen(given) == n && CRYPTO_memcmp(given, server.api_token, n) == 0;
}

/* First call: match the route and prepare for the body. */
static void begin_request(http_request *r)
{
    int path_known;
    /* Writes must come from the emulator's own pages (http_guard.h). */
    if (http_guard_applies(r) && !http_guard_write(r))
        return;
    /* Beyond loopback the management API needs the token; device-facing
     * paths (signed package URLs), the public CA certificate and the
     * console's files stay open. */
    if (server.api_token[0] && !strncmp(r->path, "/api/", 5) && strcmp(r->path, "/api/v1/ca.pem") != 0 &&
        !authorized(r)) {
        http_fail_later(r, 401, "Unauthorized", "the management API needs the token haas-emu printed at start "
                        "(Authorization: Bearer <token>)");
        return;
    }
    r->route = routes_match(r, r->method, r->path, &path_known);
    if (!r->route) {
        if (path_known)
            http_fail_later(r, 405, "MethodNotAllowed", "%s is not allowed on %s", r->method, r->path);
        else
            http_fail_later(r, 404, "NotFound", "no such path: %s", r->path);
        return;
    }
    if (r->route->body == BODY_JSON) {
        if (!http_guard_json_type(r))
            return;
        const char *len = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (len && strtoll(len, NULL, 10) > HTTP_MAX_JSON_BODY)
            http_fail_later(r, 413, "BodyTooLarge", "JSON bodies are limited to %d bytes", HTTP_MAX_JSON_BODY);
    } else if (r->route->body == BODY_UPLOAD) {
        r->upload = upload_begin(r, server.tmp_dir, server.cfg.max_package_size);
    }
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)version;
    http_request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->conn = conn;
        r->method = method;
        r->path = url;
        *con_cls = r;
        begin_request(r);
        /* A request announced as too big is answered after its body was
         * read and dropped, so simple clients see the answer; one too big
         * even to drop is answered at once (the connection then closes). */
        const char *len = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (r->early_status == 413 && len && strtoll(len, NULL, 10) > MAX_DISCARD)
            return reply_error(r, 413, r->early_code, "%s", r->early_message);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return r->discarded > MAX_DISCARD ? MHD_NO : MHD_YES;
    }
    if (!r->early_status && r->upload)
        upload_finish(r->upload, r);
    if (r->early_status)
        return reply_error(r, r->early_status, r->early_code, "%s", r->early_message);
    /* a GET only reads: its statements may use the read-only connection */
    bool reads = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    if (reads)
        store_reads_begin();
    enum MHD_Result ret = r->route->handler(r);
    if (reads)
        store_reads_end();
    return ret;
}

enum MHD_Result http_answer_later(http_request *r, int64_t ms, void *later)
{
    r->later = later;
    if (http_wait_suspend(r->conn, ms))
        return MHD_YES;
    return r->route->handler(r);
}

/* A request's work running aside (http_run_aside). */
typedef struct {
    http_request *r;
    void (*work)(http_request *r);
} aside_run;

/* Runs aside now: http_server_stop waits for them (libmicrohttpd must not
 * be stopped with a connection suspended). */
static atomic_int asides_running;

static void *run_aside(void *arg)
{
    aside_run *a = arg;
    pthread_setname_np(pthread_self(), "http-aside"); /* not the MHD-worker it was started from */
    a->work(a->r);
    MHD_resume_connection(a->r->conn); /* the handler is called again to answer */
    free(a);
    atomic_fetch_sub(&asides_running, 1);
    return NULL;
}

enum MHD_Result http_run_aside(http_request *r, void *aside, void (*work)(http_request *r))
{
    r->aside = aside;
    aside_run *a = malloc(sizeof *a);
    pthread_attr_t attr;
    pthread_t thread;
    if (a && pthread_attr_init(&attr) == 0) {
        *a = (aside_run){r, work};
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        atomic_fetch_add(&asides_running, 1);
        MHD_suspend_connection(r->conn);
        int rc = pthread_create(&thread, &attr, run_aside, a);
        pthread_attr_destroy(&attr);
        if (rc == 0)
            return MHD_YES;
        MHD_resume_connection(r->conn);
        atomic_fetch_sub(&asides_running, 1);
    }
    free(a);
    work(r); /* no thread: here and now */
    return r->route->handler(r);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    http_request *r = *con_cls;
    if (!r)
        return;
    if (r->timeline_note) {
        char detail[1200];
        snprintf(detail, sizeof detail, "%s,\"durationMs\":%lld,\"completed\":%s}", r->timeline_note,
                 (long long)(clock_now_ms() - r->started_ms), toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "true"
                                                                                                           : "false");
        timeline_add("download", r->note_task, r->note_pk, r->note_dn, detail);
        free(r->timeline_note);
    }
    upload_free(r->upload);
    free(r->body);
    free(r->later);
    free(r);
    *con_cls = NULL;
}

/* Starts one daemon (slot 0 plain, 1 TLS with cert_pem/key_pem); returns
 * the port bound or -1. */
static int start_daemon(int slot, const char *bind, int port, int threads, const char *cert_pem,
                        const char *key_pem, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(bind, portstr, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "--bind '%s' is not a numeric IPv4 or IPv6 address", bind);
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* TLS 1.2 and 1.3 only, as the broker's TLS listener and the real cloud */
    static const char priorities[] = "NORMAL:-VERS-TLS1.1:-VERS-TLS1.0:-VERS-SSL3.0";
    struct MHD_OptionItem tls_opts[] = {
        {cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    if (cert_pem)
        flags |= MHD_USE_TLS;
    daemons[slot] = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, access_handler, NULL,
                                     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                                     MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
                                     /* idle keep-alive connections go after 30 s: a fleet
                                      * of devices must not pin memory for minutes */
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
                                     MHD_OPTION_ARRAY, tls_opts,
                                     MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!daemons[slot]) {
        snprintf(err, errlen, "cannot listen on %s:%d%s (address in use or not available)", bind, port,
                 cert_pem ? " for HTTPS" : "");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemons[slot], MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : port;
}

int http_server_start(const char *bind, int port, int threads, char *err, size_t errlen)
{
    return start_daemon(0, bind, port, threads, NULL, NULL, err, errlen);
}

int http_server_start_tls(const char *bind, int port, int threads, const char *cert_pem, const char *key_pem,
                          char *err, size_t errlen)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "this libmicrohttpd has no TLS support; run with --https-port 0");
        return -1;
    }
    return start_daemon(1, bind, port, threads, cert_pem, key_pem, err, errlen);
}

void http_server_stop(void)
{
    /* a push running aside ends first (its connection is suspended); the
     * store and the MQTT link are still up */
    for (int i = 0; i < 600 && atomic_load(&asides_running) > 0; i++)
        usleep(50 * 1000);
    http_wait_flush(); /* downloads waiting out a fault go on at once */
    for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++) {
        if (daemons[i]) {
            MHD_stop_daemon(daemons[i]);
            daemons[i] = NULL;
        }
    }
}
