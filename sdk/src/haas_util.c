/*
 * haas_util.c - libc stand-ins for the freestanding core (see haas_util.h).
 */
#include "haas_util.h"

void haas_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
}

void haas_memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
}

int haas_memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t haas_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int haas_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (int)(uint8_t)*a - (int)(uint8_t)*b;
}

bool haas_starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

size_t haas_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = haas_strlen(src);
    if (cap > 0) {
        size_t c = n < cap - 1 ? n : cap - 1;
        haas_memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

void haas_sb_init(haas_sb *sb, char *buf, size_t cap)
{
    sb->buf = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->ok = cap > 0;
    if (cap > 0)
        buf[0] = '\0';
}

void haas_sb_mem(haas_sb *sb, const char *s, size_t n)
{
    if (!sb->ok)
        return;
    if (sb->len + n + 1 > sb->cap) {
        sb->ok = false;
        return;
    }
    haas_memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void haas_sb_str(haas_sb *sb, const char *s) { haas_sb_mem(sb, s, haas_strlen(s)); }

void haas_sb_u64(haas_sb *sb, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    haas_sb_mem(sb, tmp + i, sizeof tmp - i);
}

void haas_sb_i64(haas_sb *sb, int64_t v)
{
    if (v < 0) {
        haas_sb_mem(sb, "-", 1);
        haas_sb_u64(sb, (uint64_t)(-(v + 1)) + 1);
    } else {
        haas_sb_u64(sb, (uint64_t)v);
    }
}

void haas_sb_json_escaped(haas_sb *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        uint8_t c = (uint8_t)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            haas_sb_mem(sb, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            haas_sb_mem(sb, e, 6);
        } else {
            haas_sb_mem(sb, (const char *)&c, 1);
        }
    }
}

void haas_sb_hex(haas_sb *sb, const uint8_t *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char h[2] = {hex[bytes[i] >> 4], hex[bytes[i] & 15]};
        haas_sb_mem(sb, h, 2);
    }
}

bool haas_parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Length of the UTF-8 sequence that starts with byte c (0: not a start
 * byte), and the smallest code point such a sequence may hold. */
static size_t utf8_seq_len(uint8_t c, uint32_t *min)
{
    if (c < 0x80)
        return *min = 0, 1;
    if (c >= 0xc2 && c <= 0xdf)
        return *min = 0x80, 2;
    if (c >= 0xe0 && c <= 0xef)
        return *min = 0x800, 3;
    if (c >= 0xf0 && c <= 0xf4)
        return *min = 0x10000, 4;
    return 0; /* a continuation byte, 0xc0/0xc1 (always overlong) or 0xf5-0xff */
}

bool haas_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t min, cp;
        size_t k = utf8_seq_len(s[i], &min);
        if (k == 0 || k > n - i)
            return false;
        cp = k == 1 ? s[i] : (uint32_t)(s[i] & (0x3f >> (k - 1)));
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k;
    }
    return true;
}
