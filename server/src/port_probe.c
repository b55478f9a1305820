/*
 * port_probe.c - see port_probe.h. The holder is found the way ss(8) and
 * fuser(1) do it: the listening socket's inode from /proc/net/tcp{,6}, then
 * the process whose /proc/<pid>/fd has a link to "socket:[inode]".
 */
#include "port_probe.h"

#include <dirent.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int port_accepting(const char *host, int port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai)
        return 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return ok;
}

/* The inode of a socket listening on port in one /proc/net table, or 0. */
static unsigned long listening_inode(const char *table, int port)
{
    FILE *f = fopen(table, "r");
    if (!f)
        return 0;
    char line[512];
    unsigned long found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char local[128];
        unsigned state;
        unsigned long inode;
        /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line, " %*s %127s %*s %x %*s %*s %*s %*s %*s %lu", local, &state, &inode) != 3)
            continue;
        const char *colon = strrchr(local, ':');
        if (state == 0x0A && colon && strtol(colon + 1, NULL, 16) == port)
            found = inode;
    }
    fclose(f);
    return found;
}

/* Does process `pid` hold socket `inode`? */
static int holds_socket(const char *pid, unsigned long inode)
{
    char path[300], want[64];
    snprintf(path, sizeof path, "/proc/%s/fd", pid);
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char link[600], target[64];
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            found = !strcmp(target, want);
        }
    }
    closedir(d);
    return found;
}

int port_holder(int port, char *name, size_t n)
{
    unsigned long inode = listening_inode("/proc/net/tcp", port);
    if (!inode)
        inode = listening_inode("/proc/net/tcp6", port);
    DIR *proc = inode ? opendir("/proc") : NULL;
    if (!proc)
        return 0;
    int pid = 0;
    struct dirent *e;
    while (!pid && (e = readdir(proc)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9' || !holds_socket(e->d_name, inode))
            continue;
        pid = atoi(e->d_name);
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        name[0] = '\0';
        if (f) {
            if (fgets(name, (int)n, f))
                name[strcspn(name, "\n")] = '\0';
            fclose(f);
        }
    }
    closedir(proc);
    return pid;
}
