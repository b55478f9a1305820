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

/* n / d and n % d (d < 2^31) bit by bit: lx106 has no divide instruction
 * and Debian's libgcc for it no __udivsi3 either. */
static uint32_t div32(uint32_t n, uint32_t d, uint32_t *rem)
{
    uint32_t q = 0, r = 0;
    for (int i = 31; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1u);
        if (r >= d) {
            r -= d;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t haas_u64_divmod10(uint64_t *v)
{
    /* Long division by 10 in 16-bit steps: each step divides a number
     * below 10 * 2^16. */
    uint64_t q = 0;
    uint32_t r = 0;
    for (int shift = 48; shift >= 0; shift -= 16) {
        uint32_t cur = (r << 16) | (uint32_t)((*v >> shift) & 0xffffu);
        q |= (uint64_t)div32(cur, 10u, &r) << shift;
    }
    *v = q;
    return r;
}

uint32_t haas_percent(uint64_t part, uint64_t whole)
{
    while (whole >> 25) {
        whole >>= 1;
        part >>= 1;
    }
    uint32_t rem;
    if (whole == 0)
        return 0;
    return div32((uint32_t)part * 100u, (uint32_t)whole, &rem);
}

void haas_sb_u64(haas_sb *sb, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do
        tmp[--i] = (char)('0' + haas_u64_divmod10(&v));
    while (v);
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

/* v * 10 + d in 16-bit steps (the caller checked that it does not wrap). */
static uint64_t mul10_add(uint64_t v, uint32_t d)
{
    uint64_t out = 0;
    uint32_t carry = d;
    for (int shift = 0; shift < 64; shift += 16) {
        uint32_t cur = (uint32_t)((v >> shift) & 0xffffu) * 10u + carry;
        out |= (uint64_t)(cur & 0xffffu) << shift;
        carry = cur >> 16;
    }
    return out;
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
        /* v * 10 + d must not wrap (constants folded: no 64-bit division) */
        if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
            return false;
        v = mul10_add(v, (uint32_t)d);
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
