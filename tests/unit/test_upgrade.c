/*
 * test_upgrade.c - unit tests of the SDK's upgrade state machine
 * (sdk/src/upgrade.c) against an in-memory platform double of haas_port:
 *
 *   files     a table of path -> bytes plus a set of folders, with the rename
 *             rules of haas_port.h (atomic; a file replaces a file; a folder
 *             moves with everything in it; a folder is never a destination),
 *             remove_tree, path_kind, file_size, and fault injection per
 *             operation and path;
 *   MQTT      connect records the credentials, subscribe the topics, publish
 *             the topic + payload; mqtt_poll delivers queued messages or
 *             reports HAAS_PORT_ERR_NET;
 *   HTTP      http_get serves a byte buffer from an offset, can cut after N
 *             bytes (HAAS_PORT_ERR_NET) or fail (HAAS_PORT_ERR_HTTP);
 *   inflate   real zlib (gzip wrapper); digests and HMAC through OpenSSL EVP;
 *   system    a clock the test sets, a log that records its lines, a reboot
 *             that counts.
 *
 * Packages are built here: a small ustar writer, gzipped with zlib.
 *
 * The last two tests pin failures that once left a device without its app
 * (a rollback that failed was reported and forgotten; a stale backup folder
 * could replace the running app).
 */
#define ZLIB_CONST
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "alink.h"
#include "haas_upgrade.h"
#include "private/journal.h"
#include "json_scan.h"
#ifdef HAAS_MCU
#include "tiny_inflate.h"
#endif

#define PK "a1PK0000001"
#define DN "core2-0001"
#define DS "s3cr3t-device-secret"
#define APPID "8800100099990000"
#define OTHER_APPID "8800100099990001"
#define APP_DIR "/data/pyamp"
#define WORK "/data/.haas"
#define PKG_PATH WORK "/package.tar.gz"
#define NEW_DIR WORK "/new"
#define OLD_DIR WORK "/old"
#define FAILED_DIR WORK "/failed"
#define JOURNAL_PATH WORK "/journal"
#define URL "http://127.0.0.1:8080/haas-emu/python9000-" APPID "-0.0.2.tar.gz?Expires=1&OSSAccessKeyId=k&Signature=s"
#define PUSH_TOPIC "/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push"
#define RESULT_TOPIC "/sys/" PK "/" DN "/thing/event/hli_event/post"
#define QUERY_TOPIC "/sys/" PK "/" DN "/thing/event/hli_event_upgrade_query/post"
#define FW_VERSION "1.0.2"

/* ================================================================== */
/* Small byte buffers                                                  */
/* ================================================================== */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void b_put(bytes *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void b_free(bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ================================================================== */
/* The in-memory flash                                                 */
/* ================================================================== */

typedef struct node {
    struct node *next;
    char *path;
    bool dir;
    bytes data;
    int opened;
} node;

typedef struct {
    node *n;
    haas_file_mode mode;
    size_t pos;
} mfile;

static node *fs;
static int open_files;
static int null_paths;  /* calls of the port with a NULL path */
static bool direct;     /* the test's own I/O: no faults */

/* Fault injection: the next `count` calls of op whose path contains `path`
 * (after `skip` matching calls succeeded) fail. For rename the path is
 * "from>to". */
typedef struct {
    const char *op, *path;
    int skip, count;
} fault;
static fault faults[8];
static int nfaults;

static void add_fault(const char *op, const char *path, int skip, int count)
{
    assert_true(nfaults < 8);
    faults[nfaults++] = (fault){op, path, skip, count};
}

static bool faulted(const char *op, const char *path)
{
    if (direct)
        return false;
    for (int i = 0; i < nfaults; i++) {
        fault *f = &faults[i];
        if (f->count <= 0 || strcmp(f->op, op) != 0 || (f->path && !strstr(path, f->path)))
            continue;
        if (f->skip > 0) {
            f->skip--;
            continue;
        }
        f->count--;
        return true;
    }
    return false;
}

static node *fs_find(const char *path)
{
    for (node *n = fs; n; n = n->next)
        if (strcmp(n->path, path) == 0)
            return n;
    return NULL;
}

static bool is_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int fs_kind(const char *path)
{
    if (strcmp(path, "/") == 0)
        return 2;
    node *n = fs_find(path);
    return n ? (n->dir ? 2 : 1) : 0;
}

static bool parent_is_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return false;
    if (slash == path)
        return true; /* the root */
    char parent[1024];
    size_t n = (size_t)(slash - path);
    assert_true(n < sizeof parent);
    memcpy(parent, path, n);
    parent[n] = '\0';
    return fs_kind(parent) == 2;
}

static node *fs_add(const char *path, bool dir)
{
    node *n = calloc(1, sizeof *n);
    assert_non_null(n);
    n->path = strdup(path);
    n->dir = dir;
    n->next = fs;
    fs = n;
    return n;
}

static void fs_drop(node *target)
{
    assert_int_equal(target->opened, 0); /* the core never removes an open file */
    for (node **pp = &fs; *pp; pp = &(*pp)->next) {
        if (*pp == target) {
            *pp = target->next;
            free(target->path);
            b_free(&target->data);
            free(target);
            return;
        }
    }
}

static void fs_drop_tree(const char *path)
{
    char *p = strdup(path);
    node *n = fs;
    while (n) {
        node *next = n->next;
        if (strcmp(n->path, p) == 0 || is_under(n->path, p))
            fs_drop(n);
        n = next;
    }
    free(p);
}

static void fs_reset(void)
{
    while (fs) {
        fs->opened = 0;
        fs_drop(fs);
    }
}

/* ---- test-side helpers on the flash ---- */

static void fs_mkdir(const char *path)
{
    assert_true(parent_is_dir(path));
    if (fs_kind(path) != 2)
        fs_add(path, true);
}

static void fs_write(const char *path, const void *data, size_t len)
{
    assert_true(parent_is_dir(path));
    node *n = fs_find(path);
    if (!n)
        n = fs_add(path, false);
    assert_false(n->dir);
    n->data.len = 0;
    b_put(&n->data, data, len);
}

static void fs_write_str(const char *path, const char *s) { fs_write(path, s, strlen(s)); }

/* The content of a file as a string (static buffer), NULL when absent. */
static const char *fs_text(const char *path)
{
    static char buf[8192];
    node *n = fs_find(path);
    if (!n || n->dir)
        return NULL;
    assert_true(n->data.len < sizeof buf);
    memcpy(buf, n->data.p, n->data.len);
    buf[n->data.len] = '\0';
    return buf;
}

static int fs_count_under(const char *dir)
{
    int c = 0;
    for (node *n = fs; n; n = n->next)
        c += is_under(n->path, dir);
    return c;
}

/* ---- the port's file functions ---- */

static haas_file p_file_open(void *ctx, const char *path, haas_file_mode mode)
{
    (void)ctx;
    if (!path) {
        null_paths++;
        return NULL;
    }
    if (faulted("open", path))
        return NULL;
    node *n = fs_find(path);
    if (mode == HAAS_FILE_READ) {
        if (!n || n->dir)
            return NULL;
    } else {
        if (n && n->dir)
            return NULL;
        if (!n) {
            if (!parent_is_dir(path))
                return NULL;
            n = fs_add(path, false);
        } else if (mode == HAAS_FILE_WRITE) {
            n->data.len = 0;
        }
    }
    mfile *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->n = n;
    f->mode = mode;
    n->opened++;
    open_files++;
    return f;
}

static long p_file_read(void *ctx, haas_file hf, void *buf, size_t len)
{
    (void)ctx;
    mfile *f = hf;
    assert_non_null(f);
    if (f->mode != HAAS_FILE_READ || faulted("read", f->n->path))
        return HAAS_PORT_ERR;
    size_t left = f->n->data.len - f->pos;
    size_t n = len < left ? len : left;
    memcpy(buf, f->n->data.p + f->pos, n);
    f->pos += n;
    return (long)n;
}

static int p_file_write(void *ctx, haas_file hf, const void *buf, size_t len)
{
    (void)ctx;
    mfile *f = hf;
    assert_non_null(f);
    if (f->mode == HAAS_FILE_READ || faulted("write", f->n->path))
        return HAAS_PORT_ERR;
    b_put(&f->n->data, buf, len);
    return 0;
}

static int p_file_sync(void *ctx, haas_file hf)
{
    (void)ctx;
    mfile *f = hf;
    assert_non_null(f);
    return faulted("sync", f->n->path) ? HAAS_PORT_ERR : 0;
}

static int p_file_close(void *ctx, haas_file hf)
{
    (void)ctx;
    mfile *f = hf;
    assert_non_null(f);
    bool fail = faulted("close", f->n->path);
    f->n->opened--;
    open_files--;
    free(f);
    return fail ? HAAS_PORT_ERR : 0;
}

static int p_file_size(void *ctx, const char *path, uint64_t *size)
{
    (void)ctx;
    if (!path) {
        null_paths++;
        return HAAS_PORT_ERR;
    }
    node *n = fs_find(path);
    if (!n || n->dir)
        return HAAS_PORT_ERR;
    *size = n->data.len;
    return 0;
}

static int p_path_kind(void *ctx, const char *path)
{
    (void)ctx;
    if (!path) {
        null_paths++;
        return 0;
    }
    return fs_kind(path);
}

static int renames;

static int p_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    if (!from || !to) {
        null_paths++;
        return HAAS_PORT_ERR;
    }
    char key[1024];
    snprintf(key, sizeof key, "%s>%s", from, to);
    if (faulted("rename", key))
        return HAAS_PORT_ERR;
    node *src = fs_find(from);
    if (!src || strcmp(from, to) == 0 || fs_kind(to) == 2 || !parent_is_dir(to))
        return HAAS_PORT_ERR;
    if (src->dir) {
        if (fs_kind(to) == 1 || is_under(to, from))
            return HAAS_PORT_ERR;
        size_t fl = strlen(from);
        for (node *n = fs; n; n = n->next) {
            if (n == src || !is_under(n->path, from))
                continue;
            char *np = malloc(strlen(to) + strlen(n->path + fl) + 1);
            assert_non_null(np);
            strcpy(np, to);
            strcat(np, n->path + fl);
            free(n->path);
            n->path = np;
        }
    } else {
        node *dst = fs_find(to);
        if (dst)
            fs_drop(dst);
    }
    free(src->path);
    src->path = strdup(to);
    renames++;
    return 0;
}

static int p_remove_file(void *ctx, const char *path)
{
    (void)ctx;
    if (!path) {
        null_paths++;
        return HAAS_PORT_ERR;
    }
    if (faulted("remove_file", path))
        return HAAS_PORT_ERR;
    node *n = fs_find(path);
    if (!n || n->dir)
        return HAAS_PORT_ERR;
    fs_drop(n);
    return 0;
}

static int p_make_dir(void *ctx, const char *path)
{
    (void)ctx;
    if (!path) {
        null_paths++;
        return HAAS_PORT_ERR;
    }
    if (faulted("make_dir", path))
        return HAAS_PORT_ERR;
    int k = fs_kind(path);
    if (k == 2)
        return 0;
    if (k == 1 || !parent_is_dir(path))
        return HAAS_PORT_ERR;
    fs_add(path, true);
    return 0;
}

static int p_remove_tree(void *ctx, const char *path)
{
    (void)ctx;
    if (!path) {
        null_paths++;
        return HAAS_PORT_ERR;
    }
    if (faulted("remove_tree", path))
        return HAAS_PORT_ERR;
    if (strcmp(path, "/") == 0)
        return HAAS_PORT_ERR;
    fs_drop_tree(path);
    return 0;
}

/* ================================================================== */
/* MQTT                                                                */
/* ================================================================== */

typedef struct {
    char topic[256];
    char *payload; /* NUL-terminated copy */
    size_t len;
    int qos;
} msgrec;

static msgrec pubs[64];
static int npubs;
static msgrec inbox[8];
static int ninbox;
static char subs[8][256];
static int nsubs;
static int connects, disconnects, polls;
static int connect_fail, subscribe_fail, publish_fail, poll_fail, hmac_fail;
static struct {
    char host[64], client_id[256], username[128], password[128];
    uint16_t port, keepalive;
} conn;

static int p_mqtt_connect(void *ctx, const char *host, uint16_t port, const char *client_id, const char *username,
                          const char *password, uint16_t keepalive_s)
{
    (void)ctx;
    connects++;
    copy_str(conn.host, sizeof conn.host, host);
    copy_str(conn.client_id, sizeof conn.client_id, client_id);
    copy_str(conn.username, sizeof conn.username, username);
    copy_str(conn.password, sizeof conn.password, password);
    conn.port = port;
    conn.keepalive = keepalive_s;
    if (connect_fail > 0) {
        connect_fail--;
        return HAAS_PORT_ERR_NET;
    }
    return 0;
}

static int p_mqtt_subscribe(void *ctx, const char *topic, int qos)
{
    (void)ctx;
    assert_int_equal(qos, 1);
    if (subscribe_fail > 0) {
        subscribe_fail--;
        return HAAS_PORT_ERR;
    }
    if (nsubs < 8)
        copy_str(subs[nsubs], sizeof subs[0], topic);
    nsubs++;
    return 0;
}

static int p_mqtt_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos)
{
    (void)ctx;
    if (publish_fail > 0) {
        publish_fail--;
        return HAAS_PORT_ERR_NET;
    }
    assert_true(npubs < 64);
    msgrec *m = &pubs[npubs++];
    copy_str(m->topic, sizeof m->topic, topic);
    m->payload = malloc(len + 1);
    assert_non_null(m->payload);
    memcpy(m->payload, payload, len);
    m->payload[len] = '\0';
    m->len = len;
    m->qos = qos;
    return 0;
}

static void queue_msg(const char *topic, const char *payload)
{
    assert_true(ninbox < 8);
    msgrec *m = &inbox[ninbox++];
    copy_str(m->topic, sizeof m->topic, topic);
    m->len = strlen(payload);
    m->payload = malloc(m->len ? m->len : 1); /* exactly the payload: over-reads are caught */
    assert_non_null(m->payload);
    memcpy(m->payload, payload, m->len);
}

