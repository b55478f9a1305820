/*
 * copy_text.h - copy a C string into a fixed-size buffer: cut to fit and
 * always terminated, as snprintf(dst, cap, "%s", src) does, without the
 * format machinery. A push copies each member's product key and device
 * name several times (service_tasks.c) and every row read copies its text
 * columns (db_copy): at 19,800 devices a push's snprintf calls were about
 * 6% of its thread's time.
 */
#ifndef HAAS_COPY_TEXT_H
#define HAAS_COPY_TEXT_H

#include <stddef.h>
#include <string.h>

/* Copies src (NULL: "") into dst of cap bytes (cap > 0), cut to cap - 1. */
static inline void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

#endif /* HAAS_COPY_TEXT_H */
