/*
 * json_text.c - JSON text refused on the way in, repaired on the way out,
 * and an array's elements found without parsing them (see json_text.h).
 */
#include "json_text.h"
#include "identifiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 character at in (n bytes left), 0 when
 * the byte there begins none. */
static size_t char_len(const char *in, size_t n)
{
    size_t k = 1;
    while (k <= 4 && k <= n && utf8_valid_prefix(in, k) != k)
        k++;
    return k <= 4 && k <= n ? k : 0;
}

/* Inside a string at p (after its opening quote): why it must be refused,
 * or NULL; *end gets the byte after its closing quote. */
static const char *string_refusal(const char *p, const char *limit, const char **end)
{
    while (p < limit && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return "a JSON string holds a raw control character (escape it)";
        if (c == '\\' && p + 1 < limit && p[1] == 'u' && limit - p >= 6 && !memcmp(p + 2, "0000", 4))
            return "a JSON string holds \\u0000 (NUL), which haas-emu does not store";
        p += c == '\\' ? 2 : 1;
    }
    *end = p + 1;
    return NULL;
}

const char *json_text_refusal(const char *text, size_t len)
{
    if (!valid_utf8(text, len))
        return "the body is not valid UTF-8";
    const char *p = text, *limit = text + len;
    while (p < limit) {
        if (*p++ != '"')
            continue;
        const char *why = string_refusal(p, limit, &p);
        if (why)
            return why;
    }
    return NULL;
}

size_t json_text_escape(char *out, size_t outlen, const char *in)
{
    size_t o = 0, n = strlen(in);
    if (outlen == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t k = char_len(in + i, n - i);
        size_t need = k ? k : 4;
        if (o + need >= outlen)
            break;
        if (k)
            memcpy(out + o, in + i, k);
        else
            snprintf(out + o, 5, "\\x%02X", (unsigned char)in[i]);
        o += need;
        i += k ? k : 1;
    }
    out[o] = '\0';
    return o;
}

char *json_text_repair(const char *in, size_t n, size_t *outlen)
{
    char *out = malloc(3 * n + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = char_len(in + i, n - i);
        if (k) {
            memcpy(out + o, in + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The index of the closing quote of the string whose opening quote is at
 * text[i], or len when it does not close. */
static size_t string_end(const char *text, size_t len, size_t i)
{
    for (i++; i < len && text[i] != '"'; i++)
        if (text[i] == '\\')
            i++; /* the escaped character, a quote included */
    return i < len ? i : len;
}

/* The index of the first byte at or after i that is not blank (len: none). */
static size_t skip_blanks(const char *text, size_t len, size_t i)
{
    while (i < len && blank(text[i]))
        i++;
    return i;
}

/* From an element's first byte at text[i]: the index of the ',' or ']'
 * that ends it (len: cut short), its last byte into *last. */
static size_t item_end(const char *text, size_t len, size_t i, size_t *last)
{
    size_t depth = 0;
    *last = i;
    for (; i < len; i++) {
        char c = text[i];
        if (depth == 0 && (c == ',' || c == ']'))
            return i;
        if (blank(c))
            continue;
        if (c == '"' && (i = string_end(text, len, i)) == len)
            return len;
        *last = i;
        if (c == '[' || c == '{')
            depth++;
        else if ((c == ']' || c == '}') && depth > 0)
            depth--;
    }
    return len;
}

int json_text_array_items(const char *text, size_t len, void (*each)(const char *item, size_t item_len, void *ctx),
                          void *ctx)
{
    size_t i = skip_blanks(text, len, 0);
    if (i == len || text[i] != '[')
        return -1;
    i = skip_blanks(text, len, i + 1);
    if (i < len && text[i] == ']')
        return skip_blanks(text, len, i + 1) == len ? 0 : -1;
    for (int n = 1;; n++) {
        size_t last, end = item_end(text, len, i, &last);
        if (end == len || end == i)
            return -1; /* cut short, or an empty element */
        each(text + i, last - i + 1, ctx);
        if (text[end] == ']')
            return skip_blanks(text, len, end + 1) == len ? n : -1;
        i = skip_blanks(text, len, end + 1);
    }
}
