/*
 * log.c - timestamped, thread-safe lines on stderr (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_level min_level = LOG_INFO;

void log_set_level(log_level level) { min_level = level; }

void log_msg(log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < min_level)
        return;

    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ haas-emu ", &tm);
    int k = snprintf(line + n, sizeof line - n, "%s ", names[level]);
    if (k > 0)
        n += (size_t)k;

    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (k > 0)
        n = (n + (size_t)k < sizeof line - 1) ? n + (size_t)k : sizeof line - 2;
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, n);
}
