/*
 * test_port_posix.c - unit tests of the SDK's POSIX port (sdk/port/posix):
 * files under a temporary root, digests against published vectors, the gzip
 * inflater, HTTP GET against a small HTTP server run by the test on
 * 127.0.0.1, MQTT against a real /usr/sbin/mosquitto started by the test on
 * 127.0.0.1, the HAAS_CRASH_AT / HAAS_CRASH_TRACE crash injection, and
 * firmware OTA's flash areas (haas_posix_flash_fill), crashes included.
 * TLS (MQTT over TLS, https downloads) uses certificates made by the
 * openssl command (the tests are skipped without it) and `openssl
 * s_server -WWW` as the https server. Broker addresses are parsed by
 * haas_posix_parse_broker. Everything stays on loopback and every wait has
 * a deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "haas_port_posix.h"

#define MOSQUITTO_BIN "/usr/sbin/mosquitto"
#define OPENSSL_BIN "/usr/bin/openssl"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A short pause between checks of a condition that has no descriptor to
 * wait on (a child's exit, a port that starts listening). */
static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/haas-port-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s", a, b);
    return s;
}

/* Reads a whole file (at most cap bytes); returns its size or -1. */
static long read_whole(const char *path, void *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t r;
    while (got < cap && (r = read(fd, (char *)buf + got, cap - got)) > 0)
        got += (size_t)r;
    close(fd);
    return (long)got;
}

static void write_whole(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* Waits (bounded) for a child; returns its wait status, or -1 on timeout. */
static int wait_child(pid_t pid, int timeout_ms)
{
    uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (mono_ms() >= deadline)
            return -1;
        pause_ms(10);
    }
}

/* A free TCP port on 127.0.0.1 (bound, read back, released). */
static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static int port_accepts(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* A sink that collects everything; stops (returns 1) at call number stop_at. */
struct collect {
    uint8_t *data;
    size_t len, cap;
    int calls;
    int stop_at;
    size_t max_chunk;
};

static int collect_sink(void *core, const uint8_t *data, size_t len)
{
    struct collect *c = core;
    c->calls++;
    if (len > c->max_chunk)
        c->max_chunk = len;
    if (c->len + len > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + len)
            cap *= 2;
        c->data = realloc(c->data, cap);
        assert_non_null(c->data);
        c->cap = cap;
    }
    memcpy(c->data + c->len, data, len);
    c->len += len;
    return c->stop_at && c->calls >= c->stop_at;
}

static void collect_reset(struct collect *c)
{
    free(c->data);
    memset(c, 0, sizeof *c);
}

/* A port on a fresh temporary root. */
struct fixture {
    char *root;
    haas_posix_port *pp;
    haas_port P;
};

/* A port made from cfg, on a fresh temporary root (cfg.root is set here). */
static void fixture_open_cfg(struct fixture *f, haas_posix_port_config cfg)
{
    f->root = make_tmpdir();
    cfg.root = f->root;
    f->pp = haas_posix_port_new_with(&cfg);
    assert_non_null(f->pp);
    haas_posix_port_fill(f->pp, &f->P);
}

static void fixture_open(struct fixture *f, const char *prefix)
{
    fixture_open_cfg(f, (haas_posix_port_config){.log_prefix = prefix});
}

/* stderr (the port's log) goes to a file between capture_begin and
 * capture_end, which returns what was written (free it). */
struct capture {
    int saved;
    char *path;
};

