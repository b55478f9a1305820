/*
 * package_check.c - validate an app package against the package rules of
 * package_check.h, in one pass over the file:
 *
 *   file --zlib--> tar stream --+--> libarchive (tar only): members, names,
 *                               |    types, limits, manifest.json kept
 *                               +--> the SDK's tar reader: the device's view
 *
 * zlib is the only decompressor (the gzip layer, G1-G4, and the stream
 * bounds of T4 are checked as it inflates); libarchive gets the inflated
 * bytes and no decompression filter, so it can neither skip a second gzip
 * member nor unwrap gzip inside gzip. The SDK's tar reader (the code that
 * extracts on the device) reads the same bytes, so a member the device would
 * refuse is refused here. manifest.json (at most MANIFEST_MAX bytes) is
 * checked at the end by the SDK's manifest reader.
 *
 * The first rule found broken gives the verdict (fail() keeps the first).
 */
#include "package_check.h"

/* sdk/src: the device's own rules (see the Makefile) */
#include "haas_util.h"
#include "manifest.h"
#include "private/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 16384
#define NAME_MAX_LEN 255
#define RATIO_FLOOR (1 << 20)      /* below this many bytes the ratio is not checked */
#define TAR_BYTES_PER_MEMBER 4096 /* headers and padding allowed per member in the stream bound */
#define TAR_BYTES_EXTRA 20480     /* end-of-archive blocks and record padding */
#define SHOWN_MAX 100             /* bytes of a name or value quoted in a message */

/* The state of one check (about 52 KiB, allocated). */
typedef struct {
    package_verdict *v;
    const package_limits *limits;
    int64_t packed;
    /* the gzip layer */
    FILE *f;
    z_stream zs;
    bool z_open, eof, ended;
    int64_t out_total;
    uint8_t head[2];
    size_t head_len;
    tar_reader tar; /* the device's reader, on the same bytes */
    /* the tar layer */
    struct archive *a;
    bool is_manifest, have_manifest;
    size_t manifest_len;
    char manifest[MANIFEST_MAX];
    uint8_t in[CHUNK], out[CHUNK], data[CHUNK];
} check;

