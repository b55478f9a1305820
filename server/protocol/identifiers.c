/*
 * identifiers.c - the formats of the real cloud's identifiers (see
 * identifiers.h). Part of the protocol module shared by haas-emu and the
 * broker plugin: both judge a ProductKey or DeviceName by these functions.
 */
#include "identifiers.h"

#include <string.h>

static bool all_of(const char *s, size_t min, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (extra && c != '\0' && strchr(extra, c));
        if (!ok)
            return false;
    }
    return true;
}

bool valid_product_key(const char *s) { return s && all_of(s, HAAS_PK_LEN, HAAS_PK_LEN, NULL); }

bool valid_device_name(const char *s) { return s && all_of(s, HAAS_DN_MIN, HAAS_DN_MAX, "_@.:-"); }

bool valid_app_name(const char *s) { return s && all_of(s, 1, HAAS_APP_NAME_MAX, NULL); }

bool valid_device_secret(const char *s) { return s && all_of(s, HAAS_DS_LEN, HAAS_DS_LEN, NULL); }

bool valid_token(const char *s) { return s && all_of(s, 1, 40, "_-"); }

bool valid_ota_word(const char *s) { return s && all_of(s, 1, HAAS_OTA_WORD_MAX, "._-"); }

bool valid_app_id(const char *s)
{
    if (!s || strlen(s) != HAAS_APP_ID_LEN || strncmp(s, "88001000", 8) != 0)
        return false;
    for (int i = 0; i < HAAS_APP_ID_LEN; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Bytes of the well-formed UTF-8 sequence at p (at most n bytes), else 0:
 * no overlong form, no surrogate (U+D800..U+DFFF), nothing past U+10FFFF
 * (the Unicode standard's table 3-7). */
static size_t utf8_char(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
    size_t k;
    if (c < 0x80)
        return 1;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    k = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (k > n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    while (i < n && (k = utf8_char(p + i, n - i)) > 0)
        i += k;
    return i;
}

bool valid_utf8(const char *s, size_t n)
{
    return s && utf8_valid_prefix(s, n) == n;
}

bool valid_display_name(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > max || !valid_utf8(s, n))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

bool version_parse(const char *s, long parts[3])
{
    if (!s)
        return false;
    for (int i = 0; i < 3; i++) {
        long v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 9)
                return false;
            v = v * 10 + (*s++ - '0');
        }
        if (digits == 0)
            return false;
        parts[i] = v;
        if (i < 2 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

int version_compare(const long a[3], const long b[3])
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

const char *package_filename_parse(const char *filename, char *name, char *id, char *version)
{
    static const char suffix[] = ".tar.gz";
    size_t n = strlen(filename);
    if (n <= sizeof suffix - 1 || n > 128 || strcmp(filename + n - (sizeof suffix - 1), suffix) != 0)
        return "InvalidFileName";
    const char *d1 = strchr(filename, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    const char *end = filename + n - (sizeof suffix - 1);
    if (!d1 || !d2 || d2 > end || memchr(d2 + 1, '-', (size_t)(end - d2 - 1)))
        return "InvalidFileName";
    size_t ln = (size_t)(d1 - filename), li = (size_t)(d2 - d1 - 1), lv = (size_t)(end - d2 - 1);
    if (ln > 16 || li > 16 || lv > 31)
        return ln > 16 ? "InvalidAppName" : li > 16 ? "InvalidAppId" : "InvalidVersion";
    memcpy(name, filename, ln);
    name[ln] = '\0';
    memcpy(id, d1 + 1, li);
    id[li] = '\0';
    memcpy(version, d2 + 1, lv);
    version[lv] = '\0';
    long parts[3];
    if (!valid_app_name(name))
        return "InvalidAppName";
    if (!valid_app_id(id))
        return "InvalidAppId";
    if (!version_parse(version, parts))
        return "InvalidVersion";
    return NULL;
}
