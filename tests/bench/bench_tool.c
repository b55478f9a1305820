/*
 * bench_tool.c - the parts every C load tool of the benchmarks shares: the
 * clock, the "ERROR ..." exit, the reader of the driver's command lines and
 * the reader of the TRIPLES file, the tally of the devices' pushes round by
 * round. What each function does is in
 * tests/bench/bench_tool.h; the Makefile compiles this file into every tool
 * of tests/bench/.
 */
#include "bench_tool.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

_Static_assert(BENCH_PK_SIZE == 32 && BENCH_DN_SIZE == 64 && BENCH_DS_SIZE == 72,
               "the field widths of TRIPLE_FORMAT follow the BENCH_*_SIZE values");
#define TRIPLE_FORMAT "%31s %63s %71s"

static char stdin_buf[4096]; /* a partial command line, waiting for its \n */
static size_t stdin_len;

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ERROR ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

void bench_read_commands(void (*command)(const char *line))
{
    ssize_t n = read(0, stdin_buf + stdin_len, sizeof stdin_buf - 1 - stdin_len);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        command("QUIT");
        return;
    }
    stdin_len += (size_t)n;
    stdin_buf[stdin_len] = '\0';
    char *start = stdin_buf, *nl;
    while ((nl = strchr(start, '\n')) != NULL) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r')
            nl[-1] = '\0';
        command(start);
        start = nl + 1;
    }
    stdin_len = strlen(start);
    memmove(stdin_buf, start, stdin_len + 1);
    if (stdin_len == sizeof stdin_buf - 1)
        bench_die("command line too long");
}

void bench_linksdk_login(bench_login *out, const char *pk, const char *dn, const char *ds, const char *sdk_version,
                         const char *client_id_tail, bool upper_hex)
{
    char content[256];
    int c = snprintf(out->client_id, sizeof out->client_id, "%s.%s|timestamp=" BENCH_SDK_TIMESTAMP ",_ss=1,"
                     "_v=sdk-c-%s,securemode=3,signmethod=hmacsha256,ext=3,%s|", pk, dn, sdk_version, client_id_tail);
    int u = snprintf(out->username, sizeof out->username, "%s&%s", dn, pk);
    int n = snprintf(content, sizeof content, "clientId%s.%sdeviceName%sproductKey%stimestamp" BENCH_SDK_TIMESTAMP,
                     pk, dn, dn, pk);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (c < 0 || (size_t)c >= sizeof out->client_id || u < 0 || (size_t)u >= sizeof out->username || n < 0 ||
        (size_t)n >= sizeof content ||
        !HMAC(EVP_sha256(), ds, (int)strlen(ds), (const unsigned char *)content, (size_t)n, mac, &maclen) ||
        maclen != 32)
        bench_die("cannot sign the login of %s", dn);
    for (unsigned i = 0; i < maclen; i++)
        snprintf(out->password + 2 * i, 3, upper_hex ? "%02X" : "%02x", mac[i]);
}

void bench_watch_stdin(int epfd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) != 0)
        bench_die("epoll_ctl stdin: %s", strerror(errno));
}

void bench_epoll_once(int epfd, int timeout_ms, void (*command)(const char *line),
                      void (*serve)(void *ptr, uint32_t events))
{
    struct epoll_event ev[1024];
    int n = epoll_wait(epfd, ev, (int)(sizeof ev / sizeof ev[0]), timeout_ms);
    if (n < 0 && errno != EINTR)
        bench_die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        if (ev[i].data.ptr == NULL)
            bench_read_commands(command);
        else
            serve(ev[i].data.ptr, ev[i].events);
    }
}

