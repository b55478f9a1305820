/*
 * clock.h - the emulator's one clock. Every time haas-emu uses (URL expiry,
 * job, task and rollout timeouts, retries, schedules, lastOnlineAt, message
 * timestamps, trace ids, the Alibaba Cloud API's Timestamp check) comes
 * from here, never from time() or gettimeofday(), so that the clock can be
 * virtual: with --clock virtual it starts at --clock-start and stands still
 * until POST /api/v1/clock sets or advances it, so a test can expire a URL
 * or time out a task in milliseconds, and two runs of one script see the
 * same times. (Log lines, certificate validity and uptime stay real.)
 */
#ifndef HAAS_CLOCK_H
#define HAAS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Now, in Unix seconds. Thread-safe. */
int64_t clock_now(void);

/* Now, in Unix milliseconds. Thread-safe. */
int64_t clock_now_ms(void);

/* Real elapsed time, for waits that must last what they say whatever the
 * emulator's clock does (a download fault's delay, an RRpc's timeout, the
 * MQTT link's pauses): milliseconds on CLOCK_MONOTONIC, and the
 * CLOCK_MONOTONIC time ms from now (for pthread_cond_timedwait on a
 * condition variable set to that clock). */
int64_t clock_monotonic_ms(void);
struct timespec clock_monotonic_after(int64_t ms);

/* From now on the clock is virtual, standing at start_ms. */
void clock_use_virtual(int64_t start_ms);

/* Is the clock virtual? */
bool clock_is_virtual(void);

/* Moves a virtual clock forward by delta_ms (>= 0), or to at_ms (not
 * before now). Returns 0, or -1 when the clock is real or the move would
 * go back. */
int clock_advance_ms(int64_t delta_ms);
int clock_set_ms(int64_t at_ms);

/* An ISO 8601 time ("2026-01-01T00:00:00Z", with optional fractions of a
 * second, and Z or an offset such as +08:00) in Unix seconds; -1 when it
 * is none. (What JavaScript's toISOString() writes is taken too.) */
int64_t clock_parse_iso(const char *s);

#endif
