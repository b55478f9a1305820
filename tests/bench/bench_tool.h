/*
 * bench_tool.h - what the C load tools of the benchmarks share
 * (tests/bench/mqtt_fleet.c, tests/bench/fleet_floor.c,
 * tests/bench/mqtt_swarm.c). The Makefile's rule for build/bench/% compiles
 * tests/bench/bench_tool.c into every tool.
 *
 * Each tool is driven by a Python script (tests/bench/bench_*.py) that
 * writes command lines to the tool's stdin and reads "WORD key=value ..."
 * lines from its stdout. This file holds the parts of that conversation
 * that are the same in every tool: the clock the times are given in, the
 * "ERROR ..." line that ends a run, the reader of the command lines, and
 * the reader of the TRIPLES file that names the devices.
 */
#ifndef BENCH_TOOL_H
#define BENCH_TOOL_H

#include <stdbool.h>
#include <stddef.h>

/* Sizes (with the terminating NUL) of the fields of a triples line: longer
 * words are cut at these lengths, as sscanf's field widths do. */
#define BENCH_PK_SIZE 32 /* ProductKey */
#define BENCH_DN_SIZE 64 /* DeviceName */
#define BENCH_DS_SIZE 72 /* DeviceSecret */

/* One line "pk dn ds" of a TRIPLES file: a device and its secret. */
typedef struct bench_triple {
    char pk[BENCH_PK_SIZE];
    char dn[BENCH_DN_SIZE];
    char ds[BENCH_DS_SIZE]; /* "" when the line has only pk and dn */
} bench_triple;

/* Monotonic time in milliseconds: CLOCK_MONOTONIC, the clock of Python's
 * time.monotonic(), so the driver can compare it with its own times. */
double bench_now_ms(void);

/* Prints "ERROR <message>" on stdout, flushes it and exits with status 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Reads what stdin has and calls command() with every complete line (a
 * trailing \r removed; the line lives until command() returns). Call it
 * when poll or epoll says stdin is readable, so that read() does not block.
 * A partial line waits in a 4 KiB buffer for the rest; a line that does not
 * fit dies with "command line too long". End of input calls
 * command("QUIT"); command() is expected to exit then. */
void bench_read_commands(void (*command)(const char *line));

/* Reads the "pk dn ds" lines of the file at path into a new array of the
 * tool's own device records, item_size bytes each: for the i-th device
 * line, item i is zeroed and then fill(item, triple) sets it from the line
 * (so no second copy of a large file is ever held). At most max devices
 * are read (0: all of them); blank lines are skipped. A line with fewer
 * than three words (need_ds) or two (!need_ds) dies with "bad line in
 * PATH: LINE", a file that cannot be opened with "cannot open PATH:
 * REASON". Returns the array (the caller frees it; NULL when the file
 * names no device) and its length in *n. */
void *bench_load_triples(const char *path, int max, bool need_ds, size_t item_size,
                         void (*fill)(void *item, const bench_triple *triple), int *n);

#endif
