/*
 * clock.c - the emulator's one clock (see clock.h). A virtual clock is one
 * atomic number of milliseconds that only POST /api/v1/clock moves.
 */
#include "clock.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_bool virtual_mode;
static atomic_llong virtual_ms;

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void) { return atomic_load(&virtual_mode) ? (int64_t)atomic_load(&virtual_ms) : real_ms(); }

int64_t clock_now(void) { return clock_now_ms() / 1000; }

int64_t clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec clock_monotonic_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void clock_use_virtual(int64_t start_ms)
{
    atomic_store(&virtual_ms, start_ms);
    atomic_store(&virtual_mode, true);
}

int64_t clock_parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!p)
        return -1;
    if (*p == '.') /* fractions of a second: dropped */
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    long offset = 0;
    if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) && p[3] == ':' &&
        isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) && !p[6]) {
        offset = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
        offset = *p == '+' ? offset : -offset;
    } else if (strcmp(p, "Z") != 0) {
        return -1;
    }
    return (int64_t)timegm(&tm) - offset;
}

bool clock_is_virtual(void) { return atomic_load(&virtual_mode); }

int clock_advance_ms(int64_t delta_ms)
{
    if (!atomic_load(&virtual_mode) || delta_ms < 0)
        return -1;
    atomic_fetch_add(&virtual_ms, delta_ms);
    return 0;
}

int clock_set_ms(int64_t at_ms)
{
    long long now = atomic_load(&virtual_ms);
    if (!atomic_load(&virtual_mode))
        return -1;
    /* never back: a compare-and-swap loop against concurrent advances */
    while (at_ms >= now) {
        if (atomic_compare_exchange_weak(&virtual_ms, &now, at_ms))
            return 0;
    }
    return -1;
}
