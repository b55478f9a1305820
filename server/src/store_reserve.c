/*
 * store_reserve.c - room held back for deletes on a full disk (see
 * store_reserve.h).
 */
#include "store_reserve.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static char reserve_path[800];
static int64_t held;
static time_t last_try;
static bool released; /* given up for a delete, not made whole again yet */

/* Bytes the file system of the reserve has free for us. */
static int64_t room(void)
{
    struct statvfs v;
    if (statvfs(reserve_path, &v) < 0)
        return 0;
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

/* Grows the allocation of fd from have bytes towards STORE_RESERVE_BYTES
 * by as much as the disk allows (what it reports free, less when an
 * allocation of that much still fails). Returns the bytes now allocated. */
static int64_t allocate(int fd, int64_t have)
{
    int64_t want = have + room();
    if (want > STORE_RESERVE_BYTES)
        want = STORE_RESERVE_BYTES;
    while (want - have >= STORE_RESERVE_STEP) {
        if (posix_fallocate(fd, 0, (off_t)want) == 0)
            return want;
        want = have + (want - have) / 2;
    }
    return have;
}

void store_reserve_init(const char *path)
{
    held = 0;
    last_try = 0;
    reserve_path[0] = '\0';
    if (!path || !path[0])
        return;
    snprintf(reserve_path, sizeof reserve_path, "%s", path);
    struct stat st;
    /* what an earlier run held (it sized the file to what it allocated) */
    if (stat(reserve_path, &st) == 0 && st.st_size <= (off_t)st.st_blocks * 512)
        held = st.st_size < STORE_RESERVE_BYTES ? (int64_t)st.st_size : STORE_RESERVE_BYTES;
    store_reserve_restore(true);
    if (held < STORE_RESERVE_BYTES)
        log_msg(LOG_WARN, "the disk is nearly full: %lld of %d bytes held back for deletes in %s",
                (long long)held, STORE_RESERVE_BYTES, reserve_path);
}

bool store_reserve_release(void)
{
    if (!reserve_path[0] || held == 0)
        return false;
    if (truncate(reserve_path, 0) < 0) {
        log_msg(LOG_ERROR, "cannot free the disk reserve %s: %s", reserve_path, strerror(errno));
        return false;
    }
    log_msg(LOG_WARN, "the disk is full: %lld bytes held back in %s freed for a delete", (long long)held,
            reserve_path);
    held = 0;
    released = true;
    last_try = time(NULL);
    return true;
}

void store_reserve_restore(bool now)
{
    time_t t = time(NULL);
    if (!reserve_path[0] || held >= STORE_RESERVE_BYTES || (!now && t - last_try < STORE_RESERVE_RETRY))
        return;
    last_try = t;
    int fd = open(reserve_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int64_t got = allocate(fd, held);
    /* a failed attempt may leave blocks past what was got: drop them */
    if (ftruncate(fd, (off_t)got) < 0)
        got = held;
    close(fd);
    if (released && got > held)
        log_msg(LOG_INFO, "the disk has room again: %lld bytes held back for deletes (%s)", (long long)got,
                reserve_path);
    released = released && got < STORE_RESERVE_BYTES;
    held = got;
}

int64_t store_reserve_held(void) { return held; }
