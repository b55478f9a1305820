/*
 * package_check.c - validate an app package with libarchive (see
 * package_check.h). One pass: every header is checked as it comes, every
 * file's data is read (so truncation and bombs are caught), and manifest.json
 * is kept in memory (at most 64 KiB) to be checked at the end.
 */
#include "package_check.h"
#include "validate.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX (64 * 1024)
#define NAME_MAX_LEN 255
#define RATIO_FLOOR (1 << 20) /* below this many bytes the ratio is not checked */

static int fail(package_verdict *v, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(package_verdict *v, const char *code, const char *fmt, ...)
{
    v->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * Checks a member name and returns it without leading "./" (pointing into
 * name), or NULL when unsafe. "." alone becomes "".
 */
static const char *safe_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN || name[0] == '/')
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return NULL;
    }
    /* No ".." component anywhere. */
    for (const char *p = name; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return NULL;
        p += len;
        while (*p == '/')
            p++;
    }
    while (name[0] == '.' && name[1] == '/') {
        name += 2;
        while (*name == '/')
            name++;
    }
    if (!strcmp(name, "."))
        return name + 1;
    return name;
}

/* Field of the manifest that must be a string equal to want. */
static int check_field(package_verdict *v, cJSON *m, const char *key, const char *want)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!cJSON_IsString(f))
        return fail(v, "ManifestInvalid", "manifest.json has no string \"%s\"", key);
    if (strcmp(f->valuestring, want) != 0)
        return fail(v, "ManifestMismatch", "manifest.json says %s \"%.40s\" but the file name says \"%s\"",
                    key, f->valuestring, want);
    return 0;
}

static int check_manifest(package_verdict *v, const char *text, size_t len, const char *app_name,
                          const char *app_id, const char *version)
{
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        return fail(v, "ManifestInvalid", "manifest.json starts with a byte-order mark; save it as plain UTF-8");
    const char *end = NULL;
    cJSON *m = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (m && end) {
        while (end < text + len && strchr(" \t\r\n", *end))
            end++;
    }
    if (!m || end != text + len || !cJSON_IsObject(m)) {
        cJSON_Delete(m);
        return fail(v, "ManifestInvalid", "manifest.json is not one plain JSON object "
                                          "(no comments, no trailing text)");
    }
    int rc = check_field(v, m, "appName", app_name);
    if (rc == 0)
        rc = check_field(v, m, "appid", app_id);
    if (rc == 0)
        rc = check_field(v, m, "version", version);
    cJSON_Delete(m);
    return rc;
}

int package_check(const char *path, int64_t packed_size, const package_limits *limits,
                  const char *app_name, const char *app_id, const char *version, package_verdict *v)
{
    memset(v, 0, sizeof *v);
    struct archive *a = archive_read_new();
    if (!a)
        return fail(v, "OutOfMemory", "out of memory");
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);

    char *manifest = NULL;
    size_t manifest_len = 0;
    int rc = 0;
    char buf[16384];

    unsigned char magic[2] = {0, 0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, 2, f) : 0;
    if (f)
        fclose(f);
    if (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
        rc = fail(v, "NotGzip", "the package must be a gzip-compressed tar (.tar.gz)");
        goto out;
    }
    if (archive_read_open_filename(a, path, 16384) != ARCHIVE_OK) {
        rc = fail(v, "ArchiveUnreadable", "cannot read the package: %s", archive_error_string(a));
        goto out;
    }
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            const char *why = archive_error_string(a);
            rc = fail(v, "ArchiveUnreadable", "the archive is corrupt or truncated: %s", why ? why : "?");
            goto out;
        }
        if (++v->entries > limits->max_entries) {
            rc = fail(v, "TooManyEntries", "the package has more than %d members (--max-entries)",
                      limits->max_entries);
            goto out;
        }
        const char *raw = archive_entry_pathname(e);
        const char *name = raw ? safe_name(raw) : NULL;
        if (!name) {
            rc = fail(v, "UnsafeMemberName", "member name \"%.80s\" is not a safe relative path",
                      raw ? raw : "(none)");
            goto out;
        }
        mode_t type = archive_entry_filetype(e);
        if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR)) {
            rc = fail(v, "ForbiddenMemberType", "member \"%.80s\" is a %s; only files and folders are allowed",
                      raw, archive_entry_hardlink(e) ? "hard link" : type == AE_IFLNK ? "symbolic link"
                                                    : type == AE_IFCHR || type == AE_IFBLK ? "device"
                                                    : type == AE_IFIFO ? "FIFO" : "special file");
            goto out;
        }
        int is_manifest = type == AE_IFREG && !strcmp(name, "manifest.json");
        if (is_manifest && manifest) {
            rc = fail(v, "ManifestInvalid", "manifest.json appears twice in the package");
            goto out;
        }
        if (is_manifest && !(manifest = malloc(MANIFEST_MAX))) {
            rc = fail(v, "OutOfMemory", "out of memory");
            goto out;
        }
        if (type != AE_IFREG)
            continue;
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n == 0)
                break;
            if (n < 0) {
                rc = fail(v, "ArchiveUnreadable", "the archive is corrupt or truncated: %s",
                          archive_error_string(a) ? archive_error_string(a) : "?");
                goto out;
            }
            v->unpacked += n;
            if (v->unpacked > limits->max_unpacked_size) {
                rc = fail(v, "UnpackedTooLarge", "the files in the package add up to more than %lld bytes "
                          "(--max-unpacked-size)", (long long)limits->max_unpacked_size);
                goto out;
            }
            if (v->unpacked > RATIO_FLOOR && v->unpacked / (packed_size > 0 ? packed_size : 1) >= limits->max_ratio) {
                rc = fail(v, "DecompressionBomb", "the package expands more than %d times (--max-ratio)",
                          limits->max_ratio);
                goto out;
            }
            if (is_manifest) {
                if (manifest_len + (size_t)n > MANIFEST_MAX) {
                    rc = fail(v, "ManifestInvalid", "manifest.json is larger than %d bytes", MANIFEST_MAX);
                    goto out;
                }
                memcpy(manifest + manifest_len, buf, (size_t)n);
                manifest_len += (size_t)n;
            }
        }
    }
    if (v->entries == 0) {
        rc = fail(v, "ArchiveUnreadable", "the archive holds no members");
        goto out;
    }
    if (!manifest) {
        rc = fail(v, "ManifestMissing", "manifest.json is not at the top of the package "
                                        "(pack from inside the app folder: tar czf NAME.tar.gz *)");
        goto out;
    }
    rc = check_manifest(v, manifest, manifest_len, app_name, app_id, version);
out:
    free(manifest);
    archive_read_free(a);
    return rc;
}