static int fail(package_verdict *v, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the verdict unless one is recorded already: the first rule found
 * broken is the one reported. Returns -1. */
static int fail(package_verdict *v, const char *code, const char *fmt, ...)
{
    if (v->code)
        return -1;
    v->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Bytes of the UTF-8 sequence starting at p when it is whole, else 0. */
static size_t utf8_len_at(const unsigned char *p)
{
    size_t k = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

/* s quoted safely in a message (which ends up in UTF-8 JSON): control
 * characters, and every byte above 0x7f when s is not UTF-8, as \xHH;
 * at most SHOWN_MAX bytes, never cutting a character. */
static const char *shown(const char *s, char out[SHOWN_MAX + 8])
{
    bool utf8 = haas_utf8_valid((const uint8_t *)s, strlen(s));
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = *p >= 0x80 && utf8 ? utf8_len_at(p) : 1;
        if (k == 0)
            k = 1; /* cannot happen in valid UTF-8, but never stall */
        bool plain = k > 1 || (*p >= 0x20 && *p < 0x7f);
        if (o + (plain ? k : 4) > SHOWN_MAX) {
            memcpy(out + o, "...", 4);
            return out;
        }
        if (plain)
            memcpy(out + o, p, k);
        else
            snprintf(out + o, 5, "\\x%02x", *p);
        o += plain ? k : 4;
        p += k;
    }
    out[o] = '\0';
    return out;
}

/* ---- the gzip layer (G1-G4, stream bounds of T4) ---- */

static int64_t stream_limit(const package_limits *l)
{
    return l->max_unpacked_size + (int64_t)(l->max_entries + 1) * TAR_BYTES_PER_MEMBER + TAR_BYTES_EXTRA;
}

/* Refills the input buffer from the file; at its end sets c->eof. */
static int gz_fill(check *c)
{
    size_t got = fread(c->in, 1, sizeof c->in, c->f);
    if (got == 0 && ferror(c->f))
        return fail(c->v, "ArchiveUnreadable", "cannot read the package");
    c->eof = got == 0;
    c->zs.next_in = c->in;
    c->zs.avail_in = (uInt)got;
    return 0;
}

/* Opens the file and zlib (gzip wrapper only): G1. */
static int gz_open(check *c, const char *path)
{
    c->f = fopen(path, "rb");
    if (!c->f)
        return fail(c->v, "ArchiveUnreadable", "cannot open the package");
    if (gz_fill(c) < 0)
        return -1;
    if (c->zs.avail_in < 2 || c->in[0] != 0x1f || c->in[1] != 0x8b)
        return fail(c->v, "NotGzip", "the package must be a gzip-compressed tar (.tar.gz)");
    if (inflateInit2(&c->zs, 16 + MAX_WBITS) != Z_OK)
        return fail(c->v, "OutOfMemory", "out of memory");
    c->z_open = true;
    return 0;
}

/* The member ended: anything after it breaks G3. */
static int gz_check_end(check *c)
{
    c->ended = true;
    if (c->zs.avail_in == 0 && gz_fill(c) < 0)
        return -1;
    if (c->zs.avail_in == 0)
        return 0;
    if (c->zs.avail_in >= 2 && c->zs.next_in[0] == 0x1f && c->zs.next_in[1] == 0x8b)
        return fail(c->v, "TrailingData", "a second gzip member follows the first: a package is one gzip "
                    "stream (pack it with a single tar czf)");
    return fail(c->v, "TrailingData", "%lld bytes of other data follow the end of the gzip stream",
                (long long)(c->packed - (int64_t)c->zs.total_in));
}

/* Accounts n more inflated bytes: the stream bounds of T4 and G4. */
static int gz_account(check *c, size_t n)
{
    const package_limits *l = c->limits;
    c->out_total += (int64_t)n;
    for (size_t i = 0; i < n && c->head_len < 2; i++)
        c->head[c->head_len++] = c->out[i];
    if (c->head_len == 2 && c->head[0] == 0x1f && c->head[1] == 0x8b)
        return fail(c->v, "DoubleCompressed", "the package is gzip inside gzip: compress the tar once "
                    "(tar czf NAME.tar.gz *)");
    if (c->out_total > stream_limit(l))
        return fail(c->v, "UnpackedTooLarge", "the package unpacks to more than %lld bytes (--max-unpacked-size "
                    "and the headers of --max-entries members)", (long long)stream_limit(l));
    if (c->out_total > RATIO_FLOOR && c->out_total / (c->packed > 0 ? c->packed : 1) >= l->max_ratio)
        return fail(c->v, "DecompressionBomb", "the package expands more than %d times (--max-ratio)",
                    l->max_ratio);
    tar_reader_feed(&c->tar, c->out, n); /* its verdict is read at the end (gz_finish) */
    return 0;
}

/* What inflate() said when it was not Z_OK or Z_STREAM_END (G2). */
static int gz_error(check *c, int zr)
{
    if (zr == Z_MEM_ERROR)
        return fail(c->v, "OutOfMemory", "out of memory");
    if (zr == Z_BUF_ERROR && c->zs.avail_in == 0)
        return c->eof ? fail(c->v, "ArchiveUnreadable", "the gzip stream is cut short")
                      : 0; /* more input wanted: go on */
    return fail(c->v, "ArchiveUnreadable", "the gzip data is corrupt: %s", c->zs.msg ? c->zs.msg : "?");
}

/* Inflates the next piece of the tar stream into c->out: *n bytes, 0 once
 * the stream is over (and G3 checked). Returns 0, or -1 with the verdict. */
static int gz_next(check *c, size_t *n)
{
    *n = 0;
    while (*n == 0 && !c->ended) {
        if (c->zs.avail_in == 0 && gz_fill(c) < 0)
            return -1;
        c->zs.next_out = c->out;
        c->zs.avail_out = sizeof c->out;
        int zr = inflate(&c->zs, Z_NO_FLUSH);
        *n = sizeof c->out - c->zs.avail_out;
        if (*n > 0 && gz_account(c, *n) < 0)
            return -1;
        if (zr == Z_STREAM_END) {
            if (gz_check_end(c) < 0)
                return -1;
        } else if (zr != Z_OK && gz_error(c, zr) < 0) {
            return -1;
        }
    }
    return 0;
}

/* libarchive's read callback: the inflated tar stream. */
static la_ssize_t gz_read(struct archive *a, void *data, const void **buf)
{
    check *c = data;
    size_t n;
    if (gz_next(c, &n) < 0) {
        archive_set_error(a, -1, "%s", c->v->message); /* ARCHIVE_ERRNO_MISC */
        return -1;
    }
    *buf = c->out;
    return (la_ssize_t)n;
}

/* The device's verdict on the tar stream (T1-T3), as codes of this list. */
static int tar_verdict(check *c, int t)
{
    char name[SHOWN_MAX + 8];
    switch (t) {
    case TAR_OK:
        return 0;
    case TAR_ERR_UNSAFE_NAME:
    case TAR_ERR_NAME_TOO_LONG:
        return fail(c->v, "UnsafeMemberName", "member name \"%s\" is not a safe relative path (%s)",
                    shown(c->tar.name, name), tar_result_text(t));
    case TAR_ERR_FORBIDDEN_TYPE:
        return fail(c->v, "ForbiddenMemberType", "a member is not a plain file or folder (%s)", tar_result_text(t));
    default:
        return fail(c->v, "ArchiveUnreadable", "the archive is corrupt or truncated: %s", tar_result_text(t));
    }
}

/* Inflates what libarchive did not read (G2, G3, bounds), then hears the
 * device's tar reader out. */
static int gz_finish(check *c)
{
    size_t n;
    while (!c->ended)
        if (gz_next(c, &n) < 0)
            return -1;
    return tar_verdict(c, tar_reader_finish(&c->tar));
}

/* ---- the tar layer: members (T1-T4, M1) ---- */

/* Checks a member name and returns it without leading "./" (pointing into
 * name), or NULL when unsafe. "." alone becomes "". The device's reader
 * holds names to the same rules (and to a canonical form) on its own. */
static const char *safe_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN || name[0] == '/' || !haas_utf8_valid((const uint8_t *)name, n))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return NULL;
    }
    for (const char *p = name; *p;) { /* no ".." component anywhere */
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return NULL;
        p += len;
        p += strspn(p, "/");
    }
    while (name[0] == '.' && name[1] == '/')
        name += 2 + strspn(name + 2, "/");
    return strcmp(name, ".") ? name : name + 1;
}

