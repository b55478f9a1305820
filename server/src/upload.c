/*
 * upload.c - stream an uploaded package to a temporary file (see upload.h).
 */
#include "upload.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct upload {
    int fd;
    char path[700];
    int64_t size, max_size;
    EVP_MD_CTX *md5, *sha256;
    char md5_hex[33], sha256_hex[65];
    struct MHD_PostProcessor *pp; /* multipart bodies only */
    char part_filename[256];
    int parts_seen;               /* "package" parts seen */
    int failed, claimed;
};

static void write_bytes(upload *u, http_request *r, const char *data, size_t len)
{
    if (u->failed || len == 0)
        return;
    if (u->size + (int64_t)len > u->max_size) {
        u->failed = 1;
        http_fail_later(r, 413, "PackageTooLarge", "the package is larger than the limit of %lld bytes "
                        "(--max-package-size)", (long long)u->max_size);
        return;
    }
    EVP_DigestUpdate(u->md5, data, len);
    EVP_DigestUpdate(u->sha256, data, len);
    while (len > 0) {
        ssize_t n = write(u->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            u->failed = 1;
            log_msg(LOG_ERROR, "writing %s: %s", u->path, strerror(errno));
            http_fail_later(r, 507, "StorageFull", "cannot store the upload: %s", strerror(errno));
            return;
        }
        data += n;
        len -= (size_t)n;
        u->size += n;
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
    if (strcmp(key, "package") != 0)
        return MHD_YES; /* other form fields are ignored */
    if (off == 0) {
        if (++u->parts_seen > 1) {
            u->failed = 1;
            http_fail_later(r, 400, "MultiplePackages", "send one file in the field 'package'");
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
    snprintf(u->path, sizeof u->path, "%s/upload-XXXXXX", tmp_dir);
    u->fd = mkstemp(u->path);
    /* Stored packages are plain readable files (mkstemp makes them 0600). */
    if (u->fd >= 0)
        (void)fchmod(u->fd, 0644);
    u->md5 = EVP_MD_CTX_new();
    u->sha256 = EVP_MD_CTX_new();
    if (u->fd < 0 || !u->md5 || !u->sha256 || !EVP_DigestInit_ex(u->md5, EVP_md5(), NULL) ||
        !EVP_DigestInit_ex(u->sha256, EVP_sha256(), NULL)) {
        log_msg(LOG_ERROR, "cannot create an upload file in %s: %s", tmp_dir, strerror(errno));
        http_fail_later(r, 500, "StorageError", "cannot create a temporary file for the upload");
        if (u->fd < 0)
            u->path[0] = '\0';
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

static void to_hex(const unsigned char *in, unsigned n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
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
    if (u->size == 0) {
        http_fail_later(r, 400, "EmptyPackage", "the request carries no package bytes");
        return -1;
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n;
    EVP_DigestFinal_ex(u->md5, d, &n);
    to_hex(d, n, u->md5_hex);
    EVP_DigestFinal_ex(u->sha256, d, &n);
    to_hex(d, n, u->sha256_hex);
    if (fsync(u->fd) != 0) {
        http_fail_later(r, 507, "StorageFull", "cannot store the upload: %s", strerror(errno));
        return -1;
    }
    return 0;
}

const char *upload_path(const upload *u) { return u->path; }
int64_t upload_size(const upload *u) { return u->size; }
const char *upload_md5(const upload *u) { return u->md5_hex; }
const char *upload_sha256(const upload *u) { return u->sha256_hex; }
const char *upload_part_filename(const upload *u) { return u->part_filename; }
void upload_claim(upload *u) { u->claimed = 1; }

void upload_discard(upload *u)
{
    if (u->fd < 0)
        return;
    close(u->fd);
    if (!u->claimed && u->path[0])
        unlink(u->path);
    u->fd = -1;
}

void upload_free(upload *u)
{
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    upload_discard(u);
    EVP_MD_CTX_free(u->md5);
    EVP_MD_CTX_free(u->sha256);
    free(u);
}
