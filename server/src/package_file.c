/*
 * package_file.c - a temporary package file with its digests (see
 * package_file.h).
 */
#include "package_file.h"
#include "log.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct package_file {
    int fd;
    char path[700];
    int64_t size;
    EVP_MD_CTX *md5, *sha256;
    char md5_hex[33], sha256_hex[65];
    int kept;
};

package_file *package_file_open(const char *tmp_dir)
{
    package_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    snprintf(f->path, sizeof f->path, "%s/upload-XXXXXX", tmp_dir);
    f->fd = mkstemp(f->path);
    if (f->fd < 0)
        f->path[0] = '\0';
    else /* stored packages are plain readable files (mkstemp makes them 0600) */
        (void)fchmod(f->fd, 0644);
    f->md5 = EVP_MD_CTX_new();
    f->sha256 = EVP_MD_CTX_new();
    if (f->fd < 0 || !f->md5 || !f->sha256 || !EVP_DigestInit_ex(f->md5, EVP_md5(), NULL) ||
        !EVP_DigestInit_ex(f->sha256, EVP_sha256(), NULL)) {
        int e = f->fd < 0 ? errno : ENOMEM;
        package_file_free(f);
        errno = e;
        return NULL;
    }
    return f;
}

int package_file_write(package_file *f, const void *data, size_t len)
{
    EVP_DigestUpdate(f->md5, data, len);
    EVP_DigestUpdate(f->sha256, data, len);
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        f->size += n;
    }
    return 0;
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

int package_file_finish(package_file *f)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n;
    EVP_DigestFinal_ex(f->md5, d, &n);
    to_hex(d, n, f->md5_hex);
    EVP_DigestFinal_ex(f->sha256, d, &n);
    to_hex(d, n, f->sha256_hex);
    return fsync(f->fd);
}

const char *package_file_path(const package_file *f) { return f->path; }
int64_t package_file_size(const package_file *f) { return f->size; }
const char *package_file_md5(const package_file *f) { return f->md5_hex; }
const char *package_file_sha256(const package_file *f) { return f->sha256_hex; }
void package_file_keep(package_file *f) { f->kept = 1; }

void package_file_discard(package_file *f)
{
    if (f->fd < 0)
        return;
    close(f->fd);
    if (!f->kept && f->path[0])
        unlink(f->path);
    f->fd = -1;
}

void package_file_free(package_file *f)
{
    if (!f)
        return;
    package_file_discard(f);
    EVP_MD_CTX_free(f->md5);
    EVP_MD_CTX_free(f->sha256);
    free(f);
}

void package_change_settle(bool committed, void *ctx)
{
    const package_change *c = ctx;
    if (committed != c->remove_if_committed)
        return;
    if (unlink(c->path) < 0 && errno != ENOENT)
        log_msg(LOG_WARN, "cannot remove %s: %s (removed at next start)", c->path, strerror(errno));
}