static void capture_begin(struct capture *c, const char *dir)
{
    c->path = join(dir, "/captured-stderr.txt");
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(c->saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    size_t cap = 64 * 1024;
    char *text = calloc(1, cap);
    assert_non_null(text);
    assert_true(read_whole(c->path, text, cap - 1) >= 0);
    unlink(c->path);
    free(c->path);
    fputs(text, stderr); /* still shown in the test's output */
    return text;
}

static void fixture_close(struct fixture *f)
{
    haas_posix_port_free(f->pp);
    rm_rf(f->root);
    free(f->root);
}

/* ------------------------------------------------------------------ */
/* life cycle and system                                               */
/* ------------------------------------------------------------------ */

static void test_fill_and_system(void **state)
{
    (void)state;
    assert_null(haas_posix_port_new(NULL, "x"));
    assert_null(haas_posix_port_new("", "x"));
    assert_null(haas_posix_port_new_with(NULL));
    assert_null(haas_posix_port_new_with(&(haas_posix_port_config){.root = "", .use_tls = 1}));
    haas_posix_port_free(NULL);

    struct fixture f;
    fixture_open(&f, "dev7");
    haas_port *P = &f.P;
    assert_ptr_equal(P->ctx, f.pp);
    void (*const fns[])(void) = {
        (void (*)(void))P->mqtt_connect, (void (*)(void))P->mqtt_subscribe, (void (*)(void))P->mqtt_publish,
        (void (*)(void))P->mqtt_poll, (void (*)(void))P->mqtt_disconnect, (void (*)(void))P->http_get,
        (void (*)(void))P->inflate_begin, (void (*)(void))P->inflate_feed, (void (*)(void))P->inflate_end,
        (void (*)(void))P->hash_init, (void (*)(void))P->hash_update, (void (*)(void))P->hash_final,
        (void (*)(void))P->hmac_sha256, (void (*)(void))P->file_open, (void (*)(void))P->file_read,
        (void (*)(void))P->file_write, (void (*)(void))P->file_sync, (void (*)(void))P->file_close,
        (void (*)(void))P->file_size, (void (*)(void))P->path_kind, (void (*)(void))P->rename,
        (void (*)(void))P->remove_file, (void (*)(void))P->make_dir, (void (*)(void))P->remove_tree,
        (void (*)(void))P->now_ms, (void (*)(void))P->log, (void (*)(void))P->reboot,
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        assert_non_null(fns[i]);

    /* clock */
    uint64_t t0 = P->now_ms(P->ctx);
    pause_ms(20);
    uint64_t t1 = P->now_ms(P->ctx);
    assert_true(t1 >= t0 + 15 && t1 < t0 + 5000);

    /* log: capture stderr in a file */
    char *logpath = join(f.root, "-log.txt");
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    P->log(P->ctx, HAAS_LOG_INFO, "hello world");
    P->log(P->ctx, HAAS_LOG_ERROR, "two\nlines");
    P->log(P->ctx, HAAS_LOG_DEBUG, "");
    P->log(P->ctx, HAAS_LOG_WARN, NULL);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[256] = {0};
    assert_true(read_whole(logpath, buf, sizeof buf - 1) > 0);
    assert_string_equal(buf, "dev7 INFO hello world\ndev7 ERROR two lines\ndev7 DEBUG \ndev7 WARN \n");
    unlink(logpath);
    free(logpath);

    /* reboot */
    assert_int_equal(haas_posix_port_reboot_requested(f.pp), 0);
    fflush(stderr);
    P->reboot(P->ctx);
    assert_int_equal(haas_posix_port_reboot_requested(f.pp), 1);
    assert_int_equal(haas_posix_port_reboot_requested(f.pp), 0);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* files                                                               */
/* ------------------------------------------------------------------ */

static void put_file(haas_port *P, const char *path, const char *text)
{
    haas_file h = P->file_open(P->ctx, path, HAAS_FILE_WRITE);
    assert_non_null(h);
    assert_int_equal(P->file_write(P->ctx, h, text, strlen(text)), 0);
    assert_int_equal(P->file_close(P->ctx, h), 0);
}

static void test_files_basic(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "files");
    haas_port *P = &f.P;
    void *c = P->ctx;

    assert_int_equal(P->path_kind(c, "/data"), 0);
    assert_int_equal(P->path_kind(c, "/"), 2);
    assert_int_equal(P->make_dir(c, "/data"), 0);
    assert_int_equal(P->make_dir(c, "/data"), 0); /* an existing folder is fine */
    assert_int_equal(P->make_dir(c, "/data/pyamp"), 0);
    assert_int_equal(P->path_kind(c, "/data/pyamp"), 2);
    assert_true(P->make_dir(c, "/no/such/parent") < 0);

    /* write, sync, size, read back */
    const char *text = "print('hello')\n";
    haas_file h = P->file_open(c, "/data/pyamp/main.py", HAAS_FILE_WRITE);
    assert_non_null(h);
    assert_int_equal(P->file_write(c, h, text, 6), 0);
    assert_int_equal(P->file_write(c, h, text + 6, strlen(text) - 6), 0);
    assert_int_equal(P->file_write(c, h, "", 0), 0);
    assert_int_equal(P->file_sync(c, h), 0);
    assert_int_equal(P->file_close(c, h), 0);
    uint64_t size = 0;
    assert_int_equal(P->file_size(c, "/data/pyamp/main.py", &size), 0);
    assert_int_equal(size, strlen(text));
    assert_int_equal(P->path_kind(c, "/data/pyamp/main.py"), 1);
    char *full = join(f.root, "/data/pyamp/main.py");
    char buf[256] = {0};
    assert_int_equal(read_whole(full, buf, sizeof buf), (long)strlen(text));
    assert_memory_equal(buf, text, strlen(text));

    h = P->file_open(c, "/data/pyamp/main.py", HAAS_FILE_READ);
    assert_non_null(h);
    memset(buf, 0, sizeof buf);
    assert_int_equal(P->file_read(c, h, buf, 5), 5);
    assert_int_equal(P->file_read(c, h, buf + 5, sizeof buf - 5), (long)strlen(text) - 5);
    assert_int_equal(P->file_read(c, h, buf, sizeof buf), 0);
    assert_string_equal(buf, text);
    assert_true(P->file_write(c, h, "x", 1) < 0); /* opened for reading */
    assert_int_equal(P->file_close(c, h), 0);

    /* append, then truncate */
    h = P->file_open(c, "/data/pyamp/main.py", HAAS_FILE_APPEND);
    assert_non_null(h);
    assert_int_equal(P->file_write(c, h, "#end\n", 5), 0);
    assert_int_equal(P->file_close(c, h), 0);
    assert_int_equal(P->file_size(c, "/data/pyamp/main.py", &size), 0);
    assert_int_equal(size, strlen(text) + 5);
    h = P->file_open(c, "/data/pyamp/new.txt", HAAS_FILE_APPEND); /* append creates */
    assert_non_null(h);
    assert_int_equal(P->file_close(c, h), 0);
    assert_int_equal(P->path_kind(c, "/data/pyamp/new.txt"), 1);
    put_file(P, "/data/pyamp/main.py", "new");
    assert_int_equal(P->file_size(c, "/data/pyamp/main.py", &size), 0);
    assert_int_equal(size, 3);

    /* absent things */
    assert_null(P->file_open(c, "/data/absent.txt", HAAS_FILE_READ));
    assert_null(P->file_open(c, "/nofolder/x.txt", HAAS_FILE_WRITE));
    assert_int_equal(P->file_size(c, "/data/absent.txt", &size), HAAS_PORT_ERR);
    assert_int_equal(P->file_size(c, "/data", &size), HAAS_PORT_ERR); /* a folder */
    assert_int_equal(P->path_kind(c, "/data/absent/deeper"), 0);
    assert_int_equal(P->path_kind(c, "/data/pyamp/main.py/x"), 0);

    /* rename: across folders, replacing a file, never a folder */
    assert_int_equal(P->rename(c, "/data/pyamp/main.py", "/data/main.bak"), 0);
    assert_int_equal(P->path_kind(c, "/data/pyamp/main.py"), 0);
    assert_int_equal(P->path_kind(c, "/data/main.bak"), 1);
    put_file(P, "/data/a.txt", "AAA");
    assert_int_equal(P->rename(c, "/data/a.txt", "/data/main.bak"), 0);
    free(full);
    full = join(f.root, "/data/main.bak");
    memset(buf, 0, sizeof buf);
    assert_int_equal(read_whole(full, buf, sizeof buf), 3);
    assert_string_equal(buf, "AAA");
    assert_int_equal(P->make_dir(c, "/data/empty"), 0);
    assert_int_equal(P->rename(c, "/data/main.bak", "/data/empty"), HAAS_PORT_ERR);
    assert_int_equal(P->path_kind(c, "/data/empty"), 2);
    assert_int_equal(P->path_kind(c, "/data/main.bak"), 1);
    assert_true(P->rename(c, "/data/absent", "/data/other") < 0);
    /* a folder can be renamed to a new name */
    assert_int_equal(P->rename(c, "/data/empty", "/data/empty2"), 0);
    assert_int_equal(P->path_kind(c, "/data/empty2"), 2);

    /* make_dir where a file is */
    assert_int_equal(P->make_dir(c, "/data/main.bak"), HAAS_PORT_ERR);

    /* remove_file, absent is fine */
    assert_int_equal(P->remove_file(c, "/data/main.bak"), 0);
    assert_int_equal(P->path_kind(c, "/data/main.bak"), 0);
    assert_int_equal(P->remove_file(c, "/data/main.bak"), 0);
    assert_true(P->remove_file(c, "/data/empty2") < 0); /* a folder */

    free(full);
    fixture_close(&f);
}

static void test_files_tree_and_symlinks(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "files");
    haas_port *P = &f.P;
    void *c = P->ctx;
    char *outside = make_tmpdir();
    char *keep = join(outside, "/keep.txt");
    write_whole(keep, "precious");

    assert_int_equal(P->make_dir(c, "/app"), 0);
    assert_int_equal(P->make_dir(c, "/app/lib"), 0);
    assert_int_equal(P->make_dir(c, "/app/lib/sub"), 0);
    put_file(P, "/app/main.py", "m");
    put_file(P, "/app/lib/a.py", "a");
    put_file(P, "/app/lib/sub/deep.txt", "d");
    char *dlink = join(f.root, "/app/dirlink");
    char *flink = join(f.root, "/app/filelink");
    assert_int_equal(symlink(outside, dlink), 0);
    assert_int_equal(symlink(keep, flink), 0);

    /* a symbolic link is a file and is never followed */
    assert_int_equal(P->path_kind(c, "/app/dirlink"), 1);
    assert_int_equal(P->path_kind(c, "/app/filelink"), 1);
    assert_null(P->file_open(c, "/app/filelink", HAAS_FILE_READ));
    assert_null(P->file_open(c, "/app/filelink", HAAS_FILE_WRITE));
    assert_int_equal(P->path_kind(c, "/app/dirlink/keep.txt"), 1); /* ... except inside the path */

    assert_int_equal(P->remove_tree(c, "/app"), 0);
    assert_int_equal(P->path_kind(c, "/app"), 0);
    char buf[32] = {0};
    assert_int_equal(read_whole(keep, buf, sizeof buf), 8); /* the link's target survived */
    assert_string_equal(buf, "precious");
    assert_int_equal(P->remove_tree(c, "/app"), 0); /* absent is fine */
    put_file(P, "/lonely.txt", "x");
    assert_int_equal(P->remove_tree(c, "/lonely.txt"), 0); /* a file is removed too */
    assert_int_equal(P->path_kind(c, "/lonely.txt"), 0);

    /* a deep tree */
    char path[512] = "";
    for (int i = 0; i < 40; i++) {
        strcat(path, "/d");
        assert_int_equal(P->make_dir(c, path), 0);
    }
    strcat(path, "/leaf");
    put_file(P, path, "leaf");
    assert_int_equal(P->remove_tree(c, "/d"), 0);
    assert_int_equal(P->path_kind(c, "/d"), 0);

    free(dlink);
    free(flink);
    rm_rf(outside);
    free(outside);
    free(keep);
    fixture_close(&f);
}

static void test_files_reject_bad_paths(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "files");
    haas_port *P = &f.P;
    void *c = P->ctx;
    uint64_t size;
    assert_int_equal(P->make_dir(c, "/data"), 0);
    put_file(P, "/data/x", "x");

    fflush(stderr);
    const char *bad[] = {"/..", "/../escape.txt", "/data/../../escape.txt", "/data/..", "/data/../x",
                         "data/x", "", "../x", "/data//../x", "/data/x/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *b = bad[i];
        assert_null(P->file_open(c, b, HAAS_FILE_READ));
        assert_null(P->file_open(c, b, HAAS_FILE_WRITE));
        assert_int_equal(P->file_size(c, b, &size), HAAS_PORT_ERR);
        assert_int_equal(P->path_kind(c, b), HAAS_PORT_ERR);
        assert_int_equal(P->rename(c, "/data/x", b), HAAS_PORT_ERR);
        assert_int_equal(P->rename(c, b, "/data/y"), HAAS_PORT_ERR);
        assert_int_equal(P->remove_file(c, b), HAAS_PORT_ERR);
        assert_int_equal(P->make_dir(c, b), HAAS_PORT_ERR);
        assert_int_equal(P->remove_tree(c, b), HAAS_PORT_ERR);
    }
    assert_null(P->file_open(c, NULL, HAAS_FILE_READ));
    assert_int_equal(P->path_kind(c, NULL), HAAS_PORT_ERR);
    /* nothing escaped the root, the file is intact */
    char *esc = join(f.root, "/../escape.txt");
    struct stat st;
    assert_int_equal(lstat(esc, &st), -1);
    free(esc);
    assert_int_equal(P->path_kind(c, "/data/x"), 1);
    assert_int_equal(P->path_kind(c, "/data/y"), 0);

    /* the root itself cannot go away */
    assert_int_equal(P->remove_tree(c, "/"), HAAS_PORT_ERR);
    assert_int_equal(P->rename(c, "/", "/z"), HAAS_PORT_ERR);
    assert_int_equal(P->remove_file(c, "/"), HAAS_PORT_ERR);
    assert_int_equal(P->path_kind(c, "/data/x"), 1);

    /* ".." inside a name is just a name */
    assert_int_equal(P->make_dir(c, "/data/..x"), 0);
    put_file(P, "/data/x..", "ok");
    assert_int_equal(P->path_kind(c, "/data/..x"), 2);
    assert_int_equal(P->path_kind(c, "/data/x.."), 1);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* digests                                                             */
/* ------------------------------------------------------------------ */

static void hash_hex(haas_port *P, haas_hash_kind kind, const void *data, size_t len, size_t piece, char *hex)
{
    haas_hash_state st;
    uint8_t d[32];
    assert_int_equal(P->hash_init(P->ctx, &st, kind), 0);
    for (size_t off = 0; off < len; off += piece)
        P->hash_update(P->ctx, &st, (const uint8_t *)data + off, len - off < piece ? len - off : piece);
    P->hash_final(P->ctx, &st, d);
    to_hex(d, kind == HAAS_HASH_MD5 ? 16 : 32, hex);
}

static void hmac_hex(haas_port *P, const void *key, size_t klen, const void *data, size_t len, char *hex)
{
    uint8_t out[32];
    assert_int_equal(P->hmac_sha256(P->ctx, key, klen, data, len, out), 0);
    to_hex(out, 32, hex);
}

static void test_digests(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "hash");
    haas_port *P = &f.P;
    char hex[65];
    const char *fox = "The quick brown fox jumps over the lazy dog";

    hash_hex(P, HAAS_HASH_MD5, "", 0, 1, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    hash_hex(P, HAAS_HASH_MD5, "abc", 3, 3, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    hash_hex(P, HAAS_HASH_MD5, fox, strlen(fox), 7, hex);
    assert_string_equal(hex, "9e107d9d372bb6826bd81d3542a419d6");

    hash_hex(P, HAAS_HASH_SHA256, "abc", 3, 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hash_hex(P, HAAS_HASH_SHA256, two, strlen(two), 1, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    hash_hex(P, HAAS_HASH_SHA256, million, 1000000, 4093, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);

    /* two states at once */
    haas_hash_state a, b;
    uint8_t da[16], db[32];
    assert_int_equal(P->hash_init(P->ctx, &a, HAAS_HASH_MD5), 0);
    assert_int_equal(P->hash_init(P->ctx, &b, HAAS_HASH_SHA256), 0);
    P->hash_update(P->ctx, &a, "ab", 2);
    P->hash_update(P->ctx, &b, "ab", 2);
    P->hash_update(P->ctx, &a, "c", 1);
    P->hash_update(P->ctx, &b, "c", 1);
    P->hash_final(P->ctx, &b, db);
    P->hash_final(P->ctx, &a, da);
    to_hex(da, 16, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    to_hex(db, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    /* a failed init leaves a state on which update/final do nothing */
    haas_hash_state bad;
    uint8_t untouched[32];
    memset(untouched, 0x5a, sizeof untouched);
    fflush(stderr);
    assert_true(P->hash_init(P->ctx, &bad, (haas_hash_kind)99) < 0);
    P->hash_update(P->ctx, &bad, "x", 1);
    P->hash_final(P->ctx, &bad, untouched);
    for (int i = 0; i < 32; i++)
        assert_int_equal(untouched[i], 0x5a);

    /* HMAC-SHA256: RFC 4231 test cases 1, 2 and 6, and empty key and data */
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    hmac_hex(P, key1, sizeof key1, "Hi There", 8, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_hex(P, "Jefe", 4, "what do ya want for nothing?", 28, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_hex(P, key6, sizeof key6, data6, strlen(data6), hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    hmac_hex(P, NULL, 0, NULL, 0, hex);
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* gzip                                                                */
/* ------------------------------------------------------------------ */

/* printf 'hello\n' | gzip -n */
static const uint8_t hello_gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd,
                                   0xc9, 0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};

/* Compressible but not trivial data. */
static uint8_t *make_text(size_t n)
{
    uint8_t *t = malloc(n);
    assert_non_null(t);
    uint32_t x = 12345;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        int len = snprintf((char *)t + i, n - i, "line %u: value=%u\n", (unsigned)i, (x >> 16) % 1000);
        if (len < 0 || (size_t)len >= n - i)
            break;
        i += (size_t)len;
    }
    while (i < n)
        t[i++] = '.';
    return t;
}

static uint8_t *gzip_mem(const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* Feeds in pieces; returns the last result. */
static int feed_all(haas_port *P, const uint8_t *in, size_t n, size_t piece, struct collect *c)
{
    int r = 0;
    for (size_t off = 0; off < n; off += piece) {
        r = P->inflate_feed(P->ctx, in + off, n - off < piece ? n - off : piece, collect_sink, c);
        if (r != 0)
            return r;
    }
    return r;
}

static void test_inflate(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "gz");
    haas_port *P = &f.P;
    struct collect c = {0};

    /* a fixed stream made by gzip(1) */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(P->inflate_feed(P->ctx, hello_gz, sizeof hello_gz, collect_sink, &c), 1);
    assert_int_equal(c.len, 6);
    assert_memory_equal(c.data, "hello\n", 6);
    assert_int_equal(P->inflate_feed(P->ctx, NULL, 0, collect_sink, &c), 1); /* after the end, no input: 1 again */
    /* after the end, more input: an error (haas_port.h), and the stream stays dead */
    assert_int_equal(P->inflate_feed(P->ctx, hello_gz, 3, collect_sink, &c), HAAS_PORT_ERR_TRAILING);
    assert_true(P->inflate_feed(P->ctx, NULL, 0, collect_sink, &c) < 0);
    assert_int_equal(c.len, 6);
    P->inflate_end(P->ctx);
    P->inflate_end(P->ctx); /* twice is fine */
    collect_reset(&c);

    /* 300 KB fed in odd pieces: the output comes in many chunks of <= 16 KiB */
    size_t n = 300000, gz_len;
    uint8_t *text = make_text(n);
    uint8_t *gz = gzip_mem(text, n, &gz_len);
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz, gz_len, 997, &c), 1);
    assert_int_equal(c.len, n);
    assert_memory_equal(c.data, text, n);
    assert_true(c.calls >= (int)(n / 16384));
    assert_true(c.max_chunk <= 16384);
    collect_reset(&c);

    /* trailing bytes after the end: one byte at a time, the stream ends
     * with its last byte (1) and the next byte is refused */
    uint8_t *gz2 = malloc(2 * gz_len + 4);
    assert_non_null(gz2);
    memcpy(gz2, gz, gz_len);
    memcpy(gz2 + gz_len, "JUNK", 4);
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz2, gz_len, 1, &c), 1);
    assert_int_equal(c.len, n);
    assert_memory_equal(c.data, text, n);
    assert_int_equal(P->inflate_feed(P->ctx, gz2 + gz_len, 1, collect_sink, &c), HAAS_PORT_ERR_TRAILING);
    collect_reset(&c);
    /* ... and in the same piece as the end: refused, never skipped */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz2, gz_len + 4, gz_len + 4, &c), HAAS_PORT_ERR_TRAILING);
    assert_int_equal(c.len, n); /* the member's output was delivered before */
    collect_reset(&c);
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz2, gz_len + 4, 4096, &c), HAAS_PORT_ERR_TRAILING);
    collect_reset(&c);
    /* a second gzip member (what gzip -d would read as one file) */
    memcpy(gz2 + gz_len, gz, gz_len);
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz2, 2 * gz_len, 997, &c), HAAS_PORT_ERR_TRAILING);
    assert_int_equal(c.len, n); /* the first member only, and an error */
    collect_reset(&c);
    assert_int_equal(P->inflate_begin(P->ctx), 0); /* the first member, then the second in another call */
    assert_int_equal(feed_all(P, gz2, gz_len, 65536, &c), 1);
    assert_int_equal(P->inflate_feed(P->ctx, gz2 + gz_len, gz_len, collect_sink, &c), HAAS_PORT_ERR_TRAILING);
    assert_int_equal(c.len, n);
    collect_reset(&c);

    /* truncated: more input wanted */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz, gz_len / 2, 4096, &c), 0);
    assert_int_equal(P->inflate_feed(P->ctx, NULL, 0, collect_sink, &c), 0);
    assert_true(c.len < n);
    collect_reset(&c);
    /* begin again while a stream is open restarts it */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz, gz_len, 65536, &c), 1);
    assert_int_equal(c.len, n);
    collect_reset(&c);

    /* corrupt: damaged deflate data, then a wrong CRC, then not gzip */
    fflush(stderr);
    memcpy(gz2, gz, gz_len);
    for (size_t i = gz_len / 3; i < gz_len / 3 + 64; i++)
        gz2[i] ^= 0xa5;
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_true(feed_all(P, gz2, gz_len, 1000, &c) < 0);
    assert_true(P->inflate_feed(P->ctx, gz2, 10, collect_sink, &c) < 0); /* stays failed */
    collect_reset(&c);
    memcpy(gz2, gz, gz_len);
    gz2[gz_len - 6] ^= 0x01; /* inside the CRC32 of the trailer */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz2, gz_len, 8192, &c), HAAS_PORT_ERR);
    collect_reset(&c);
    memcpy(gz2, gz, gz_len);
    gz2[gz_len - 2] ^= 0x01; /* inside the ISIZE of the trailer */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz2, gz_len, 8192, &c), HAAS_PORT_ERR);
    collect_reset(&c);
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_true(P->inflate_feed(P->ctx, (const uint8_t *)"this is not gzip data", 21, collect_sink, &c) < 0);
    assert_int_equal(c.len, 0);
    collect_reset(&c);

    /* the sink stops */
    c.stop_at = 2;
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, gz, gz_len, gz_len, &c), HAAS_PORT_ERR_ABORTED);
    assert_int_equal(c.calls, 2);
    collect_reset(&c);

    /* a stream made with zlib's gzip file writer */
    char *gzpath = join(f.root, "/t.gz");
    gzFile gzf = gzopen(gzpath, "wb9");
    assert_non_null(gzf);
    assert_int_equal(gzwrite(gzf, text, 50000), 50000);
    assert_int_equal(gzclose(gzf), Z_OK);
    uint8_t *filebuf = malloc(200000);
    assert_non_null(filebuf);
    long flen = read_whole(gzpath, filebuf, 200000);
    assert_true(flen > 0);
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(feed_all(P, filebuf, (size_t)flen, 333, &c), 1);
    assert_int_equal(c.len, 50000);
    assert_memory_equal(c.data, text, 50000);
    collect_reset(&c);
    free(filebuf);
    free(gzpath);
    /* a stream left open is released by haas_posix_port_free */
    assert_int_equal(P->inflate_begin(P->ctx), 0);
    assert_int_equal(P->inflate_feed(P->ctx, gz, 100, collect_sink, &c), 0);
    collect_reset(&c);

    free(gz2);
    free(gz);
    free(text);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* HTTP against a small server on 127.0.0.1                            */
