/*
 * port_files.c - the file functions of the POSIX port: the core's paths
 * ("/data/pyamp/main.py") are checked and mapped under the port's root
 * folder, and every change of a folder's content is fsynced so that the
 * core's power-loss-safe install can rely on the order of its steps. The
 * durable steps go through the crash injection of haas_port_posix.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port_internal.h"

#define RM_MAX_DEPTH 256

/* An open file; listed in the port so that haas_posix_port_free can close it. */
struct port_file {
    struct port_file *prev, *next;
    int fd;
    int created;  /* this open created the file: its name is not durable until the folder is synced */
    int append;
    char path[]; /* as the core passed it, for the crash trace and logs */
};

/* ---- paths ---- */

/* A core path: starts with '/', has no ".." component. */
static int path_valid(const char *path)
{
    if (!path || path[0] != '/')
        return 0;
    for (const char *s = path; *s;) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        if (e - s == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        s = e;
    }
    return 1;
}

static int is_root_path(const char *path)
{
    for (; *path; path++)
        if (*path != '/')
            return 0;
    return 1;
}

/* Maps a core path to out[PATH_MAX] under the root; 0 or HAAS_PORT_ERR. */
static int resolve(struct haas_posix_port *p, const char *path, char *out)
{
    if (!path_valid(path)) {
        port_logf(p, HAAS_LOG_WARN, "rejected path \"%s\" (must start with '/' and have no '..')",
                  path ? path : "(null)");
        return HAAS_PORT_ERR;
    }
    size_t n = strlen(path);
    if (p->root_len + n + 1 > PATH_MAX) {
        port_logf(p, HAAS_LOG_WARN, "rejected path \"%.64s...\" (too long)", path);
        return HAAS_PORT_ERR;
    }
    memcpy(out, p->root, p->root_len);
    memcpy(out + p->root_len, path, n + 1);
    return HAAS_PORT_OK;
}

int port_resolve(struct haas_posix_port *p, const char *path, char *out) { return resolve(p, path, out); }

/* fsyncs the folder that holds full (a resolved path). */
static int sync_parent(struct haas_posix_port *p, const char *full)
{
    char dir[PATH_MAX];
    size_t n = strlen(full);
    while (n > 1 && full[n - 1] == '/') /* "a/b/" names b */
        n--;
    while (n > 0 && full[n - 1] != '/')
        n--;
    while (n > 1 && full[n - 1] == '/')
        n--;
    if (n == 0) {
        dir[0] = '.';
        n = 1;
    } else {
        memcpy(dir, full, n);
    }
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        port_logf(p, HAAS_LOG_ERROR, "open folder %s: %s", dir, strerror(errno));
        return HAAS_PORT_ERR;
    }
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc != 0 && err != EINVAL) { /* EINVAL: the file system cannot sync folders */
        port_logf(p, HAAS_LOG_ERROR, "fsync folder %s: %s", dir, strerror(err));
        return HAAS_PORT_ERR;
    }
    port_fs_log_dirsync(p, dir);
    return HAAS_PORT_OK;
}

/* ---- open files ---- */

static haas_file f_open(void *ctx, const char *path, haas_file_mode mode)
{
    struct haas_posix_port *p = ctx;
    char full[PATH_MAX];
    if (resolve(p, path, full))
        return NULL;
    int flags = O_CLOEXEC | O_NOFOLLOW;
    switch (mode) {
    case HAAS_FILE_READ: flags |= O_RDONLY; break;
    case HAAS_FILE_WRITE: flags |= O_WRONLY | O_CREAT | O_TRUNC; break;
    case HAAS_FILE_APPEND: flags |= O_WRONLY | O_CREAT | O_APPEND; break;
    default: return NULL;
    }
    size_t n = strlen(path);
    struct port_file *f = malloc(sizeof *f + n + 1);
    if (!f)
        return NULL;
    struct stat before;
    int existed = mode != HAAS_FILE_READ && lstat(full, &before) == 0;
    int fd;
    do
        fd = open(full, flags, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (!(mode == HAAS_FILE_READ && errno == ENOENT))
            port_logf(p, HAAS_LOG_WARN, "open %s: %s", path, strerror(errno));
        free(f);
        return NULL;
    }
    f->fd = fd;
    f->created = mode != HAAS_FILE_READ && !existed;
    f->append = mode == HAAS_FILE_APPEND;
    memcpy(f->path, path, n + 1);
    if (f->created)
        port_fs_log(p, "create", path, NULL);
    else if (mode == HAAS_FILE_WRITE)
        port_fs_log(p, "trunc", path, NULL);
    f->prev = NULL;
    f->next = p->files;
    if (p->files)
        p->files->prev = f;
    p->files = f;
    return f;
}