static int p_mqtt_poll(void *ctx, uint32_t timeout_ms, haas_mqtt_receive_fn receive, void *core)
{
    (void)ctx;
    (void)timeout_ms;
    polls++;
    if (poll_fail > 0) {
        poll_fail--;
        return HAAS_PORT_ERR_NET;
    }
    int n = ninbox;
    ninbox = 0;
    for (int i = 0; i < n; i++) {
        receive(core, inbox[i].topic, (const uint8_t *)inbox[i].payload, inbox[i].len);
        free(inbox[i].payload);
        inbox[i].payload = NULL;
    }
    return 0;
}

static void p_mqtt_disconnect(void *ctx)
{
    (void)ctx;
    disconnects++;
}

static void clear_pubs(void)
{
    for (int i = 0; i < npubs; i++)
        free(pubs[i].payload);
    npubs = 0;
}

/* ================================================================== */
/* HTTP                                                                */
/* ================================================================== */

static bytes http_body;
static long http_cut[16]; /* per call: bytes delivered before a cut; <0 = none */
static int http_ncut;
static long http_cut_all = -1; /* every call cuts after this many bytes */
static int http_fail;         /* calls answered with HAAS_PORT_ERR_HTTP */
static bool http_net_on_stop; /* report a sink's stop as a cut, as a port may */
static int http_calls;
static uint64_t http_offsets[32];
static char http_url[1100];

static int p_http_get(void *ctx, const char *url, uint64_t offset, haas_sink_fn sink, void *core, uint64_t *total)
{
    (void)ctx;
    int call = http_calls++;
    if (call < 32)
        http_offsets[call] = offset;
    copy_str(http_url, sizeof http_url, url);
    if (http_fail > 0) {
        http_fail--;
        return HAAS_PORT_ERR_HTTP;
    }
    if (offset > http_body.len)
        return HAAS_PORT_ERR_HTTP; /* 416 */
    *total = http_body.len;
    long cut = call < http_ncut ? http_cut[call] : http_cut_all;
    size_t pos = (size_t)offset, sent = 0;
    while (pos < http_body.len) {
        if (cut >= 0 && sent >= (size_t)cut)
            return HAAS_PORT_ERR_NET;
        size_t n = http_body.len - pos;
        if (n > 700)
            n = 700;
        if (cut >= 0 && n > (size_t)cut - sent)
            n = (size_t)cut - sent;
        uint8_t *copy = malloc(n); /* exactly the chunk: over-reads are caught */
        assert_non_null(copy);
        memcpy(copy, http_body.p + pos, n);
        int stop = sink(core, copy, n);
        free(copy);
        if (stop)
            return http_net_on_stop ? HAAS_PORT_ERR_NET : HAAS_PORT_ERR_ABORTED;
        pos += n;
        sent += n;
    }
    return 0;
}

/* ================================================================== */
/* Inflate (zlib), digests (OpenSSL)                                   */
/* ================================================================== */

#ifndef HAAS_MCU
static z_stream zs;
#endif
static bool z_active, z_ended;
static int inflate_begin_fail;
static int inflate_trailing; /* times the port answered HAAS_PORT_ERR_TRAILING */

#ifdef HAAS_MCU
/* On a microcontroller (tests/mcu) the double inflates with the MCU port
 * kit's own small inflater (sdk/port/tiny), as firmware does: no zlib. */
static tiny_inflate tz;

static void z_close(void) {}

static int p_inflate_begin(void *ctx)
{
    (void)ctx;
    if (inflate_begin_fail > 0) {
        inflate_begin_fail--;
        return HAAS_PORT_ERR;
    }
    tiny_inflate_begin(&tz);
    z_active = true;
    z_ended = false;
    return 0;
}

static int p_inflate_feed(void *ctx, const uint8_t *in, size_t len, haas_sink_fn out, void *core)
{
    (void)ctx;
    if (!z_active)
        return HAAS_PORT_ERR;
    if (z_ended && len > 0)
        inflate_trailing++;
    if (z_ended)
        return len == 0 ? 1 : HAAS_PORT_ERR_TRAILING;
    int rc = tiny_inflate_feed(&tz, in, len, out, core);
    if (rc == 1 || rc == HAAS_PORT_ERR_TRAILING)
        z_ended = true;
    inflate_trailing += rc == HAAS_PORT_ERR_TRAILING;
    return rc;
}

static void p_inflate_end(void *ctx)
{
    (void)ctx;
    if (z_active)
        tiny_inflate_end(&tz);
    z_active = false;
}
#else
static void z_close(void) { inflateEnd(&zs); }

static int p_inflate_begin(void *ctx)
{
    (void)ctx;
    if (inflate_begin_fail > 0) {
        inflate_begin_fail--;
        return HAAS_PORT_ERR;
    }
    if (z_active)
        inflateEnd(&zs);
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return HAAS_PORT_ERR;
    z_active = true;
    z_ended = false;
    return 0;
}

static int p_inflate_feed(void *ctx, const uint8_t *in, size_t len, haas_sink_fn out, void *core)
{
    (void)ctx;
    if (!z_active)
        return HAAS_PORT_ERR;
    if (z_ended && len > 0)
        inflate_trailing++;
    if (z_ended)
        return len == 0 ? 1 : HAAS_PORT_ERR_TRAILING; /* fed again after the end */
    uint8_t buf[300]; /* small: many pieces for the sink */
    zs.next_in = in;
    zs.avail_in = (uInt)len;
    for (;;) {
        zs.next_out = buf;
        zs.avail_out = sizeof buf;
        int zr = inflate(&zs, Z_NO_FLUSH);
        size_t have = sizeof buf - zs.avail_out;
        if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR)
            return HAAS_PORT_ERR;
        if (have > 0 && out(core, buf, have) != 0)
            return HAAS_PORT_ERR_ABORTED;
        if (zr == Z_STREAM_END) {
            z_ended = true;
            inflate_trailing += zs.avail_in != 0;
            return zs.avail_in == 0 ? 1 : HAAS_PORT_ERR_TRAILING; /* haas_port.h: nothing after the end */
        }
        if (zs.avail_in == 0 && zs.avail_out != 0)
            return 0;
        if (zr == Z_BUF_ERROR && have == 0)
            return HAAS_PORT_ERR;
    }
}

static void p_inflate_end(void *ctx)
{
    (void)ctx;
    if (z_active)
        inflateEnd(&zs);
    z_active = false;
}

#endif

static int hash_live;

static int p_hash_init(void *ctx, haas_hash_state *st, haas_hash_kind kind)
{
    (void)ctx;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_DigestInit_ex(c, kind == HAAS_HASH_MD5 ? EVP_md5() : EVP_sha256(), NULL), 1);
    st->ptr_ = c;
    hash_live++;
    return 0;
}

static void p_hash_update(void *ctx, haas_hash_state *st, const void *data, size_t len)
{
    (void)ctx;
    EVP_DigestUpdate(st->ptr_, data, len);
}

static void p_hash_final(void *ctx, haas_hash_state *st, uint8_t *digest)
{
    (void)ctx;
    unsigned int n = 0;
    EVP_DigestFinal_ex(st->ptr_, digest, &n);
    EVP_MD_CTX_free(st->ptr_);
    st->ptr_ = NULL;
    hash_live--;
}

static int p_hmac_sha256(void *ctx, const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32])
{
    (void)ctx;
    if (hmac_fail > 0) {
        hmac_fail--;
        return HAAS_PORT_ERR;
    }
    unsigned int n = 32;
    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) ? 0 : HAAS_PORT_ERR;
}

/* ================================================================== */
/* Clock, log, reboot                                                  */
/* ================================================================== */

static uint64_t now;
static char *logs[512];
static int nlogs;
static int reboots;

static uint64_t p_now_ms(void *ctx)
{
    (void)ctx;
    return now;
}

static void p_log(void *ctx, haas_log_level level, const char *message)
{
    (void)ctx;
    (void)level;
    if (nlogs < 512)
        logs[nlogs++] = strdup(message);
}

static void p_reboot(void *ctx)
{
    (void)ctx;
    reboots++;
}

static bool log_has(const char *s)
{
    for (int i = 0; i < nlogs; i++)
        if (strstr(logs[i], s))
            return true;
    return false;
}

static int log_count(const char *s)
{
    int c = 0;
    for (int i = 0; i < nlogs; i++)
        c += strstr(logs[i], s) != NULL;
    return c;
}

static void clear_logs(void)
{
    for (int i = 0; i < nlogs; i++)
        free(logs[i]);
    nlogs = 0;
}

/* ================================================================== */
/* The journal as on flash (read and written by the test directly)    */
/* ================================================================== */

static journal_state get_journal(haas_journal *j)
{
    haas_journal tmp;
    if (!j)
        j = &tmp;
    char buf[1600], path[192];
    haas_port p;
    memset(&p, 0, sizeof p);
    p.file_open = p_file_open;
    p.file_read = p_file_read;
    p.file_close = p_file_close;
    bool was = direct;
    direct = true;
    journal_load(&p, WORK, j, buf, sizeof buf, path);
    direct = was;
    return j->state;
}

/* ================================================================== */
/* Events                                                              */
/* ================================================================== */

typedef struct {
    haas_event_type type;
    char app_id[32], version[48], detail[160];
    bool has_version, has_detail;
    uint64_t done, total;
    int code;
    journal_state journal; /* on flash when the event came */
} evrec;

static evrec evs[256];
static int nevs;
static int user_token;

static void on_event(void *user, const haas_event *ev)
{
    assert_ptr_equal(user, &user_token);
    assert_true(nevs < 256);
    evrec *e = &evs[nevs++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    copy_str(e->app_id, sizeof e->app_id, ev->app_id);
    e->has_version = ev->version != NULL;
    copy_str(e->version, sizeof e->version, ev->version);
    e->has_detail = ev->detail != NULL;
    copy_str(e->detail, sizeof e->detail, ev->detail);
    e->done = ev->done;
    e->total = ev->total;
    e->code = ev->code;
    e->journal = get_journal(NULL);
}

static int ev_count(haas_event_type t)
{
    int c = 0;
    for (int i = 0; i < nevs; i++)
        c += evs[i].type == t;
    return c;
}

/* The n-th (0-based) event of type t, NULL when there is none. */
static const evrec *ev_nth(haas_event_type t, int n)
{
    for (int i = 0; i < nevs; i++)
        if (evs[i].type == t && n-- == 0)
            return &evs[i];
    return NULL;
}

static const evrec *ev_last(haas_event_type t)
{
    for (int i = nevs - 1; i >= 0; i--)
        if (evs[i].type == t)
            return &evs[i];
    return NULL;
}

static int ev_index(haas_event_type t)
{
    for (int i = 0; i < nevs; i++)
        if (evs[i].type == t)
            return i;
    return -1;
}

/* ================================================================== */
/* Packages: a ustar writer + zlib                                     */
/* ================================================================== */

/* prefix: the ustar prefix field (NULL for none), for names over 100. */
static void tar_header_ex(bytes *t, const char *prefix, const char *name, char type, size_t size)
{
    uint8_t h[512];
    memset(h, 0, sizeof h);
    size_t nl = strlen(name);
    assert_true(nl <= 100);
    memcpy(h, name, nl);
    if (prefix) {
        assert_true(strlen(prefix) <= 155);
        memcpy(h + 345, prefix, strlen(prefix));
    }
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    for (int i = 10; i >= 0; i--) { /* 11 octal digits */
        h[124 + i] = (uint8_t)('0' + (size & 7));
        size >>= 3;
    }
    memcpy(h + 136, "14500000000", 11);
    memset(h + 148, ' ', 8);
    h[156] = (uint8_t)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += h[i];
    for (int i = 5; i >= 0; i--) {
        h[148 + i] = (uint8_t)('0' + (sum & 7));
        sum >>= 3;
    }
    h[154] = '\0';
    h[155] = ' ';
    b_put(t, h, sizeof h);
}

static void tar_header(bytes *t, const char *name, char type, size_t size) { tar_header_ex(t, NULL, name, type, size); }

static void tar_file(bytes *t, const char *name, const void *data, size_t len)
{
    static const uint8_t zeros[512];
    tar_header(t, name, '0', len);
    b_put(t, data, len);
    b_put(t, zeros, (512 - len % 512) % 512);
}

static void tar_str(bytes *t, const char *name, const char *s) { tar_file(t, name, s, strlen(s)); }

static void tar_dir(bytes *t, const char *name) { tar_header(t, name, '5', 0); }

static void tar_end(bytes *t)
{
    static const uint8_t zeros[1024];
    b_put(t, zeros, sizeof zeros);
}

/* gzip of in; with name, the header carries it (FNAME): a way to set the
 * length of the member without changing its content. */
static void gzip_named(const bytes *in, bytes *out, const char *name)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    gz_header head;
    memset(&head, 0, sizeof head);
    head.name = (Bytef *)name;
    if (name)
        assert_int_equal(deflateSetHeader(&s, &head), Z_OK);
    size_t cap = deflateBound(&s, (uLong)in->len) + 64 + (name ? strlen(name) + 1 : 0);
    out->len = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    s.next_in = in->p;
    s.avail_in = (uInt)in->len;
    s.next_out = buf;
    s.avail_out = (uInt)cap;
    assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
    b_put(out, buf, cap - s.avail_out);
    deflateEnd(&s);
    free(buf);
}

static void gzip_bytes(const bytes *in, bytes *out) { gzip_named(in, out, NULL); }

static void hex_of(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void digest_hex(const EVP_MD *md, const void *data, size_t len, char *out)
{
    uint8_t d[64];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, d, &n, md, NULL), 1);
    hex_of(d, n, out);
}

/* The package being served: the gzipped bytes, their MD5 and SHA-256. */
static bytes pkg;
static char pkg_md5[33], pkg_sha[65];
static uint64_t pkg_unpacked; /* bytes of files in the last tar_std */

