/*
 * text_buf.h - a text that grows as pieces are appended (doubling its
 * allocation), for answers written a piece at a time: the Alibaba Cloud
 * API's XML (aliyun_api.c) and the JSON of a whole device list (json_list
 * in http.h). Out of memory, it stops growing and says so once, in
 * `failed`, instead of at every append.
 */
#ifndef HAAS_TEXT_BUF_H
#define HAAS_TEXT_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Start from text_buf b = {0}; free(b.text) when done with it. */
typedef struct {
    char *text; /* NUL-terminated once anything is appended (NULL before) */
    size_t len, cap;
    bool failed; /* out of memory: what was appended after it is missing */
} text_buf;

/* Appends the n bytes at s (and keeps the text terminated); nothing once
 * failed. */
void text_buf_put(text_buf *b, const char *s, size_t n);

#endif
