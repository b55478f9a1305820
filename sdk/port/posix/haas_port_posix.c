/*
 * haas_port_posix.c - the POSIX port's life cycle (new, fill, free), the
 * once-only library initialisation, and the small system services: clock,
 * log, reboot flag and the crash injection used by power-cut tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "port_internal.h"

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static int libs_ok;

static void libs_init(void)
{
    libs_ok = mosquitto_lib_init() == MOSQ_ERR_SUCCESS && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* ---- system services ---- */

static uint64_t port_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *level_name(haas_log_level level)
{
    switch (level) {
    case HAAS_LOG_DEBUG: return "DEBUG";
    case HAAS_LOG_INFO: return "INFO";
    case HAAS_LOG_WARN: return "WARN";
    case HAAS_LOG_ERROR: return "ERROR";
    }
    return "?";
}

static void port_log(void *ctx, haas_log_level level, const char *message)
{
    struct haas_posix_port *p = ctx;
    if (!message)
        message = "";
    /* One line per message, written with one call so that the lines of
     * several devices do not mix. */
    size_t n = strlen(p->log_prefix) + strlen(level_name(level)) + strlen(message) + 4; /* 2 spaces, '\n', NUL */
    char small[512];
    char *line = n <= sizeof small ? small : malloc(n);
    if (!line)
        return;
    int len = snprintf(line, n, "%s %s %s", p->log_prefix, level_name(level), message);
    if (len < 0)
        len = 0;
    if ((size_t)len > n - 2)
        len = (int)(n - 2);
    for (int i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    for (size_t off = 0; off < (size_t)len;) {
        ssize_t w = write(STDERR_FILENO, line + off, (size_t)len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (line != small)
        free(line);
}

void port_logf(struct haas_posix_port *p, haas_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    port_log(p, level, msg);
}

static void port_reboot(void *ctx)
{
    struct haas_posix_port *p = ctx;
    port_log(p, HAAS_LOG_INFO, "reboot requested");
    p->reboot_requested = 1;
}

/* ---- crash injection ---- */

void port_crash_now(void)
{
    raise(SIGKILL);
    abort(); /* not reached */
}

/* ---- the file system log of the power-loss model ---- */

static void fs_log_line(struct haas_posix_port *p, const char *line, size_t len)
{
    int fd = open(p->fs_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        port_logf(p, HAAS_LOG_WARN, "fs log: cannot open %s: %s", p->fs_log, strerror(errno));
        return;
    }
    if (write(fd, line, len) != (ssize_t)len)
        port_logf(p, HAAS_LOG_WARN, "fs log: short write to %s", p->fs_log);
    close(fd);
}

void port_fs_log(struct haas_posix_port *p, const char *op, const char *a, const char *b)
{
    if (!p->fs_log)
        return;
    size_t cap = strlen(op) + strlen(a) + (b ? strlen(b) : 0) + 8;
    char *line = malloc(cap);
    if (!line)
        return;
    int len = snprintf(line, cap, "%s %s%s%s\n", op, a, b ? " " : "", b ? b : "");
    if (len > 0)
        fs_log_line(p, line, (size_t)len);
    free(line);
}

void port_fs_log_write(struct haas_posix_port *p, const char *path, uint64_t offset, const void *data, size_t len)
{
    if (!p->fs_log)
        return;
    size_t cap = strlen(path) + 2 * len + 48;
    char *line = malloc(cap);
    if (!line)
        return;
    int n = snprintf(line, cap, "write %s %llu ", path, (unsigned long long)offset);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; n > 0 && i < len; i++) {
        line[n++] = digits[((const uint8_t *)data)[i] >> 4];
        line[n++] = digits[((const uint8_t *)data)[i] & 15];
    }
    if (n > 0) {
        line[n++] = '\n';
        fs_log_line(p, line, (size_t)n);
    }
    free(line);
}

void port_fs_log_dirsync(struct haas_posix_port *p, const char *full_dir)
{
    if (!p->fs_log)
        return;
    const char *core = strlen(full_dir) >= p->root_len ? full_dir + p->root_len : full_dir;
    port_fs_log(p, "dirsync", *core ? core : "/", NULL);
}

int port_durable_step(struct haas_posix_port *p, const char *op, const char *a, const char *b)
{
    uint64_t n = ++p->steps;
    if (p->fs_log) {
        char num[48];
        snprintf(num, sizeof num, "%llu %s", (unsigned long long)n, op);
        port_fs_log(p, "step", num, a);
    }
    if (p->crash_trace) {
        int fd = open(p->crash_trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            size_t cap = strlen(op) + strlen(a) + (b ? strlen(b) : 0) + 32;
            char *line = malloc(cap);
            if (line) {
                int len = snprintf(line, cap, "%llu %s %s%s%s\n", (unsigned long long)n, op, a, b ? " " : "",
                                   b ? b : "");
                if (len > 0 && write(fd, line, (size_t)len) != len)
                    port_logf(p, HAAS_LOG_WARN, "crash trace: short write to %s", p->crash_trace);
                free(line);
            }
            close(fd);
        } else {
            port_logf(p, HAAS_LOG_WARN, "crash trace: cannot open %s: %s", p->crash_trace, strerror(errno));
        }
    }
    return p->crash_at != 0 && n == p->crash_at;
}

static void read_crash_env(struct haas_posix_port *p)
{
    const char *at = getenv("HAAS_CRASH_AT");
    if (at && *at) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(at, &end, 10);
        if (errno == 0 && end && *end == '\0' && v >= 1 && at[0] >= '0' && at[0] <= '9') {
            p->crash_at = v;
            port_logf(p, HAAS_LOG_INFO, "crash injection: dying at durable step %llu", v);
        } else {
            port_logf(p, HAAS_LOG_WARN, "HAAS_CRASH_AT=%s ignored (want an integer >= 1)", at);
        }
    }
    const char *trace = getenv("HAAS_CRASH_TRACE");
    if (trace && *trace)
        p->crash_trace = strdup(trace);
    const char *fs_log = getenv("HAAS_FS_LOG");
    if (fs_log && *fs_log)
        p->fs_log = strdup(fs_log);
    const char *unsafe = getenv("HAAS_TEST_UNSAFE_RENAME");
    if (unsafe && strcmp(unsafe, "1") == 0) {
        p->unsafe_rename = 1;
        port_logf(p, HAAS_LOG_WARN, "HAAS_TEST_UNSAFE_RENAME=1: rename does not fsync folders (a planted bug)");
    }
}

/* ---- life cycle ---- */

haas_posix_port *haas_posix_port_new_with(const haas_posix_port_config *cfg)
{
    if (!cfg || !cfg->root || !*cfg->root)
        return NULL;
    pthread_once(&libs_once, libs_init);
    if (!libs_ok)
        return NULL;
    struct haas_posix_port *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    size_t len = strlen(cfg->root);
    while (len > 0 && cfg->root[len - 1] == '/')
        len--;
    p->root = strndup(cfg->root, len);
    p->root_len = len;
    p->log_prefix = strdup(cfg->log_prefix ? cfg->log_prefix : "haas");
    p->use_tls = cfg->use_tls != 0;
    p->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    if (!p->root || !p->log_prefix || (cfg->ca_file && !p->ca_file)) {
        haas_posix_port_free(p);
        return NULL;
    }
    p->z_state = PORT_Z_IDLE;
    read_crash_env(p);
    return p;
}

haas_posix_port *haas_posix_port_new(const char *root, const char *log_prefix)
{
    haas_posix_port_config cfg = {.root = root, .log_prefix = log_prefix};
    return haas_posix_port_new_with(&cfg);
}

void haas_posix_port_fill(haas_posix_port *p, haas_port *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = p;
    port_mqtt_fill(out);
    port_http_fill(out);
    port_inflate_fill(out);
    port_crypto_fill(out);
    port_files_fill(out);
    out->now_ms = port_now_ms;
    out->log = port_log;
    out->reboot = port_reboot;
}

int haas_posix_port_reboot_requested(haas_posix_port *p)
{
    int r = p->reboot_requested;
    p->reboot_requested = 0;
    return r;
}

void haas_posix_port_free(haas_posix_port *p)
{
    if (!p)
        return;
    port_mqtt_cleanup(p);
    port_http_cleanup(p);
    port_inflate_cleanup(p);
    port_files_cleanup(p);
    free(p->crash_trace);
    free(p->fs_log);
    free(p->flash_dir);
    free(p->ca_file);
    free(p->log_prefix);
    free(p->root);
    free(p);
}
