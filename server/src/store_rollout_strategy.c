/*
 * store_rollout_strategy.c - a rollout's dynamic strategy ended (see
 * store_rollout_strategy.h).
 */
#include "store_rollout_strategy.h"
#include "db.h"

store_status store_rollout_end_dynamic(const char *id)
{
    return db_update("UPDATE rollouts SET dynamic = 0 WHERE rollout_id = ?1 AND dynamic = 1", "s", id);
}