/* ------------------------------------------------------------------ */

#define BODY_LEN 100000u
#define CUT_AT 30000u
#define SHORT_RANGE 1000u
#define SINK_BLOCK 16384u /* what http_get gives the sink at a time */

struct http_server {
    int lfd;
    uint16_t port;
    pthread_t thread;
    atomic_int stop;
    atomic_int requests;
    char last_range[64];
    uint8_t body[BODY_LEN];
};

static int send_all(int fd, const void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

static void send_head(int fd, const char *status, const char *extra, size_t length)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     length, extra ? extra : "");
    send_all(fd, head, (size_t)n);
}

static void serve_one(struct http_server *s, int fd)
{
    char req[8192];
    size_t got = 0;
    req[0] = '\0';
    uint64_t deadline = mono_ms() + 5000;
    while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = mono_ms();
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
            return;
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        req[got] = '\0';
    }
    atomic_fetch_add(&s->requests, 1);
    char path[256] = "";
    if (sscanf(req, "GET %255s HTTP/1.", path) != 1)
        return;
    uint64_t from = 0;
    int ranged = 0;
    s->last_range[0] = '\0';
    for (char *line = strstr(req, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Range:", 6) == 0) {
            sscanf(line + 8, " %63[^\r]", s->last_range);
            unsigned long long v;
            if (sscanf(s->last_range, "bytes=%llu-", &v) == 1) {
                from = v;
                ranged = 1;
            }
        }
    }
    char extra[256];
    if (strcmp(path, "/body") == 0) {
        if (!ranged) {
            send_head(fd, "200 OK", "Accept-Ranges: bytes\r\n", BODY_LEN);
            send_all(fd, s->body, BODY_LEN);
        } else if (from >= BODY_LEN) {
            snprintf(extra, sizeof extra, "Content-Range: bytes */%u\r\n", BODY_LEN);
            send_head(fd, "416 Range Not Satisfiable", extra, 0);
        } else {
            snprintf(extra, sizeof extra, "Content-Range: bytes %llu-%u/%u\r\n", (unsigned long long)from,
                     BODY_LEN - 1, BODY_LEN);
            send_head(fd, "206 Partial Content", extra, BODY_LEN - from);
            send_all(fd, s->body + from, BODY_LEN - from);
        }
    } else if (strcmp(path, "/norange") == 0) {
        send_head(fd, "200 OK", NULL, BODY_LEN);
        send_all(fd, s->body, BODY_LEN);
    } else if (strcmp(path, "/badrange") == 0) {
        snprintf(extra, sizeof extra, "Content-Range: bytes %llu-%u/%u\r\n", (unsigned long long)from + 1,
                 BODY_LEN - 1, BODY_LEN);
        send_head(fd, "206 Partial Content", extra, BODY_LEN - from - 1);
        send_all(fd, s->body + from + 1, BODY_LEN - from - 1);
    } else if (strcmp(path, "/short") == 0) {
        snprintf(extra, sizeof extra, "Content-Range: bytes %llu-%llu/%u\r\n", (unsigned long long)from,
                 (unsigned long long)from + SHORT_RANGE - 1, BODY_LEN);
        send_head(fd, "206 Partial Content", extra, SHORT_RANGE);
        send_all(fd, s->body + from, SHORT_RANGE);
    } else if (strcmp(path, "/cut") == 0) {
        if (!ranged) {
            send_head(fd, "200 OK", NULL, BODY_LEN);
            send_all(fd, s->body, CUT_AT);
        } else {
            snprintf(extra, sizeof extra, "Content-Range: bytes %llu-%u/%u\r\n", (unsigned long long)from,
                     BODY_LEN - 1, BODY_LEN);
            send_head(fd, "206 Partial Content", extra, BODY_LEN - from);
            send_all(fd, s->body + from, BODY_LEN - from);
        }
    } else if (strcmp(path, "/trickle") == 0) {
        /* the body in small uneven pieces, each its own TCP segment */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        send_head(fd, "200 OK", NULL, BODY_LEN);
        for (size_t off = 0, piece = 1; off < BODY_LEN; off += piece, piece = piece % 997 + 331) {
            if (piece > BODY_LEN - off)
                piece = BODY_LEN - off;
            send_all(fd, s->body + off, piece);
            usleep(50); /* lets the client read each piece on its own */
        }
    } else if (strcmp(path, "/redirect") == 0) {
        send_head(fd, "302 Found", "Location: /body\r\n", 0);
    } else if (strcmp(path, "/http10") == 0) {
        const char *h = "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
        send_all(fd, h, strlen(h));
        send_all(fd, s->body, BODY_LEN);
    } else if (strcmp(path, "/empty") == 0) {
        send_head(fd, "200 OK", NULL, 0);
    } else {
        send_head(fd, "404 Not Found", "Content-Type: text/plain\r\n", 9);
        send_all(fd, "not found", 9);
    }
    shutdown(fd, SHUT_WR);
}