/* What a member is when it is not a plain file or folder, else NULL. */
static const char *forbidden_type(struct archive_entry *e)
{
    mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e))
        return "hard link";
    if (type == AE_IFREG)
        return archive_entry_sparse_count(e) > 0 ? "sparse file" : NULL;
    if (type == AE_IFDIR)
        return NULL;
    return type == AE_IFLNK ? "symbolic link" : type == AE_IFCHR || type == AE_IFBLK ? "device"
         : type == AE_IFIFO ? "FIFO" : "special file";
}

/* A member's header: count, name, type, manifest.json once. */
static int check_member(check *c, struct archive_entry *e)
{
    char shown_name[SHOWN_MAX + 8];
    if (++c->v->entries > c->limits->max_entries)
        return fail(c->v, "TooManyEntries", "the package has more than %d members (--max-entries)",
                    c->limits->max_entries);
    const char *raw = archive_entry_pathname(e);
    const char *name = raw ? safe_name(raw) : NULL;
    if (!name)
        return fail(c->v, "UnsafeMemberName", "member name \"%s\" is not a safe relative UTF-8 path",
                    raw ? shown(raw, shown_name) : "(none)");
    const char *forbidden = forbidden_type(e);
    if (forbidden)
        return fail(c->v, "ForbiddenMemberType", "member \"%s\" is a %s; only files and folders are allowed",
                    shown(raw, shown_name), forbidden);
    c->is_manifest = archive_entry_filetype(e) == AE_IFREG && !strcmp(name, "manifest.json");
    if (c->is_manifest && c->have_manifest)
        return fail(c->v, "ManifestInvalid", "manifest.json appears twice in the package");
    c->have_manifest |= c->is_manifest;
    return 0;
}

