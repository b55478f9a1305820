/*
 * datadir.c - layout, lock and clean-up of the data directory (see
 * datadir.h). The lock is an flock(2) on haas-emu.lock, released by the
 * kernel when the process ends however it ends, so a crash never leaves a
 * stale lock behind; the file holds the owner's pid for the error message.
 */
#include "datadir.h"
#include "log.h"
#include "store_firmwares.h"
#include "store_versions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int lock_fd = -1;

static int make_dir(const char *path, char *err, size_t errlen)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            break;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int datadir_prepare(const char *dir, char *packages, size_t plen, char *tmp, size_t tlen,
                    char *err, size_t errlen)
{
    if ((size_t)snprintf(packages, plen, "%s/packages", dir) >= plen ||
        (size_t)snprintf(tmp, tlen, "%s/tmp", dir) >= tlen) {
        snprintf(err, errlen, "data directory path is too long");
        return -1;
    }
    if (make_dir(dir, err, errlen) < 0 || make_dir(packages, err, errlen) < 0 || make_dir(tmp, err, errlen) < 0)
        return -1;

    char lock_path[700];
    snprintf(lock_path, sizeof lock_path, "%s/haas-emu.lock", dir);
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", lock_path, strerror(errno));
        return -1;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        char pid[32] = "";
        ssize_t n = pread(lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen, "data directory %s is in use by another haas-emu (pid %s); "
                              "stop it or choose another --data-dir", dir, pid[0] ? pid : "unknown");
        close(lock_fd);
        lock_fd = -1;
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, pid, (size_t)n, 0) != n)
        log_msg(LOG_WARN, "cannot write the pid into %s", lock_path);
    return 0;
}

/* Is there a version row for object key "appId/file"? (When the database
 * cannot tell, the file is kept.) */
/* Does a version or a firmware (fw/<id>.bin) name this object? (Unsure,
 * when the store fails, counts as yes.) */
static int known_object(const char *object)
{
    store_version v;
    store_firmware f;
    return store_version_by_object(object, &v) != STORE_NOT_FOUND ||
           store_firmware_by_object(object, &f) != STORE_NOT_FOUND;
}

int datadir_sweep(const char *packages, const char *tmp)
{
    int removed = 0;
    char path[1400];
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
        if (unlink(path) == 0)
            removed++;
    }
    if (d)
        closedir(d);

    DIR *apps = opendir(packages);
    while (apps && (e = readdir(apps))) {
        if (e->d_name[0] == '.')
            continue;
        char app_dir[1000];
        snprintf(app_dir, sizeof app_dir, "%s/%s", packages, e->d_name);
        DIR *files = opendir(app_dir);
        struct dirent *f;
        while (files && (f = readdir(files))) {
            if (f->d_name[0] == '.')
                continue;
            char object[600];
            snprintf(object, sizeof object, "%s/%s", e->d_name, f->d_name);
            if (known_object(object))
                continue;
            snprintf(path, sizeof path, "%s/%s", app_dir, f->d_name);
            if (unlink(path) == 0) {
                log_msg(LOG_WARN, "removed %s: no version refers to it", path);
                removed++;
            }
        }
        if (files)
            closedir(files);
    }
    if (apps)
        closedir(apps);
    return removed;
}