static void serve(const void *data, size_t len)
{
    pkg.len = 0;
    b_put(&pkg, data, len);
    digest_hex(EVP_md5(), pkg.p, pkg.len, pkg_md5);
    digest_hex(EVP_sha256(), pkg.p, pkg.len, pkg_sha);
    http_body.len = 0;
    b_put(&http_body, pkg.p, pkg.len);
}

static void serve_tar(const bytes *t)
{
    bytes gz = {0};
    gzip_bytes(t, &gz);
    serve(gz.p, gz.len);
    b_free(&gz);
}

static char manifest_buf[256];
static const char *manifest_json(const char *appid, const char *version)
{
    snprintf(manifest_buf, sizeof manifest_buf, "{\"appName\":\"python9000\",\"version\":\"%s\",\"appid\":\"%s\"}",
             version, appid);
    return manifest_buf;
}

static char main_buf[64];
static const char *main_py(const char *version)
{
    snprintf(main_buf, sizeof main_buf, "print(\"app %s\")\n", version);
    return main_buf;
}

/* 3000 bytes that do not compress: the package is bigger than a few chunks. */
static const uint8_t *blob(void)
{
    static uint8_t b[3000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof b; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    return b;
}

/* A package as a developer makes it: manifest.json, main.py, a folder with
 * a module, and a nested file without folder entries. 5 members. */
static void tar_std(bytes *t, const char *appid, const char *version)
{
    pkg_unpacked = 0;
    const char *m = manifest_json(appid, version);
    tar_str(t, "manifest.json", m);
    pkg_unpacked += strlen(m);
    const char *py = main_py(version);
    tar_str(t, "./main.py", py);
    pkg_unpacked += strlen(py);
    tar_dir(t, "lib/");
    tar_str(t, "lib/util.py", "X = 1\n");
    pkg_unpacked += 6;
    tar_file(t, "assets/img/logo.bin", blob(), 3000);
    pkg_unpacked += 3000;
    tar_end(t);
}

static void serve_std(const char *version)
{
    bytes t = {0};
    tar_std(&t, APPID, version);
    serve_tar(&t);
    b_free(&t);
}

/* ================================================================== */
/* Pushes                                                              */
/* ================================================================== */

static void queue_push_ex(const char *appid, const char *version, long long size, const char *md5, const char *url,
                          const char *error_code, int rolling_back)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"id\":\"1657023114\",\"version\":\"1.0\",\"method\":\"thing.service.hli_service_upgrade_push\","
             "\"params\":{\"app\":[{\"size\":%lld,\"appId\":\"%s\",\"rollingBack\":%d,\"version\":\"%s\","
             "\"url\":\"%s\",\"md5\":\"%s\",\"needRestart\":0}],\"appUpdateCount\":1,\"errorCode\":\"%s\","
             "\"needUpdateFirmware\":0,\"haasTraceId\":\"0bc1747b16546803930783531e538d\"}}",
             size, appid, rolling_back, version, url, md5, error_code);
    queue_msg(PUSH_TOPIC, buf);
}

static void queue_push(const char *version)
{
    queue_push_ex(APPID, version, (long long)pkg.len, pkg_md5, URL, "200", 0);
}

/* ================================================================== */
/* The SDK under test                                                  */
/* ================================================================== */

static haas_config cfg;
static haas_port port;
static haas_upgrade up;

static void fill_port(haas_port *p)
{
    memset(p, 0, sizeof *p);
    p->ctx = &port; /* any pointer; the double keeps its state in statics */
    p->mqtt_connect = p_mqtt_connect;
    p->mqtt_subscribe = p_mqtt_subscribe;
    p->mqtt_publish = p_mqtt_publish;
    p->mqtt_poll = p_mqtt_poll;
    p->mqtt_disconnect = p_mqtt_disconnect;
    p->http_get = p_http_get;
    p->inflate_begin = p_inflate_begin;
    p->inflate_feed = p_inflate_feed;
    p->inflate_end = p_inflate_end;
    p->hash_init = p_hash_init;
    p->hash_update = p_hash_update;
    p->hash_final = p_hash_final;
    p->hmac_sha256 = p_hmac_sha256;
    p->file_open = p_file_open;
    p->file_read = p_file_read;
    p->file_write = p_file_write;
    p->file_sync = p_file_sync;
    p->file_close = p_file_close;
    p->file_size = p_file_size;
    p->path_kind = p_path_kind;
    p->rename = p_rename;
    p->remove_file = p_remove_file;
    p->make_dir = p_make_dir;
    p->remove_tree = p_remove_tree;
    p->now_ms = p_now_ms;
    p->log = p_log;
    p->reboot = p_reboot;
}

static void default_cfg(void)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.product_key = PK;
    cfg.device_name = DN;
    cfg.device_secret = DS;
    cfg.mqtt_host = "127.0.0.1";
    cfg.mqtt_port = 1883;
    cfg.app_dir = APP_DIR;
    cfg.work_dir = WORK;
    cfg.firmware_version = FW_VERSION;
}

/* An app folder at dir with its manifest and main.py. */
static void make_app(const char *dir, const char *version)
{
    char p[256];
    fs_mkdir(dir);
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    fs_write_str(p, manifest_json(APPID, version));
    snprintf(p, sizeof p, "%s/main.py", dir);
    fs_write_str(p, main_py(version));
}

/* The version of the app in dir per its manifest ("" when none). */
static const char *app_version_in(const char *dir)
{
    static char v[64];
    char p[256];
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    const char *m = fs_text(p);
    v[0] = '\0';
    if (m && !json_get_string(m, strlen(m), "version", v, sizeof v))
        v[0] = '\0';
    return v;
}

static void put_journal(journal_state st, const char *version, const char *old_version, uint64_t size,
                        const char *md5, uint32_t boots, int code)
{
    haas_journal j;
    memset(&j, 0, sizeof j);
    j.state = st;
    copy_str(j.app_id, sizeof j.app_id, APPID);
    copy_str(j.version, sizeof j.version, version);
    copy_str(j.old_version, sizeof j.old_version, old_version);
    copy_str(j.url, sizeof j.url, URL);
    copy_str(j.md5, sizeof j.md5, md5);
    j.size = size;
    j.boots = boots;
    j.code = code;
    if (fs_kind(WORK) != 2)
        fs_mkdir(WORK);
    char buf[1600], p1[192], p2[192];
    direct = true;
    int rc = journal_save(&port, WORK, &j, buf, sizeof buf, p1, p2);
    direct = false;
    assert_int_equal(rc, 0);
}

static void reset_world(void)
{
    fs_reset();
    open_files = null_paths = 0;
    direct = false;
    memset(faults, 0, sizeof faults);
    nfaults = 0;
    clear_pubs();
    for (int i = 0; i < ninbox; i++)
        free(inbox[i].payload);
    ninbox = 0;
    nsubs = 0;
    connects = disconnects = polls = 0;
    connect_fail = subscribe_fail = publish_fail = poll_fail = hmac_fail = 0;
    memset(&conn, 0, sizeof conn);
    b_free(&http_body);
    b_free(&pkg);
    http_ncut = 0;
    http_cut_all = -1;
    http_fail = http_calls = 0;
    http_net_on_stop = false;
    http_url[0] = '\0';
    if (z_active)
        z_close();
    z_active = z_ended = false;
    inflate_begin_fail = 0;
    inflate_trailing = 0;
    hash_live = 0;
    now = 0;
    clear_logs();
    reboots = 0;
    renames = 0;
    nevs = 0;
    memset(&up, 0, sizeof up);
}

static int setup(void **state)
{
    (void)state;
    reset_world();
    default_cfg();
    fill_port(&port);
    fs_mkdir("/data");
    make_app(APP_DIR, "0.0.1");
    serve_std("0.0.2");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    if (open_files != 0)
        fprintf(stderr, "teardown: %d files left open\n", open_files), bad = 1;
    if (z_active)
        fprintf(stderr, "teardown: inflate stream left open\n"), bad = 1;
    if (hash_live != 0)
        fprintf(stderr, "teardown: %d digest states not finalised\n", hash_live), bad = 1;
    for (int i = 0; i < nfaults; i++)
        if (faults[i].count > 0)
            fprintf(stderr, "teardown: fault %s %s never triggered\n", faults[i].op, faults[i].path), bad = 1;
    reset_world();
    return bad ? -1 : 0;
}

static int boot(void) { return haas_boot(&up, &cfg, &port, on_event, &user_token); }
static int drive(void) { return haas_drive(&up, 100); }

static void boot_start(void)
{
    assert_int_equal(boot(), HAAS_IDLE);
    assert_int_equal(haas_start(&up), 0);
}

/* ---- published messages ---- */

static int count_pubs(const char *topic)
{
    int c = 0;
    for (int i = 0; i < npubs; i++)
        c += strcmp(pubs[i].topic, topic) == 0;
    return c;
}

static const msgrec *nth_pub(const char *topic, int n)
{
    for (int i = 0; i < npubs; i++)
        if (strcmp(pubs[i].topic, topic) == 0 && n-- == 0)
            return &pubs[i];
    return NULL;
}

static int pub_index(const msgrec *m) { return (int)(m - pubs); }

static int64_t msg_id(const msgrec *m)
{
    int64_t id = -1;
    assert_true(json_get_int(m->payload, m->len, "id", &id));
    return id;
}

static void check_result(const msgrec *m, int code, const char *new_version, const char *old_version)
{
    assert_non_null(m);
    assert_string_equal(m->topic, RESULT_TOPIC);
    assert_int_equal(m->qos, 1);
    assert_true(json_valid(m->payload, m->len));
    int64_t v = 0;
    char s[512];
    assert_true(json_get_int(m->payload, m->len, "params.argInt", &v));
    assert_int_equal(v, code);
    assert_true(json_get_string(m->payload, m->len, "version", s, sizeof s));
    assert_string_equal(s, "1.0");
    assert_true(json_get_string(m->payload, m->len, "params.eventType", s, sizeof s));
    assert_string_equal(s, "haas.upgrade");
    assert_true(json_get_string(m->payload, m->len, "params.eventName", s, sizeof s));
    assert_string_equal(s, "app.result");
    char ext[512];
    assert_true(json_get_string(m->payload, m->len, "params.ext", ext, sizeof ext));
    assert_true(json_valid(ext, strlen(ext)));
    assert_true(json_get_string(ext, strlen(ext), "appId", s, sizeof s));
    assert_string_equal(s, APPID);
    assert_true(json_get_string(ext, strlen(ext), "appNewVersion", s, sizeof s));
    assert_string_equal(s, new_version);
    assert_true(json_get_string(ext, strlen(ext), "appOldVersion", s, sizeof s));
    assert_string_equal(s, old_version);
}

/* version NULL: the query lists no app. */
static void check_query(const msgrec *m, const char *version, const char *firmware)
{
    assert_non_null(m);
    assert_string_equal(m->topic, QUERY_TOPIC);
    assert_int_equal(m->qos, 1);
    assert_true(json_valid(m->payload, m->len));
    char s[256];
    json_value v;
    assert_true(json_get_string(m->payload, m->len, "params.firmwareVersion", s, sizeof s));
    assert_string_equal(s, firmware);
    assert_true(json_get_string(m->payload, m->len, "params.vendorId", s, sizeof s));
    assert_string_equal(s, "HaaSPython");
    if (!version) {
        assert_true(json_find(m->payload, m->len, "params.app", &v));
        assert_int_equal(v.type, JSON_ARRAY);
        assert_false(json_find(m->payload, m->len, "params.app[0]", &v));
        return;
    }
    assert_true(json_get_string(m->payload, m->len, "params.app[0].appId", s, sizeof s));
    assert_string_equal(s, APPID);
    assert_true(json_get_string(m->payload, m->len, "params.app[0].version", s, sizeof s));
    assert_string_equal(s, version);
}

/* The app folder holds exactly the app of that version as make_app made it. */
static void check_old_app_at(const char *dir, const char *version)
{
    char p[256];
    assert_int_equal(fs_kind(dir), 2);
    assert_string_equal(app_version_in(dir), version);
    snprintf(p, sizeof p, "%s/main.py", dir);
    assert_non_null(fs_text(p));
    assert_string_equal(fs_text(p), main_py(version));
    assert_int_equal(fs_count_under(dir), 2);
}

/* The app folder holds the package of tar_std. */
static void check_new_app_at(const char *dir, const char *version)
{
    char p[256];
    assert_int_equal(fs_kind(dir), 2);
    assert_string_equal(app_version_in(dir), version);
    snprintf(p, sizeof p, "%s/main.py", dir);
    assert_non_null(fs_text(p));
    assert_string_equal(fs_text(p), main_py(version));
    snprintf(p, sizeof p, "%s/lib", dir);
    assert_int_equal(fs_kind(p), 2);
    snprintf(p, sizeof p, "%s/lib/util.py", dir);
    assert_non_null(fs_text(p));
    assert_string_equal(fs_text(p), "X = 1\n");
    snprintf(p, sizeof p, "%s/assets/img", dir);
    assert_int_equal(fs_kind(p), 2);
    snprintf(p, sizeof p, "%s/assets/img/logo.bin", dir);
    node *n = fs_find(p);
    assert_non_null(n);
    assert_int_equal(n->data.len, 3000);
    assert_memory_equal(n->data.p, blob(), 3000);
    /* manifest.json, main.py, lib, lib/util.py, assets, assets/img, logo.bin */
    assert_int_equal(fs_count_under(dir), 7);
}

/* An installed, unconfirmed upgrade: app 0.0.2 in place, 0.0.1 in work/old. */
static void setup_installed(journal_state st, uint32_t boots)
{
    fs_mkdir(WORK);
    make_app(OLD_DIR, "0.0.1");
    fs_drop_tree(APP_DIR);
    make_app(APP_DIR, "0.0.2");
    put_journal(st, "0.0.2", "0.0.1", pkg.len, pkg_md5, boots, 0);
}

/* The result was published, then the query with the version now running,
 * and the journal is gone. */
