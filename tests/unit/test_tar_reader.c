/*
 * test_tar_reader.c - cmocka unit tests of the SDK's streaming tar reader
 * (sdk/src/tar_reader.c).
 *
 *  - the corpus tests/corpus/tar/ (written by its make.sh with GNU tar and
 *    bsdtar): every good-*.tar must give exactly the members listed in its
 *    .list file (name, type, size, FNV-1a of the content); every bad-*.tar
 *    its error, with nothing reported after the bad member;
 *  - archives built here, header by header, for the corner cases (pax
 *    records, base-256 sizes, name rules, callbacks, end handling).
 * Every archive is fed whole, 1 byte at a time and in random chunks (fixed
 * seeds); the three runs must report the same thing.
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 \
 *       -fsanitize=address,undefined -fno-omit-frame-pointer -Isdk/src \
 *       -o build/tests/test_tar_reader tests/unit/test_tar_reader.c \
 *       sdk/src/tar_reader.c sdk/src/haas_util.c -lcmocka
 *   ./build/tests/test_tar_reader     (exit status non-zero on failure)
 * The corpus is read from tests/corpus/tar (or $TAR_CORPUS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private/tar_reader.h"

/* ---- recording callbacks ------------------------------------------------ */

#define MAX_ENTRIES 64

typedef struct {
    char name[TAR_NAME_MAX + 1];
    tar_entry_type type;
    uint64_t size, got;
    uint64_t hash; /* FNV-1a 64 of the data */
    int ended;
} rec_entry;

typedef struct {
    /* log of every callback: "F:name:size:" + data (escaped) + ";" */
    char *log;
    size_t log_len, log_cap;
    rec_entry e[MAX_ENTRIES];
    int n;
    /* failure injection: the n-th call (1-based) of a callback returns 1 */
    int fail_entry, fail_data, fail_end;
    int calls_entry, calls_data, calls_end;
    int failed;          /* a callback has returned non-zero */
    int after_fail;      /* callbacks seen after that (must stay 0) */
    const uint8_t *lo, *hi; /* the caller's buffer: data must point into it */
    int foreign_ptr;     /* on_data pointers outside [lo, hi) */
} recorder;

static void log_add(recorder *r, const char *s, size_t n)
{
    if (r->log_len + n + 1 > r->log_cap) {
        r->log_cap = (r->log_len + n + 1) * 2;
        r->log = realloc(r->log, r->log_cap);
        assert_non_null(r->log);
    }
    memcpy(r->log + r->log_len, s, n);
    r->log_len += n;
    r->log[r->log_len] = '\0';
}

static void log_printf(recorder *r, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    log_add(r, tmp, (size_t)n);
}

