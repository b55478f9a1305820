/*
 * upload.c - stream an uploaded package to a temporary file (see upload.h).
 */
#include "upload.h"
#include "log.h"
#include "package_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct upload {
    package_file *file;
    int64_t max_size;
    struct MHD_PostProcessor *pp; /* multipart bodies only */
    char part_filename[256];
    int parts_seen;               /* "package" parts seen */
    int failed;
    /* Small text fields before the file (an OSS PostObject form's key,
     * policy, OSSAccessKeyId, Signature: aliyun_actions_ota.c reads them). */
    struct {
        char name[32];
        char value[UPLOAD_FIELD_MAX + 1];
        size_t len;
    } fields[UPLOAD_FIELDS];
    int nfields;
};

/* Keeps size bytes at off of the text field key (others beyond the room
 * are dropped; upload_field then finds none). */
static void keep_field(upload *u, const char *key, const char *data, uint64_t off, size_t size)
{
    int i = 0;
    while (i < u->nfields && strcmp(u->fields[i].name, key) != 0)
        i++;
    if (i == u->nfields) {
        if (off != 0 || u->nfields == UPLOAD_FIELDS || strlen(key) >= sizeof u->fields[0].name)
            return;
        snprintf(u->fields[i].name, sizeof u->fields[i].name, "%s", key);
        u->nfields++;
    }
    if (u->fields[i].len + size > UPLOAD_FIELD_MAX) {
        u->fields[i].name[0] = '\0'; /* too long: not kept at all */
        return;
    }
    memcpy(u->fields[i].value + u->fields[i].len, data, size);
    u->fields[i].len += size;
    u->fields[i].value[u->fields[i].len] = '\0';
}

static void write_bytes(upload *u, http_request *r, const char *data, size_t len)
{
    if (u->failed || len == 0)
        return;
    if (package_file_size(u->file) + (int64_t)len > u->max_size) {
        u->failed = 1;
        http_fail_later(r, 413, "PackageTooLarge", "the package is larger than the limit of %lld bytes "
                        "(--max-package-size)", (long long)u->max_size);
        return;
    }
    if (package_file_write(u->file, data, len) < 0) {
        u->failed = 1;
        log_msg(LOG_ERROR, "writing %s: %s", package_file_path(u->file), strerror(errno));
        http_fail_later(r, 507, "InsufficientStorage", "cannot store the upload: %s", strerror(errno));
    }
}

static enum MHD_Result part_iterator(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *transfer_encoding, const char *data,
                                     uint64_t off, size_t size)
{
    (void)kind, (void)content_type, (void)transfer_encoding;
    http_request *r = cls;
    upload *u = r->upload;
    if (strcmp(key, "package") != 0 && strcmp(key, "firmware") != 0 && strcmp(key, "file") != 0) {
        keep_field(u, key, data, off, size); /* other form fields are kept when small */
        return MHD_YES;
    }
    if (off == 0) {
        if (++u->parts_seen > 1) {
            u->failed = 1;
            http_fail_later(r, 400, "MultiplePackages", "send one file, in the field 'package' (or 'firmware')");
            return MHD_YES;
        }
        if (filename)
            snprintf(u->part_filename, sizeof u->part_filename, "%s", filename);
    }
    write_bytes(u, r, data, size);
    return MHD_YES;
}

upload *upload_begin(http_request *r, const char *tmp_dir, int64_t max_size)
{
    const char *len = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len && strtoll(len, NULL, 10) > max_size + 64 * 1024) {
        http_fail_later(r, 413, "PackageTooLarge", "the package is larger than the limit of %lld bytes "
                        "(--max-package-size)", (long long)max_size);
        return NULL;
    }
    upload *u = calloc(1, sizeof *u);
    if (!u) {
        http_fail_later(r, 500, "OutOfMemory", "out of memory");
        return NULL;
    }
    u->max_size = max_size;
    u->file = package_file_open(tmp_dir);
    if (!u->file) {
        log_msg(LOG_ERROR, "cannot create an upload file in %s: %s", tmp_dir, strerror(errno));
        http_fail_later(r, 500, "StorageError", "cannot create a temporary file for the upload");
        upload_free(u);
        return NULL;
    }
    const char *ctype = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ctype && !strncasecmp(ctype, "multipart/form-data", 19)) {
        u->pp = MHD_create_post_processor(r->conn, 64 * 1024, part_iterator, r);
        if (!u->pp) {
            http_fail_later(r, 400, "BadMultipart", "the multipart/form-data body has no usable boundary");
            upload_free(u);
            return NULL;
        }
    }
    return u;
}

void upload_feed(upload *u, http_request *r, const char *data, size_t len)
{
    if (u->failed)
        return;
    if (u->pp) {
        if (MHD_post_process(u->pp, data, len) != MHD_YES && !u->failed) {
            u->failed = 1;
            http_fail_later(r, 400, "BadMultipart", "the multipart/form-data body is malformed");
        }
    } else {
        write_bytes(u, r, data, len);
    }
}

int upload_finish(upload *u, http_request *r)
{
    if (u->pp) {
        MHD_destroy_post_processor(u->pp);
        u->pp = NULL;
        if (!u->failed && u->parts_seen == 0) {
            u->failed = 1;
            http_fail_later(r, 400, "MissingPackage", "the multipart/form-data body has no field 'package'");
        }
    }
    if (u->failed)
        return -1;
    if (package_file_size(u->file) == 0) {
        http_fail_later(r, 400, "EmptyPackage", "the request carries no package bytes");
        return -1;
    }
    if (package_file_finish(u->file) != 0) {
        http_fail_later(r, 507, "InsufficientStorage", "cannot store the upload: %s", strerror(errno));
        return -1;
    }
    return 0;
}

const char *upload_part_filename(const upload *u) { return u->part_filename; }

const char *upload_field(const upload *u, const char *name)
{
    for (int i = 0; u && i < u->nfields; i++)
        if (u->fields[i].name[0] && !strcmp(u->fields[i].name, name) && strlen(u->fields[i].value) == u->fields[i].len)
            return u->fields[i].value;
    return NULL;
}
package_file *upload_file(upload *u) { return u->file; }
void upload_discard(upload *u) { package_file_discard(u->file); }

void upload_free(upload *u)
{
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    package_file_free(u->file);
    free(u);
}
