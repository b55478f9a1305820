/*
 * api_clock.c - /api/v1/clock: the emulator's clock (clock.h). GET says
 * what time it is and whether the clock is virtual; POST moves a virtual
 * clock: {"advanceSeconds": n}, {"advanceMs": n} or {"set": "<ISO 8601 UTC>"}.
 * Timeouts, retries and schedules due at the new time happen at the
 * engine's next step (within a quarter of a second).
 */
#include "api_shared.h"
#include "clock.h"
#include "routes.h"

#include <string.h>
#include <time.h>

static enum MHD_Result reply_clock(http_request *r)
{
    cJSON *o = cJSON_CreateObject();
    int64_t ms = clock_now_ms();
    cJSON_AddStringToObject(o, "mode", clock_is_virtual() ? "virtual" : "real");
    cJSON_AddItemToObject(o, "now", json_time(ms / 1000));
    cJSON_AddNumberToObject(o, "nowMs", (double)ms);
    return reply_json(r, 200, o);
}

enum MHD_Result api_clock_get(http_request *r) { return reply_clock(r); }

/* The move a body asks for: *delta (advance) or *at (set), in ms; -1 when
 * the body is none of the three shapes. */
static int move_of(const cJSON *in, int64_t *delta, int64_t *at)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(in, "advanceSeconds");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(in, "advanceMs");
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(in, "set");
    if ((s != NULL) + (ms != NULL) + (set != NULL) != 1)
        return -1;
    const cJSON *n = s ? s : ms;
    if (n) {
        double scale = s ? 1000.0 : 1.0;
        if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble * scale > 1e15)
            return -1;
        *delta = (int64_t)(n->valuedouble * scale);
        return 0;
    }
    int64_t secs = cJSON_IsString(set) ? clock_parse_iso(set->valuestring) : -1;
    if (secs < 0)
        return -1;
    *at = secs * 1000;
    return 0;
}

enum MHD_Result api_clock_move(http_request *r)
{
    enum MHD_Result ret;
    cJSON *in = http_json_object(r, &ret);
    if (!in)
        return ret;
    int64_t delta = -1, at = -1;
    int shape = move_of(in, &delta, &at);
    cJSON_Delete(in);
    if (!clock_is_virtual())
        return reply_error(r, 409, "ClockNotVirtual", "the clock is real: start haas-emu with --clock virtual");
    if (shape < 0)
        return reply_error(r, 400, "InvalidClock", "give one of advanceSeconds (>= 0), advanceMs (>= 0) or set "
                           "(ISO 8601 UTC, e.g. 2026-01-01T00:10:00Z)");
    if ((delta >= 0 ? clock_advance_ms(delta) : clock_set_ms(at)) < 0)
        return reply_error(r, 409, "ClockBackwards", "the clock never goes back");
    return reply_clock(r);
}
