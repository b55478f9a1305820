/*
 * port_http.c - HTTP GET of the POSIX port with libcurl: a download from a
 * byte offset (a Range request), streamed to the core's sink as it arrives,
 * with the status and Content-Range checked before the first byte reaches
 * the sink. One curl handle per port, so that its connection can be reused.
 *
 * The body reaches the sink in blocks of HTTP_BLOCK_BYTES (the last one
 * shorter), whatever pieces the network delivers it in. The core writes
 * each block to flash, so the same file always takes the same writes:
 * fewer small writes on a real flash, and a power-cut test that kills the
 * device at write n meets the same write n in every run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "port_internal.h"

#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_LOW_SPEED_BYTES 1L /* slower than this ... */
#define HTTP_LOW_SPEED_SECS 15L /* ... for this long cuts the transfer */
#define HTTP_BLOCK_BYTES 16384  /* what the sink is given at a time */

/* One transfer. */
struct http_get {
    struct haas_posix_port *p;
    uint64_t offset;
    haas_sink_fn sink;
    void *core;
    uint64_t *total;
    const char *shown; /* the URL for logs */
    uint8_t *block;    /* HTTP_BLOCK_BYTES of body not yet given to the sink */
    size_t held;
    /* the response being received (reset at each status line) */
    long status;
    int have_length, have_range, have_range_total;
    uint64_t length, range_start, range_end, range_total;
    /* outcome */
    int checked;      /* the headers were judged */
    int http_error;   /* ... and found unusable */
    int aborted;      /* the sink stopped */
    int short_range;  /* a 206 that ends before the resource does */
};

/* Parses a decimal number in s[0..n); 0 on success. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "bytes <start>-<end>/<total or *>" */
static void parse_content_range(struct http_get *g, const char *v, size_t n)
{
    if (n < 6 || strncasecmp(v, "bytes ", 6) != 0)
        return;
    v += 6;
    n -= 6;
    while (n > 0 && *v == ' ')
        v++, n--;
    const char *dash = memchr(v, '-', n), *slash = memchr(v, '/', n);
    if (!dash || !slash || slash < dash)
        return;
    if (parse_u64(v, (size_t)(dash - v), &g->range_start) ||
        parse_u64(dash + 1, (size_t)(slash - dash - 1), &g->range_end) || g->range_end < g->range_start)
        return;
    g->have_range = 1;
    size_t rest = n - (size_t)(slash + 1 - v);
    g->have_range_total = parse_u64(slash + 1, rest, &g->range_total) == 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct http_get *g = userdata;
    size_t n = size * nitems;
    const char *line = buf;
    size_t len = n;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a 1xx, or the first one) */
        g->status = 0;
        g->have_length = g->have_range = g->have_range_total = 0;
        const char *sp = memchr(line, ' ', len);
        uint64_t st;
        if (sp && (size_t)(line + len - sp) >= 4 && parse_u64(sp + 1, 3, &st) == 0)
            g->status = (long)st;
        return n;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - name_len - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0)
        g->have_length = parse_u64(v, vlen, &g->length) == 0;
    else if (name_len == 13 && strncasecmp(line, "Content-Range", 13) == 0)
        parse_content_range(g, v, vlen);
    return n;
}

/* Judges the final response's headers, once; sets *total. */
static void check_response(struct http_get *g)
{
    if (g->checked)
        return;
    g->checked = 1;
    if (g->status == 200 && g->offset == 0) {
        if (g->total && g->have_length)
            *g->total = g->length;
        return;
    }
    if (g->status == 206 && g->have_range && g->range_start == g->offset) {
        if (g->total)
            *g->total = g->have_range_total ? g->range_total : g->have_length ? g->length + g->offset : 0;
        if (g->have_range_total && g->range_end + 1 < g->range_total)
            g->short_range = 1;
        return;
    }
    g->http_error = 1;
    if (g->status == 200)
        port_logf(g->p, HAAS_LOG_WARN, "http_get %s: the server ignored Range (200 to bytes=%" PRIu64 "-)", g->shown,
                  g->offset);
    else if (g->status == 206)
        port_logf(g->p, HAAS_LOG_WARN, "http_get %s: 206 does not start at %" PRIu64, g->shown, g->offset);
    else
        port_logf(g->p, HAAS_LOG_WARN, "http_get %s: status %ld", g->shown, g->status);
}

