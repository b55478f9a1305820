/*
 * status_batch.h - the lifecycle messages of one pass of mosquitto's loop,
 * gathered into one message for haas-emu on TOPIC_STATUSES.
 *
 * Every login and logout may still get its own message on
 * /as/mqtt/status/{pk}/{dn} (status_msg.h, status_watch.h): that is the
 * cloud's form, and each device's last one is what the plugin replays to
 * haas-emu when its link connects. Live, haas-emu reads them from here: a JSON array of the same objects,
 * in their order, sent when the broker's loop has handled what one
 * epoll_wait() returned (MOSQ_EVT_TICK), or earlier when
 * HAAS_STATUS_BATCH_MAX bytes are gathered. Each message the broker sends
 * to haas-emu costs it a write() and four epoll_ctl() calls; while 19,800
 * devices logged in, about 58 logins came in a message, and the broker's
 * CPU fell by about a tenth (docs/protocol.md section 5).
 *
 * Plain bytes, no mosquitto calls: haas_auth.c does the publishing. Not
 * thread-safe (the broker calls the plugin from one thread).
 */
#ifndef HAAS_STATUS_BATCH_H
#define HAAS_STATUS_BATCH_H

#include <stddef.h>

/* At most this many bytes per message, the brackets included. */
#define HAAS_STATUS_BATCH_MAX (64 * 1024)

struct haas_status_batch {
    char *buf;    /* "[" and the objects joined by ','; no ']' until taken */
    size_t len;   /* bytes in buf */
    size_t cap;   /* bytes allocated */
    size_t count; /* objects in buf */
};

/* An empty batch (all zero; nothing allocated until the first add). */
#define HAAS_STATUS_BATCH_INIT {NULL, 0, 0, 0}

/*
 * Appends one JSON object of len bytes (not checked: status_msg.c's). 0 when
 * added; 1 when it would take the message past HAAS_STATUS_BATCH_MAX (take
 * the batch first, then add again); -1 when out of memory, or when the
 * object alone does not fit in an empty batch. Nothing is added unless 0.
 */
int haas_status_batch_add(struct haas_status_batch *b, const char *json, size_t len);

/*
 * The JSON array of what was added, *len its length (not NUL-terminated),
 * and the batch emptied; NULL (and *len 0) when it held nothing. The text
 * stays valid until the next add or free.
 */
const char *haas_status_batch_take(struct haas_status_batch *b, size_t *len);

/* Frees what the batch holds; it is empty again after. */
void haas_status_batch_free(struct haas_status_batch *b);

#endif /* HAAS_STATUS_BATCH_H */
