/*
 * store_ota_tasks.c - canceling a firmware job's devices by state (see
 * store_ota_tasks.h).
 */
#include "store_ota_tasks.h"
#include "db.h"

#include <string.h>

static void read_text(sqlite3_stmt *st, void *out) { db_copy(out, STORE_WORD_SIZE, st, 0); }

store_status store_ota_cancel_states(const char *id, unsigned states, int64_t now, int *n)
{
    char status[STORE_WORD_SIZE];
    *n = 0;
    db_lock();
    store_status s = db_one("SELECT status FROM ota_jobs WHERE job_id = ?1", read_text, status, "s", id);
    if (s == STORE_OK && strcmp(status, "inProgress") != 0)
        s = STORE_CONFLICT;
    for (int st = OTA_QUEUED; s == STORE_OK && st <= OTA_DOWNLOADING; st++) {
        int changed = 0;
        if (!(states & (1u << st)))
            continue;
        s = db_write("UPDATE ota_job_devices SET state = 'canceled', reason = 'task canceled', updated_at = ?2 "
                     "WHERE job_id = ?1 AND state = ?3", &changed, "sIs", id, now, store_ota_state_names[st]);
        *n += changed;
    }
    db_unlock();
    return s;
}