static void check_reported(int code, const char *running)
{
    const msgrec *r = nth_pub(RESULT_TOPIC, 0);
    check_result(r, code, "0.0.2", "0.0.1");
    assert_int_equal(count_pubs(RESULT_TOPIC), 1);
    const msgrec *q = nth_pub(QUERY_TOPIC, count_pubs(QUERY_TOPIC) - 1);
    check_query(q, running, FW_VERSION);
    assert_true(pub_index(r) < pub_index(q));
    assert_true(msg_id(r) < msg_id(q));
    const evrec *e = ev_last(HAAS_EV_RESULT_SENT);
    assert_non_null(e);
    assert_int_equal(e->code, code);
    assert_string_equal(e->version, "0.0.2");
    assert_string_equal(e->app_id, APPID);
    assert_int_equal(fs_kind(JOURNAL_PATH), 0);
    assert_int_equal(up.journal.state, JOURNAL_NONE);
}

/* ================================================================== */
/* haas_boot                                                           */
/* ================================================================== */

static void test_boot_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(haas_boot(NULL, &cfg, &port, on_event, &user_token), -1);
    assert_int_equal(haas_boot(&up, NULL, &port, on_event, &user_token), -1);
    assert_int_equal(haas_boot(&up, &cfg, NULL, on_event, &user_token), -1);
    for (int i = 0; i < 6; i++) {
        haas_config c = cfg;
        const char **field[] = {&c.product_key, &c.device_name, &c.device_secret,
                                &c.app_dir,     &c.work_dir,    &c.mqtt_host};
        *field[i] = NULL;
        assert_int_equal(haas_boot(&up, &c, &port, on_event, &user_token), -1);
    }
    assert_int_equal(fs_kind(WORK), 0);

    /* the work folder cannot be had: no parent, a file in the way, a path
     * too long for the SDK's buffers, make_dir failing */
    haas_config c = cfg;
    c.work_dir = "/nope/.haas";
    assert_int_equal(haas_boot(&up, &c, &port, on_event, &user_token), -1);
    fs_write_str("/data/file", "x");
    c.work_dir = "/data/file";
    assert_int_equal(haas_boot(&up, &c, &port, on_event, &user_token), -1);
    char longdir[200];
    memset(longdir, 'w', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    c.work_dir = longdir;
    assert_int_equal(haas_boot(&up, &c, &port, on_event, &user_token), -1);
    add_fault("make_dir", WORK, 0, 1);
    assert_int_equal(boot(), -1);
    assert_int_equal(fs_kind(WORK), 0);
    assert_int_equal(nevs, 0);
    assert_int_equal(connects, 0);

    /* the event callback is optional */
    assert_int_equal(haas_boot(&up, &cfg, &port, NULL, NULL), HAAS_IDLE);
    assert_int_equal(fs_kind(WORK), 2);
    assert_int_equal(haas_start(&up), 0);
    assert_int_equal(nevs, 0);
    check_query(nth_pub(QUERY_TOPIC, 0), "0.0.1", FW_VERSION);
}

static void test_boot_without_journal_reads_manifest(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    fs_mkdir(NEW_DIR); /* a leftover of a cut extraction without journal */
    fs_write_str(NEW_DIR "/junk.py", "x");
    fs_write_str(JOURNAL_PATH, "state=4\nappId=" APPID "\nversion=0.0.2\n"); /* incomplete: no end line */
    assert_int_equal(boot(), HAAS_IDLE);
    assert_int_equal(up.state, HAAS_IDLE);
    assert_string_equal(haas_app_id(&up), APPID);
    assert_string_equal(haas_app_version(&up), "0.0.1");
    assert_int_equal(fs_kind(NEW_DIR), 0);
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(nevs, 0);
    assert_int_equal(connects, 0);
    assert_int_equal(reboots, 0);

    /* a work folder that exists already is used as it is */
    fs_write_str(WORK "/keep", "k");
    assert_int_equal(boot(), HAAS_IDLE);
    assert_int_equal(fs_kind(WORK "/keep"), 1);

    /* manifests that do not give an app id and a version: no app */
    const char *bad[] = {NULL,
                         "{",
                         "{\"appid\":\"" APPID "\"}",
                         "{\"version\":\"0.0.1\"}",
                         "{\"appid\":\"880010009999000012345678901\",\"version\":\"0.0.1\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i])
            fs_write_str(APP_DIR "/manifest.json", bad[i]);
        else
            fs_drop_tree(APP_DIR "/manifest.json");
        assert_int_equal(boot(), HAAS_IDLE);
        assert_string_equal(haas_app_id(&up), "");
        assert_string_equal(haas_app_version(&up), "");
    }
    /* valid, but larger than the SDK's buffer */
    char big[2000];
    int n = snprintf(big, sizeof big, "{\"appid\":\"%s\",\"version\":\"0.0.1\",\"pad\":\"", APPID);
    memset(big + n, 'p', 1700);
    strcpy(big + n + 1700, "\"}");
    assert_true(json_valid(big, strlen(big)));
    fs_write_str(APP_DIR "/manifest.json", big);
    assert_int_equal(boot(), HAAS_IDLE);
    assert_string_equal(haas_app_version(&up), "");
    /* an app folder whose manifest path does not fit the SDK's buffers */
    char longapp[190];
    memset(longapp, 'a', sizeof longapp - 1);
    longapp[0] = '/';
    longapp[sizeof longapp - 1] = '\0';
    cfg.app_dir = longapp;
    fs_write_str(APP_DIR "/manifest.json", manifest_json(APPID, "0.0.1"));
    assert_int_equal(boot(), -1); /* refused: paths below it would not fit */
}

/* ================================================================== */
/* haas_start, haas_drive: MQTT                                        */
/* ================================================================== */

static void test_start_connects_subscribes_and_queries(void **state)
{
    (void)state;
    assert_int_equal(boot(), HAAS_IDLE);
    now = 500;
    assert_int_equal(haas_start(&up), 0);
    assert_int_equal(connects, 1);
    assert_string_equal(conn.host, "127.0.0.1");
    assert_int_equal(conn.port, 1883);
    assert_int_equal(conn.keepalive, 60);
    assert_string_equal(conn.client_id,
                        PK "." DN "|timestamp=2524608000000,_ss=1,_v=sdk-c-4.0.0,securemode=3,signmethod=hmacsha256,ext=3,|");
    assert_string_equal(conn.username, DN "&" PK);
    const char content[] = "clientId" PK "." DN "deviceName" DN "productKey" PK "timestamp2524608000000";
    uint8_t mac[32];
    unsigned int ml = 32;
    HMAC(EVP_sha256(), DS, (int)strlen(DS), (const uint8_t *)content, strlen(content), mac, &ml);
    char hex[65];
    hex_of(mac, 32, hex);
    assert_string_equal(conn.password, hex);
    assert_int_equal(nsubs, 1);
    assert_string_equal(subs[0], PUSH_TOPIC);
    assert_int_equal(npubs, 1);
    check_query(&pubs[0], "0.0.1", FW_VERSION);
    assert_int_equal(msg_id(&pubs[0]), 1);
    assert_int_equal(ev_count(HAAS_EV_CONNECTED), 1);
    assert_string_equal(ev_last(HAAS_EV_CONNECTED)->version, "0.0.1");
    assert_string_equal(ev_last(HAAS_EV_CONNECTED)->app_id, APPID);
    assert_true(log_has("subscribed topic success: " PUSH_TOPIC));

    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(polls, 1);
    assert_int_equal(connects, 1);
    assert_int_equal(npubs, 1);

    /* another boot: own keepalive, no firmware version, no app installed */
    clear_pubs();
    fs_drop_tree(APP_DIR);
    cfg.keepalive_s = 30;
    cfg.firmware_version = NULL;
    assert_int_equal(boot(), HAAS_IDLE);
    assert_int_equal(haas_start(&up), 0);
    assert_int_equal(conn.keepalive, 30);
    assert_int_equal(npubs, 1);
    check_query(&pubs[0], NULL, "");
}

static void test_start_failures_and_reconnect(void **state)
{
    (void)state;
    assert_int_equal(boot(), HAAS_IDLE);
    now = 1000;
    connect_fail = 1;
    assert_int_equal(haas_start(&up), HAAS_PORT_ERR_NET);
    assert_int_equal(connects, 1);
    assert_int_equal(nsubs, 0);
    assert_int_equal(npubs, 0);
    assert_int_equal(ev_count(HAAS_EV_CONNECTED), 0);
    now = 2999; /* retried 2 s later, not before */
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(connects, 1);
    assert_int_equal(polls, 0);
    now = 3000;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(connects, 2);
    assert_int_equal(polls, 1);
    assert_int_equal(ev_count(HAAS_EV_CONNECTED), 1);
    check_query(nth_pub(QUERY_TOPIC, 0), "0.0.1", FW_VERSION);

    /* the subscription is refused: disconnected, tried again later */
    clear_pubs();
    assert_int_equal(boot(), HAAS_IDLE);
    now = 10000;
    subscribe_fail = 1;
    assert_int_equal(haas_start(&up), HAAS_PORT_ERR);
    assert_int_equal(disconnects, 1);
    assert_int_equal(npubs, 0);
    now = 11999;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(connects, 3);
    now = 12000;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(connects, 4);
    assert_int_equal(npubs, 1);

    /* the credentials cannot be computed: no connection attempt */
    assert_int_equal(boot(), HAAS_IDLE);
    hmac_fail = 1;
    assert_int_equal(haas_start(&up), HAAS_PORT_ERR);
    assert_int_equal(connects, 4);
}

/* Refused connects back off: 2 s, 4 s, 8 s ... at most 60 s, and a
 * connect that works starts over at 2 s. */
static void test_refused_connects_back_off(void **state)
{
    (void)state;
    assert_int_equal(boot(), HAAS_IDLE);
    now = 1000;
    connect_fail = 1000; /* every try fails */
    assert_int_equal(haas_start(&up), HAAS_PORT_ERR_NET);
    static const uint64_t waits[] = {2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        int before = connects;
        now += waits[i] - 1;
        drive();
        assert_int_equal(connects, before); /* not yet */
        now += 1;
        drive();
        assert_int_equal(connects, before + 1);
    }
    connect_fail = 0;
    now += 60000;
    drive(); /* connected: the next loss waits 2 s again */
    assert_int_equal(up.reconnect_ms, 0);
}

static void test_drive_reconnects_after_connection_loss(void **state)
{
    (void)state;
    boot_start();
    assert_int_equal(npubs, 1);
    now = 5000;
    poll_fail = 1;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(disconnects, 1);
    assert_int_equal(ev_count(HAAS_EV_DISCONNECTED), 1);
    assert_false(ev_last(HAAS_EV_DISCONNECTED)->has_version);
    now = 6999;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(connects, 1);
    assert_int_equal(polls, 1);
    now = 7000;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(connects, 2);
    assert_int_equal(polls, 2);
    assert_int_equal(ev_count(HAAS_EV_CONNECTED), 2);
    assert_int_equal(npubs, 2);
    check_query(&pubs[1], "0.0.1", FW_VERSION);
    assert_int_equal(msg_id(&pubs[1]), 2);
}

/* ================================================================== */
/* Pushes                                                              */
/* ================================================================== */

static void expect_ignored(const char *version, const char *detail)
{
    int before = nevs;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(nevs, before + 1);
    assert_int_equal(evs[before].type, HAAS_EV_PUSH_IGNORED);
    assert_string_equal(evs[before].detail, detail);
    assert_string_equal(evs[before].version, version);
    assert_string_equal(evs[before].app_id, APPID);
    assert_int_equal(fs_kind(JOURNAL_PATH), 0);
    assert_int_equal(up.journal.state, JOURNAL_NONE);
    assert_int_equal(http_calls, 0);
}

static void test_push_ignored_by_stock_rules(void **state)
{
    (void)state;
    boot_start();
    long long size = (long long)pkg.len;
    queue_msg(PUSH_TOPIC, "{not json");
    expect_ignored("", "malformed push");
    queue_push_ex(APPID, "0.0.2", size, pkg_md5, URL, "500", 0);
    expect_ignored("", "errorCode is not \"200\"");
    queue_push_ex(APPID, "0.0.2", size, pkg_md5, URL, "200", 1);
    expect_ignored("0.0.2", "rollingBack is not 0");
    queue_push_ex(OTHER_APPID, "0.0.2", size, pkg_md5, URL, "200", 0);
    expect_ignored("0.0.2", "push for another app");
    queue_push_ex(APPID, "0.0.1", size, pkg_md5, URL, "200", 0);
    expect_ignored("0.0.1", "version is not newer than the installed one");
    queue_push_ex(APPID, "0.0.0", size, pkg_md5, URL, "200", 0);
    expect_ignored("0.0.0", "version is not newer than the installed one");
    queue_push_ex(APPID, "0.2", size, pkg_md5, URL, "200", 0);
    expect_ignored("0.2", "version is not three numbers");
    queue_push_ex(APPID, "0.0.2", size, pkg_md5, "ftp://127.0.0.1/x.tar.gz", "200", 0);
    expect_ignored("0.0.2", "url is not http(s)://host[:port]/...");
    assert_int_equal(log_count("push ignored: "), 8);

    /* other messages are not pushes */
    int before = nevs;
    queue_msg("/sys/" PK "/" DN "/thing/event/hli_event/post_reply", "{\"id\":1,\"code\":200,\"data\":{}}");
    queue_msg(PUSH_TOPIC "_reply", "{}");
    queue_msg("x", "{}");
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(nevs, before);
    assert_int_equal(npubs, 1);
    assert_int_equal(fs_kind(JOURNAL_PATH), 0);
}