static void *server_main(void *arg)
{
    struct http_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_one(s, fd);
        close(fd);
    }
    return NULL;
}

static int http_setup(void **state)
{
    struct http_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    for (uint32_t i = 0; i < BODY_LEN; i++)
        s->body[i] = (uint8_t)(i * 7u + i / 251u);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(listen(s->lfd, 16), 0);
    atomic_init(&s->stop, 0);
    atomic_init(&s->requests, 0);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    *state = s;
    return 0;
}

static int http_teardown(void **state)
{
    struct http_server *s = *state;
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    free(s);
    return 0;
}

static int get(haas_port *P, struct http_server *s, const char *path, uint64_t offset, struct collect *c,
               uint64_t *total)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", s->port, path);
    return P->http_get(P->ctx, url, offset, collect_sink, c, total);
}

static void test_http_full_and_ranges(void **state)
{
    struct http_server *s = *state;
    struct fixture f;
    fixture_open(&f, "http");
    haas_port *P = &f.P;
    struct collect c = {0};
    uint64_t total = 99;

    /* 200, whole body */
    assert_int_equal(get(P, s, "/body", 0, &c, &total), 0);
    assert_int_equal(total, BODY_LEN);
    assert_int_equal(c.len, BODY_LEN);
    assert_memory_equal(c.data, s->body, BODY_LEN);
    assert_string_equal(s->last_range, "");
    assert_int_equal(c.calls, (BODY_LEN + SINK_BLOCK - 1) / SINK_BLOCK); /* whole 16 KiB blocks, then the rest */
    assert_int_equal(c.max_chunk, SINK_BLOCK);
    collect_reset(&c);

    /* the same blocks when the network delivers the body in small pieces */
    assert_int_equal(get(P, s, "/trickle", 0, &c, &total), 0);
    assert_int_equal(c.len, BODY_LEN);
    assert_memory_equal(c.data, s->body, BODY_LEN);
    assert_int_equal(c.calls, (BODY_LEN + SINK_BLOCK - 1) / SINK_BLOCK);
    assert_int_equal(c.max_chunk, SINK_BLOCK);
    collect_reset(&c);

    /* 206 from an offset */
    assert_int_equal(get(P, s, "/body", 12345, &c, &total), 0);
    assert_string_equal(s->last_range, "bytes=12345-");
    assert_int_equal(total, BODY_LEN);
    assert_int_equal(c.len, BODY_LEN - 12345);
    assert_memory_equal(c.data, s->body + 12345, BODY_LEN - 12345);
    collect_reset(&c);
    assert_int_equal(get(P, s, "/body", BODY_LEN - 1, &c, NULL), 0); /* total may be NULL */
    assert_int_equal(c.len, 1);
    collect_reset(&c);

    /* HTTP/1.0, no Content-Length: read until close, total unknown */
    assert_int_equal(get(P, s, "/http10", 0, &c, &total), 0);
    assert_int_equal(total, 0);
    assert_int_equal(c.len, BODY_LEN);
    assert_memory_equal(c.data, s->body, BODY_LEN);
    collect_reset(&c);

    /* an empty body */
    assert_int_equal(get(P, s, "/empty", 0, &c, &total), 0);
    assert_int_equal(total, 0);
    assert_int_equal(c.calls, 0);
    collect_reset(&c);
    fixture_close(&f);
}

static void test_http_errors(void **state)
{
    struct http_server *s = *state;
    struct fixture f;
    fixture_open(&f, "http");
    haas_port *P = &f.P;
    struct collect c = {0};
    uint64_t total = 0;
    fflush(stderr);

    /* 404: no byte of the error body reaches the sink */
    assert_int_equal(get(P, s, "/missing", 0, &c, &total), HAAS_PORT_ERR_HTTP);
    assert_int_equal(c.calls, 0);
    /* no redirect is followed */
    assert_int_equal(get(P, s, "/redirect", 0, &c, &total), HAAS_PORT_ERR_HTTP);
    assert_int_equal(c.calls, 0);
    /* a server that ignores Range: fine from 0, an error from an offset */
    assert_int_equal(get(P, s, "/norange", 0, &c, &total), 0);
    assert_int_equal(c.len, BODY_LEN);
    collect_reset(&c);
    assert_int_equal(get(P, s, "/norange", 100, &c, &total), HAAS_PORT_ERR_HTTP);
    assert_int_equal(c.calls, 0);
    /* a 206 that starts elsewhere */
    assert_int_equal(get(P, s, "/badrange", 100, &c, &total), HAAS_PORT_ERR_HTTP);
    assert_int_equal(c.calls, 0);
    /* 416 past the end */
    assert_int_equal(get(P, s, "/body", BODY_LEN, &c, &total), HAAS_PORT_ERR_HTTP);
    assert_int_equal(c.calls, 0);

    /* the sink stops */
    c.stop_at = 1;
    assert_int_equal(get(P, s, "/body", 0, &c, &total), HAAS_PORT_ERR_ABORTED);
    assert_int_equal(c.calls, 1);
    collect_reset(&c);

    /* not http */
    assert_int_equal(P->http_get(P->ctx, "ftp://127.0.0.1/x", 0, collect_sink, &c, &total), HAAS_PORT_ERR);
    assert_int_equal(P->http_get(P->ctx, "http://[bad", 0, collect_sink, &c, &total), HAAS_PORT_ERR);

    /* nobody listening */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/body", free_port());
    assert_int_equal(P->http_get(P->ctx, url, 0, collect_sink, &c, &total), HAAS_PORT_ERR_NET);
    assert_int_equal(c.calls, 0);
    fixture_close(&f);
}

