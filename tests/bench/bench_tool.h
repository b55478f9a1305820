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
 * "ERROR ..." line that ends a run, the reader of the command lines, the
 * reader of the TRIPLES file that names the devices, and (bench_rounds) the
 * tally of the pushes that the devices of mqtt_fleet and mqtt_swarm
 * receive, round by round.
 */
#ifndef BENCH_TOOL_H
#define BENCH_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes (with the terminating NUL) of the fields of a triples line: longer
 * words are cut at these lengths, as sscanf's field widths do. */
#define BENCH_PK_SIZE 32 /* ProductKey */
#define BENCH_DN_SIZE 64 /* DeviceName */
#define BENCH_DS_SIZE 72 /* DeviceSecret */

/* The login time every simulated Link SDK device signs (2050-01-01, so
 * that no check of the clock refuses it). */
#define BENCH_SDK_TIMESTAMP "2524608000000"

/* A device's MQTT login: CONNECT's clientId, username and password. */
typedef struct bench_login {
    char client_id[256];
    char username[128];
    char password[65]; /* 64 hex digits */
} bench_login;

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

/* The login of device dn of product pk with secret ds as Link SDK C 4.x
 * makes it over TCP (docs/protocol.md section 2), at BENCH_SDK_TIMESTAMP:
 * clientId "pk.dn|timestamp=T,_ss=1,_v=sdk-c-<sdk_version>,securemode=3,
 * signmethod=hmacsha256,ext=3,<client_id_tail>|", username "dn&pk",
 * password the hex HMAC-SHA256 keyed with ds of
 * "clientId" pk.dn "deviceName" dn "productKey" pk "timestamp" T, in upper
 * case with upper_hex (as the SDK sends it) or lower case. Dies ("cannot
 * sign the login of DN") when the fields are too long or HMAC fails. */
void bench_linksdk_login(bench_login *out, const char *pk, const char *dn, const char *ds, const char *sdk_version,
                         const char *client_id_tail, bool upper_hex);

/* Adds stdin (descriptor 0) to the epoll set epfd, with a NULL data
 * pointer: the mark by which bench_epoll_once knows the driver's commands. */
void bench_watch_stdin(int epfd);

/* One turn of a tool's epoll loop: waits at most timeout_ms for the
 * descriptors of epfd, then reads the driver's commands when stdin is ready
 * (bench_read_commands(command)) and hands every other ready descriptor's
 * data pointer and events to serve. */
void bench_epoll_once(int epfd, int timeout_ms, void (*command)(const char *line),
                      void (*serve)(void *ptr, uint32_t events));

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

/*
 * Devices mode (mqtt_fleet, mqtt_swarm): the push messages each device
 * receives, counted against the driver's rounds.
 *
 *   <- ROUND    one more push per device: bench_rounds_arm prints ARMED round=R
 *   -> DONE round=R count=N first_ms= last_ms= bytes= extra= dup= bad=
 *               (bench_rounds_check) once every device has exactly R pushes;
 *               bytes: payload bytes per device this round
 *   -> TIMEOUT round=R received= missing= missing_dn=a,b,...
 *               (bench_rounds_check) when the round took longer than allowed
 *   <- QUIT     bench_rounds_bye prints BYE rounds=R received= extra= dup=
 *               bad= wrong_count= (and what the tool adds)
 *
 * A push whose "id" is the one its device got last is a dup (QoS 1 sent
 * again); one beyond the round's count, or outside a round, is extra; a
 * message that is no push for the device is bad (the tool counts it in
 * `bad`). The run passed only if, at QUIT, every device has exactly R
 * pushes and there was no dup, extra or bad message.
 */

/* What one device has received; each tool keeps one in its device record. */
typedef struct bench_inbox {
    uint32_t got;     /* pushes counted, over all rounds */
    uint32_t last_id; /* the "id" of the last one */
} bench_inbox;

/* The devices' inboxes and the tally of the rounds. Set n, inbox and name;
 * zero the rest. */
typedef struct bench_rounds {
    int n;                        /* devices */
    bench_inbox *(*inbox)(int i); /* device i's inbox */
    const char *(*name)(int i);   /* device i's name (in TIMEOUT lines) */
    unsigned expected;            /* pushes per device after this round */
    int complete;                 /* devices with got == expected */
    bool armed;                   /* from ROUND until DONE */
    double round_start, first_ms, last_ms; /* bench_now_ms() times; 0: none yet */
    unsigned long long received, round_bytes, extra, dups, bad;
} bench_rounds;

/* The decimal "id" at the start of a push payload ({"id":"123",...}), 0 if
 * there is none. Alink message ids fit in 32 bits. */
uint32_t bench_message_id(const void *payload, size_t len);

/* Counts the push payload[0..len) received by the device whose inbox is in. */
void bench_rounds_count(bench_rounds *r, bench_inbox *in, const void *payload, size_t len);

/* ROUND: expects one more push per device from now on; prints ARMED. */
void bench_rounds_arm(bench_rounds *r);

/* While a round is armed: prints DONE and disarms once every device has its
 * pushes (returns 1); prints TIMEOUT once timeout_s seconds have passed
 * since ROUND (returns -1: the tool exits with status 3); otherwise 0. */
int bench_rounds_check(bench_rounds *r, int timeout_s);

/* QUIT: prints the BYE line, with more (" key=value ...", or "") at its
 * end; returns the exit status: 0 when the run passed, 2 when not. */
int bench_rounds_bye(const bench_rounds *r, const char *more);

#endif