static void test_push_accepted_and_others_ignored_while_busy(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    fs_write_str(PKG_PATH, "stale bytes of an older attempt");
    boot_start();
    now = 1000;
    queue_push("0.0.2");
    queue_push("0.0.2"); /* the same push again, in the same poll */
    assert_int_equal(drive(), HAAS_INSTALLING);

    const evrec *a = ev_nth(HAAS_EV_PUSH_ACCEPTED, 0);
    assert_non_null(a);
    assert_string_equal(a->version, "0.0.2");
    assert_string_equal(a->app_id, APPID);
    assert_int_equal(a->done, 0);
    assert_int_equal(a->total, pkg.len);
    assert_int_equal(a->journal, JOURNAL_DOWNLOADING); /* journalled before announced */
    assert_int_equal(ev_count(HAAS_EV_PUSH_ACCEPTED), 1);
    const evrec *ig = ev_nth(HAAS_EV_PUSH_IGNORED, 0);
    assert_non_null(ig);
    assert_true(ev_index(HAAS_EV_PUSH_ACCEPTED) < ev_index(HAAS_EV_PUSH_IGNORED));
    assert_true(log_has("push ignored: an upgrade is already in progress"));
    assert_true(log_has("local version low, upgrade to 0.0.2"));

    /* the stale staging file was not resumed */
    assert_int_equal(http_calls, 1);
    assert_int_equal(http_offsets[0], 0);
    assert_string_equal(http_url, URL);
    node *staged = fs_find(PKG_PATH);
    assert_non_null(staged);
    assert_int_equal(staged->data.len, pkg.len);
    assert_memory_equal(staged->data.p, pkg.p, pkg.len);

    haas_journal j;
    assert_int_equal(get_journal(&j), JOURNAL_EXTRACTING);
    assert_string_equal(j.app_id, APPID);
    assert_string_equal(j.version, "0.0.2");
    assert_string_equal(j.old_version, "0.0.1");
    assert_string_equal(j.url, URL);
    assert_string_equal(j.md5, pkg_md5);
    assert_int_equal(j.size, pkg.len);

    /* still busy while installing */
    queue_push_ex(APPID, "0.0.3", (long long)pkg.len, pkg_md5, URL, "200", 0);
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    assert_int_equal(ev_count(HAAS_EV_PUSH_IGNORED), 2);
    assert_string_equal(ev_last(HAAS_EV_PUSH_IGNORED)->version, "0.0.3");
    assert_int_equal(ev_count(HAAS_EV_PUSH_ACCEPTED), 1);
}

static void test_push_ignored_when_journal_cannot_be_written(void **state)
{
    (void)state;
    boot_start();
    add_fault("open", "journal.tmp", 0, 1);
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(ev_count(HAAS_EV_PUSH_ACCEPTED), 0);
    assert_int_equal(log_count("cannot write the journal; push ignored"), 1);
    assert_int_equal(up.journal.state, JOURNAL_NONE);
    assert_int_equal(fs_kind(JOURNAL_PATH), 0);
    assert_int_equal(http_calls, 0);

    add_fault("rename", "journal.tmp>", 0, 1);
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(ev_count(HAAS_EV_PUSH_ACCEPTED), 0);
    assert_int_equal(log_count("cannot write the journal; push ignored"), 2);
    assert_int_equal(fs_kind(JOURNAL_PATH), 0);
    assert_int_equal(http_calls, 0);

    /* the next push goes through */
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(ev_count(HAAS_EV_PUSH_ACCEPTED), 1);
}

/* ================================================================== */
/* The whole upgrade                                                   */
/* ================================================================== */

static void test_upgrade_install_reboot_confirm(void **state)
{
    (void)state;
    boot_start();
    assert_int_equal(npubs, 1);
    now = 1000;
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_INSTALLING);

    /* downloaded and verified */
    assert_int_equal(ev_count(HAAS_EV_PROGRESS), 1);
    const evrec *p = ev_last(HAAS_EV_PROGRESS);
    assert_int_equal(p->done, pkg.len);
    assert_int_equal(p->total, pkg.len);
    assert_string_equal(p->version, "0.0.2");
    const evrec *v = ev_last(HAAS_EV_VERIFIED);
    assert_non_null(v);
    assert_string_equal(v->detail, pkg_sha);
    assert_int_equal(v->done, pkg.len);
    assert_int_equal(v->total, pkg.len);
    assert_true(ev_index(HAAS_EV_PUSH_ACCEPTED) < ev_index(HAAS_EV_PROGRESS));
    assert_true(ev_index(HAAS_EV_PROGRESS) < ev_index(HAAS_EV_VERIFIED));
    assert_int_equal(get_journal(NULL), JOURNAL_EXTRACTING);
    check_old_app_at(APP_DIR, "0.0.1"); /* untouched so far */

    /* extracted, swapped, restart asked for */
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    assert_int_equal(reboots, 1);
    assert_true(log_has("Reset Device to upgrade app"));
    const evrec *in = ev_last(HAAS_EV_INSTALLED);
    assert_non_null(in);
    assert_string_equal(in->version, "0.0.2");
    assert_int_equal(in->journal, JOURNAL_PENDING);
    check_new_app_at(APP_DIR, "0.0.2");
    check_old_app_at(OLD_DIR, "0.0.1");
    assert_int_equal(fs_kind(NEW_DIR), 0);
    assert_int_equal(fs_kind(PKG_PATH), 0);
    haas_journal j;
    assert_int_equal(get_journal(&j), JOURNAL_PENDING);
    assert_int_equal(j.boots, 0);
    assert_int_equal(count_pubs(RESULT_TOPIC), 0); /* nothing reported before the new app runs */
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    assert_int_equal(reboots, 1);

    /* the restart: the new app must confirm */
    clear_pubs();
    nevs = 0;
    now = 50000;
    assert_int_equal(boot(), HAAS_CONFIRMING);
    assert_string_equal(haas_app_version(&up), "0.0.2");
    assert_int_equal(get_journal(&j), JOURNAL_PENDING);
    assert_int_equal(j.boots, 1);
    assert_int_equal(haas_start(&up), 0);
    assert_int_equal(ev_count(HAAS_EV_CONNECTED), 1);
    assert_int_equal(npubs, 0); /* no query while unconfirmed */
    queue_push_ex(APPID, "0.0.3", (long long)pkg.len, pkg_md5, URL, "200", 0);
    now = 50000 + 59999;
    assert_int_equal(drive(), HAAS_CONFIRMING);
    assert_int_equal(ev_count(HAAS_EV_PUSH_IGNORED), 1);

    assert_int_equal(haas_confirm(&up), 0);
    assert_int_equal(up.state, HAAS_IDLE);
    const evrec *c = ev_last(HAAS_EV_CONFIRMED);
    assert_non_null(c);
    assert_int_equal(c->code, 200);
    assert_string_equal(c->version, "0.0.2");
    assert_int_equal(c->journal, JOURNAL_REPORT); /* decided before announced */
    assert_true(ev_index(HAAS_EV_CONFIRMED) < ev_index(HAAS_EV_RESULT_SENT));
    check_reported(200, "0.0.2");
    assert_int_equal(fs_kind(OLD_DIR), 0);
    check_new_app_at(APP_DIR, "0.0.2");
    assert_int_equal(ev_count(HAAS_EV_FAILED), 0);
    assert_int_equal(ev_count(HAAS_EV_ROLLED_BACK), 0);

    assert_int_equal(haas_confirm(&up), -1);
    assert_int_equal(haas_reject(&up), -1);
    int pubs_before = npubs;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(npubs, pubs_before);

    /* a later boot is a plain one */
    assert_int_equal(boot(), HAAS_IDLE);
    assert_string_equal(haas_app_version(&up), "0.0.2");
}

/* ================================================================== */
/* Download                                                            */
/* ================================================================== */

static void test_download_resumes_after_cuts(void **state)
{
    (void)state;
    assert_true(pkg.len > 3000);
    http_cut[0] = 1000;
    http_cut[1] = 1500;
    http_ncut = 2;
    boot_start();
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(http_calls, 3);
    assert_int_equal(http_offsets[0], 0);
    assert_int_equal(http_offsets[1], 1000);
    assert_int_equal(http_offsets[2], 2500);
    assert_int_equal(log_count("download cut; resuming"), 2);
    assert_int_equal(ev_count(HAAS_EV_PROGRESS), 3);
    assert_int_equal(ev_nth(HAAS_EV_PROGRESS, 0)->done, 1000);
    assert_int_equal(ev_nth(HAAS_EV_PROGRESS, 1)->done, 2500);
    assert_int_equal(ev_nth(HAAS_EV_PROGRESS, 2)->done, pkg.len);
    assert_int_equal(ev_nth(HAAS_EV_PROGRESS, 0)->total, pkg.len);
    assert_string_equal(ev_last(HAAS_EV_VERIFIED)->detail, pkg_sha);
    node *staged = fs_find(PKG_PATH);
    assert_non_null(staged);
    assert_int_equal(staged->data.len, pkg.len);
    assert_memory_equal(staged->data.p, pkg.p, pkg.len);
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    check_new_app_at(APP_DIR, "0.0.2");
}

/* The push was accepted; the download fails: 404, reported at once. */
static void expect_download_404(const char *log_line)
{
    int failed = ev_count(HAAS_EV_FAILED);
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(ev_count(HAAS_EV_FAILED), failed + 1);
    const evrec *f = ev_last(HAAS_EV_FAILED);
    assert_int_equal(f->code, 404);
    assert_string_equal(f->detail, "download or verification failed");
    assert_string_equal(f->version, "0.0.2");
    assert_int_equal(f->journal, JOURNAL_REPORT);
    if (log_line)
        assert_true(log_has(log_line));
    assert_int_equal(fs_kind(PKG_PATH), 0);
    assert_int_equal(fs_kind(NEW_DIR), 0);
    check_old_app_at(APP_DIR, "0.0.1");
    check_reported(404, "0.0.1");
    assert_int_equal(reboots, 0);
    clear_pubs();
}

static void test_download_too_many_cuts_fails_404(void **state)
{
    (void)state;
    http_cut_all = 100;
    boot_start();
    queue_push("0.0.2");
    expect_download_404("download failed");
    assert_int_equal(http_calls, 5); /* max_download_attempts 0 = 5 */
    for (int i = 0; i < 5; i++)
        assert_int_equal(http_offsets[i], 100 * i);
    assert_int_equal(log_count("download cut; resuming"), 4);
    assert_int_equal(ev_count(HAAS_EV_PROGRESS), 5);
    assert_int_equal(ev_last(HAAS_EV_PROGRESS)->done, 500);
    assert_int_equal(ev_count(HAAS_EV_VERIFIED), 0);

    /* configured attempts */
    cfg.max_download_attempts = 2;
    http_calls = 0;
    boot_start();
    queue_push("0.0.2");
    expect_download_404(NULL);
    assert_int_equal(http_calls, 2);
}

static void test_download_size_limits(void **state)
{
    (void)state;
    cfg.max_package_size = pkg.len - 1;
    boot_start();
    queue_push("0.0.2");
    expect_download_404("package size is zero or above max_package_size");
    assert_int_equal(http_calls, 0);
    queue_push_ex(APPID, "0.0.2", 0, pkg_md5, URL, "200", 0);
    expect_download_404(NULL);
    assert_int_equal(http_calls, 0);

    cfg.max_package_size = 0; /* 16 MiB */
    boot_start();
    queue_push_ex(APPID, "0.0.2", (16LL << 20) + 1, pkg_md5, URL, "200", 0);
    expect_download_404(NULL);
    assert_int_equal(http_calls, 0);

    cfg.max_package_size = pkg.len; /* at the limit is fine */
    boot_start();
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(http_calls, 1);
}

static void test_download_md5_checked(void **state)
{
    (void)state;
    boot_start();
    char md5[33];
    strcpy(md5, pkg_md5);
    md5[0] = md5[0] == '0' ? '1' : '0'; /* high nibble of the first byte */
    queue_push_ex(APPID, "0.0.2", (long long)pkg.len, md5, URL, "200", 0);
    expect_download_404("package size or md5 mismatch");
    strcpy(md5, pkg_md5);
    md5[31] = md5[31] == '0' ? '1' : '0'; /* low nibble of the last byte */
    queue_push_ex(APPID, "0.0.2", (long long)pkg.len, md5, URL, "200", 0);
    expect_download_404("package size or md5 mismatch");
    assert_int_equal(ev_count(HAAS_EV_VERIFIED), 0);

    /* upper-case hex is the same MD5 */
    for (int i = 0; i < 32; i++)
        md5[i] = (char)(pkg_md5[i] >= 'a' ? pkg_md5[i] - 'a' + 'A' : pkg_md5[i]);
    queue_push_ex(APPID, "0.0.2", (long long)pkg.len, md5, URL, "200", 0);
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(ev_count(HAAS_EV_VERIFIED), 1);
}

static void test_download_failures_404(void **state)
{
    (void)state;
    boot_start();
    long long size = (long long)pkg.len;

    http_fail = 1; /* 403 or 404 from the server */
    queue_push("0.0.2");
    expect_download_404("download failed");

    queue_push_ex(APPID, "0.0.2", size - 10, pkg_md5, URL, "200", 0); /* more bytes than announced */
    expect_download_404("download failed");
    assert_true(ev_last(HAAS_EV_PROGRESS)->done <= (uint64_t)size - 10);

    queue_push_ex(APPID, "0.0.2", size + 5, pkg_md5, URL, "200", 0); /* fewer bytes than announced */
    expect_download_404("package size or md5 mismatch");

    add_fault("open", "package.tar.gz", 0, 1); /* the staging file cannot be created */
    int calls = http_calls;
    queue_push("0.0.2");
    expect_download_404("download failed");
    assert_int_equal(http_calls, calls);

    add_fault("write", "package.tar.gz", 1, 1); /* flash full on the second piece */
    queue_push("0.0.2");
    expect_download_404("download failed");
    assert_int_equal(ev_last(HAAS_EV_PROGRESS)->done, 700);

    /* a port that reports the sink's stop as a cut: not resumed */
    http_net_on_stop = true;
    calls = http_calls;
    queue_push_ex(APPID, "0.0.2", size - 10, pkg_md5, URL, "200", 0);
    expect_download_404("download failed");
    assert_int_equal(http_calls, calls + 1);
}