static void test_http_cut_and_resume(void **state)
{
    struct http_server *s = *state;
    struct fixture f;
    fixture_open(&f, "http");
    haas_port *P = &f.P;
    struct collect c = {0};
    uint64_t total = 0;
    fflush(stderr);

    /* the connection is cut after CUT_AT bytes: what came before is delivered */
    assert_int_equal(get(P, s, "/cut", 0, &c, &total), HAAS_PORT_ERR_NET);
    assert_int_equal(total, BODY_LEN);
    assert_int_equal(c.len, CUT_AT);
    assert_memory_equal(c.data, s->body, CUT_AT);
    assert_int_equal(c.calls, 2); /* one whole block, then the bytes before the cut */
    /* resuming from there completes the body */
    assert_int_equal(get(P, s, "/cut", c.len, &c, &total), 0);
    assert_int_equal(total, BODY_LEN);
    assert_int_equal(c.len, BODY_LEN);
    assert_memory_equal(c.data, s->body, BODY_LEN);
    collect_reset(&c);

    /* a 206 that stops before the end of the resource: resume */
    assert_int_equal(get(P, s, "/short", 500, &c, &total), HAAS_PORT_ERR_NET);
    assert_int_equal(total, BODY_LEN);
    assert_int_equal(c.len, SHORT_RANGE);
    assert_memory_equal(c.data, s->body + 500, SHORT_RANGE);
    collect_reset(&c);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* MQTT against a real mosquitto                                       */
/* ------------------------------------------------------------------ */

struct broker {
    pid_t pid;
    uint16_t open_port;   /* anonymous clients welcome */
    uint16_t closed_port; /* anonymous clients refused */
    uint16_t tls_port;    /* TLS, certificate for 127.0.0.1 and localhost (with_tls) */
    uint16_t badname_port; /* TLS, certificate for wrong.example only (with_tls) */
    char *dir;            /* also holds the TLS files (tls_make_files) */
};

/* n distinct free ports on 127.0.0.1. */
static void free_ports(uint16_t *ports, int n)
{
    for (int i = 0; i < n; i++) {
        int again;
        do {
            ports[i] = free_port();
            again = 0;
            for (int j = 0; j < i; j++)
                again |= ports[j] == ports[i];
        } while (again);
    }
}

/*
 * Makes in dir, with the openssl command: ca.pem (the test CA), other.pem
 * (another CA), server.pem/.key (signed by ca.pem, SAN IP:127.0.0.1 and
 * DNS:localhost) and wrong.pem/.key (signed by ca.pem, SAN
 * DNS:wrong.example). Returns 0, or -1 when openssl is missing or fails.
 */
static int tls_make_files(const char *dir)
{
    if (access(OPENSSL_BIN, X_OK) != 0)
        return -1;
    static const char script[] =
        "(cd '%s' && K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
        "openssl req -x509 $K -keyout ca.key -out ca.pem -days 2 -subj /CN=haas-test-ca && "
        "openssl req -x509 $K -keyout other.key -out other.pem -days 2 -subj /CN=other-ca && "
        "openssl req $K -keyout server.key -out server.csr -subj /CN=localhost && "
        "echo subjectAltName=IP:127.0.0.1,DNS:localhost > server.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.pem && "
        "openssl req $K -keyout wrong.key -out wrong.csr -subj /CN=wrong.example && "
        "echo subjectAltName=DNS:wrong.example > wrong.ext && "
        "openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile wrong.ext -out wrong.pem) >/dev/null 2>&1";
    char cmd[sizeof script + PATH_MAX];
    snprintf(cmd, sizeof cmd, script, dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Starts mosquitto with the plain listeners and, with_tls, the two TLS
 * ones (their files made by tls_make_files). */
static int broker_start(struct broker *b, int with_tls)
{
    memset(b, 0, sizeof *b);
    if (access(MOSQUITTO_BIN, X_OK) != 0) {
        fprintf(stderr, "%s is missing\n", MOSQUITTO_BIN);
        return -1;
    }
    b->dir = make_tmpdir();
    if (with_tls && tls_make_files(b->dir) != 0) {
        fprintf(stderr, "cannot make TLS certificates with %s\n", OPENSSL_BIN);
        return -1;
    }
    uint16_t ports[4];
    free_ports(ports, with_tls ? 4 : 2);
    b->open_port = ports[0];
    b->closed_port = ports[1];
    char *conf = join(b->dir, "/mosquitto.conf");
    FILE *fp = fopen(conf, "w");
    assert_non_null(fp);
    fprintf(fp, "per_listener_settings true\npersistence false\n");
    if (geteuid() == 0)
        fprintf(fp, "user root\n");
    fprintf(fp, "listener %u 127.0.0.1\nallow_anonymous true\n", b->open_port);
    fprintf(fp, "listener %u 127.0.0.1\nallow_anonymous false\n", b->closed_port);
    if (with_tls) {
        b->tls_port = ports[2];
        b->badname_port = ports[3];
        const char *names[2] = {"server", "wrong"};
        uint16_t tls_ports[2] = {b->tls_port, b->badname_port};
        for (int i = 0; i < 2; i++)
            fprintf(fp, "listener %u 127.0.0.1\nallow_anonymous true\ncafile %s/ca.pem\n"
                        "certfile %s/%s.pem\nkeyfile %s/%s.key\n",
                    tls_ports[i], b->dir, b->dir, names[i], b->dir, names[i]);
    }
    fclose(fp);
    char *log = join(b->dir, "/broker.log");
    b->pid = fork();
    assert_true(b->pid >= 0);
    if (b->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execl(MOSQUITTO_BIN, "mosquitto", "-c", conf, (char *)NULL);
        _exit(127);
    }
    free(conf);
    free(log);
    uint64_t deadline = mono_ms() + 10000;
    while (!(port_accepts(b->open_port) && port_accepts(b->closed_port) &&
             (!with_tls || (port_accepts(b->tls_port) && port_accepts(b->badname_port))))) {
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid || mono_ms() >= deadline) {
            fprintf(stderr, "mosquitto did not start\n");
            return -1;
        }
        pause_ms(20);
    }
    return 0;
}

static void broker_kill(struct broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        wait_child(b->pid, 10000);
        b->pid = 0;
    }
}

static void broker_clean(struct broker *b)
{
    broker_kill(b);
    if (b->dir) {
        rm_rf(b->dir);
        free(b->dir);
        b->dir = NULL;
    }
}

#define MAX_RX 16

struct rx {
    int count;
    char topic[MAX_RX][64];
    char payload[MAX_RX][64];
    size_t len[MAX_RX];
    haas_port *reply_port; /* when set, answers each message on /t/a/reply */
    int reply_rc;
};

static void on_receive(void *core, const char *topic, const uint8_t *payload, size_t len)
{
    struct rx *r = core;
    if (r->count < MAX_RX) {
        snprintf(r->topic[r->count], sizeof r->topic[0], "%s", topic);
        size_t n = len < sizeof r->payload[0] - 1 ? len : sizeof r->payload[0] - 1;
        memcpy(r->payload[r->count], payload, n);
        r->payload[r->count][n] = '\0';
        r->len[r->count] = len;
    }
    r->count++;
    if (r->reply_port) /* calling back into the port from the receive function */
        r->reply_rc = r->reply_port->mqtt_publish(r->reply_port->ctx, "/t/a/reply", "ack", 3, 1);
}

/* Polls until r->count reaches want (bounded); returns the last poll result. */
static int poll_until(haas_port *P, struct rx *r, int want, int timeout_ms)
{
    uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
    int rc = 0;
    while (r->count < want && mono_ms() < deadline) {
        rc = P->mqtt_poll(P->ctx, 200, on_receive, r);
        if (rc != 0)
            break;
    }
    return rc;
}

/* The broker lives in the test's state, so that it is stopped even when
 * the test fails half-way. */
static int broker_setup(void **state, int with_tls)
{
    struct broker *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    *state = b;
    if (broker_start(b, with_tls) != 0) { /* cmocka runs no teardown after a failed setup */
        broker_clean(b);
        free(b);
        *state = NULL;
        return -1;
    }
    return 0;
}

static int mqtt_setup(void **state)
{
    return broker_setup(state, 0);
}

/* Without the openssl command the state stays NULL and the test skips. */
static int mqtt_tls_setup(void **state)
{
    *state = NULL;
    return access(OPENSSL_BIN, X_OK) == 0 ? broker_setup(state, 1) : 0;
}

static int mqtt_teardown(void **state)
{
    struct broker *b = *state;
    if (b) {
        broker_clean(b);
        free(b);
    }
    return 0;
}

static void test_mqtt(void **state)
{
    struct broker *bp = *state, b = *bp;

    struct fixture fa, fb, fc;
    fixture_open(&fa, "devA");
    fixture_open(&fb, "devB");
    fixture_open(&fc, "devC");
    haas_port *A = &fa.P, *B = &fb.P, *C = &fc.P;
    struct rx ra, rb, rc;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    memset(&rc, 0, sizeof rc);

    /* not connected yet */
    assert_int_equal(A->mqtt_poll(A->ctx, 0, on_receive, &ra), HAAS_PORT_ERR_NET);
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/a/x", "x", 1, 0), HAAS_PORT_ERR_NET);

    /* connect, subscribe, publish to self; nothing is delivered outside mqtt_poll */
    assert_int_equal(A->mqtt_connect(A->ctx, "127.0.0.1", b.open_port,
                                     "pk.devA|timestamp=2524608000000,securemode=3,signmethod=hmacsha256|",
                                     "devA&pk", "0123abcd", 30),
                     0);
    assert_int_equal(A->mqtt_subscribe(A->ctx, "/t/a/#", 1), 0);
    fflush(stderr);
    assert_int_equal(A->mqtt_subscribe(A->ctx, "/t/#/bad", 0), HAAS_PORT_ERR);
    assert_int_equal(A->mqtt_subscribe(A->ctx, "/t/x", 2), HAAS_PORT_ERR);
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/a/+", "x", 1, 0), HAAS_PORT_ERR);
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/a/x", "hello", 5, 0), 0);
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/a/y", "world", 5, 1), 0);
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/a/e", NULL, 0, 1), 0);
    assert_int_equal(ra.count, 0);
    assert_int_equal(poll_until(A, &ra, 3, 5000), 0);
    assert_int_equal(ra.count, 3);
    assert_string_equal(ra.topic[0], "/t/a/x");
    assert_string_equal(ra.payload[0], "hello");
    assert_string_equal(ra.topic[1], "/t/a/y");
    assert_string_equal(ra.payload[1], "world");
    assert_string_equal(ra.topic[2], "/t/a/e");
    assert_int_equal(ra.len[2], 0);

    /* a quiet poll lasts about its timeout */
    uint64_t t0 = mono_ms();
    assert_int_equal(A->mqtt_poll(A->ctx, 300, on_receive, &ra), 0);
    uint64_t spent = mono_ms() - t0;
    assert_true(spent >= 250 && spent < 3000);
    assert_int_equal(ra.count, 3);

    /* a second device in the same process; it answers from its receive function */
    assert_int_equal(B->mqtt_connect(B->ctx, "127.0.0.1", b.open_port, "devB", NULL, NULL, 2), 0);
    assert_int_equal(B->mqtt_subscribe(B->ctx, "/t/b", 0), 0);
    rb.reply_port = B;
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/b", "to-b", 4, 1), 0);
    assert_int_equal(poll_until(B, &rb, 1, 5000), 0);
    assert_int_equal(rb.count, 1);
    assert_string_equal(rb.topic[0], "/t/b");
    assert_string_equal(rb.payload[0], "to-b");
    assert_int_equal(rb.reply_rc, 0);
    assert_int_equal(poll_until(A, &ra, 4, 5000), 0);
    assert_int_equal(ra.count, 4);
    assert_string_equal(ra.topic[3], "/t/a/reply");
    assert_string_equal(ra.payload[3], "ack");

    /* reconnecting replaces the connection */
    assert_int_equal(B->mqtt_connect(B->ctx, "127.0.0.1", b.open_port, "devB", NULL, NULL, 0), 0);
    assert_int_equal(B->mqtt_subscribe(B->ctx, "/t/b", 1), 0);
    B->mqtt_disconnect(B->ctx);
    assert_int_equal(B->mqtt_poll(B->ctx, 0, on_receive, &rb), HAAS_PORT_ERR_NET);
    assert_int_equal(B->mqtt_subscribe(B->ctx, "/t/b", 0), HAAS_PORT_ERR_NET);

    /* refused by the broker; nobody listening */
    fflush(stderr);
    assert_int_equal(C->mqtt_connect(C->ctx, "127.0.0.1", b.closed_port, "devC", NULL, NULL, 30), HAAS_PORT_ERR);
    assert_int_equal(C->mqtt_poll(C->ctx, 0, on_receive, &rc), HAAS_PORT_ERR_NET);
    uint16_t nobody = free_port();
    t0 = mono_ms();
    assert_int_equal(C->mqtt_connect(C->ctx, "127.0.0.1", nobody, "devC", NULL, NULL, 30), HAAS_PORT_ERR_NET);
    assert_true(mono_ms() - t0 < 5000);
    assert_int_equal(C->mqtt_connect(C->ctx, "localhost", b.open_port, "devC", NULL, NULL, 30), 0);

    /* the broker dies: polls report the loss */
    broker_kill(bp);
    t0 = mono_ms();
    int r = 0;
    while (r == 0 && mono_ms() - t0 < 10000)
        r = A->mqtt_poll(A->ctx, 500, on_receive, &ra);
    assert_int_equal(r, HAAS_PORT_ERR_NET);
    assert_int_equal(A->mqtt_poll(A->ctx, 0, on_receive, &ra), HAAS_PORT_ERR_NET);
    assert_int_equal(A->mqtt_publish(A->ctx, "/t/a/x", "late", 4, 0), HAAS_PORT_ERR_NET);
    /* a publish into the dead socket does not kill the process (SIGPIPE) */
    int w = C->mqtt_publish(C->ctx, "/t/c", "x", 1, 0);
    assert_true(w == 0 || w == HAAS_PORT_ERR_NET);
    t0 = mono_ms();
    r = 0;
    while (r == 0 && mono_ms() - t0 < 10000) {
        C->mqtt_publish(C->ctx, "/t/c", "x", 1, 0);
        r = C->mqtt_poll(C->ctx, 100, on_receive, &rc);
    }
    assert_int_equal(r, HAAS_PORT_ERR_NET);
    assert_int_equal(A->mqtt_connect(A->ctx, "127.0.0.1", b.open_port, "devA", NULL, NULL, 30), HAAS_PORT_ERR_NET);

    fixture_close(&fa);
    fixture_close(&fb);
    fixture_close(&fc);
}

/*
 * mosquitto's own ACLs never refuse a subscription, so the SUBACK failure
 * code (0x80) comes from a minimal broker in a thread: it accepts one
 * client, answers CONNECT with CONNACK 0 and every SUBSCRIBE with 0x80.
 */
struct fake_broker {
    int lfd;
    uint16_t port;
    pthread_t thread;
};

/* Reads exactly n bytes before the deadline; 0 or -1. */
static int read_exact(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = mono_ms();
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
            return -1;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void *fake_broker_main(void *arg)
{
    struct fake_broker *fb = arg;
    uint64_t deadline = mono_ms() + 10000;
    struct pollfd lp = {.fd = fb->lfd, .events = POLLIN};
    if (poll(&lp, 1, 10000) <= 0)
        return NULL;
    int fd = accept(fb->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    for (;;) {
        uint8_t type, byte, body[1024];
        size_t len = 0;
        int shift = 0;
        if (read_exact(fd, &type, 1, deadline))
            break;
        do {
            if (read_exact(fd, &byte, 1, deadline))
                goto done;
            len |= (size_t)(byte & 0x7f) << shift;
            shift += 7;
        } while ((byte & 0x80) && shift < 28);
        if (len > sizeof body || read_exact(fd, body, len, deadline))
            break;
        if ((type & 0xf0) == 0x10) { /* CONNECT */
            static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
            send_all(fd, connack, sizeof connack);
        } else if ((type & 0xf0) == 0x80 && len >= 2) { /* SUBSCRIBE */
            uint8_t suback[] = {0x90, 0x03, body[0], body[1], 0x80};
            send_all(fd, suback, sizeof suback);
        } else if ((type & 0xf0) == 0xe0) { /* DISCONNECT */
            break;
        }
    }
done:
    close(fd);
    return NULL;
}

static void test_mqtt_subscription_refused(void **state)
{
    (void)state;
    struct fake_broker fb;
    fb.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fb.lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fb.lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fb.lfd, (struct sockaddr *)&a, &len), 0);
    fb.port = ntohs(a.sin_port);
    assert_int_equal(listen(fb.lfd, 1), 0);
    assert_int_equal(pthread_create(&fb.thread, NULL, fake_broker_main, &fb), 0);

    struct fixture f;
    fixture_open(&f, "devF");
    haas_port *P = &f.P;
    assert_int_equal(P->mqtt_connect(P->ctx, "127.0.0.1", fb.port, "devF", "u", "p", 4), 0);
    fflush(stderr);
    assert_int_equal(P->mqtt_subscribe(P->ctx, "/sys/other/dev/#", 1), HAAS_PORT_ERR);
    P->mqtt_disconnect(P->ctx);
    fixture_close(&f);
    pthread_join(fb.thread, NULL);
    close(fb.lfd);
}

/* ------------------------------------------------------------------ */
/* TLS: broker addresses, MQTT over TLS, https downloads               */
/* ------------------------------------------------------------------ */

static void test_parse_broker(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        const char *host; /* NULL: refused */
        uint16_t port;
        int use_tls;
    } cases[] = {
        {"127.0.0.1:1883", "127.0.0.1", 1883, 0},
        {"broker.lan:443", "broker.lan", 443, 0},
        {"[::1]:1883", "::1", 1883, 0},
        {"mqtt://h", "h", HAAS_POSIX_MQTT_PORT, 0},
        {"mqtt://h:1884", "h", 1884, 0},
        {"mqtts://h", "h", HAAS_POSIX_MQTTS_PORT, 1},
        {"MQTTS://h:443", "h", 443, 1},
        {"mqtts://[::1]:8884", "::1", 8884, 1},
        {"mqtts://[fe80::1%eth0]", "fe80::1%eth0", 8883, 1},
        {"mqtt://h:65535", "h", 65535, 0},
        {"mqtt://h:1", "h", 1, 0},
        {"", NULL, 0, 0},
        {"h", NULL, 0, 0},        /* HOST:PORT needs its port */
        {"h:", NULL, 0, 0},
        {":1883", NULL, 0, 0},
        {"mqtt://", NULL, 0, 0},
        {"mqtts://:8883", NULL, 0, 0},
        {"mqtt://h:0", NULL, 0, 0},
        {"mqtt://h:65536", NULL, 0, 0},
        {"mqtt://h:123456", NULL, 0, 0},
        {"mqtt://h:12x", NULL, 0, 0},
        {"mqtt://h:-1", NULL, 0, 0},
        {"mqtt://h:1/", NULL, 0, 0},
        {"mqtt://h/x", NULL, 0, 0},
        {"mqtt://u@h:1", NULL, 0, 0},
        {"mqtt://h :1", NULL, 0, 0},
        {"tcp://h:1", NULL, 0, 0},
        {"ssl://h:1", NULL, 0, 0},
        {"::1:1883", NULL, 0, 0}, /* IPv6 goes in brackets */
        {"[::1", NULL, 0, 0},
        {"[::1]x", NULL, 0, 0},
        {"[::1]:", NULL, 0, 0},
        {"[h]:1", NULL, 0, 0},
        {"[]:1", NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        haas_posix_broker b;
        memset(&b, 0x5a, sizeof b);
        int rc = haas_posix_parse_broker(cases[i].spec, &b);
        if (!cases[i].host) {
            if (rc != -1 || b.host[0] || b.port)
                fail_msg("\"%s\" was accepted", cases[i].spec);
            continue;
        }
        if (rc != 0)
            fail_msg("\"%s\" was refused", cases[i].spec);
        assert_string_equal(b.host, cases[i].host);
        assert_int_equal(b.port, cases[i].port);
        assert_int_equal(b.use_tls, cases[i].use_tls);
    }
    haas_posix_broker b;
    assert_int_equal(haas_posix_parse_broker(NULL, &b), -1);
    assert_int_equal(haas_posix_parse_broker("mqtt://h", NULL), -1);
    /* the host fills at most 255 bytes */
    char spec[300] = "mqtts://";
    memset(spec + 8, 'a', 255);
    assert_int_equal(haas_posix_parse_broker(spec, &b), 0);
    assert_int_equal(strlen(b.host), 255);
    strcat(spec, "a");
    assert_int_equal(haas_posix_parse_broker(spec, &b), -1);
}

/* Connects a TLS port to the broker's listener at port, as "dev". */
static int tls_connect(haas_port *P, const char *host, uint16_t port)
{
    return P->mqtt_connect(P->ctx, host, port, "tls-dev", NULL, NULL, 30);
}

static void test_mqtt_tls(void **state)
{
    struct broker *b = *state;
    if (!b)
        skip(); /* no openssl command */
    char *ca = join(b->dir, "/ca.pem"), *other = join(b->dir, "/other.pem");
    struct fixture good, bad, none, plain;
    fixture_open_cfg(&good, (haas_posix_port_config){.log_prefix = "tlsA", .use_tls = 1, .ca_file = ca});
    fixture_open_cfg(&bad, (haas_posix_port_config){.log_prefix = "tlsB", .use_tls = 1, .ca_file = other});
    fixture_open_cfg(&none, (haas_posix_port_config){.log_prefix = "tlsC", .use_tls = 1,
                                                     .ca_file = "/nonexistent/ca.pem"});
    fixture_open(&plain, "plainD");
    haas_port *G = &good.P, *B = &bad.P;

    /* the right CA, by address and by name: a round trip over TLS */
    struct rx r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tls_connect(G, "127.0.0.1", b->tls_port), 0);
    assert_true(haas_posix_port_mqtt_socket(good.pp) >= 0);
    assert_int_equal(G->mqtt_subscribe(G->ctx, "/t/tls", 1), 0);
    assert_int_equal(G->mqtt_publish(G->ctx, "/t/tls", "sealed", 6, 1), 0);
    assert_int_equal(poll_until(G, &r, 1, 5000), 0);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.payload[0], "sealed");
    assert_int_equal(tls_connect(G, "localhost", b->tls_port), 0);
    G->mqtt_disconnect(G->ctx);

    struct capture cap;
    capture_begin(&cap, good.root);
    /* another CA; a certificate for another name: refused at once */
    uint64_t t0 = mono_ms();
    assert_int_equal(tls_connect(B, "127.0.0.1", b->tls_port), HAAS_PORT_ERR_NET);
    assert_int_equal(tls_connect(G, "127.0.0.1", b->badname_port), HAAS_PORT_ERR_NET);
    /* a plain listener, nobody listening, a plain client on the TLS
     * listener: failures too, without waiting for the 10 s deadline */
    assert_int_equal(tls_connect(G, "127.0.0.1", b->open_port), HAAS_PORT_ERR_NET);
    assert_int_equal(tls_connect(G, "127.0.0.1", free_port()), HAAS_PORT_ERR_NET);
    assert_int_equal(tls_connect(&plain.P, "127.0.0.1", b->tls_port), HAAS_PORT_ERR_NET);
    assert_true(mono_ms() - t0 < 8000);
    /* a CA file that cannot be read is a setting error */
    assert_int_equal(tls_connect(&none.P, "127.0.0.1", b->tls_port), HAAS_PORT_ERR);
    char *log = capture_end(&cap);
    char expect[128];
    snprintf(expect, sizeof expect, "tlsB WARN mqtt: 127.0.0.1:%u: TLS handshake failed (trusting the CAs of ",
             b->tls_port);
    assert_non_null(strstr(log, expect));
    assert_non_null(strstr(log, "certificate verify failed"));
    assert_non_null(strstr(log, "host name verification failed"));
    assert_non_null(strstr(log, "tlsC ERROR mqtt: TLS with CA /nonexistent/ca.pem: cannot read the file"));

    /* the port still works after all that */
    assert_int_equal(tls_connect(G, "127.0.0.1", b->tls_port), 0);
    free(log);
    free(ca);
    free(other);
    fixture_close(&good);
    fixture_close(&bad);
    fixture_close(&none);
    fixture_close(&plain);
}