static int rec_entry_cb(void *user, const char *name, tar_entry_type type, uint64_t size)
{
    recorder *r = user;
    if (r->failed)
        r->after_fail++;
    assert_true(r->n < MAX_ENTRIES);
    rec_entry *e = &r->e[r->n++];
    assert_true(strlen(name) <= TAR_NAME_MAX);
    strcpy(e->name, name);
    e->type = type;
    e->size = size;
    e->got = 0;
    e->hash = 0xcbf29ce484222325ULL;
    e->ended = 0;
    log_printf(r, "%c:%s:%llu:", type == TAR_ENTRY_DIR ? 'D' : 'F', name, (unsigned long long)size);
    if (++r->calls_entry == r->fail_entry) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

static int rec_data_cb(void *user, const uint8_t *data, size_t len)
{
    recorder *r = user;
    if (r->failed)
        r->after_fail++;
    assert_true(len > 0);
    assert_true(r->n > 0);
    if (data < r->lo || data + len > r->hi)
        r->foreign_ptr++;
    rec_entry *e = &r->e[r->n - 1];
    assert_false(e->ended);
    for (size_t i = 0; i < len; i++) {
        e->hash = (e->hash ^ data[i]) * 0x100000001b3ULL;
        if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\')
            log_add(r, (const char *)data + i, 1);
        else
            log_printf(r, "\\%02x", data[i]);
    }
    e->got += len;
    if (++r->calls_data == r->fail_data) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

static int rec_end_cb(void *user)
{
    recorder *r = user;
    if (r->failed)
        r->after_fail++;
    assert_true(r->n > 0);
    rec_entry *e = &r->e[r->n - 1];
    assert_false(e->ended);
    assert_true(e->got == e->size);
    e->ended = 1;
    log_add(r, ";", 1);
    if (++r->calls_end == r->fail_end) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

static const tar_callbacks rec_cb = {rec_entry_cb, rec_data_cb, rec_end_cb};

static void rec_free(recorder *r) { free(r->log); }

/* ---- feeding ------------------------------------------------------------- */

enum { MODE_WHOLE, MODE_BYTES, MODE_RANDOM, MODE_RANDOM2, MODE_COUNT };
static const char *const mode_names[] = {"whole", "1-byte", "random", "random2"};

static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

typedef struct {
    int feed_rc;   /* first non-OK result of feed, or TAR_OK */
    int finish_rc; /* result of tar_reader_finish */
    int again_rc;  /* a feed after that */
    uint64_t entries;
} run_result;

/* Feeds buf in the given way, stopping at the first error, then finishes.
 * r is initialised here (failure injection fields are kept). */
static run_result run(const uint8_t *buf, size_t len, int mode, recorder *r)
{
    tar_reader t;
    run_result res = {TAR_OK, TAR_OK, TAR_OK, 0};
    size_t off = 0;

    r->log_len = 0;
    log_add(r, "", 0);
    r->n = 0;
    r->calls_entry = r->calls_data = r->calls_end = 0;
    r->failed = r->after_fail = r->foreign_ptr = 0;
    r->lo = buf;
    r->hi = buf + len;
    rng_state = mode == MODE_RANDOM ? 0x2545f491u : 0x9e3779b9u;
    tar_reader_init(&t, &rec_cb, r);
    while (off < len) {
        size_t n;
        switch (mode) {
        case MODE_WHOLE:
            n = len;
            break;
        case MODE_BYTES:
            n = 1;
            break;
        default: /* mostly small chunks, sometimes large ones, sometimes 0 */
            n = (rng() & 3) ? rng() % 700 : rng() % 5000;
            break;
        }
        if (n > len - off)
            n = len - off;
        int rc = tar_reader_feed(&t, buf + off, n);
        off += n;
        if (rc != TAR_OK) {
            res.feed_rc = rc;
            break;
        }
    }
    res.finish_rc = tar_reader_finish(&t);
    res.again_rc = tar_reader_feed(&t, (const uint8_t *)"x", 1);
    res.entries = t.entries;
    assert_int_equal(r->after_fail, 0);
    assert_int_equal(r->foreign_ptr, 0);
    return res;
}

static const char *g_case = ""; /* printed when a check fails */

/* Runs buf in every mode: each must give feed_rc, finish_rc and the log. */
static void expect_log(const uint8_t *buf, size_t len, int feed_rc, int finish_rc, const char *log)
{
    recorder r = {0};
    for (int m = 0; m < MODE_COUNT; m++) {
        run_result res = run(buf, len, m, &r);
        if (res.feed_rc != feed_rc || res.finish_rc != finish_rc || strcmp(r.log, log) != 0)
            print_error("case \"%s\" mode %s: feed %d finish %d log \"%s\"\n", g_case,
                        mode_names[m], res.feed_rc, res.finish_rc, r.log);
        assert_int_equal(res.feed_rc, feed_rc);
        assert_int_equal(res.finish_rc, finish_rc);
        assert_string_equal(r.log, log);
        /* after finish: the sticky error, or "after end" */
        assert_int_equal(res.again_rc, finish_rc != TAR_OK ? finish_rc : TAR_ERR_AFTER_END);
    }
    rec_free(&r);
}

/* ---- building archives ------------------------------------------------- */

typedef struct {
    uint8_t *b;
    size_t n, cap;
} tarbuf;

static tarbuf *tb_new(void)
{
    tarbuf *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->cap = 1 << 16;
    t->b = calloc(1, t->cap);
    assert_non_null(t->b);
    return t;
}

static void tb_free(tarbuf *t)
{
    free(t->b);
    free(t);
}

static uint8_t *tb_grow(tarbuf *t, size_t n)
{
    assert_true(t->n + n <= t->cap);
    uint8_t *p = t->b + t->n;
    memset(p, 0, n);
    t->n += n;
    return p;
}

/* width-1 octal digits and a NUL */
static void set_octal(uint8_t *f, size_t width, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%0*llo", (int)width - 1, (unsigned long long)v);
    assert_int_equal(strlen(tmp), width - 1);
    memcpy(f, tmp, width);
}

static unsigned header_sum(const uint8_t *h)
{
    unsigned s = 0;
    for (int i = 0; i < 512; i++)
        s += (i >= 148 && i < 156) ? ' ' : h[i];
    return s;
}

/* Writes the checksum the way GNU tar does: 6 digits, NUL, space. */
static void fix_sum(uint8_t *h)
{
    char tmp[8];
    snprintf(tmp, sizeof tmp, "%06o", header_sum(h));
    memcpy(h + 148, tmp, 7);
    h[155] = ' ';
}

/* A POSIX ustar header; name is cut at 100 bytes (no NUL then). */
static uint8_t *add_hdr(tarbuf *t, const char *name, char type, uint64_t size)
{
    uint8_t *h = tb_grow(t, 512);
    size_t n = strlen(name);
    memcpy(h, name, n < 100 ? n : 100);
    set_octal(h + 100, 8, type == '5' ? 0755 : 0644);
    set_octal(h + 108, 8, 0);
    set_octal(h + 116, 8, 0);
    set_octal(h + 124, 12, size);
    set_octal(h + 136, 12, 1700000000);
    h[156] = (uint8_t)type;
    memcpy(h + 257, "ustar\0" "00", 8);
    fix_sum(h);
    return h;
}

/* Data and its padding to 512. */
static void add_data(tarbuf *t, const void *d, size_t n)
{
    uint8_t *p = tb_grow(t, (n + 511) / 512 * 512);
    memcpy(p, d, n);
}

static void add_file(tarbuf *t, const char *name, const char *content)
{
    add_hdr(t, name, '0', strlen(content));
    add_data(t, content, strlen(content));
}

static void add_dir(tarbuf *t, const char *name) { add_hdr(t, name, '5', 0); }

static void add_end(tarbuf *t) { tb_grow(t, 1024); }

/* A header of type 'x', 'g' or 'L' with its data. */
static void add_meta(tarbuf *t, char type, const void *d, size_t n)
{
    add_hdr(t, type == 'L' ? "././@LongLink" : "PaxHeaders/x", type, n);
    add_data(t, d, n);
}

/* Appends the pax record "<len> key=value\n" to dst. */
static void pax_rec(char *dst, const char *key, const char *value)
{
    size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
    size_t len = body + 1;
    while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
        len++;
    sprintf(dst + strlen(dst), "%zu %s=%s\n", len, key, value);
}

static void add_pax(tarbuf *t, const char *records) { add_meta(t, 'x', records, strlen(records)); }

static void expect_tb(tarbuf *t, int feed_rc, int finish_rc, const char *log)
{
    expect_log(t->b, t->n, feed_rc, finish_rc, log);
    tb_free(t);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- the corpus -------------------------------------------------------- */

static const char *corpus_dir(void)
{
    const char *d = getenv("TAR_CORPUS");
    return d ? d : "tests/corpus/tar";
}

static uint8_t *load(const char *file, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", corpus_dir(), file);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root or set TAR_CORPUS)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

static const char *const good_archives[] = {
    "good-gnu.tar",     "good-pax.tar",     "good-ustar.tar",        "good-bsd-pax.tar",
    "good-bsd-ustar.tar", "good-bsd-gnutar.tar", "good-dot-gnu.tar", "good-dot-bsd.tar",
    "good-pax-global.tar",
};

/* Compares what was recorded with the lines of a .list file. */
static void check_list(const char *archive, const recorder *r, char *list)
{
    int i = 0;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n"), i++) {
        char type;
        unsigned long long size;
        char hash[17];
        int off = 0;
        assert_int_equal(sscanf(line, "%c %llu %16s %n", &type, &size, hash, &off), 3);
        const char *name = line + off;
        if (i >= r->n)
            fail_msg("%s: %s not reported", archive, name);
        const rec_entry *e = &r->e[i];
        if (strcmp(e->name, name) != 0)
            fail_msg("%s: entry %d is \"%s\", expected \"%s\"", archive, i, e->name, name);
        assert_int_equal(e->type, type == 'D' ? TAR_ENTRY_DIR : TAR_ENTRY_FILE);
        assert_true(e->size == size);
        assert_true(e->got == size);
        assert_true(e->ended);
        if (type == 'F') {
            char got[17];
            snprintf(got, sizeof got, "%016llx", (unsigned long long)e->hash);
            assert_string_equal(got, hash);
        }
    }
    assert_int_equal(r->n, i);
}

static void test_corpus_good(void **state)
{
    (void)state;
    for (size_t a = 0; a < sizeof good_archives / sizeof *good_archives; a++) {
        const char *name = good_archives[a];
        char listname[128];
        size_t len, list_len;
        uint8_t *buf = load(name, &len);
        snprintf(listname, sizeof listname, "%s.list", name);
        char *list = (char *)load(listname, &list_len);
        recorder r = {0};
        char *first_log = NULL;
        for (int m = 0; m < MODE_COUNT; m++) {
            run_result res = run(buf, len, m, &r);
            if (res.feed_rc != TAR_OK || res.finish_rc != TAR_OK)
                fail_msg("%s (%s): feed %d finish %d", name, mode_names[m], res.feed_rc, res.finish_rc);
            assert_true(res.entries == (uint64_t)r.n);
            char *copy = strdup(list);
            check_list(name, &r, copy);
            free(copy);
            if (!first_log)
                first_log = strdup(r.log);
            else
                assert_string_equal(r.log, first_log);
        }
        free(first_log);
        rec_free(&r);
        free(list);
        free(buf);
    }
}

/* Spot checks of the corpus, independent of the .list files. */
static void test_corpus_names(void **state)
{
    (void)state;
    size_t len;
    recorder r = {0};
    static const char *const files[] = {"good-gnu.tar", "good-pax.tar", "good-bsd-pax.tar",
                                        "good-bsd-gnutar.tar"};
    char *l255 = repeat('x', 249), *d60 = repeat('d', 60), *f56 = repeat('f', 56),
         *n146 = repeat('n', 146);
    char want[4][300];
    snprintf(want[0], sizeof want[0], "l255/%sy", l255);
    snprintf(want[1], sizeof want[1], "long/%s/%s.txt", d60, f56);
    snprintf(want[2], sizeof want[2], "long/%s.txt", n146);
    snprintf(want[3], sizeof want[3], "sp ace/\xc3\xbcn\xc3\xaf.txt");
    assert_int_equal(strlen(want[0]), 255);
    for (size_t f = 0; f < 4; f++) {
        uint8_t *buf = load(files[f], &len);
        run_result res = run(buf, len, MODE_WHOLE, &r);
        assert_int_equal(res.finish_rc, TAR_OK);
        for (int w = 0; w < 4; w++) {
            int found = 0;
            for (int i = 0; i < r.n; i++)
                found |= strcmp(r.e[i].name, want[w]) == 0 && r.e[i].type == TAR_ENTRY_FILE;
            if (!found)
                fail_msg("%s: no %s", files[f], want[w]);
        }
        assert_non_null(strstr(r.log, "F:exact512.bin:512:"));
        assert_non_null(strstr(r.log, "F:zero.bin:0:;"));
        assert_non_null(strstr(r.log, "D:empty:0:;"));
        assert_non_null(strstr(r.log, "F:a/b/deep.txt:5:deep\\0a;"));
        free(buf);
    }
    /* "./" archives: the root is not reported, the rest lost its "./" */
    uint8_t *buf = load("good-dot-gnu.tar", &len);
    assert_int_equal(len, 10240); /* 10 KiB record: zeros after the end blocks */
    run(buf, len, MODE_WHOLE, &r);
    assert_string_equal(r.log, "F:one.txt:4:one\\0a;D:sub:0:;F:sub/two.txt:4:two\\0a;");
    free(buf);
    free(l255), free(d60), free(f56), free(n146);
    rec_free(&r);
}

typedef struct {
    const char *file;
    int feed_rc, finish_rc;
    const char *log; /* what is reported before the bad member */
} bad_case;

static void test_corpus_bad(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"bad-symlink.tar", TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a.txt:2:a\\0a;"},
        {"bad-hardlink.tar", TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a.txt:2:a\\0a;"},
        {"bad-fifo.tar", TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a.txt:2:a\\0a;"},
        {"bad-chardev.tar", TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a.txt:2:a\\0a;"},
        {"bad-blockdev.tar", TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a.txt:2:a\\0a;"},
        {"bad-longlink.tar", TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a.txt:2:a\\0a;"},
        {"bad-dotdot.tar", TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "F:a.txt:2:a\\0a;"},
        {"bad-abs.tar", TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "F:a.txt:2:a\\0a;"},
        {"bad-backslash.tar", TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "F:a.txt:2:a\\0a;"},
        {"bad-control.tar", TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "F:a.txt:2:a\\0a;"},
        {"bad-name256-gnu.tar", TAR_ERR_NAME_TOO_LONG, TAR_ERR_NAME_TOO_LONG, "F:a.txt:2:a\\0a;D:l256:0:;"},
        {"bad-name256-pax.tar", TAR_ERR_NAME_TOO_LONG, TAR_ERR_NAME_TOO_LONG, "F:a.txt:2:a\\0a;D:l256:0:;"},
        {"bad-checksum.tar", TAR_ERR_CHECKSUM, TAR_ERR_CHECKSUM, "F:a.txt:2:a\\0a;"},
        /* cut inside README.txt's data: reported, never ended */
        {"bad-truncated-data.tar", TAR_OK, TAR_ERR_TRUNCATED, NULL},
        {"bad-truncated-header.tar", TAR_OK, TAR_ERR_TRUNCATED, NULL},
    };
    recorder r = {0};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t len;
        uint8_t *buf = load(cases[c].file, &len);
        for (int m = 0; m < MODE_COUNT; m++) {
            run_result res = run(buf, len, m, &r);
            if (res.feed_rc != cases[c].feed_rc || res.finish_rc != cases[c].finish_rc)
                fail_msg("%s (%s): feed %d finish %d", cases[c].file, mode_names[m], res.feed_rc,
                         res.finish_rc);
            assert_int_equal(res.again_rc, cases[c].finish_rc);
            if (cases[c].log) {
                assert_string_equal(r.log, cases[c].log);
            } else {
                assert_int_equal(r.n, 1);
                assert_string_equal(r.e[0].name, "README.txt");
                assert_true(r.e[0].size == 690);
                assert_int_equal(r.e[0].ended, strstr(cases[c].file, "header") != NULL);
                assert_true(r.e[0].got == (r.e[0].ended ? 690 : 700 - 512));
            }
        }
        free(buf);
    }
    rec_free(&r);
}

/* ---- end of archive ------------------------------------------------------ */

static void test_end_and_trailing(void **state)
{
    (void)state;
    /* trailing garbage after the end blocks is ignored */
    tarbuf *t = tb_new();
    add_file(t, "a", "x");
    add_end(t);
    memcpy(tb_grow(t, 700), "this is not a tar header, it is garbage", 39);
    memset(t->b + t->n - 600, 0xa5, 600);
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;");

    /* no end blocks at all: fine when the input stops between members */
    t = tb_new();
    add_file(t, "a", "x");
    add_dir(t, "d");
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;D:d:0:;");

    /* only one end block */
    t = tb_new();
    add_file(t, "a", "x");
    tb_grow(t, 512);
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;");

    /* an empty archive (just the end blocks) */
    t = tb_new();
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "");

    /* no input at all, or only the root entry and no end: not an archive */
    t = tb_new();
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "");
    t = tb_new();
    add_dir(t, "./");
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "");

    /* cut in the middle of data, of the padding, of a header */
    t = tb_new();
    add_file(t, "a", "x");
    add_file(t, "b", "0123456789");
    t->n -= 512 - 4;
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:a:1:x;F:b:10:0123");
    t = tb_new();
    add_file(t, "a", "x");
    add_file(t, "b", "0123456789");
    t->n -= 1;
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:a:1:x;F:b:10:0123456789;");
    t = tb_new();
    add_file(t, "a", "x");
    add_file(t, "b", "0123456789");
    t->n -= 512 + 100;
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:a:1:x;");

    /* cut after an 'L' or 'x' header, before its member */
    t = tb_new();
    add_file(t, "a", "x");
    add_meta(t, 'L', "long\0", 5);
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:a:1:x;");
    t = tb_new();
    add_file(t, "a", "x");
    char recs[64] = "";
    pax_rec(recs, "size", "1");
    add_pax(t, recs);
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:a:1:x;");
    t = tb_new();
    add_file(t, "a", "x");
    add_meta(t, 'L', "long\0", 5);
    t->n -= 10;
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:a:1:x;");

    /* a lone zero block followed by more members is malformed */
    t = tb_new();
    add_file(t, "a", "x");
    tb_grow(t, 512);
    add_file(t, "b", "y");
    add_end(t);
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "F:a:1:x;");

    /* end blocks right after an 'L' or 'x' header */
    t = tb_new();
    add_meta(t, 'L', "long\0", 5);
    add_end(t);
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    t = tb_new();
    add_pax(t, recs);
    add_end(t);
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
}

/* ---- API behaviour --------------------------------------------------- */

static void test_callback_errors(void **state)
{
    (void)state;
    tarbuf *t = tb_new();
    add_file(t, "a", "hello");
    add_dir(t, "d");
    add_file(t, "b", "world");
    add_end(t);
    recorder r = {0};
    struct {
        int entry, data, end;
        const char *log;
    } cases[] = {
        {1, 0, 0, "F:a:5:"},
        {2, 0, 0, "F:a:5:hello;D:d:0:"},
        {0, 1, 0, "F:a:5:h"}, /* in 1-byte mode; whole: "hello" */
        {0, 0, 1, "F:a:5:hello;"},
        {0, 0, 2, "F:a:5:hello;D:d:0:;"},
        {0, 0, 3, "F:a:5:hello;D:d:0:;F:b:5:world;"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int m = 0; m < MODE_COUNT; m++) {
            r.fail_entry = cases[c].entry;
            r.fail_data = cases[c].data;
            r.fail_end = cases[c].end;
            run_result res = run(t->b, t->n, m, &r);
            assert_int_equal(res.feed_rc, TAR_ERR_CALLBACK);
            assert_int_equal(res.finish_rc, TAR_ERR_CALLBACK);
            assert_int_equal(res.again_rc, TAR_ERR_CALLBACK);
            if (cases[c].data && m != MODE_BYTES)
                assert_true(strncmp(r.log, "F:a:5:h", 7) == 0 && !strchr(r.log, ';'));
            else
                assert_string_equal(r.log, cases[c].log);
        }
    }
    rec_free(&r);
    tb_free(t);
}

static void test_sticky_and_after_end(void **state)
{
    (void)state;
    tarbuf *t = tb_new();
    add_file(t, "a", "x");
    add_hdr(t, "l", '2', 0);
    add_file(t, "b", "y");
    add_end(t);
    tar_reader rd;
    recorder r = {0};
    log_add(&r, "", 0);
    r.lo = t->b;
    r.hi = t->b + t->n;
    tar_reader_init(&rd, &rec_cb, &r);
    assert_int_equal(tar_reader_feed(&rd, t->b, 1024), TAR_OK);
    assert_int_equal(tar_reader_feed(&rd, t->b + 1024, 512), TAR_ERR_FORBIDDEN_TYPE);
    /* every later call: the same error, and no more callbacks */
    assert_int_equal(tar_reader_feed(&rd, t->b + 1536, t->n - 1536), TAR_ERR_FORBIDDEN_TYPE);
    assert_int_equal(tar_reader_feed(&rd, t->b, 0), TAR_ERR_FORBIDDEN_TYPE);
    assert_int_equal(tar_reader_finish(&rd), TAR_ERR_FORBIDDEN_TYPE);
    assert_int_equal(tar_reader_finish(&rd), TAR_ERR_FORBIDDEN_TYPE);
    assert_string_equal(r.log, "F:a:1:x;");
    assert_true(rd.entries == 1);

    /* after a good finish: feed is refused, finish stays OK */
    tar_reader_init(&rd, &rec_cb, &r);
    assert_int_equal(tar_reader_feed(&rd, t->b, 1024), TAR_OK);
    assert_int_equal(tar_reader_feed(&rd, t->b, 0), TAR_OK);
    assert_int_equal(tar_reader_finish(&rd), TAR_OK);
    assert_int_equal(tar_reader_finish(&rd), TAR_OK);
    assert_int_equal(tar_reader_feed(&rd, t->b + 1024, 512), TAR_ERR_AFTER_END);
    assert_int_equal(tar_reader_finish(&rd), TAR_OK);

    /* the reader can be reused after init */
    tb_free(t);
    rec_free(&r);
}

static int count_entries(void *user, const char *name, tar_entry_type type, uint64_t size)
{
    (void)name, (void)type, (void)size;
    ++*(int *)user;
    return 0;
}

static void test_null_callbacks(void **state)
{
    (void)state;
    tarbuf *t = tb_new();
    add_file(t, "a", "hello");
    add_dir(t, "d");
    add_end(t);
    tar_reader rd;
    tar_reader_init(&rd, NULL, NULL);
    assert_int_equal(tar_reader_feed(&rd, t->b, t->n), TAR_OK);
    assert_int_equal(tar_reader_finish(&rd), TAR_OK);
    assert_true(rd.entries == 2);
    int n = 0;
    tar_callbacks only_entry = {count_entries, NULL, NULL};
    tar_reader_init(&rd, &only_entry, &n);
    assert_int_equal(tar_reader_feed(&rd, t->b, t->n), TAR_OK);
    assert_int_equal(tar_reader_finish(&rd), TAR_OK);
    assert_int_equal(n, 2);
    tb_free(t);
}

static void test_result_text(void **state)
{
    (void)state;
    const int codes[] = {TAR_OK, TAR_ERR_CHECKSUM, TAR_ERR_FORMAT, TAR_ERR_UNSAFE_NAME,
                         TAR_ERR_NAME_TOO_LONG, TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_TRUNCATED,
                         TAR_ERR_CALLBACK, TAR_ERR_AFTER_END};
    const char *seen[10];
    for (size_t i = 0; i < 9; i++) {
        seen[i] = tar_result_text(codes[i]);
        assert_non_null(seen[i]);
        assert_true(strlen(seen[i]) > 1);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    assert_string_equal(tar_result_text(-99), "unknown tar error");
    assert_string_equal(tar_result_text(1), "unknown tar error");
}

/* ---- headers ---------------------------------------------------------- */

static void test_checksum(void **state)
{
    (void)state;
    /* historic signed sum (bytes >= 0x80 counted negative) */
    tarbuf *t = tb_new();
    uint8_t *h = add_hdr(t, "\xc3\xa9t\xc3\xa9.txt", '0', 2);
    add_data(t, "ok", 2);
    int s = 0;
    for (int i = 0; i < 512; i++)
        s += (i >= 148 && i < 156) ? ' ' : (int8_t)h[i];
    assert_true(s > 0 && (unsigned)s != header_sum(h));
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%06o", s);
    memcpy(h + 148, tmp, 7);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:\xc3\xa9t\xc3\xa9.txt:2:ok;");

    /* other spellings of the field: 7 digits and a space, 8 digits,
     * leading spaces */
    static const char *const spell[] = {"%07o ", "%08o", "  %05o"};
    for (int k = 0; k < 3; k++) {
        char field[16];
        t = tb_new();
        h = add_hdr(t, "a", '0', 0);
        snprintf(field, sizeof field, spell[k], header_sum(h));
        memcpy(h + 148, field, 8);
        add_end(t);
        expect_tb(t, TAR_OK, TAR_OK, "F:a:0:;");
    }

    /* wrong sum */
    t = tb_new();
    h = add_hdr(t, "a", '0', 0);
    h[0] = 'b';
    expect_tb(t, TAR_ERR_CHECKSUM, TAR_ERR_CHECKSUM, "");
    /* unreadable sum fields: not a tar header */
    static const char *const badsum[] = {"        ", "\0\0\0\0\0\0\0\0", "01234x\0 ", "0123 4 \0",
                                         "9999999 "};
    for (int k = 0; k < 5; k++) {
        t = tb_new();
        h = add_hdr(t, "a", '0', 0);
        memcpy(h + 148, badsum[k], 8);
        expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    }
    /* random bytes */
    t = tb_new();
    uint8_t *p = tb_grow(t, 1024);
    rng_state = 12345;
    for (int i = 0; i < 1024; i++)
        p[i] = (uint8_t)rng();
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
}

static void test_magic(void **state)
{
    (void)state;
    /* old V7 header: no magic */
    tarbuf *t = tb_new();
    uint8_t *h = add_hdr(t, "v7.txt", '\0', 2);
    memset(h + 257, 0, 8);
    fix_sum(h);
    add_data(t, "v7", 2);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:v7.txt:2:v7;");
    /* unknown magic */
    t = tb_new();
    h = add_hdr(t, "a", '0', 0);
    memcpy(h + 257, "USTAR", 5);
    fix_sum(h);
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    /* GNU magic: the prefix area is not a prefix (GNU keeps times there) */
    t = tb_new();
    h = add_hdr(t, "gnu.txt", '0', 0);
    memcpy(h + 257, "ustar  ", 8);
    memcpy(h + 345, "14520306524", 11);
    fix_sum(h);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:gnu.txt:0:;");
}

static void test_types(void **state)
{
    (void)state;
    /* '7' (contiguous) is a file; all other types but '0','\0','5' refused */
    tarbuf *t = tb_new();
    add_hdr(t, "c", '7', 1);
    add_data(t, "c", 1);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:c:1:c;");
    static const char bad[] = "12346KSDMNVAZ9x";
    for (const char *c = bad; *c; c++) {
        if (*c == 'x')
            continue;
        t = tb_new();
        add_file(t, "a", "x");
        add_hdr(t, "bad", *c, 0);
        add_file(t, "z", "z");
        add_end(t);
        expect_tb(t, TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "F:a:1:x;");
    }
    /* a folder with a size is malformed (no tool writes it) */
    t = tb_new();
    add_hdr(t, "d", '5', 10);
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    /* V7 style folder: a "file" whose name ends in '/' */
    t = tb_new();
    add_hdr(t, "old/", '\0', 0);
    add_hdr(t, "old2/", '0', 0);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "D:old:0:;D:old2:0:;");
    t = tb_new();
    add_hdr(t, "old/", '0', 3);
    add_data(t, "abc", 3);
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
}

static void test_sizes(void **state)
{
    (void)state;
    /* 0, multiple of 512, 513, 511 */
    tarbuf *t = tb_new();
    char *big = repeat('q', 1025);
    add_file(t, "z", "");
    add_hdr(t, "b512", '0', 512);
    add_data(t, big, 512);
    add_hdr(t, "b513", '0', 513);
    add_data(t, big, 513);
    add_hdr(t, "b511", '0', 511); /* 1 byte of padding */
    add_data(t, big, 511);
    add_file(t, "last", "L");
    add_end(t);
    char want[4096];
    snprintf(want, sizeof want, "F:z:0:;F:b512:512:%.512s;F:b513:513:%.513s;F:b511:511:%.511s;F:last:1:L;",
             big, big, big);
    expect_tb(t, TAR_OK, TAR_OK, want);

    /* octal size spellings: leading spaces, trailing space, 12 digits */
    static const char *const ok[] = {"    3       ", "00000000003 ", "000000000003", "3\0\0\0\0\0\0\0\0\0\0\0"};
    for (int k = 0; k < 4; k++) {
        t = tb_new();
        uint8_t *h = add_hdr(t, "s", '0', 0);
        memcpy(h + 124, ok[k], 12);
        fix_sum(h);
        add_data(t, "abc", 3);
        add_end(t);
        expect_tb(t, TAR_OK, TAR_OK, "F:s:3:abc;");
    }
    static const char *const bad[] = {"            ", "\0\0\0\0\0\0\0\0\0\0\0\0", "0000000000x3",
                                      "00000000008 ", "-1          ", "0000 000003 "};
    for (int k = 0; k < 6; k++) {
        t = tb_new();
        uint8_t *h = add_hdr(t, "s", '0', 0);
        memcpy(h + 124, bad[k], 12);
        fix_sum(h);
        add_end(t);
        expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    }
    /* the size of 'L', 'x' and 'g' headers is checked too */
    const char types[] = "Lxg";
    for (int k = 0; k < 3; k++) {
        t = tb_new();
        uint8_t *h = add_hdr(t, "m", types[k], 0);
        memcpy(h + 124, "zz", 2);
        fix_sum(h);
        expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    }

    /* GNU base-256: a small value, and one over 8 GiB (stopped by the
     * callback after the header) */
    t = tb_new();
    uint8_t *h = add_hdr(t, "b256", '0', 0);
    memset(h + 124, 0, 12);
    h[124] = 0x80;
    h[135] = 3;
    fix_sum(h);
    add_data(t, "abc", 3);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:b256:3:abc;");
    t = tb_new();
    h = add_hdr(t, "huge", '0', 0);
    memset(h + 124, 0, 12);
    h[124] = 0x80;
    h[131] = 0x02; /* 0x2_0000_0000 + 5 = 8 GiB + 5 */
    h[135] = 5;
    fix_sum(h);
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:huge:8589934597:");
    /* the largest 64-bit size, and values that do not fit or are negative */
    t = tb_new();
    h = add_hdr(t, "max", '0', 0);
    memset(h + 124, 0, 12);
    h[124] = 0x80;
    memset(h + 128, 0xff, 8);
    fix_sum(h);
    expect_tb(t, TAR_OK, TAR_ERR_TRUNCATED, "F:max:18446744073709551615:");
    for (int k = 0; k < 4; k++) {
        t = tb_new();
        h = add_hdr(t, "nofit", '0', 0);
        memset(h + 124, 0, 12);
        h[124] = 0x80;
        if (k == 0)
            h[127] = 1; /* 2^64 */
        else if (k == 1)
            h[124] = 0x81; /* 2^88 */
        else if (k == 2)
            memset(h + 124, 0xff, 12); /* -1 */
        else
            h[124] = 0xc0, h[135] = 1; /* -2^94 + 1 */
        fix_sum(h);
        expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    }
    free(big);
}

/* ---- names ------------------------------------------------------------ */

typedef struct {
    const char *name;
    int rc;
    const char *reported; /* for TAR_OK; "" = skipped root */
} name_case;

static void test_names(void **state)
{
    (void)state;
    static const name_case cases[] = {
        {"plain", TAR_OK, "plain"},
        {"./a", TAR_OK, "a"},
        {"././a/b", TAR_OK, "a/b"},
        {"a/", TAR_OK, "a"},
        {"a//", TAR_OK, "a"},
        {"./a/b/", TAR_OK, "a/b"},
        {"...", TAR_OK, "..."},
        {"a/..b/c..", TAR_OK, "a/..b/c.."},
        {".hidden/.x", TAR_OK, ".hidden/.x"},
        {"sp ace/t~a:b", TAR_OK, "sp ace/t~a:b"},
        {"\xe4\xb8\xad\xe6\x96\x87", TAR_OK, "\xe4\xb8\xad\xe6\x96\x87"},
        {"./", TAR_OK, ""},
        {".", TAR_OK, ""},
        {"././", TAR_OK, ""},
        {"", TAR_ERR_UNSAFE_NAME, NULL},
        {"/", TAR_ERR_UNSAFE_NAME, NULL},
        {"/etc/passwd", TAR_ERR_UNSAFE_NAME, NULL},
        {".//etc", TAR_ERR_UNSAFE_NAME, NULL},
        {"..", TAR_ERR_UNSAFE_NAME, NULL},
        {"../x", TAR_ERR_UNSAFE_NAME, NULL},
        {"./../x", TAR_ERR_UNSAFE_NAME, NULL},
        {"a/../../x", TAR_ERR_UNSAFE_NAME, NULL},
        {"a/..", TAR_ERR_UNSAFE_NAME, NULL},
        {"a/../", TAR_ERR_UNSAFE_NAME, NULL},
        {"a//b", TAR_ERR_UNSAFE_NAME, NULL},
        {"a/./b", TAR_ERR_UNSAFE_NAME, NULL},
        {"a/.", TAR_ERR_UNSAFE_NAME, NULL},
        {"a\\b", TAR_ERR_UNSAFE_NAME, NULL},
        {"..\\x", TAR_ERR_UNSAFE_NAME, NULL},
        {"a\nb", TAR_ERR_UNSAFE_NAME, NULL},
        {"a\x1f", TAR_ERR_UNSAFE_NAME, NULL},
        {"\x7f", TAR_ERR_UNSAFE_NAME, NULL},
        {"\tx", TAR_ERR_UNSAFE_NAME, NULL},
        /* names are valid UTF-8 (the package rules, T2) */
        {"\xf0\x9f\x98\x80.py", TAR_OK, "\xf0\x9f\x98\x80.py"},
        {"caf\xe9.py", TAR_ERR_UNSAFE_NAME, NULL},          /* Latin-1 */
        {"lib/caf\xc3", TAR_ERR_UNSAFE_NAME, NULL},         /* cut short */
        {"\xc0\xae\xc0\xae/x", TAR_ERR_UNSAFE_NAME, NULL}, /* overlong ".." */
        {"\xed\xa0\x80", TAR_ERR_UNSAFE_NAME, NULL},        /* a surrogate */
        {"\xf4\x90\x80\x80", TAR_ERR_UNSAFE_NAME, NULL},    /* above U+10FFFF */
        {"a/\xff/", TAR_ERR_UNSAFE_NAME, NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int type = 0; type < 2; type++) {
            tarbuf *t = tb_new();
            add_hdr(t, cases[c].name, type ? '5' : '0', 0);
            add_end(t);
            char want[600] = "";
            int rc = cases[c].rc;
            size_t len = strlen(cases[c].name);
            if (rc == TAR_OK && !*cases[c].reported && !type && cases[c].name[len - 1] != '/')
                rc = TAR_ERR_UNSAFE_NAME; /* "." as a file ("./" is a V7 folder) */
            else if (rc == TAR_OK && *cases[c].reported)
                snprintf(want, sizeof want, "%c:%s:0:;", type ? 'D' : 'F', cases[c].reported);
            if (*want && !type && cases[c].name[len - 1] == '/')
                want[0] = 'D'; /* V7 folder */
            g_case = cases[c].name;
            expect_tb(t, rc, rc, want);
        }
    }
}

/* Non-UTF-8 names from every source of names: 'L' data, pax path, ustar
 * prefix. */
static void test_names_not_utf8_from_every_source(void **state)
{
    (void)state;
    static const char latin1[] = "caf\xe9.py";
    tarbuf *t = tb_new();
    add_meta(t, 'L', latin1, sizeof latin1); /* with its NUL */
    add_hdr(t, "ignored", '0', 0);
    add_end(t);
    g_case = "L";
    expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");

    char rec[600] = "";
    pax_rec(rec, "path", latin1);
    t = tb_new();
    add_pax(t, rec);
    add_hdr(t, "ignored", '0', 0);
    add_end(t);
    g_case = "pax path";
    expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");

    t = tb_new();
    uint8_t *h = add_hdr(t, "x.py", '0', 0);
    memcpy(h + 345, "caf\xe9", 4); /* the ustar prefix: "caf\xe9/x.py" */
    fix_sum(h);
    add_end(t);
    g_case = "ustar prefix";
    expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");

    /* valid UTF-8 from a pax path passes */
    rec[0] = '\0';
    pax_rec(rec, "path", "\xe4\xb8\xad\xe6\x96\x87/\xc3\xa9.py");
    t = tb_new();
    add_pax(t, rec);
    add_hdr(t, "ignored", '0', 0);
    add_end(t);
    g_case = "pax path UTF-8";
    expect_tb(t, TAR_OK, TAR_OK, "F:\xe4\xb8\xad\xe6\x96\x87/\xc3\xa9.py:0:;");
}

static void test_name_lengths(void **state)
{
    (void)state;
    /* a name of exactly 100 bytes (no NUL in the field) */
    char *n100 = repeat('a', 100);
    tarbuf *t = tb_new();
    add_file(t, n100, "x");
    add_end(t);
    char want[1024];
    snprintf(want, sizeof want, "F:%s:1:x;", n100);
    expect_tb(t, TAR_OK, TAR_OK, want);

    /* ustar prefix + name, with "./" in the prefix; full 155 + 100 = 256 */
    char *p155 = repeat('p', 155), *p154 = repeat('p', 154), *p153 = repeat('p', 153);
    t = tb_new();
    uint8_t *h = add_hdr(t, "name", '0', 0);
    memcpy(h + 345, "./pre/fix", 9);
    fix_sum(h);
    h = add_hdr(t, n100, '0', 0); /* 154 + 1 + 100 = 255 */
    memcpy(h + 345, p154, 154);
    fix_sum(h);
    h = add_hdr(t, "n", '0', 0);
    memcpy(h + 345, ".", 1);
    fix_sum(h);
    h = add_hdr(t, "", '5', 0); /* prefix only: "dir/" */
    memcpy(h + 345, "dir", 3);
    fix_sum(h);
    add_end(t);
    snprintf(want, sizeof want, "F:pre/fix/name:0:;F:%s/%s:0:;F:n:0:;D:dir:0:;", p154, n100);
    expect_tb(t, TAR_OK, TAR_OK, want);
    t = tb_new();
    h = add_hdr(t, n100, '0', 0);
    memcpy(h + 345, p155, 155);
    fix_sum(h);
    expect_tb(t, TAR_ERR_NAME_TOO_LONG, TAR_ERR_NAME_TOO_LONG, "");
    /* 155 + 1 + 99 = 255 */
    t = tb_new();
    h = add_hdr(t, n100 + 1, '0', 0);
    memcpy(h + 345, p155, 155);
    fix_sum(h);
    add_end(t);
    snprintf(want, sizeof want, "F:%s/%s:0:;", p155, n100 + 1);
    expect_tb(t, TAR_OK, TAR_OK, want);
    /* 153 + 1 + 100 with a "./" prefix = 256 - 2 */
    t = tb_new();
    h = add_hdr(t, n100, '0', 0);
    memcpy(h + 345, "./", 2);
    memcpy(h + 347, p153, 153);
    fix_sum(h);
    add_end(t);
    snprintf(want, sizeof want, "F:%s/%s:0:;", p153, n100);
    expect_tb(t, TAR_OK, TAR_OK, want);

    /* GNU 'L': 255 bytes ok, 256 too long, "./" + 255 ok */
    char *l255 = repeat('l', 255), *l256 = repeat('l', 256);
    char dot255[300];
    snprintf(dot255, sizeof dot255, "./%s", l255);
    t = tb_new();
    add_meta(t, 'L', l255, 256); /* with its NUL */
    add_file(t, "trunc", "1");
    add_meta(t, 'L', dot255, 257);
    add_dir(t, "trunc");
    add_end(t);
    snprintf(want, sizeof want, "F:%s:1:1;D:%s:0:;", l255, l255);
    expect_tb(t, TAR_OK, TAR_OK, want);
    t = tb_new();
    add_meta(t, 'L', l256, 257);
    add_file(t, "trunc", "1");
    expect_tb(t, TAR_ERR_NAME_TOO_LONG, TAR_ERR_NAME_TOO_LONG, "");

    /* 'L' without a NUL, with many NULs after the name, empty */
    t = tb_new();
    add_meta(t, 'L', "nonul", 5);
    add_file(t, "x", "1");
    char nuls[700] = "many";
    add_meta(t, 'L', nuls, sizeof nuls);
    add_file(t, "x", "2");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:nonul:1:1;F:many:1:2;");
    t = tb_new(); /* bytes after the NUL are not part of the name */
    add_meta(t, 'L', "abc\0def", 7);
    add_file(t, "x", "1");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:abc:1:1;");
    t = tb_new();
    add_meta(t, 'L', "", 0);
    add_file(t, "x", "1");
    expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");
    t = tb_new();
    add_meta(t, 'L', "../up\0", 6);
    add_file(t, "x", "1");
    expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");
    /* the last 'L' wins; the name is used once */
    t = tb_new();
    add_meta(t, 'L', "first\0", 6);
    add_meta(t, 'L', "second\0", 7);
    add_file(t, "x", "1");
    add_file(t, "y", "2");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:second:1:1;F:y:1:2;");
    /* 'K' (long link name) is a link */
    t = tb_new();
    add_meta(t, 'K', "target\0", 7);
    expect_tb(t, TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "");

    free(n100), free(p155), free(p154), free(p153), free(l255), free(l256);
}

/* ---- pax ---------------------------------------------------------------- */

static void test_pax(void **state)
{
    (void)state;
    char recs[4096];
    char want[2048];

    /* path and size override the header; other keys are ignored; the
     * values apply to one member only */
    tarbuf *t = tb_new();
    recs[0] = '\0';
    pax_rec(recs, "mtime", "1700000000.123456789");
    pax_rec(recs, "path", "./pax/name with = and spaces.txt");
    pax_rec(recs, "size", "5");
    pax_rec(recs, "SCHILY.xattr.user.x", "a\nb=c");
    pax_rec(recs, "comment", "");
    add_pax(t, recs);
    uint8_t *h = add_hdr(t, "short", '0', 0);
    memcpy(h + 124, "77777777777", 11); /* GNU tar puts junk-ish values here */
    fix_sum(h);
    add_data(t, "12345", 5);
    add_file(t, "next", "n");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:pax/name with = and spaces.txt:5:12345;F:next:1:n;");

    /* a pax path for a folder, with its trailing '/' */
    t = tb_new();
    recs[0] = '\0';
    pax_rec(recs, "path", "folder/");
    add_pax(t, recs);
    add_dir(t, "f");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "D:folder:0:;");

    /* "path=" and "size=" unset what an earlier record set */
    t = tb_new();
    recs[0] = '\0';
    pax_rec(recs, "path", "gone");
    pax_rec(recs, "size", "99");
    pax_rec(recs, "path", "");
    pax_rec(recs, "size", "");
    add_pax(t, recs);
    add_file(t, "kept", "k");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:kept:1:k;");

    /* 'x' after 'L' replaces the name and vice versa; two 'x' add up */
    t = tb_new();
    add_meta(t, 'L', "fromL\0", 6);
    recs[0] = '\0';
    pax_rec(recs, "path", "fromX");
    add_pax(t, recs);
    recs[0] = '\0';
    pax_rec(recs, "size", "2");
    add_pax(t, recs);
    add_hdr(t, "h", '0', 0);
    add_data(t, "xx", 2);
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:fromX:2:xx;");

    /* global 'g' headers are skipped, whatever they hold */
    t = tb_new();
    recs[0] = '\0';
    pax_rec(recs, "path", "/not/used");
    add_meta(t, 'g', recs, strlen(recs));
    add_meta(t, 'g', "", 0);
    add_file(t, "a", "x");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;");

    /* an empty 'x' */
    t = tb_new();
    add_pax(t, "");
    add_file(t, "a", "x");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;");

    /* a path of 255 bytes; 256 and 300 are too long; one that does not
     * fit the record buffer at all */
    char *v = repeat('v', 1000);
    /* "path=" + value + "\n" fits the record buffer up to a value of 313 */
    static const size_t lens[] = {255, 256, 300, 313, 314, 400};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        size_t len = lens[k];
        assert_int_equal(sizeof ((tar_reader *)0)->record, 319);
        t = tb_new();
        recs[0] = '\0';
        v[len] = '\0';
        pax_rec(recs, "path", v);
        v[len] = 'v';
        add_pax(t, recs);
        add_file(t, "a", "x");
        add_end(t);
        if (len == 255) {
            snprintf(want, sizeof want, "F:%.255s:1:x;", v);
            expect_tb(t, TAR_OK, TAR_OK, want);
        } else {
            expect_tb(t, TAR_ERR_NAME_TOO_LONG, TAR_ERR_NAME_TOO_LONG, "");
        }
    }
    /* records too long for the buffer with other keys are skipped */
    t = tb_new();
    recs[0] = '\0';
    v[900] = '\0';
    pax_rec(recs, "SCHILY.xattr.user.big", v);
    pax_rec(recs, v, "long key");
    v[900] = 'v';
    pax_rec(recs, "path", "after");
    add_pax(t, recs);
    add_file(t, "a", "x");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:after:1:x;");
    /* ... but not a size */
    t = tb_new();
    recs[0] = '\0';
    v[400] = '\0';
    memset(v, '0', 399);
    pax_rec(recs, "size", v);
    add_pax(t, recs);
    add_file(t, "a", "x");
    expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    free(v);

    /* unsafe pax paths */
    static const char *const unsafe[] = {"../x", "/abs", "a\\b", "a\rb"};
    for (int k = 0; k < 4; k++) {
        t = tb_new();
        recs[0] = '\0';
        pax_rec(recs, "path", unsafe[k]);
        add_pax(t, recs);
        add_file(t, "a", "x");
        expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");
    }
    t = tb_new(); /* NUL inside the value */
    add_meta(t, 'x', "12 path=a\0b\n", 12);
    add_file(t, "a", "x");
    expect_tb(t, TAR_ERR_UNSAFE_NAME, TAR_ERR_UNSAFE_NAME, "");

    /* sparse files are refused */
    t = tb_new();
    recs[0] = '\0';
    pax_rec(recs, "GNU.sparse.major", "1");
    add_pax(t, recs);
    add_file(t, "a", "x");
    expect_tb(t, TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "");
    t = tb_new();
    recs[0] = '\0';
    pax_rec(recs, "GNU.sparse.", "");
    add_pax(t, recs);
    add_file(t, "a", "x");
    expect_tb(t, TAR_ERR_FORBIDDEN_TYPE, TAR_ERR_FORBIDDEN_TYPE, "");
    t = tb_new(); /* keys that only look like it */
    recs[0] = '\0';
    pax_rec(recs, "GNU.sparsely", "1");
    pax_rec(recs, "GNU.sp", "1");
    add_pax(t, recs);
    add_file(t, "a", "x");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;");

    /* malformed records */
    static const struct {
        const char *data;
        size_t len;
    } bad[] = {
        {"7 path\n", 7},                  /* no '=' */
        {"7 =abc\n", 7},                  /* empty key */
        {"9 path=ab", 9},                 /* last byte not '\n' */
        {"8 path=x\n", 9},                /* length one short: '\n' not last */
        {"10 path=x\n", 9},               /* runs past the data */
        {"x5 a=b\n", 7},                  /* not a number */
        {" 5 a=b\n", 7},                  /* no digits */
        {"9", 1},                         /* data ends inside the length */
        {"123456789012345678901 a=b\n", 26}, /* 21 digits */
        {"99999999999999999999 a=b\n", 25}, /* does not fit 64 bits */
        {"3 \n", 3},                      /* shorter than its own length field */
        {"4 a\n", 4},                     /* too short for "<len> k=\n" */
        {"11 size=1x\n", 11},             /* not a number */
        {"11 size=-1\n", 11},
        {"29 size=99999999999999999999\n", 29}, /* overflows */
        {"6 a=b\n\0\0\0", 9},             /* NUL padding after the records */
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        t = tb_new();
        add_meta(t, 'x', bad[k].data, bad[k].len);
        add_file(t, "a", "x");
        add_end(t);
        g_case = bad[k].data;
        expect_tb(t, TAR_ERR_FORMAT, TAR_ERR_FORMAT, "");
    }
    /* shortest valid records */
    t = tb_new();
    add_meta(t, 'x', "5 a=\n6 a=b\n", 11);
    add_file(t, "a", "x");
    add_end(t);
    expect_tb(t, TAR_OK, TAR_OK, "F:a:1:x;");
}

/* ---- data is passed through, not copied ---------------------------------- */

static void test_large_member(void **state)
{
    (void)state;
    /* 300 KiB: in whole mode on_data is called once, straight from the
     * input (run() checks every pointer lies inside the input buffer) */
    size_t size = 300 * 1024 + 7;
    tarbuf *t = tb_new();
    free(t->b);
    t->cap = size + 8192;
    t->b = calloc(1, t->cap);
    uint8_t *h = add_hdr(t, "big.bin", '0', size);
    (void)h;
    uint8_t *d = tb_grow(t, (size + 511) / 512 * 512);
    for (size_t i = 0; i < size; i++)
        d[i] = (uint8_t)(i * 131 + (i >> 9));
    add_end(t);
    recorder r = {0};
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ d[i]) * 0x100000001b3ULL;
    for (int m = 0; m < MODE_COUNT; m++) {
        run_result res = run(t->b, t->n, m, &r);
        assert_int_equal(res.finish_rc, TAR_OK);
        assert_int_equal(r.n, 1);
        assert_true(r.e[0].got == size && r.e[0].hash == hash && r.e[0].ended);
        if (m == MODE_WHOLE)
            assert_int_equal(r.calls_data, 1);
    }
    rec_free(&r);
    tb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_good),
        cmocka_unit_test(test_corpus_names),
        cmocka_unit_test(test_corpus_bad),
        cmocka_unit_test(test_end_and_trailing),
        cmocka_unit_test(test_callback_errors),
        cmocka_unit_test(test_sticky_and_after_end),
        cmocka_unit_test(test_null_callbacks),
        cmocka_unit_test(test_result_text),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_magic),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_names_not_utf8_from_every_source),
        cmocka_unit_test(test_name_lengths),
        cmocka_unit_test(test_pax),
        cmocka_unit_test(test_large_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