static long f_read(void *ctx, haas_file hf, void *buf, size_t len)
{
    (void)ctx;
    struct port_file *f = hf;
    if (!f || (!buf && len))
        return HAAS_PORT_ERR;
    if (len > LONG_MAX)
        len = LONG_MAX;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(f->fd, (char *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return HAAS_PORT_ERR;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long)got;
}

static int write_all(int fd, const void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const char *)buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

static int f_write(void *ctx, haas_file hf, const void *buf, size_t len)
{
    struct haas_posix_port *p = ctx;
    struct port_file *f = hf;
    if (!f || (!buf && len))
        return HAAS_PORT_ERR;
    if (port_durable_step(p, "file_write", f->path, NULL)) {
        (void)write_all(f->fd, buf, len / 2); /* a torn write */
        port_crash_now();
    }
    if (p->fs_log) {
        struct stat st;
        off_t at = f->append ? (fstat(f->fd, &st) == 0 ? st.st_size : -1) : lseek(f->fd, 0, SEEK_CUR);
        port_fs_log_write(p, f->path, at < 0 ? 0 : (uint64_t)at, buf, len);
    }
    if (write_all(f->fd, buf, len) != 0) {
        port_logf(p, HAAS_LOG_ERROR, "write %s: %s", f->path, strerror(errno));
        return HAAS_PORT_ERR;
    }
    return HAAS_PORT_OK;
}

static int f_sync(void *ctx, haas_file hf)
{
    struct haas_posix_port *p = ctx;
    struct port_file *f = hf;
    if (!f)
        return HAAS_PORT_ERR;
    if (port_durable_step(p, "file_sync", f->path, NULL))
        port_crash_now();
    if (fsync(f->fd) != 0) {
        port_logf(p, HAAS_LOG_ERROR, "fsync %s: %s", f->path, strerror(errno));
        return HAAS_PORT_ERR;
    }
    port_fs_log(p, "fsync", f->path, NULL);
    /* A file this open created: its name must be durable too (rule 2 of
     * docs/howto-sdk-port.md section 3), so its folder is synced once:
     * fsync of a file alone does not promise its folder entry. */
    if (f->created) {
        char full[PATH_MAX];
        if (resolve(p, f->path, full) != 0 || sync_parent(p, full) != 0)
            return HAAS_PORT_ERR;
        f->created = 0;
    }
    return HAAS_PORT_OK;
}

static void unlink_file(struct haas_posix_port *p, struct port_file *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        p->files = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

static int f_close(void *ctx, haas_file hf)
{
    struct haas_posix_port *p = ctx;
    struct port_file *f = hf;
    if (!f)
        return HAAS_PORT_ERR;
    unlink_file(p, f);
    int rc = close(f->fd); /* never retried: the descriptor is gone either way */
    if (rc != 0)
        port_logf(p, HAAS_LOG_ERROR, "close %s: %s", f->path, strerror(errno));
    free(f);
    return rc == 0 ? HAAS_PORT_OK : HAAS_PORT_ERR;
}

void port_files_cleanup(struct haas_posix_port *p)
{
    while (p->files) {
        struct port_file *f = p->files;
        p->files = f->next;
        close(f->fd);
        free(f);
    }
}

/* ---- paths: query ---- */

static int f_size(void *ctx, const char *path, uint64_t *size)
{
    struct haas_posix_port *p = ctx;
    char full[PATH_MAX];
    struct stat st;
    if (resolve(p, path, full) || lstat(full, &st) != 0 || S_ISDIR(st.st_mode))
        return HAAS_PORT_ERR;
    if (size)
        *size = (uint64_t)st.st_size;
    return HAAS_PORT_OK;
}

static int f_path_kind(void *ctx, const char *path)
{
    struct haas_posix_port *p = ctx;
    char full[PATH_MAX];
    struct stat st;
    if (resolve(p, path, full))
        return HAAS_PORT_ERR;
    if (lstat(full, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : HAAS_PORT_ERR;
    return S_ISDIR(st.st_mode) ? 2 : 1;
}

/* ---- paths: changes (durable steps) ---- */

static int f_rename(void *ctx, const char *from, const char *to)
{
    struct haas_posix_port *p = ctx;
    char full_from[PATH_MAX], full_to[PATH_MAX];
    if (resolve(p, from, full_from) || resolve(p, to, full_to))
        return HAAS_PORT_ERR;
    if (is_root_path(from) || is_root_path(to)) {
        port_logf(p, HAAS_LOG_WARN, "rename %s %s: the root cannot be renamed", from, to);
        return HAAS_PORT_ERR;
    }
    if (port_durable_step(p, "rename", from, to))
        port_crash_now();
    struct stat st;
    if (lstat(full_to, &st) == 0 && S_ISDIR(st.st_mode)) {
        port_logf(p, HAAS_LOG_WARN, "rename %s %s: the destination is a folder", from, to);
        return HAAS_PORT_ERR;
    }
    if (rename(full_from, full_to) != 0) {
        port_logf(p, HAAS_LOG_WARN, "rename %s %s: %s", from, to, strerror(errno));
        return HAAS_PORT_ERR;
    }
    port_fs_log(p, "rename", from, to);
    if (p->unsafe_rename)
        return HAAS_PORT_OK; /* HAAS_TEST_UNSAFE_RENAME: the planted bug of the power-loss test */
    /* Make the new name durable, and the old name's removal when it lived
     * in another folder. */
    int rc = sync_parent(p, full_to);
    char *a = strrchr(full_from, '/'), *b = strrchr(full_to, '/');
    if (rc == 0 && (a - full_from != b - full_to || memcmp(full_from, full_to, (size_t)(a - full_from)) != 0))
        rc = sync_parent(p, full_from);
    return rc;
}

static int f_remove_file(void *ctx, const char *path)
{
    struct haas_posix_port *p = ctx;
    char full[PATH_MAX];
    if (resolve(p, path, full))
        return HAAS_PORT_ERR;
    if (is_root_path(path))
        return HAAS_PORT_ERR;
    if (port_durable_step(p, "remove_file", path, NULL))
        port_crash_now();
    if (unlink(full) != 0) {
        if (errno == ENOENT)
            return HAAS_PORT_OK;
        port_logf(p, HAAS_LOG_WARN, "remove %s: %s", path, strerror(errno));
        return HAAS_PORT_ERR;
    }
    port_fs_log(p, "unlink", path, NULL);
    return sync_parent(p, full);
}

static int f_make_dir(void *ctx, const char *path)
{
    struct haas_posix_port *p = ctx;
    char full[PATH_MAX];
    if (resolve(p, path, full))
        return HAAS_PORT_ERR;
    if (port_durable_step(p, "make_dir", path, NULL))
        port_crash_now();
    if (mkdir(full, 0755) != 0) {
        int err = errno;
        struct stat st;
        if (err == EEXIST && lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
            return HAAS_PORT_OK;
        port_logf(p, HAAS_LOG_WARN, "make_dir %s: %s", path, err == EEXIST ? "a file has that name" : strerror(err));
        return HAAS_PORT_ERR;
    }
    port_fs_log(p, "mkdir", path, NULL);
    return is_root_path(path) ? HAAS_PORT_OK : sync_parent(p, full);
}

/* Removes name (in the folder parent) and, when it is a folder, everything
 * in it, without following symbolic links. 0 or -1 (errno set). */
static int remove_at(int parent, const char *name, int depth)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    if (depth >= RM_MAX_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    /* A folder whose listing changes while it is emptied may need a second
     * pass; three are plenty. */
    for (int pass = 0; pass < 3; pass++) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return errno == ENOENT ? 0 : -1;
        DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return -1;
        }
        int err = 0;
        struct dirent *e;
        for (;;) {
            errno = 0;
            if ((e = readdir(d)) == NULL) {
                if (errno != 0 && err == 0)
                    err = errno;
                break;
            }
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (remove_at(dirfd(d), e->d_name, depth + 1) != 0 && err == 0)
                err = errno;
        }
        closedir(d);
        if (err != 0) {
            errno = err;
            return -1;
        }
        if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != ENOTEMPTY && errno != EEXIST)
            return -1;
    }
    return -1; /* errno: ENOTEMPTY */
}

static int f_remove_tree(void *ctx, const char *path)
{
    struct haas_posix_port *p = ctx;
    char full[PATH_MAX];
    if (resolve(p, path, full))
        return HAAS_PORT_ERR;
    if (is_root_path(path)) {
        port_logf(p, HAAS_LOG_WARN, "remove_tree %s: the root cannot be removed", path);
        return HAAS_PORT_ERR;
    }
    if (port_durable_step(p, "remove_tree", path, NULL))
        port_crash_now();
    struct stat st;
    if (lstat(full, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return HAAS_PORT_OK;
        port_logf(p, HAAS_LOG_WARN, "remove_tree %s: %s", path, strerror(errno));
        return HAAS_PORT_ERR;
    }
    if (remove_at(AT_FDCWD, full, 0) != 0) {
        port_logf(p, HAAS_LOG_WARN, "remove_tree %s: %s", path, strerror(errno));
        return HAAS_PORT_ERR;
    }
    port_fs_log(p, "rmtree", path, NULL);
    return sync_parent(p, full);
}

void port_files_fill(haas_port *out)
{
    out->file_open = f_open;
    out->file_read = f_read;
    out->file_write = f_write;
    out->file_sync = f_sync;
    out->file_close = f_close;
    out->file_size = f_size;
    out->path_kind = f_path_kind;
    out->rename = f_rename;
    out->remove_file = f_remove_file;
    out->make_dir = f_make_dir;
    out->remove_tree = f_remove_tree;
}