/* `openssl s_server -WWW` serving a folder over https on 127.0.0.1, with
 * the certificates of tls_make_files. */
struct https_server {
    pid_t pid;
    uint16_t port;
    char *dir;
    uint8_t body[BODY_LEN];
};

/* Without the openssl command the state stays NULL and the test skips. */
static int https_setup(void **state)
{
    *state = NULL;
    if (access(OPENSSL_BIN, X_OK) != 0)
        return 0;
    struct https_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->dir = make_tmpdir();
    assert_int_equal(tls_make_files(s->dir), 0);
    for (uint32_t i = 0; i < BODY_LEN; i++)
        s->body[i] = (uint8_t)(i * 13u + i / 509u);
    char *body = join(s->dir, "/body.bin");
    int fd = open(body, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s->body, BODY_LEN), BODY_LEN);
    close(fd);
    free(body);
    s->port = free_port();
    *state = s;
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        char accept_at[32];
        snprintf(accept_at, sizeof accept_at, "127.0.0.1:%u", s->port);
        int null = open("/dev/null", O_RDWR);
        if (chdir(s->dir) != 0 || null < 0)
            _exit(126);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl(OPENSSL_BIN, "openssl", "s_server", "-quiet", "-WWW", "-accept", accept_at, "-cert", "server.pem",
              "-key", "server.key", (char *)NULL);
        _exit(127);
    }
    uint64_t deadline = mono_ms() + 10000;
    while (!port_accepts(s->port)) {
        assert_true(mono_ms() < deadline);
        pause_ms(20);
    }
    return 0;
}