/* n more bytes of file content: T4 on the content, manifest.json kept. */
static int take_data(check *c, size_t n)
{
    const package_limits *l = c->limits;
    c->v->unpacked += (int64_t)n;
    if (c->v->unpacked > l->max_unpacked_size)
        return fail(c->v, "UnpackedTooLarge", "the files in the package add up to more than %lld bytes "
                    "(--max-unpacked-size)", (long long)l->max_unpacked_size);
    if (c->v->unpacked > RATIO_FLOOR && c->v->unpacked / (c->packed > 0 ? c->packed : 1) >= l->max_ratio)
        return fail(c->v, "DecompressionBomb", "the package expands more than %d times (--max-ratio)",
                    l->max_ratio);
    if (!c->is_manifest)
        return 0;
    if (c->manifest_len + n > sizeof c->manifest)
        return fail(c->v, "ManifestInvalid", "%s", manifest_result_text(MANIFEST_TOO_LARGE));
    memcpy(c->manifest + c->manifest_len, c->data, n);
    c->manifest_len += n;
    return 0;
}

/* libarchive failed: the gzip layer's verdict when it caused it. */
static int archive_failure(check *c)
{
    const char *why = archive_error_string(c->a);
    return fail(c->v, "ArchiveUnreadable", "the archive is corrupt or truncated: %s", why ? why : "?");
}

/* Reads a member's content to its end. */
static int read_data(check *c)
{
    for (;;) {
        la_ssize_t n = archive_read_data(c->a, c->data, sizeof c->data);
        if (n == 0)
            return 0;
        if (n < 0)
            return archive_failure(c);
        if (take_data(c, (size_t)n) < 0)
            return -1;
    }
}

/* Every member through libarchive. */
static int read_members(check *c)
{
    c->a = archive_read_new();
    if (!c->a)
        return fail(c->v, "OutOfMemory", "out of memory");
    archive_read_support_format_tar(c->a); /* and no filter: zlib did the inflating */
    if (archive_read_open(c->a, c, NULL, gz_read, NULL) < ARCHIVE_WARN)
        return archive_failure(c);
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(c->a, &e)) != ARCHIVE_EOF) {
        if (r < ARCHIVE_WARN)
            return archive_failure(c);
        if (check_member(c, e) < 0 || (archive_entry_filetype(e) == AE_IFREG && read_data(c) < 0))
            return -1;
    }
    if (c->v->entries == 0)
        return fail(c->v, "ArchiveUnreadable", "the archive holds no members");
    return 0;
}

/* ---- manifest.json (M1-M4) ---- */

/* A field of the manifest that must equal what the file name says. */
static int check_field(check *c, const char *key, const char *have, const char *want)
{
    char value[SHOWN_MAX + 8];
    if (strcmp(have, want) == 0)
        return 0;
    return fail(c->v, "ManifestMismatch", "manifest.json says %s \"%s\" but the file name says \"%s\"", key,
                shown(have, value), want);
}

static int check_manifest(check *c, const char *app_name, const char *app_id, const char *version)
{
    if (!c->have_manifest)
        return fail(c->v, "ManifestMissing", "manifest.json is not at the top of the package "
                    "(pack from inside the app folder: tar czf NAME.tar.gz *)");
    if (c->manifest_len >= 3 && !memcmp(c->manifest, "\xEF\xBB\xBF", 3))
        return fail(c->v, "ManifestInvalid", "manifest.json starts with a byte-order mark; save it as plain UTF-8");
    manifest_fields m;
    manifest_result r = manifest_read(c->manifest, c->manifest_len, &m);
    if (r != MANIFEST_OK)
        return fail(c->v, "ManifestInvalid", "%s", manifest_result_text(r));
    if (check_field(c, "appName", m.app_name, app_name) < 0 || check_field(c, "appid", m.appid, app_id) < 0)
        return -1;
    return check_field(c, "version", m.version, version);
}

int package_check(const char *path, int64_t packed_size, const package_limits *limits,
                  const char *app_name, const char *app_id, const char *version, package_verdict *v)
{
    memset(v, 0, sizeof *v);
    check *c = calloc(1, sizeof *c);
    if (!c)
        return fail(v, "OutOfMemory", "out of memory");
    c->v = v;
    c->limits = limits;
    c->packed = packed_size;
    tar_reader_init(&c->tar, NULL, NULL);
    int rc = gz_open(c, path);
    if (rc == 0)
        rc = read_members(c);
    if (rc == 0)
        rc = gz_finish(c);
    if (rc == 0)
        rc = check_manifest(c, app_name, app_id, version);
    if (c->a)
        archive_read_free(c->a);
    if (c->z_open)
        inflateEnd(&c->zs);
    if (c->f)
        fclose(c->f);
    free(c);
    return rc;
}
