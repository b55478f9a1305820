/*
 * bench_tool.c - the parts every C load tool of the benchmarks shares: the
 * clock, the "ERROR ..." exit, the reader of the driver's command lines and
 * the reader of the TRIPLES file. What each function does is in
 * tests/bench/bench_tool.h; the Makefile compiles this file into every tool
 * of tests/bench/.
 */
#include "bench_tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert(BENCH_PK_SIZE == 32 && BENCH_DN_SIZE == 64 && BENCH_DS_SIZE == 72,
               "the field widths of TRIPLE_FORMAT follow the BENCH_*_SIZE values");
#define TRIPLE_FORMAT "%31s %63s %71s"

static char stdin_buf[4096]; /* a partial command line, waiting for its \n */
static size_t stdin_len;

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ERROR ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

void bench_read_commands(void (*command)(const char *line))
{
    ssize_t n = read(0, stdin_buf + stdin_len, sizeof stdin_buf - 1 - stdin_len);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        command("QUIT");
        return;
    }
    stdin_len += (size_t)n;
    stdin_buf[stdin_len] = '\0';
    char *start = stdin_buf, *nl;
    while ((nl = strchr(start, '\n')) != NULL) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r')
            nl[-1] = '\0';
        command(start);
        start = nl + 1;
    }
    stdin_len = strlen(start);
    memmove(stdin_buf, start, stdin_len + 1);
    if (stdin_len == sizeof stdin_buf - 1)
        bench_die("command line too long");
}

void *bench_load_triples(const char *path, int max, bool need_ds, size_t item_size,
                         void (*fill)(void *item, const bench_triple *triple), int *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bench_die("cannot open %s: %s", path, strerror(errno));
    char *items = NULL;
    int count = 0, cap = 0;
    char line[512];
    while ((max == 0 || count < max) && fgets(line, sizeof line, f)) {
        bench_triple t = {.pk = ""};
        int k = sscanf(line, TRIPLE_FORMAT, t.pk, t.dn, t.ds);
        if (k <= 0)
            continue; /* blank line */
        if (k < (need_ds ? 3 : 2))
            bench_die("bad line in %s: %s", path, line);
        if (count == cap) {
            cap = cap ? cap * 2 : 1024;
            char *grown = realloc(items, (size_t)cap * item_size);
            if (!grown)
                bench_die("out of memory");
            items = grown;
        }
        char *item = items + (size_t)count++ * item_size;
        memset(item, 0, item_size);
        fill(item, &t);
    }
    fclose(f);
    *n = count;
    return items;
}