static int https_teardown(void **state)
{
    struct https_server *s = *state;
    if (!s)
        return 0;
    kill(s->pid, SIGKILL);
    wait_child(s->pid, 10000);
    rm_rf(s->dir);
    free(s->dir);
    free(s);
    return 0;
}

static void test_https(void **state)
{
    struct https_server *s = *state;
    if (!s)
        skip(); /* no openssl command */
    char *ca = join(s->dir, "/ca.pem"), *other = join(s->dir, "/other.pem");
    struct fixture good, bad, none;
    fixture_open_cfg(&good, (haas_posix_port_config){.log_prefix = "httpsA", .ca_file = ca});
    fixture_open_cfg(&bad, (haas_posix_port_config){.log_prefix = "httpsB", .ca_file = other});
    fixture_open_cfg(&none, (haas_posix_port_config){.log_prefix = "httpsC", .ca_file = "/nonexistent/ca.pem"});
    struct collect c = {0};
    uint64_t total = 1;
    char url[96];

    /* the right CA, by address and by name (HTTP/1.0, read until close) */
    snprintf(url, sizeof url, "https://127.0.0.1:%u/body.bin", s->port);
    assert_int_equal(good.P.http_get(good.P.ctx, url, 0, collect_sink, &c, &total), 0);
    assert_int_equal(c.len, BODY_LEN);
    assert_memory_equal(c.data, s->body, BODY_LEN);
    collect_reset(&c);
    snprintf(url, sizeof url, "https://localhost:%u/body.bin", s->port);
    assert_int_equal(good.P.http_get(good.P.ctx, url, 0, collect_sink, &c, &total), 0);
    assert_int_equal(c.len, BODY_LEN);
    collect_reset(&c);

    /* another CA, or no CA file: a final failure, no byte reaches the sink */
    struct capture cap;
    capture_begin(&cap, good.root);
    assert_int_equal(bad.P.http_get(bad.P.ctx, url, 0, collect_sink, &c, &total), HAAS_PORT_ERR);
    assert_int_equal(none.P.http_get(none.P.ctx, url, 0, collect_sink, &c, &total), HAAS_PORT_ERR);
    assert_int_equal(c.calls, 0);
    char *log = capture_end(&cap);
    assert_non_null(strstr(log, "httpsB ERROR http_get https://localhost:"));
    assert_non_null(strstr(log, "certificate"));
    assert_non_null(strstr(log, "httpsC ERROR http_get"));
    free(log);
    free(ca);
    free(other);
    fixture_close(&good);
    fixture_close(&bad);
    fixture_close(&none);
}

/* ------------------------------------------------------------------ */
/* crash injection                                                     */
/* ------------------------------------------------------------------ */

static const char *const chunks[5] = {"AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC", "DDDDDDDDDD", "EEEEEEEEEE"};

static void test_crash_torn_write(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *trace = join(root, ".trace");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HAAS_CRASH_AT", "3", 1);
        setenv("HAAS_CRASH_TRACE", trace, 1);
        haas_posix_port *pp = haas_posix_port_new(root, "crash");
        if (!pp)
            _exit(2);
        haas_port P;
        haas_posix_port_fill(pp, &P);
        haas_file h = P.file_open(P.ctx, "/f.bin", HAAS_FILE_WRITE);
        if (!h)
            _exit(3);
        for (int i = 0; i < 5; i++)
            P.file_write(P.ctx, h, chunks[i], 10);
        _exit(0); /* survived: wrong */
    }
    int status = wait_child(pid, 10000);
    assert_true(status != -1);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    char *file = join(root, "/f.bin");
    char buf[128] = {0};
    assert_int_equal(read_whole(file, buf, sizeof buf), 25);
    assert_string_equal(buf, "AAAAAAAAAABBBBBBBBBBCCCCC");
    memset(buf, 0, sizeof buf);
    assert_true(read_whole(trace, buf, sizeof buf) > 0);
    assert_string_equal(buf, "1 file_write /f.bin\n2 file_write /f.bin\n3 file_write /f.bin\n");

    unlink(trace);
    free(file);
    free(trace);
    rm_rf(root);
    free(root);
}

/* The steps of a small install; returns normally unless a crash is injected. */
static void install_steps(haas_port *P)
{
    assert_int_equal(P->make_dir(P->ctx, "/d"), 0);
    assert_int_equal(P->make_dir(P->ctx, "/.."), HAAS_PORT_ERR); /* rejected: not a step */
    haas_file h = P->file_open(P->ctx, "/d/x", HAAS_FILE_WRITE);
    assert_non_null(h);
    assert_int_equal(P->file_write(P->ctx, h, "new", 3), 0);
    assert_int_equal(P->file_sync(P->ctx, h), 0);
    assert_int_equal(P->file_close(P->ctx, h), 0);
    assert_int_equal(P->rename(P->ctx, "/d/x", "/d/y"), 0);
    assert_int_equal(P->remove_file(P->ctx, "/d/y"), 0);
    assert_int_equal(P->remove_tree(P->ctx, "/d"), 0);
}

/* HAAS_FS_LOG, the power-loss model's record: every change and sync, in
 * order, the bytes of writes in hex; file_sync of a file its file_open
 * created syncs the folder too (once). HAAS_TEST_UNSAFE_RENAME drops the
 * folder fsyncs of rename. */
static void test_fs_log(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *log = join(root, ".fslog");
    setenv("HAAS_FS_LOG", log, 1);
    haas_posix_port *pp = haas_posix_port_new(root, "fslog");
    unsetenv("HAAS_FS_LOG");
    assert_non_null(pp);
    haas_port P;
    haas_posix_port_fill(pp, &P);
    install_steps(&P);
    haas_file h = P.file_open(P.ctx, "/z", HAAS_FILE_WRITE);
    assert_non_null(h);
    assert_int_equal(P.file_sync(P.ctx, h), 0);
    assert_int_equal(P.file_close(P.ctx, h), 0);
    h = P.file_open(P.ctx, "/z", HAAS_FILE_APPEND);
    assert_int_equal(P.file_write(P.ctx, h, "ab", 2), 0);
    assert_int_equal(P.file_write(P.ctx, h, "c", 1), 0);
    assert_int_equal(P.file_sync(P.ctx, h), 0); /* existed: no folder sync */
    assert_int_equal(P.file_close(P.ctx, h), 0);
    haas_posix_port_free(pp);
    char buf[2048] = {0};
    assert_true(read_whole(log, buf, sizeof buf) > 0);
    assert_string_equal(buf, "step 1 make_dir /d\n"
                             "mkdir /d\n"
                             "dirsync /\n"
                             "create /d/x\n"
                             "step 2 file_write /d/x\n"
                             "write /d/x 0 6e6577\n"
                             "step 3 file_sync /d/x\n"
                             "fsync /d/x\n"
                             "dirsync /d\n"
                             "step 4 rename /d/x\n"
                             "rename /d/x /d/y\n"
                             "dirsync /d\n"
                             "step 5 remove_file /d/y\n"
                             "unlink /d/y\n"
                             "dirsync /d\n"
                             "step 6 remove_tree /d\n"
                             "rmtree /d\n"
                             "dirsync /\n"
                             "create /z\n"
                             "step 7 file_sync /z\n"
                             "fsync /z\n"
                             "dirsync /\n"
                             "step 8 file_write /z\n"
                             "write /z 0 6162\n"
                             "step 9 file_write /z\n"
                             "write /z 2 63\n"
                             "step 10 file_sync /z\n"
                             "fsync /z\n");
    unlink(log);

    /* the planted bug: rename without its folder fsyncs */
    setenv("HAAS_FS_LOG", log, 1);
    setenv("HAAS_TEST_UNSAFE_RENAME", "1", 1);
    pp = haas_posix_port_new(root, "fslog");
    unsetenv("HAAS_FS_LOG");
    unsetenv("HAAS_TEST_UNSAFE_RENAME");
    haas_posix_port_fill(pp, &P);
    assert_int_equal(P.rename(P.ctx, "/z", "/w"), 0);
    haas_posix_port_free(pp);
    memset(buf, 0, sizeof buf);
    assert_true(read_whole(log, buf, sizeof buf) > 0);
    assert_string_equal(buf, "step 1 rename /z\nrename /z /w\n");
    rm_rf(root);
    free(log);
    free(root);
}

