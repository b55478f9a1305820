/*
 * log.h - the server's one logging call.
 *
 * Lines go to stderr as "2026-11-26T02:37:46Z haas-emu LEVEL message", one
 * write per line so lines from different threads never interleave.
 */
#ifndef HAAS_LOG_H
#define HAAS_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Lines below this level are dropped (default LOG_INFO). */
void log_set_level(log_level level);

/* printf-style; a trailing newline is added. */
void log_msg(log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
