/*
 * clock.h - the emulator's one clock. Every time haas-emu uses (URL expiry,
 * job and rollout timeouts, retries, schedules, lastOnlineAt, message
 * timestamps, trace ids, the Alibaba Cloud API's Timestamp check) comes
 * from here, never from time() or gettimeofday(), so that the clock can be
 * virtual (--clock virtual: set and advanced through POST /api/v1/clock)
 * and a test can expire a URL or time out a task in milliseconds.
 */
#ifndef HAAS_CLOCK_H
#define HAAS_CLOCK_H

#include <stdint.h>

/* Now, in Unix seconds. Thread-safe. */
int64_t clock_now(void);

/* Now, in Unix milliseconds. Thread-safe. */
int64_t clock_now_ms(void);

#endif
