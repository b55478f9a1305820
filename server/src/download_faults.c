/*
 * download_faults.c - a download answer broken on purpose (see
 * download_faults.h).
 *
 * The reader is called by libmicrohttpd's worker with the position in the
 * body. For a stall, and for the bandwidth cap, it does not sleep (that
 * would stop every other connection of the worker): it suspends its
 * connection until the time has come (http_wait.h) and returns 0, and
 * libmicrohttpd calls it again at the same position once resumed. The cap
 * releases each chunk when its last byte is due at bytes_per_s from the
 * first call. The reader stops exactly at the cut, flips the corrupted
 * bytes after reading them, and ends with an error (libmicrohttpd then
 * closes the connection) where the body is cut or shorter than announced.
 */
#include "download_faults.h"
#include "clock.h"
#include "http_wait.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    struct MHD_Connection *conn;
    int fd;
    int64_t first, length; /* the bytes of the file to send */
    fault_download plan;
    int stalled;
    int64_t started_ms; /* the first call (the bandwidth cap's clock); 0 before */
} faulty;

/* The most bytes to send from pos before the next fault point. */
static size_t chunk_at(const faulty *f, uint64_t pos, size_t max)
{
    int64_t left = f->length - (int64_t)pos;
    if (f->plan.truncate_at >= 0 && f->plan.truncate_at - (int64_t)pos < left)
        left = f->plan.truncate_at - (int64_t)pos;
    if (f->plan.stall_at >= 0 && !f->stalled && f->plan.stall_at > (int64_t)pos &&
        f->plan.stall_at - (int64_t)pos < left)
        left = f->plan.stall_at - (int64_t)pos;
    if (f->plan.bytes_per_s > 0 && f->plan.bytes_per_s / 10 + 1 < left)
        left = f->plan.bytes_per_s / 10 + 1; /* a tenth of a second's worth */
    return left < (int64_t)max ? (size_t)(left > 0 ? left : 0) : max;
}

static ssize_t read_faulty(void *cls, uint64_t pos, char *buf, size_t max)
{
    faulty *f = cls;
    if ((int64_t)pos >= f->length || (f->plan.truncate_at >= 0 && (int64_t)pos >= f->plan.truncate_at))
        return MHD_CONTENT_READER_END_WITH_ERROR; /* cut, or shorter than announced: the connection closes */
    if (f->plan.stall_at >= 0 && !f->stalled && (int64_t)pos >= f->plan.stall_at) {
        f->stalled = 1;
        if (http_wait_suspend(f->conn, f->plan.stall_ms))
            return 0; /* called again at pos when resumed */
    }
    size_t n = chunk_at(f, pos, max);
    if (f->plan.bytes_per_s > 0) {
        int64_t now = clock_monotonic_ms();
        if (!f->started_ms)
            f->started_ms = now;
        int64_t due = f->started_ms + ((int64_t)pos + (int64_t)n) * 1000 / f->plan.bytes_per_s;
        if (due > now && http_wait_suspend(f->conn, due - now))
            return 0;
    }
    ssize_t got = n ? pread(f->fd, buf, n, (off_t)(f->first + (int64_t)pos)) : 0;
    if (got <= 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    for (ssize_t i = 0; f->plan.corrupt_at >= 0 && i < got; i++) {
        int64_t at = f->first + (int64_t)pos + i; /* offset in the file */
        if (at >= f->plan.corrupt_at && at < f->plan.corrupt_at + f->plan.corrupt_count)
            buf[i] = (char)(buf[i] ^ 0x5A);
    }
    return got;
}

static void free_faulty(void *cls)
{
    faulty *f = cls;
    close(f->fd);
    free(f);
}

struct MHD_Response *download_faulty_response(struct MHD_Connection *conn, int fd, int64_t first, int64_t length,
                                              const fault_download *plan)
{
    faulty *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return NULL;
    }
    *f = (faulty){conn, fd, first, length, *plan, 0, 0};
    uint64_t announced = (uint64_t)(length + (plan->extra_length > 0 ? plan->extra_length : 0));
    struct MHD_Response *resp = MHD_create_response_from_callback(announced, 16 * 1024, read_faulty, f, free_faulty);
    if (!resp)
        free_faulty(f);
    return resp;
}

const char *download_client_ip(http_request *r, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (!ci || !ci->client_addr)
        return buf;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)len);
    return buf;
}
