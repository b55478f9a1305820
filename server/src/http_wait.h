/*
 * http_wait.h - connections that wait (a download fault's delay, stall or
 * bandwidth cap) without holding up their server thread.
 *
 * libmicrohttpd runs each of its few worker threads over thousands of
 * connections, so a callback that sleeps stops all of them: with a 3 s
 * `delay` rule and 8 downloads, a console page took 14.7 s and the 8
 * downloads 15 s (4 workers). Instead the connection is suspended
 * (MHD_suspend_connection) and one thread of this module resumes it when
 * its time has come; libmicrohttpd then calls the handler, or the
 * response's reader, again.
 *
 * Times are real (CLOCK_MONOTONIC), as the fault's `ms` are.
 */
#ifndef HAAS_HTTP_WAIT_H
#define HAAS_HTTP_WAIT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Suspends conn and resumes it ms milliseconds from now. Call it only from
 * libmicrohttpd's callbacks for conn: the access handler (which then
 * returns MHD_YES without an answer) or a content reader (which then
 * returns 0). Returns true; false when nothing was done (ms <= 0, out of
 * memory, or after http_wait_flush): the caller goes on at once.
 */
bool http_wait_suspend(struct MHD_Connection *conn, int64_t ms);

/* Resumes every waiting connection now; later calls of http_wait_suspend
 * do nothing. For the end: http_server_stop calls it before it stops the
 * daemons (libmicrohttpd must not be stopped with connections suspended). */
void http_wait_flush(void);

#endif
