/*
 * clock.c - the emulator's one clock (see clock.h). A virtual clock is one
 * atomic number of milliseconds that only POST /api/v1/clock moves.
 */
#include "clock.h"

#include <stdatomic.h>
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

void clock_use_virtual(int64_t start_ms)
{
    atomic_store(&virtual_ms, start_ms);
    atomic_store(&virtual_mode, true);
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