static void test_crash_trace_and_steps(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *trace = join(root, ".trace");

    /* trace only, in this process; a bad HAAS_CRASH_AT is ignored */
    setenv("HAAS_CRASH_TRACE", trace, 1);
    setenv("HAAS_CRASH_AT", "zero", 1);
    fflush(stderr);
    haas_posix_port *pp = haas_posix_port_new(root, "trace");
    unsetenv("HAAS_CRASH_TRACE");
    unsetenv("HAAS_CRASH_AT");
    assert_non_null(pp);
    haas_port P;
    haas_posix_port_fill(pp, &P);
    install_steps(&P);
    haas_posix_port_free(pp);
    char buf[512] = {0};
    assert_true(read_whole(trace, buf, sizeof buf) > 0);
    assert_string_equal(buf, "1 make_dir /d\n"
                             "2 file_write /d/x\n"
                             "3 file_sync /d/x\n"
                             "4 rename /d/x /d/y\n"
                             "5 remove_file /d/y\n"
                             "6 remove_tree /d\n");
    unlink(trace);

    /* without HAAS_CRASH_TRACE, no trace */
    pp = haas_posix_port_new(root, "trace");
    haas_posix_port_fill(pp, &P);
    install_steps(&P);
    haas_posix_port_free(pp);
    assert_int_equal(access(trace, F_OK), -1);

    /* cut at the rename: it does not happen */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HAAS_CRASH_AT", "4", 1);
        haas_posix_port *cp = haas_posix_port_new(root, "crash");
        if (!cp)
            _exit(2);
        haas_port CP;
        haas_posix_port_fill(cp, &CP);
        install_steps(&CP);
        _exit(0);
    }
    int status = wait_child(pid, 10000);
    assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char *x = join(root, "/d/x"), *y = join(root, "/d/y");
    memset(buf, 0, sizeof buf);
    assert_int_equal(read_whole(x, buf, sizeof buf), 3);
    assert_string_equal(buf, "new");
    assert_int_equal(access(y, F_OK), -1);

    /* cut at the remove_tree: the folder is still there */
    unlink(x);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HAAS_CRASH_AT", "6", 1);
        haas_posix_port *cp = haas_posix_port_new(root, "crash");
        if (!cp)
            _exit(2);
        haas_port CP;
        haas_posix_port_fill(cp, &CP);
        install_steps(&CP);
        _exit(0);
    }
    status = wait_child(pid, 10000);
    assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    struct stat st;
    char *d = join(root, "/d");
    assert_int_equal(stat(d, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(access(y, F_OK), -1);

    free(d);
    free(x);
    free(y);
    free(trace);
    rm_rf(root);
    free(root);
}

/* Firmware OTA's flash areas (port_flash.c): files under the root, 0xFF
 * where never written, records replaced whole, bounds, erase, bad folders. */
static void test_flash_areas(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    haas_posix_port *pp = haas_posix_port_new(root, "flash");
    assert_non_null(pp);
    haas_flash F;
    assert_int_equal(haas_posix_flash_fill(pp, "/../fw", 0, &F), HAAS_PORT_ERR);
    assert_int_equal(haas_posix_flash_fill(pp, "/no/such/fw", 0, &F), HAAS_PORT_ERR);
    assert_int_equal(haas_posix_flash_fill(NULL, "/fw", 0, &F), HAAS_PORT_ERR);
    assert_int_equal(haas_posix_flash_fill(pp, "/fw", 0, &F), 0);
    assert_int_equal(F.size(F.ctx, HAAS_FLASH_SLOT0), 16ull << 20);
    assert_int_equal(haas_posix_flash_fill(pp, "/fw", 8192, &F), 0); /* again: an existing folder is fine */
    assert_ptr_equal(F.ctx, pp);
    assert_int_equal(F.size(F.ctx, HAAS_FLASH_SLOT1), 8192);
    assert_int_equal(F.size(F.ctx, HAAS_FLASH_OTADATA0), 4096);
    assert_int_equal(F.size(F.ctx, HAAS_FLASH_AREAS), 0);

    /* never written: 0xFF */
    uint8_t buf[64], ff[64];
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_SLOT1, 100, buf, sizeof buf), 0);
    assert_memory_equal(buf, ff, sizeof buf);
    /* a slot: bytes at their offset, the rest still 0xFF */
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_SLOT1, 10, "image", 5), 0);
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_SLOT1, 8, buf, 12), 0);
    assert_memory_equal(buf + 2, "image", 5);
    assert_int_equal(buf[7], 0xff);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_SLOT1, 0, "hd", 2), 0); /* earlier offsets keep later bytes */
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_SLOT1, 0, buf, 15), 0);
    assert_memory_equal(buf, "hd", 2);
    assert_memory_equal(buf + 10, "image", 5);
    char *slot1 = join(root, "/fw/slot1");
    struct stat st;
    assert_int_equal(stat(slot1, &st), 0);
    /* a record: replaced whole */
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_TASK0, 0, "long record", 11), 0);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_TASK0, 0, "new", 3), 0);
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_TASK0, 0, buf, 5), 0);
    assert_memory_equal(buf, "new\xff\xff", 5);
    /* erase */
    assert_int_equal(F.erase(F.ctx, HAAS_FLASH_SLOT1), 0);
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_SLOT1, 0, buf, 15), 0);
    assert_memory_equal(buf, ff, 15);
    assert_int_equal(F.erase(F.ctx, HAAS_FLASH_OTADATA1), 0); /* never written: fine */
    /* bounds and bad areas */
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_SLOT1, 8190, buf, 4), HAAS_PORT_ERR);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_SLOT1, 8190, "abcd", 4), HAAS_PORT_ERR);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_SLOT1, 9000, "a", 1), HAAS_PORT_ERR);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_OTADATA0, 0, NULL, 4), HAAS_PORT_ERR);
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_AREAS, 0, buf, 1), HAAS_PORT_ERR);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_AREAS, 0, "a", 1), HAAS_PORT_ERR);
    assert_int_equal(F.erase(F.ctx, HAAS_FLASH_AREAS), HAAS_PORT_ERR);
    /* an area that is a folder cannot be written or read */
    char *task1 = join(root, "/fw/task1");
    assert_int_equal(mkdir(task1, 0755), 0);
    assert_int_equal(F.write(F.ctx, HAAS_FLASH_TASK1, 0, "x", 1), HAAS_PORT_ERR);
    assert_int_equal(F.erase(F.ctx, HAAS_FLASH_TASK1), HAAS_PORT_ERR);
    assert_int_equal(F.read(F.ctx, HAAS_FLASH_TASK1, 0, buf, 1), HAAS_PORT_ERR);

    haas_posix_port_free(pp);
    free(task1);
    free(slot1);
    rm_rf(root);
    free(root);
}

/* flash_write and flash_erase are durable steps: traced, and a crash in a
 * write leaves its first half (a torn record). */
static void test_flash_crash(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *trace = join(root, ".trace");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HAAS_CRASH_AT", "3", 1);
        setenv("HAAS_CRASH_TRACE", trace, 1);
        haas_posix_port *pp = haas_posix_port_new(root, "crash");
        haas_flash F;
        if (!pp || haas_posix_flash_fill(pp, "/fw", 4096, &F) != 0)
            _exit(2);
        F.erase(F.ctx, HAAS_FLASH_SLOT0);
        F.write(F.ctx, HAAS_FLASH_OTADATA0, 0, "AAAAAAAA", 8);
        F.write(F.ctx, HAAS_FLASH_OTADATA0, 0, "BBBBBBBB", 8);
        _exit(0); /* survived: wrong */
    }
    int status = wait_child(pid, 10000);
    assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char buf[128] = {0};
    char *rec = join(root, "/fw/otadata0");
    assert_int_equal(read_whole(rec, buf, sizeof buf), 4);
    assert_string_equal(buf, "BBBB");
    memset(buf, 0, sizeof buf);
    assert_true(read_whole(trace, buf, sizeof buf) > 0);
    assert_string_equal(buf, "1 flash_erase /fw/slot0\n2 flash_write /fw/otadata0\n3 flash_write /fw/otadata0\n");

    /* a crash at an erase: the area keeps its bytes */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HAAS_CRASH_AT", "1", 1);
        haas_posix_port *pp = haas_posix_port_new(root, "crash");
        haas_flash F;
        if (!pp || haas_posix_flash_fill(pp, "/fw", 4096, &F) != 0)
            _exit(2);
        F.erase(F.ctx, HAAS_FLASH_OTADATA0);
        _exit(0);
    }
    status = wait_child(pid, 10000);
    assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    memset(buf, 0, sizeof buf);
    assert_int_equal(read_whole(rec, buf, sizeof buf), 4);

    unlink(trace);
    free(rec);
    free(trace);
    rm_rf(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_and_system),
        cmocka_unit_test(test_files_basic),
        cmocka_unit_test(test_files_tree_and_symlinks),
        cmocka_unit_test(test_files_reject_bad_paths),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_inflate),
        cmocka_unit_test_setup_teardown(test_http_full_and_ranges, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_errors, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_cut_and_resume, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_mqtt, mqtt_setup, mqtt_teardown),
        cmocka_unit_test(test_mqtt_subscription_refused),
        cmocka_unit_test(test_parse_broker),
        cmocka_unit_test_setup_teardown(test_mqtt_tls, mqtt_tls_setup, mqtt_teardown),
        cmocka_unit_test_setup_teardown(test_https, https_setup, https_teardown),
        cmocka_unit_test(test_crash_torn_write),
        cmocka_unit_test(test_crash_trace_and_steps),
        cmocka_unit_test(test_fs_log),
        cmocka_unit_test(test_flash_areas),
        cmocka_unit_test(test_flash_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
