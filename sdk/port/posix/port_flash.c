/*
 * port_flash.c - the flash areas of firmware OTA (haas_fw.h) on the POSIX
 * port: one file per area in a folder under the port's root, every write
 * and erase fsynced and counted by the crash injection as a durable step
 * (see haas_posix_flash_fill in haas_port_posix.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port_internal.h"

#define RECORD_AREA_SIZE 4096u
#define DEFAULT_SLOT_SIZE (16ull << 20)

static const char *const area_name[HAAS_FLASH_AREAS] = {"slot0", "slot1", "otadata0", "otadata1", "task0", "task1"};

static int is_record(haas_flash_area a) { return a >= HAAS_FLASH_OTADATA0; }

static uint64_t fl_size(void *ctx, haas_flash_area a)
{
    struct haas_posix_port *p = ctx;
    if ((unsigned)a >= HAAS_FLASH_AREAS)
        return 0;
    return is_record(a) ? RECORD_AREA_SIZE : p->slot_size;
}

/* The area's core path (for the trace) and full path; 0 or HAAS_PORT_ERR. */
static int area_paths(struct haas_posix_port *p, haas_flash_area a, char core[PATH_MAX], char full[PATH_MAX])
{
    if ((unsigned)a >= HAAS_FLASH_AREAS || !p->flash_dir)
        return HAAS_PORT_ERR;
    int n = snprintf(core, PATH_MAX, "%s/%s", p->flash_dir, area_name[a]);
    if (n < 0 || n >= PATH_MAX)
        return HAAS_PORT_ERR;
    return port_resolve(p, core, full);
}

static int in_bounds(struct haas_posix_port *p, haas_flash_area a, uint64_t offset, size_t len)
{
    uint64_t cap = fl_size(p, a);
    return offset <= cap && len <= cap - offset;
}

static int fl_read(void *ctx, haas_flash_area a, uint64_t offset, void *buf, size_t len)
{
    struct haas_posix_port *p = ctx;
    char core[PATH_MAX], full[PATH_MAX];
    if (area_paths(p, a, core, full) || !in_bounds(p, a, offset, len) || (!buf && len))
        return HAAS_PORT_ERR;
    memset(buf, 0xff, len);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? HAAS_PORT_OK : HAAS_PORT_ERR; /* never written: erased */
    size_t got = 0;
    int rc = HAAS_PORT_OK;
    while (got < len) { /* past the end of the file: the 0xFF stay */
        ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            port_logf(p, HAAS_LOG_ERROR, "flash read %s: %s", core, strerror(errno));
            rc = HAAS_PORT_ERR;
        }
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return rc;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = pwrite(fd, (const char *)buf + off, len - off, (off_t)(offset + off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* fsyncs the flash folder (a file was created in it). */
static int sync_dir(struct haas_posix_port *p)
{
    char full[PATH_MAX];
    if (port_resolve(p, p->flash_dir, full))
        return HAAS_PORT_ERR;
    int fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return HAAS_PORT_ERR;
    int rc = fsync(fd) == 0 || errno == EINVAL ? HAAS_PORT_OK : HAAS_PORT_ERR;
    close(fd);
    if (rc == HAAS_PORT_OK)
        port_fs_log(p, "dirsync", p->flash_dir, NULL);
    return rc;
}

/* Opens the area's file for writing (truncated when trunc); *created
 * tells whether it did not exist. */
static int open_for_write(const char *full, int trunc, int *created)
{
    struct stat st;
    *created = lstat(full, &st) != 0;
    return open(full, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (trunc ? O_TRUNC : 0), 0644);
}

static int fl_write(void *ctx, haas_flash_area a, uint64_t offset, const void *data, size_t len)
{
    struct haas_posix_port *p = ctx;
    char core[PATH_MAX], full[PATH_MAX];
    if (area_paths(p, a, core, full) || !in_bounds(p, a, offset, len) || (!data && len))
        return HAAS_PORT_ERR;
    int crash = port_durable_step(p, "flash_write", core, NULL), created;
    int fd = open_for_write(full, is_record(a), &created);
    if (fd < 0) {
        port_logf(p, HAAS_LOG_ERROR, "flash write %s: %s", core, strerror(errno));
        return HAAS_PORT_ERR;
    }
    if (crash) {
        (void)pwrite_all(fd, data, len / 2, offset); /* a torn write */
        port_crash_now();
    }
    port_fs_log(p, created ? "create" : is_record(a) ? "trunc" : "open", core, NULL);
    port_fs_log_write(p, core, offset, data, len);
    int rc = pwrite_all(fd, data, len, offset) == 0 && fsync(fd) == 0 ? HAAS_PORT_OK : HAAS_PORT_ERR;
    if (rc == HAAS_PORT_OK)
        port_fs_log(p, "fsync", core, NULL);
    if (rc != 0)
        port_logf(p, HAAS_LOG_ERROR, "flash write %s: %s", core, strerror(errno));
    close(fd);
    return rc == 0 && created ? sync_dir(p) : rc;
}

static int fl_erase(void *ctx, haas_flash_area a)
{
    struct haas_posix_port *p = ctx;
    char core[PATH_MAX], full[PATH_MAX];
    if (area_paths(p, a, core, full))
        return HAAS_PORT_ERR;
    if (port_durable_step(p, "flash_erase", core, NULL))
        port_crash_now();
    int created;
    int fd = open_for_write(full, 1, &created);
    if (fd < 0) {
        port_logf(p, HAAS_LOG_ERROR, "flash erase %s: %s", core, strerror(errno));
        return HAAS_PORT_ERR;
    }
    port_fs_log(p, created ? "create" : "trunc", core, NULL);
    int rc = fsync(fd) == 0 ? HAAS_PORT_OK : HAAS_PORT_ERR;
    if (rc == HAAS_PORT_OK)
        port_fs_log(p, "fsync", core, NULL);
    close(fd);
    return rc == 0 && created ? sync_dir(p) : rc;
}

int haas_posix_flash_fill(haas_posix_port *p, const char *dir, uint64_t slot_size, haas_flash *out)
{
    char full[PATH_MAX];
    if (!p || !dir || !out || port_resolve(p, dir, full))
        return HAAS_PORT_ERR;
    if (mkdir(full, 0755) != 0) {
        if (errno != EEXIST) {
            port_logf(p, HAAS_LOG_ERROR, "flash folder %s: %s", dir, strerror(errno));
            return HAAS_PORT_ERR;
        }
    } else {
        port_fs_log(p, "mkdir", dir, NULL); /* not synced: a lost folder is an erased flash */
    }
    char *copy = strdup(dir);
    if (!copy)
        return HAAS_PORT_ERR;
    free(p->flash_dir);
    p->flash_dir = copy;
    p->slot_size = slot_size ? slot_size : DEFAULT_SLOT_SIZE;
    memset(out, 0, sizeof *out);
    out->ctx = p;
    out->size = fl_size;
    out->read = fl_read;
    out->write = fl_write;
    out->erase = fl_erase;
    return HAAS_PORT_OK;
}
