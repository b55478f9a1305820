/*
 * status_batch.c - gather lifecycle objects into one JSON array (see
 * status_batch.h). The buffer grows by doubling up to
 * HAAS_STATUS_BATCH_MAX and is kept between batches.
 */
#include "status_batch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for `need` bytes in all; false when out of memory. */
static bool reserve(struct haas_status_batch *b, size_t need)
{
    if (need <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need) {
        cap *= 2;
    }
    char *more = realloc(b->buf, cap);
    if (more == NULL) {
        return false;
    }
    b->buf = more;
    b->cap = cap;
    return true;
}

int haas_status_batch_add(struct haas_status_batch *b, const char *json, size_t len)
{
    /* '[' or ',' before the object, and room kept for the closing ']' */
    size_t need = b->len + 1 + len + 1;
    if (need > HAAS_STATUS_BATCH_MAX) {
        return b->count ? 1 : -1;
    }
    if (!reserve(b, need)) {
        return -1;
    }
    b->buf[b->len++] = b->count ? ',' : '[';
    memcpy(b->buf + b->len, json, len);
    b->len += len;
    b->count++;
    return 0;
}

const char *haas_status_batch_take(struct haas_status_batch *b, size_t *len)
{
    if (b->count == 0) {
        *len = 0;
        return NULL;
    }
    b->buf[b->len++] = ']'; /* add kept the room */
    *len = b->len;
    b->len = 0;
    b->count = 0;
    return b->buf;
}

void haas_status_batch_free(struct haas_status_batch *b)
{
    free(b->buf);
    *b = (struct haas_status_batch)HAAS_STATUS_BATCH_INIT;
}