/* Gives the sink what the block holds; 0, or -1 when the sink stopped. */
static int flush_block(struct http_get *g)
{
    size_t n = g->held;
    g->held = 0;
    if (n > 0 && g->sink(g->core, g->block, n) != 0) {
        g->aborted = 1;
        return -1;
    }
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct http_get *g = userdata;
    size_t n = size * nmemb;
    check_response(g);
    if (g->http_error)
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    for (size_t used = 0; used < n;) {
        size_t take = n - used < HTTP_BLOCK_BYTES - g->held ? n - used : HTTP_BLOCK_BYTES - g->held;
        memcpy(g->block + g->held, data + used, take);
        g->held += take;
        used += take;
        if (g->held == HTTP_BLOCK_BYTES && flush_block(g) != 0)
            return 0;
    }
    return n;
}

/* The URL without its query (which may hold a signature), for logs. */
static void url_for_log(const char *url, char *out, size_t cap)
{
    size_t n = strcspn(url, "?#");
    snprintf(out, cap, "%.*s", (int)(n < 200 ? n : 200), url);
}

static int h_get(void *ctx, const char *url, uint64_t offset, haas_sink_fn sink, void *core, uint64_t *total)
{
    struct haas_posix_port *p = ctx;
    if (total)
        *total = 0;
    if (!url || !sink)
        return HAAS_PORT_ERR;
    if (!p->curl) {
        p->curl = curl_easy_init();
        if (!p->curl)
            return HAAS_PORT_ERR;
    } else {
        curl_easy_reset(p->curl);
    }
    CURL *c = p->curl;
    char shown[256];
    url_for_log(url, shown, sizeof shown);
    uint8_t block[HTTP_BLOCK_BYTES];
    struct http_get g = {
        .p = p, .offset = offset, .sink = sink, .core = core, .total = total, .shown = shown, .block = block};
    char range[32], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(range, sizeof range, "%" PRIu64 "-", offset);

    CURLcode set = CURLE_OK;
#define SET(opt, val) \
    do { \
        if (set == CURLE_OK) \
            set = curl_easy_setopt(c, opt, val); \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    /* A device fetches one package now and then: close the connection after
     * each transfer instead of holding a server connection open for nothing
     * (a resume after a cut opens a new one anyway). */
    SET(CURLOPT_FORBID_REUSE, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_LOW_SPEED_LIMIT, HTTP_LOW_SPEED_BYTES);
    SET(CURLOPT_LOW_SPEED_TIME, HTTP_LOW_SPEED_SECS);
    SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
    SET(CURLOPT_USERAGENT, "haas-sdk-posix");
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, &g);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, &g);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    /* https: the server's certificate and name are always checked, against
     * the port's CA file alone when it has one. */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (p->ca_file) {
        SET(CURLOPT_CAINFO, p->ca_file);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    if (offset > 0)
        SET(CURLOPT_RANGE, range);
#undef SET
    if (set != CURLE_OK) {
        port_logf(p, HAAS_LOG_ERROR, "http_get: curl setup: %s", curl_easy_strerror(set));
        return HAAS_PORT_ERR;
    }

    CURLcode rc = curl_easy_perform(c);
    /* the handle must not keep pointers to this stack frame */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    /* the last block, also after a cut: a resume starts after it */
    if (!g.aborted && !g.http_error)
        flush_block(&g);

    if (g.aborted)
        return HAAS_PORT_ERR_ABORTED;
    if (g.http_error)
        return HAAS_PORT_ERR_HTTP;
    switch (rc) {
    case CURLE_OK:
        check_response(&g); /* a response without a body */
        if (g.http_error)
            return HAAS_PORT_ERR_HTTP;
        if (g.short_range) {
            port_logf(p, HAAS_LOG_WARN, "http_get %s: range ended at %" PRIu64 " of %" PRIu64, shown, g.range_end,
                      g.range_total);
            return HAAS_PORT_ERR_NET;
        }
        return HAAS_PORT_OK;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_PEER_FAILED_VERIFICATION: /* the server's certificate or name */
    case CURLE_SSL_CACERT_BADFILE:       /* the CA file */
        port_logf(p, HAAS_LOG_ERROR, "http_get %s: %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return HAAS_PORT_ERR;
    default:
        port_logf(p, HAAS_LOG_WARN, "http_get %s: %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return HAAS_PORT_ERR_NET;
    }
}

void port_http_cleanup(struct haas_posix_port *p)
{
    if (p->curl)
        curl_easy_cleanup(p->curl);
    p->curl = NULL;
}

void port_http_fill(haas_port *out)
{
    out->http_get = h_get;
}