void *bench_load_triples(const char *path, int max, bool need_ds, size_t item_size,
                         void (*fill)(void *item, const bench_triple *triple), int *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bench_die("cannot open %s: %s", path, strerror(errno));
    char *items = NULL;
    int count = 0, cap = 0;
    char line[512];
    while ((max == 0 || count < max) && fgets(line, sizeof line, f)) {
        bench_triple t = {.pk = ""};
        int k = sscanf(line, TRIPLE_FORMAT, t.pk, t.dn, t.ds);
        if (k <= 0)
            continue; /* blank line */
        if (k < (need_ds ? 3 : 2))
            bench_die("bad line in %s: %s", path, line);
        if (count == cap) {
            cap = cap ? cap * 2 : 1024;
            char *grown = realloc(items, (size_t)cap * item_size);
            if (!grown)
                bench_die("out of memory");
            items = grown;
        }
        char *item = items + (size_t)count++ * item_size;
        memset(item, 0, item_size);
        fill(item, &t);
    }
    fclose(f);
    *n = count;
    return items;
}

uint32_t bench_message_id(const void *payload, size_t len)
{
    static const char prefix[] = "{\"id\":\"";
    const unsigned char *p = payload;
    if (len < sizeof prefix + 1 || memcmp(p, prefix, sizeof prefix - 1) != 0)
        return 0;
    uint32_t v = 0;
    for (size_t i = sizeof prefix - 1; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (uint32_t)(p[i] - '0');
    return v;
}

void bench_rounds_count(bench_rounds *r, bench_inbox *in, const void *payload, size_t len)
{
    uint32_t id = bench_message_id(payload, len);
    if (id != 0 && id == in->last_id) {
        r->dups++;
        return;
    }
    in->last_id = id;
    r->received++;
    in->got++;
    if (!r->armed || in->got > r->expected) {
        r->extra++;
        return;
    }
    double t = bench_now_ms();
    r->round_bytes += len;
    if (r->first_ms == 0)
        r->first_ms = t;
    r->last_ms = t;
    if (in->got == r->expected)
        r->complete++;
}

void bench_rounds_arm(bench_rounds *r)
{
    r->expected++;
    r->complete = 0;
    for (int i = 0; i < r->n; i++)
        r->complete += r->inbox(i)->got == r->expected;
    r->first_ms = r->last_ms = 0;
    r->round_bytes = 0;
    r->armed = true;
    r->round_start = bench_now_ms();
    printf("ARMED round=%u\n", r->expected);
}

/* Up to ten names of the devices that lack the round's pushes, as "a,b,c". */
static void missing_names(const bench_rounds *r, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0, shown = 0; i < r->n && shown < 10; i++) {
        if (r->inbox(i)->got >= r->expected)
            continue;
        int k = snprintf(out + used, outlen - used, "%s%s", shown ? "," : "", r->name(i));
        if (k < 0 || (size_t)k >= outlen - used)
            break;
        used += (size_t)k;
        shown++;
    }
}

int bench_rounds_check(bench_rounds *r, int timeout_s)
{
    if (!r->armed)
        return 0;
    if (r->complete == r->n) {
        r->armed = false;
        printf("DONE round=%u count=%d first_ms=%.3f last_ms=%.3f bytes=%llu extra=%llu dup=%llu bad=%llu\n",
               r->expected, r->complete, r->first_ms, r->last_ms,
               r->n ? r->round_bytes / (unsigned long long)r->n : 0ULL, r->extra, r->dups, r->bad);
        return 1;
    }
    if (bench_now_ms() - r->round_start <= timeout_s * 1000.0)
        return 0;
    char names[512];
    missing_names(r, names, sizeof names);
    printf("TIMEOUT round=%u received=%d missing=%d missing_dn=%s\n", r->expected, r->complete,
           r->n - r->complete, names);
    return -1;
}

int bench_rounds_bye(const bench_rounds *r, const char *more)
{
    int wrong = 0;
    for (int i = 0; i < r->n; i++)
        wrong += r->inbox(i)->got != r->expected;
    printf("BYE rounds=%u received=%llu extra=%llu dup=%llu bad=%llu wrong_count=%d%s\n", r->expected, r->received,
           r->extra, r->dups, r->bad, wrong, more);
    return wrong == 0 && r->extra == 0 && r->dups == 0 && r->bad == 0 ? 0 : 2;
}