static void test_boot_downloading_resumes_from_staged_bytes(void **state)
{
    (void)state;
    put_journal(JOURNAL_DOWNLOADING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    fs_write(PKG_PATH, pkg.p, 1234);
    fs_mkdir(NEW_DIR);
    int st = boot();
    /* haas_upgrade.h says HAAS_IDLE here; the code returns the state */
    assert_int_equal(st, HAAS_DOWNLOADING);
    assert_int_equal(fs_kind(NEW_DIR), 0);
    assert_string_equal(haas_app_version(&up), "0.0.1");
    assert_int_equal(haas_start(&up), 0);
    check_query(nth_pub(QUERY_TOPIC, 0), "0.0.1", FW_VERSION);
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(http_calls, 1);
    assert_int_equal(http_offsets[0], 1234); /* Range from the bytes on flash */
    assert_int_equal(ev_last(HAAS_EV_PROGRESS)->done, pkg.len);
    assert_string_equal(ev_last(HAAS_EV_VERIFIED)->detail, pkg_sha);
    node *staged = fs_find(PKG_PATH);
    assert_int_equal(staged->data.len, pkg.len);
    assert_memory_equal(staged->data.p, pkg.p, pkg.len);
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    check_new_app_at(APP_DIR, "0.0.2");
    check_old_app_at(OLD_DIR, "0.0.1");
}

static void test_boot_downloading_with_complete_staged_package(void **state)
{
    (void)state;
    put_journal(JOURNAL_DOWNLOADING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    fs_write(PKG_PATH, pkg.p, pkg.len);
    assert_int_equal(boot(), HAAS_DOWNLOADING);
    connect_fail = 1; /* offline: the download does not need the broker */
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(http_calls, 0);
    assert_int_equal(ev_count(HAAS_EV_VERIFIED), 1);
}

static void test_boot_downloading_staged_larger_restarts(void **state)
{
    (void)state;
    put_journal(JOURNAL_DOWNLOADING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    bytes big = {0};
    b_put(&big, pkg.p, pkg.len);
    b_put(&big, "trailing junk", 13);
    fs_write(PKG_PATH, big.p, big.len);
    b_free(&big);
    assert_int_equal(boot(), HAAS_DOWNLOADING);
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(http_calls, 1);
    assert_int_equal(http_offsets[0], 0);
    node *staged = fs_find(PKG_PATH);
    assert_int_equal(staged->data.len, pkg.len);
    assert_memory_equal(staged->data.p, pkg.p, pkg.len);
}

static void test_boot_downloading_unreadable_staged_restarts(void **state)
{
    (void)state;
    put_journal(JOURNAL_DOWNLOADING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    fs_write(PKG_PATH, pkg.p, 1000);
    assert_int_equal(boot(), HAAS_DOWNLOADING);
    add_fault("open", "package.tar.gz", 0, 1);
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(http_calls, 1);
    assert_int_equal(http_offsets[0], 0);
    assert_int_equal(fs_find(PKG_PATH)->data.len, pkg.len);
}

/* ================================================================== */
/* Extraction                                                          */
/* ================================================================== */

static void test_boot_extracting_reextracts(void **state)
{
    (void)state;
    put_journal(JOURNAL_EXTRACTING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    fs_write(PKG_PATH, pkg.p, pkg.len);
    fs_mkdir(NEW_DIR); /* a cut extraction */
    fs_write_str(NEW_DIR "/junk.py", "half");
    fs_write_str(NEW_DIR "/manifest.json", "{\"appi");
    assert_int_equal(boot(), HAAS_INSTALLING);
    assert_int_equal(fs_kind(NEW_DIR "/junk.py"), 1); /* kept for the extraction to redo */
    assert_int_equal(haas_start(&up), 0);
    check_query(nth_pub(QUERY_TOPIC, 0), "0.0.1", FW_VERSION);
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    assert_int_equal(http_calls, 0);
    check_new_app_at(APP_DIR, "0.0.2"); /* and no junk.py */
    check_old_app_at(OLD_DIR, "0.0.1");
    assert_int_equal(get_journal(NULL), JOURNAL_PENDING);
}

static void download_ok(void)
{
    int verified = ev_count(HAAS_EV_VERIFIED);
    boot_start();
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_INSTALLING);
    assert_int_equal(ev_count(HAAS_EV_VERIFIED), verified + 1);
}

/* The package is verified; installing it fails: 405, the old app stays. */
static void install_fails(const char *log_line)
{
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(reboots, 0);
    if (log_line)
        assert_true(log_has(log_line));
    check_old_app_at(APP_DIR, "0.0.1");
    /* nothing extracted is left (an empty staging folder goes at next boot) */
    assert_true(fs_kind(NEW_DIR) == 0 || fs_count_under(NEW_DIR) == 0);
    assert_int_equal(fs_kind(PKG_PATH), 0);
    assert_int_equal(fs_kind(OLD_DIR), 0);
    assert_int_equal(fs_kind("/data/evil.py"), 0);
    assert_int_equal(fs_kind(WORK "/evil.py"), 0);
    const evrec *f = ev_last(HAAS_EV_FAILED);
    assert_non_null(f);
    assert_int_equal(f->code, 405);
    assert_string_equal(f->detail, "installation failed");
    assert_string_equal(f->version, "0.0.2");
    assert_int_equal(f->journal, JOURNAL_REPORT);
    assert_int_equal(ev_count(HAAS_EV_INSTALLED), 0);
    check_reported(405, "0.0.1");
    assert_string_equal(haas_app_version(&up), "0.0.1");
}

static void expect_install_fails(const char *log_line)
{
    download_ok();
    install_fails(log_line);
}

static void serve_tar_and_free(bytes *t)
{
    serve_tar(t);
    b_free(t);
}

static void test_extract_not_gzip(void **state)
{
    (void)state;
    const char s[] = "this is not a gzip stream at all";
    serve(s, sizeof s - 1);
    expect_install_fails("package cannot be extracted: gzip data is corrupt or cut");
}

static void test_extract_gzip_cut(void **state)
{
    (void)state;
    bytes t = {0}, gz = {0};
    tar_std(&t, APPID, "0.0.2");
    gzip_bytes(&t, &gz);
    serve(gz.p, gz.len - 30);
    b_free(&t);
    b_free(&gz);
    expect_install_fails("package cannot be extracted: gzip data is corrupt or cut");
}

static void test_extract_gzip_corrupt(void **state)
{
    (void)state;
    bytes t = {0}, gz = {0};
    tar_std(&t, APPID, "0.0.2");
    gzip_bytes(&t, &gz);
    for (size_t i = 40; i < 80; i++)
        gz.p[i] ^= 0x5a;
    serve(gz.p, gz.len);
    b_free(&t);
    b_free(&gz);
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_empty_archive(void **state)
{
    (void)state;
    bytes t = {0};
    serve_tar_and_free(&t); /* a gzip of nothing */
    expect_install_fails("package cannot be extracted: tar archive truncated");
}

static void test_extract_tar_cut(void **state)
{
    (void)state;
    bytes t = {0};
    tar_std(&t, APPID, "0.0.2");
    t.len -= 1024 + 1000; /* no end blocks, logo.bin cut short */
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: tar archive truncated");
}

static void test_extract_unsafe_members(void **state)
{
    (void)state;
    const char *names[] = {"../evil.py", "lib/../../evil.py"};
    for (size_t i = 0; i < 2; i++) {
        bytes t = {0};
        tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
        tar_str(&t, names[i], "import os\n");
        tar_end(&t);
        serve_tar_and_free(&t);
        clear_pubs();
        expect_install_fails("package cannot be extracted: ");
    }
}

static void test_extract_absolute_member(void **state)
{
    (void)state;
    bytes t = {0};
    tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
    tar_str(&t, "/data/evil.py", "x");
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_symlink_member(void **state)
{
    (void)state;
    bytes t = {0};
    tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
    tar_header(&t, "main.py", '2', 0);
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_member_under_a_file(void **state)
{
    (void)state;
    bytes t = {0};
    tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
    tar_str(&t, "lib", "a file");
    tar_str(&t, "lib/util.py", "X = 1\n"); /* its folder is a file */
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_member_path_too_long(void **state)
{
    (void)state;
    char prefix[156], dir[31];
    memset(prefix, 'p', 155);
    prefix[155] = '\0';
    memset(dir, 'q', 30);
    dir[30] = '\0';
    char deep[64];
    snprintf(deep, sizeof deep, "%s/x.py", dir);
    /* work/new/<prefix>/<dir>/x.py: the folder work/new/<prefix>/<dir> does not fit */
    bytes t = {0};
    tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
    tar_header_ex(&t, prefix, deep, '0', 0);
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: ");
    /* work/new/<prefix>/<name>: the file's own path does not fit */
    clear_pubs();
    t = (bytes){0};
    tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
    tar_header_ex(&t, prefix, dir, '0', 0);
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_manifest_missing(void **state)
{
    (void)state;
    bytes t = {0};
    tar_str(&t, "main.py", main_py("0.0.2"));
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be installed: the package has no manifest.json file at its top");
}

static void test_extract_manifest_other_version(void **state)
{
    (void)state;
    bytes t = {0};
    tar_std(&t, APPID, "0.0.3");
    serve_tar_and_free(&t);
    expect_install_fails("the package's manifest.json does not match the push");
}

static void test_extract_manifest_other_app(void **state)
{
    (void)state;
    bytes t = {0};
    tar_std(&t, OTHER_APPID, "0.0.2");
    serve_tar_and_free(&t);
    expect_install_fails("the package's manifest.json does not match the push");
}

static void test_extract_manifest_unusable(void **state)
{
    (void)state;
    char big[2000];
    int n = snprintf(big, sizeof big, "{\"appid\":\"%s\",\"version\":\"0.0.2\",\"pad\":\"", APPID);
    memset(big + n, 'p', 1700);
    strcpy(big + n + 1700, "\"}");
    const struct {
        const char *manifest, *why;
    } cases[] = {
        {"{oops", "manifest.json is not one plain JSON object"},
        {"{\"appName\":\"python9000\",\"appid\":\"" APPID "\"}", "manifest.json has no string \"version\""},
        {"{\"appid\":\"" APPID "\",\"version\":\"0.0.2\"}", "manifest.json has no string \"appName\""},
        {"{\"appName\":\"python9000\",\"version\":\"0.0.2\"}", "manifest.json has no string \"appid\""},
        {big, "manifest.json is larger than 1536 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes t = {0};
        tar_str(&t, "manifest.json", cases[i].manifest);
        tar_str(&t, "main.py", main_py("0.0.2"));
        tar_end(&t);
        serve_tar_and_free(&t);
        clear_pubs();
        char line[200];
        snprintf(line, sizeof line, "package cannot be installed: %s", cases[i].why);
        expect_install_fails(line);
    }
    /* a folder named manifest.json */
    bytes t = {0};
    tar_dir(&t, "manifest.json/");
    tar_str(&t, "main.py", main_py("0.0.2"));
    tar_end(&t);
    serve_tar_and_free(&t);
    clear_pubs();
    expect_install_fails("package cannot be installed: the package has no manifest.json file at its top");
}

/* ---- the package rules (server/src/package_check.h) on the device ---- */

/* A package made of the bytes of a and b one after the other. */
static void serve_two(const bytes *a, const void *b, size_t blen)
{
    bytes both = {0};
    b_put(&both, a->p, a->len);
    b_put(&both, b, blen);
    serve(both.p, both.len);
    b_free(&both);
}

static void test_extract_trailing_bytes(void **state)
{
    (void)state;
    bytes t = {0}, gz = {0};
    tar_std(&t, APPID, "0.0.2");
    gzip_bytes(&t, &gz);
    serve_two(&gz, "JUNK", 4); /* in the same piece as the end of the stream */
    expect_install_fails("package cannot be extracted: data after the end of the gzip stream");
    assert_int_equal(inflate_trailing, 1); /* the port saw it (haas_port.h) */
    b_free(&t);
    b_free(&gz);
}

/* The member ends exactly where a read of the package file ends: the port
 * cannot see what follows; the core reads on and finds it. */
static void test_extract_trailing_bytes_at_a_piece_boundary(void **state)
{
    (void)state;
    bytes t = {0}, gz = {0};
    tar_std(&t, APPID, "0.0.2");
    gzip_named(&t, &gz, "");
    size_t pad = (sizeof up.buf - gz.len % sizeof up.buf) % sizeof up.buf; /* bytes of name to add */
    char *name = malloc(pad + 1);
    assert_non_null(name);
    memset(name, 'n', pad);
    name[pad] = '\0';
    gzip_named(&t, &gz, name);
    assert_int_equal(gz.len % sizeof up.buf, 0);
    serve_two(&gz, "\x1f\x8b more", 7);
    expect_install_fails("package cannot be extracted: data after the end of the gzip stream");
    assert_int_equal(inflate_trailing, 0); /* the core's own check */
    /* the same member alone installs */
    clear_pubs();
    serve(gz.p, gz.len);
    download_ok();
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    check_new_app_at(APP_DIR, "0.0.2");
    free(name);
    b_free(&t);
    b_free(&gz);
}

/* A tar split over two gzip members: gzip -d (and libarchive) read them as
 * one stream; the device once installed the first alone and reported 200. */
static void test_extract_two_gzip_members(void **state)
{
    (void)state;
    bytes t = {0}, first = {0}, second = {0}, a = {0}, b = {0};
    tar_std(&t, APPID, "0.0.2");
    b_put(&first, t.p, 1024); /* manifest.json, ending between two members */
    b_put(&second, t.p + 1024, t.len - 1024);
    gzip_bytes(&first, &a);
    gzip_bytes(&second, &b);
    serve_two(&a, b.p, b.len);
    expect_install_fails("package cannot be extracted: data after the end of the gzip stream");
    b_free(&t);
    b_free(&first);
    b_free(&second);
    b_free(&a);
    b_free(&b);
}

/* A whole package, then a second member holding ../evil.py. */
static void test_extract_second_member_with_dotdot(void **state)
{
    (void)state;
    bytes t = {0}, evil = {0}, a = {0}, b = {0};
    tar_std(&t, APPID, "0.0.2");
    tar_str(&evil, "../evil.py", "import os\n");
    tar_end(&evil);
    gzip_bytes(&t, &a);
    gzip_bytes(&evil, &b);
    serve_two(&a, b.p, b.len);
    expect_install_fails("package cannot be extracted: data after the end of the gzip stream");
    assert_int_equal(fs_kind(WORK "/evil.py"), 0);
    b_free(&t);
    b_free(&evil);
    b_free(&a);
    b_free(&b);
}

static void test_extract_bad_crc_or_isize(void **state)
{
    (void)state;
    bytes t = {0}, gz = {0};
    tar_std(&t, APPID, "0.0.2");
    gzip_bytes(&t, &gz);
    for (int i = 0; i < 2; i++) {
        size_t at = gz.len - (i == 0 ? 8 : 4); /* CRC-32, then ISIZE */
        gz.p[at] ^= 0xff;
        serve(gz.p, gz.len);
        gz.p[at] ^= 0xff;
        clear_pubs();
        expect_install_fails("package cannot be extracted: gzip data is corrupt or cut");
    }
    b_free(&t);
    b_free(&gz);
}

static void test_extract_double_gzip(void **state)
{
    (void)state;
    bytes t = {0}, once = {0}, twice = {0};
    tar_std(&t, APPID, "0.0.2");
    gzip_bytes(&t, &once);
    gzip_bytes(&once, &twice);
    serve(twice.p, twice.len);
    expect_install_fails("package cannot be extracted: the package is gzip inside gzip");
    b_free(&t);
    b_free(&once);
    b_free(&twice);
}

static void test_extract_manifest_rules(void **state)
{
    (void)state;
    const struct {
        const char *manifest, *why;
    } cases[] = {
        {"{\"appName\":\"python9000\",\"version\":\"0.0.2\\u0000x\",\"appid\":\"" APPID "\"}",
         "manifest.json has a control character"},
        {"{\"appName\":\"python9000\",\"version\":\"0.0.2\",\"appid\":\"" APPID "\",\"version\":\"0.0.3\"}",
         "manifest.json has a key twice in an object"},
        /* the first of the two is the pushed one: once installed as it was */
        {"{\"appName\":\"python9000\",\"version\":\"0.0.2\",\"appid\":\"" APPID "\",\"\\u0076ersion\":\"0.0.2\"}",
         "manifest.json has a key twice in an object"},
        {"{\"appName\":\"python9000\",\"version\":\"0.0.2\",\"appid\":\"" APPID "\",\"note\":\"a\\nb\"}",
         "manifest.json has a control character"},
        {"{\"appName\":\"python9000\",\"version\":\"0.0.2\",\"appid\":\"" APPID "\",\"build\":01}",
         "manifest.json is not one plain JSON object"},
        {"{\"appName\":\"caf\xe9\",\"version\":\"0.0.2\",\"appid\":\"" APPID "\"}",
         "manifest.json is not one plain JSON object in UTF-8"},
        {"{\"version\":\"0.0.2\",\"appid\":\"" APPID "\"}", "manifest.json has no string \"appName\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes t = {0};
        tar_str(&t, "manifest.json", cases[i].manifest);
        tar_str(&t, "main.py", main_py("0.0.2"));
        tar_end(&t);
        serve_tar_and_free(&t);
        clear_pubs();
        char line[200];
        snprintf(line, sizeof line, "package cannot be installed: %s", cases[i].why);
        expect_install_fails(line);
    }
}

static void test_extract_manifest_twice(void **state)
{
    (void)state;
    bytes t = {0};
    tar_std(&t, APPID, "0.0.2");
    t.len -= 1024; /* without its end blocks */
    tar_str(&t, "./manifest.json", manifest_json(APPID, "0.0.2"));
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: manifest.json appears twice");
}

static void test_extract_member_name_not_utf8(void **state)
{
    (void)state;
    bytes t = {0};
    tar_str(&t, "manifest.json", manifest_json(APPID, "0.0.2"));
    tar_str(&t, "caf\xe9.py", "x = 1\n");
    tar_end(&t);
    serve_tar_and_free(&t);
    expect_install_fails("package cannot be extracted: unsafe member name");
}

static void test_extract_too_many_entries(void **state)
{
    (void)state;
    cfg.max_entries = 4; /* the package has 5 */
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_too_large(void **state)
{
    (void)state;
    cfg.max_unpacked_size = pkg_unpacked - 1;
    expect_install_fails("package cannot be extracted: ");
}

static void test_extract_limits_at_the_boundary_pass(void **state)
{
    (void)state;
    cfg.max_entries = 5;
    cfg.max_unpacked_size = pkg_unpacked;
    download_ok();
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    check_new_app_at(APP_DIR, "0.0.2");
}

static void test_extract_flash_failures(void **state)
{
    (void)state;
    /* each a fresh attempt on the same device */
    struct {
        const char *op, *path;
        int skip;
    } cases[] = {
        {"remove_tree", NEW_DIR, 0},              /* clearing the staging folder */
        {"make_dir", NEW_DIR, 0},                 /* creating it */
        {"open", "package.tar.gz", 0},            /* opening the package */
        {"read", "package.tar.gz", 0},            /* reading it */
        {"open", NEW_DIR "/main.py", 0},          /* creating a member */
        {"write", NEW_DIR "/assets/img/logo.bin", 1}, /* writing one */
        {"sync", NEW_DIR "/manifest.json", 0},    /* syncing one */
        {"close", NEW_DIR "/manifest.json", 0},   /* closing one */
        {"make_dir", NEW_DIR "/assets", 0},       /* a parent folder */
        {"make_dir", NEW_DIR "/lib", 1},          /* a folder member */
        {"open", NEW_DIR "/manifest.json", 1},    /* reading the manifest back */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clear_pubs();
        nevs = 0;
        download_ok();
        add_fault(cases[i].op, cases[i].path, cases[i].skip, 1);
        install_fails(NULL);
        assert_int_equal(faults[0].count, 0); /* the fault did happen */
        nfaults = 0;
    }
    /* the inflater cannot start */
    clear_pubs();
    download_ok();
    inflate_begin_fail = 1;
    install_fails("package cannot be extracted: gzip data is corrupt or cut");
}

static void test_boot_extracting_without_package_fails_405(void **state)
{
    (void)state;
    put_journal(JOURNAL_EXTRACTING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    assert_int_equal(boot(), HAAS_INSTALLING);
    assert_int_equal(haas_start(&up), 0);
    clear_pubs();
    install_fails(NULL);
}

/* ================================================================== */
/* Swap                                                                */
/* ================================================================== */

static void expect_swap_rolled_back(void)
{
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(reboots, 0);
    assert_true(log_has("swap failed"));
    const evrec *r = ev_last(HAAS_EV_ROLLED_BACK);
    assert_non_null(r);
    assert_int_equal(r->code, 405);
    assert_string_equal(r->detail, "swap failed");
    assert_string_equal(r->version, "0.0.1");
    assert_int_equal(r->journal, JOURNAL_ROLLING_BACK);
    assert_int_equal(ev_last(HAAS_EV_FAILED)->code, 405);
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(fs_kind(OLD_DIR), 0);
    assert_int_equal(fs_kind(FAILED_DIR), 0);
    assert_int_equal(fs_kind(PKG_PATH), 0);
    check_reported(405, "0.0.1");
    assert_int_equal(ev_count(HAAS_EV_INSTALLED), 0);
    /* the staging folder goes at the next boot */
    assert_int_equal(boot(), HAAS_IDLE);
    assert_int_equal(fs_kind(NEW_DIR), 0);
    check_old_app_at(APP_DIR, "0.0.1");
}

static void test_swap_fails_moving_new_app_in(void **state)
{
    (void)state;
    download_ok();
    add_fault("rename", NEW_DIR ">" APP_DIR, 0, 1);
    expect_swap_rolled_back();
}

static void test_swap_fails_moving_old_app_out(void **state)
{
    (void)state;
    download_ok();
    add_fault("rename", APP_DIR ">" OLD_DIR, 0, 1);
    expect_swap_rolled_back();
}

static void test_swap_journal_write_fails(void **state)
{
    (void)state;
    download_ok();
    add_fault("rename", "journal.tmp>", 0, 1); /* the SWAPPING record */
    int before = renames;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_true(renames - before >= 1); /* journal writes only: no folder moved */
    assert_int_equal(ev_last(HAAS_EV_ROLLED_BACK)->code, 405);
    check_old_app_at(APP_DIR, "0.0.1");
    check_reported(405, "0.0.1");
}

static void test_swap_replaces_stale_old_folder(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    make_app(OLD_DIR, "0.0.0"); /* left by an earlier upgrade */
    download_ok();
    assert_int_equal(drive(), HAAS_REBOOT_NEEDED);
    check_old_app_at(OLD_DIR, "0.0.1");
    check_new_app_at(APP_DIR, "0.0.2");
}

/* ================================================================== */
/* Boot in SWAPPING                                                    */
/* ================================================================== */

static void expect_swapped_and_confirming(void)
{
    now = 777;
    assert_int_equal(boot(), HAAS_CONFIRMING);
    check_old_app_at(APP_DIR, "0.0.2");
    check_old_app_at(OLD_DIR, "0.0.1");
    assert_int_equal(fs_kind(NEW_DIR), 0);
    haas_journal j;
    assert_int_equal(get_journal(&j), JOURNAL_PENDING);
    assert_int_equal(j.boots, 1);
    assert_string_equal(haas_app_version(&up), "0.0.2");
    assert_int_equal(up.confirm_deadline_ms, 777 + 60000);
    assert_int_equal(ev_count(HAAS_EV_ROLLED_BACK), 0);
}

static void test_boot_swapping_not_started(void **state)
{
    (void)state;
    put_journal(JOURNAL_SWAPPING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    make_app(NEW_DIR, "0.0.2");
    expect_swapped_and_confirming();
}

static void test_boot_swapping_half_done(void **state)
{
    (void)state;
    put_journal(JOURNAL_SWAPPING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    make_app(OLD_DIR, "0.0.1");
    fs_drop_tree(APP_DIR);
    make_app(NEW_DIR, "0.0.2");
    expect_swapped_and_confirming();
}

static void test_boot_swapping_done(void **state)
{
    (void)state;
    put_journal(JOURNAL_SWAPPING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    make_app(OLD_DIR, "0.0.1");
    fs_drop_tree(APP_DIR);
    make_app(APP_DIR, "0.0.2");
    expect_swapped_and_confirming();
}

static void test_boot_swapping_without_new_or_app_rolls_back(void **state)
{
    (void)state;
    put_journal(JOURNAL_SWAPPING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    make_app(OLD_DIR, "0.0.1");
    fs_drop_tree(APP_DIR);
    assert_int_equal(boot(), HAAS_IDLE);
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(fs_kind(OLD_DIR), 0);
    const evrec *r = ev_last(HAAS_EV_ROLLED_BACK);
    assert_non_null(r);
    assert_string_equal(r->detail, "interrupted swap could not be completed");
    assert_string_equal(r->version, "0.0.1");
    assert_int_equal(ev_last(HAAS_EV_FAILED)->code, 405);
    haas_journal j;
    assert_int_equal(get_journal(&j), JOURNAL_REPORT);
    assert_int_equal(j.code, 405);
    assert_int_equal(haas_start(&up), 0);
    check_reported(405, "0.0.1");
}

static void test_boot_swapping_rename_fails_rolls_back(void **state)
{
    (void)state;
    put_journal(JOURNAL_SWAPPING, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 0);
    make_app(NEW_DIR, "0.0.2");
    add_fault("rename", APP_DIR ">" OLD_DIR, 0, 1);
    assert_int_equal(boot(), HAAS_IDLE);
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(fs_kind(NEW_DIR), 0);
    assert_int_equal(fs_kind(OLD_DIR), 0);
    assert_int_equal(get_journal(NULL), JOURNAL_REPORT);
    assert_int_equal(haas_start(&up), 0);
    check_reported(405, "0.0.1");
}

/* ================================================================== */
/* Boot in PENDING; confirm, reject, timeout                           */
/* ================================================================== */

static void expect_rolled_back_at_boot(const char *why)
{
    assert_int_equal(boot(), HAAS_IDLE);
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(fs_kind(OLD_DIR), 0);
    assert_int_equal(fs_kind(FAILED_DIR), 0);
    const evrec *r = ev_last(HAAS_EV_ROLLED_BACK);
    assert_non_null(r);
    assert_string_equal(r->detail, why);
    assert_string_equal(r->version, "0.0.1");
    assert_int_equal(r->code, 405);
    assert_int_equal(ev_last(HAAS_EV_FAILED)->code, 405);
    haas_journal j;
    assert_int_equal(get_journal(&j), JOURNAL_REPORT);
    assert_int_equal(j.code, 405);
    assert_string_equal(haas_app_version(&up), "0.0.1");
    assert_int_equal(haas_start(&up), 0);
    check_reported(405, "0.0.1");
}

static void test_boot_pending_counts_boots(void **state)
{
    (void)state;
    setup_installed(JOURNAL_PENDING, 0);
    for (uint32_t b = 1; b <= 3; b++) {
        now = b * 1000;
        assert_int_equal(boot(), HAAS_CONFIRMING);
        haas_journal j;
        assert_int_equal(get_journal(&j), JOURNAL_PENDING);
        assert_int_equal(j.boots, b);
        check_old_app_at(APP_DIR, "0.0.2");
        assert_int_equal(haas_start(&up), 0);
        assert_int_equal(npubs, 0); /* unconfirmed: no query */
    }
    assert_int_equal(ev_count(HAAS_EV_ROLLED_BACK), 0);
    expect_rolled_back_at_boot("the new app did not confirm"); /* 4th boot > max_boot_attempts 3 */
}

static void test_boot_pending_own_max_boot_attempts(void **state)
{
    (void)state;
    cfg.max_boot_attempts = 1;
    setup_installed(JOURNAL_PENDING, 0);
    assert_int_equal(boot(), HAAS_CONFIRMING);
    expect_rolled_back_at_boot("the new app did not confirm");
}

static void test_reject_rolls_back(void **state)
{
    (void)state;
    setup_installed(JOURNAL_PENDING, 0);
    assert_int_equal(boot(), HAAS_CONFIRMING);
    assert_int_equal(haas_start(&up), 0);
    assert_int_equal(haas_reject(&up), 0);
    assert_int_equal(up.state, HAAS_IDLE);
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(fs_kind(OLD_DIR), 0);
    assert_int_equal(fs_kind(FAILED_DIR), 0);
    const evrec *r = ev_last(HAAS_EV_ROLLED_BACK);
    assert_non_null(r);
    assert_string_equal(r->detail, "the new app failed");
    assert_string_equal(r->version, "0.0.1");
    assert_int_equal(r->journal, JOURNAL_ROLLING_BACK);
    assert_true(ev_index(HAAS_EV_ROLLED_BACK) < ev_index(HAAS_EV_FAILED));
    assert_int_equal(get_journal(NULL), JOURNAL_REPORT);
    assert_int_equal(npubs, 0); /* sent by the next haas_drive */
    assert_int_equal(drive(), HAAS_IDLE);
    check_reported(405, "0.0.1");
    assert_string_equal(haas_app_version(&up), "0.0.1");
    assert_int_equal(haas_reject(&up), -1);
    assert_int_equal(haas_confirm(&up), -1);
}

static void test_confirm_timeout_rolls_back(void **state)
{
    (void)state;
    cfg.confirm_timeout_ms = 5000;
    setup_installed(JOURNAL_PENDING, 0);
    now = 1000;
    assert_int_equal(boot(), HAAS_CONFIRMING);
    assert_int_equal(haas_start(&up), 0);
    now = 5999;
    assert_int_equal(drive(), HAAS_CONFIRMING);
    assert_int_equal(ev_count(HAAS_EV_ROLLED_BACK), 0);
    now = 6000;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_string_equal(ev_last(HAAS_EV_ROLLED_BACK)->detail, "the new app did not confirm in time");
    check_old_app_at(APP_DIR, "0.0.1");
    assert_int_equal(fs_kind(OLD_DIR), 0);
    check_reported(405, "0.0.1");
}

static void test_confirm_default_timeout(void **state)
{
    (void)state;
    setup_installed(JOURNAL_PENDING, 0);
    now = 0;
    assert_int_equal(boot(), HAAS_CONFIRMING);
    now = 59999;
    assert_int_equal(drive(), HAAS_CONFIRMING);
    now = 60000;
    assert_int_equal(drive(), HAAS_IDLE);
    check_old_app_at(APP_DIR, "0.0.1");
}

static void test_result_kept_until_connected(void **state)
{
    (void)state;
    setup_installed(JOURNAL_PENDING, 0);
    now = 1000;
    assert_int_equal(boot(), HAAS_CONFIRMING);
    connect_fail = 1;
    assert_int_equal(haas_start(&up), HAAS_PORT_ERR_NET);
    assert_int_equal(haas_confirm(&up), 0);
    assert_int_equal(npubs, 0);
    assert_int_equal(ev_count(HAAS_EV_CONFIRMED), 1);
    assert_int_equal(ev_count(HAAS_EV_RESULT_SENT), 0);
    haas_journal j;
    assert_int_equal(get_journal(&j), JOURNAL_REPORT);
    assert_int_equal(j.code, 200);
    assert_int_equal(fs_kind(OLD_DIR), 0);
    now = 2999;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(npubs, 0);
    assert_int_equal(get_journal(NULL), JOURNAL_REPORT);
    now = 3000;
    assert_int_equal(drive(), HAAS_IDLE);
    assert_true(ev_index(HAAS_EV_CONNECTED) < ev_index(HAAS_EV_RESULT_SENT));
    check_reported(200, "0.0.2");
    assert_int_equal(npubs, 2);
}

static void test_result_retried_when_publish_fails(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    put_journal(JOURNAL_REPORT, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, 404);
    assert_int_equal(boot(), HAAS_IDLE);
    publish_fail = 1;
    assert_int_equal(haas_start(&up), 0);
    assert_int_equal(npubs, 0); /* neither the result nor the query */
    assert_int_equal(get_journal(NULL), JOURNAL_REPORT);
    /* a push meanwhile waits for the report */
    queue_push("0.0.2");
    assert_int_equal(drive(), HAAS_IDLE); /* and this drive sends the result */
    assert_int_equal(ev_count(HAAS_EV_PUSH_IGNORED), 1);
    check_reported(404, "0.0.1");
}

static void test_boot_report_200_cleans_and_reports(void **state)
{
    (void)state;
    setup_installed(JOURNAL_REPORT, 1); /* confirmed; cut before work/old went */
    haas_journal j;
    get_journal(&j);
    j.code = 200;
    put_journal(JOURNAL_REPORT, "0.0.2", "0.0.1", pkg.len, pkg_md5, 1, 200);
    fs_mkdir(NEW_DIR);
    assert_int_equal(boot(), HAAS_IDLE);
    assert_int_equal(fs_kind(OLD_DIR), 0);
    assert_int_equal(fs_kind(NEW_DIR), 0);
    check_old_app_at(APP_DIR, "0.0.2");
    assert_int_equal(get_journal(NULL), JOURNAL_REPORT);
    assert_int_equal(haas_start(&up), 0);
    check_reported(200, "0.0.2");
}

static void test_boot_report_404_and_405(void **state)
{
    (void)state;
    int codes[] = {404, 405};
    for (int i = 0; i < 2; i++) {
        clear_pubs();
        put_journal(JOURNAL_REPORT, "0.0.2", "0.0.1", pkg.len, pkg_md5, 0, codes[i]);
        assert_int_equal(boot(), HAAS_IDLE);
        check_old_app_at(APP_DIR, "0.0.1");
        assert_int_equal(ev_count(HAAS_EV_FAILED), 0); /* announced when decided, not again */
        assert_int_equal(haas_start(&up), 0);
        check_reported(codes[i], "0.0.1");
    }
}

/* ================================================================== */
/* Boot in ROLLING_BACK                                                */
/* ================================================================== */

static void test_boot_rolling_back_not_started(void **state)
{
    (void)state;
    setup_installed(JOURNAL_ROLLING_BACK, 1);
    make_app(FAILED_DIR, "0.0.0"); /* a leftover of an earlier rollback */
    expect_rolled_back_at_boot("interrupted rollback");
}

static void test_boot_rolling_back_half_done(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    make_app(OLD_DIR, "0.0.1");
    fs_drop_tree(APP_DIR);
    make_app(FAILED_DIR, "0.0.2");
    put_journal(JOURNAL_ROLLING_BACK, "0.0.2", "0.0.1", pkg.len, pkg_md5, 1, 0);
    expect_rolled_back_at_boot("interrupted rollback");
}

static void test_boot_rolling_back_done(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    make_app(FAILED_DIR, "0.0.2");
    put_journal(JOURNAL_ROLLING_BACK, "0.0.2", "0.0.1", pkg.len, pkg_md5, 1, 0);
    expect_rolled_back_at_boot("interrupted rollback");
}

static void test_rollback_failures_are_logged(void **state)
{
    (void)state;
    const char *steps[][2] = {
        {"remove_tree", FAILED_DIR},
        {"rename", APP_DIR ">" FAILED_DIR},
    };
    for (int i = 0; i < 2; i++) {
        fs_drop_tree(WORK);
        fs_drop_tree(APP_DIR);
        clear_logs();
        setup_installed(JOURNAL_ROLLING_BACK, 1);
        add_fault(steps[i][0], steps[i][1], 0, 1);
        assert_int_equal(boot(), HAAS_IDLE);
        assert_true(log_has("rollback failed; will retry at next boot"));
        assert_int_equal(faults[0].count, 0);
        nfaults = 0;
    }
}

/* ================================================================== */
/* Paths that do not fit the SDK's buffers                             */
/* ================================================================== */

/* Folders whose paths (plus the names the SDK adds) would not fit its
 * 192-byte path buffers are refused at boot, before anything is touched. */
static void test_dirs_too_long_are_refused_at_boot(void **state)
{
    (void)state;
    char dir[200];
    memset(dir, 'a', sizeof dir - 1);
    dir[0] = '/';
    dir[162] = '\0'; /* 162 bytes: over the 160 allowed */
    const char *saved_work = cfg.work_dir, *saved_app = cfg.app_dir;
    cfg.work_dir = dir;
    assert_int_equal(boot(), -1);
    cfg.work_dir = saved_work;
    cfg.app_dir = dir;
    assert_int_equal(boot(), -1);
    cfg.app_dir = saved_app;
    dir[160] = '\0'; /* exactly 160: accepted */
    cfg.work_dir = dir;
    assert_int_not_equal(boot(), -1);
    cfg.work_dir = saved_work;
    assert_int_equal(nevs, 0);
}

/* ================================================================== */
/* Failures that once left the device without its app                  */
/* ================================================================== */

/*
 * A rollback whose old -> app rename fails keeps the journal at ROLLING_BACK
 * (no 405 yet) and the next boot completes it. (It used to report 405 and
 * forget, leaving no app folder at all.)
 */
static void test_failed_rollback_is_retried_at_next_boot(void **state)
{
    (void)state;
    setup_installed(JOURNAL_PENDING, 0);
    assert_int_equal(boot(), HAAS_CONFIRMING);
    assert_int_equal(haas_start(&up), 0);
    add_fault("rename", OLD_DIR ">" APP_DIR, 0, 1);
    assert_int_equal(haas_reject(&up), 0);
    assert_true(log_has("rollback failed; will retry at next boot"));
    assert_int_equal(fs_kind(APP_DIR), 0);
    check_old_app_at(OLD_DIR, "0.0.1");
    assert_int_equal(ev_count(HAAS_EV_ROLLED_BACK), 0);
    assert_int_equal(get_journal(NULL), JOURNAL_ROLLING_BACK);
    boot();
    check_old_app_at(APP_DIR, "0.0.1");
}

/*
 * A leftover work/old that cannot be removed stops the install (405) before
 * the swap, so it can never be "rolled back" over the running app. (It used
 * to replace the running 0.0.1 with the stale 0.0.0.)
 */
static void test_stale_old_folder_never_replaces_the_app(void **state)
{
    (void)state;
    fs_mkdir(WORK);
    make_app(OLD_DIR, "0.0.0");
    download_ok();
    add_fault("remove_tree", OLD_DIR, 0, 1);
    assert_int_equal(drive(), HAAS_IDLE);
    assert_int_equal(ev_last(HAAS_EV_FAILED)->code, 405);
    check_old_app_at(APP_DIR, "0.0.1");
}

/* ================================================================== */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_boot_rejects_bad_arguments),
        T(test_boot_without_journal_reads_manifest),
        T(test_start_connects_subscribes_and_queries),
        T(test_start_failures_and_reconnect), T(test_refused_connects_back_off),
        T(test_drive_reconnects_after_connection_loss),
        T(test_push_ignored_by_stock_rules),
        T(test_push_accepted_and_others_ignored_while_busy),
        T(test_push_ignored_when_journal_cannot_be_written),
        T(test_upgrade_install_reboot_confirm),
        T(test_download_resumes_after_cuts),
        T(test_download_too_many_cuts_fails_404),
        T(test_download_size_limits),
        T(test_download_md5_checked),
        T(test_download_failures_404),
        T(test_boot_downloading_resumes_from_staged_bytes),
        T(test_boot_downloading_with_complete_staged_package),
        T(test_boot_downloading_staged_larger_restarts),
        T(test_boot_downloading_unreadable_staged_restarts),
        T(test_boot_extracting_reextracts),
        T(test_boot_extracting_without_package_fails_405),
        T(test_extract_not_gzip),
        T(test_extract_gzip_cut),
        T(test_extract_trailing_bytes),
        T(test_extract_trailing_bytes_at_a_piece_boundary),
        T(test_extract_two_gzip_members),
        T(test_extract_second_member_with_dotdot),
        T(test_extract_bad_crc_or_isize),
        T(test_extract_double_gzip),
        T(test_extract_manifest_rules),
        T(test_extract_manifest_twice),
        T(test_extract_member_name_not_utf8),
        T(test_extract_gzip_corrupt),
        T(test_extract_empty_archive),
        T(test_extract_tar_cut),
        T(test_extract_unsafe_members),
        T(test_extract_absolute_member),
        T(test_extract_symlink_member),
        T(test_extract_member_under_a_file),
        T(test_extract_member_path_too_long),
        T(test_extract_manifest_missing),
        T(test_extract_manifest_other_version),
        T(test_extract_manifest_other_app),
        T(test_extract_manifest_unusable),
        T(test_extract_too_many_entries),
        T(test_extract_too_large),
        T(test_extract_limits_at_the_boundary_pass),
        T(test_extract_flash_failures),
        T(test_swap_fails_moving_new_app_in),
        T(test_swap_fails_moving_old_app_out),
        T(test_swap_journal_write_fails),
        T(test_swap_replaces_stale_old_folder),
        T(test_boot_swapping_not_started),
        T(test_boot_swapping_half_done),
        T(test_boot_swapping_done),
        T(test_boot_swapping_without_new_or_app_rolls_back),
        T(test_boot_swapping_rename_fails_rolls_back),
        T(test_boot_pending_counts_boots),
        T(test_boot_pending_own_max_boot_attempts),
        T(test_reject_rolls_back),
        T(test_confirm_timeout_rolls_back),
        T(test_confirm_default_timeout),
        T(test_result_kept_until_connected),
        T(test_result_retried_when_publish_fails),
        T(test_boot_report_200_cleans_and_reports),
        T(test_boot_report_404_and_405),
        T(test_boot_rolling_back_not_started),
        T(test_boot_rolling_back_half_done),
        T(test_boot_rolling_back_done),
        T(test_rollback_failures_are_logged),
        T(test_dirs_too_long_are_refused_at_boot),
        T(test_failed_rollback_is_retried_at_next_boot),
        T(test_stale_old_folder_never_replaces_the_app),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
