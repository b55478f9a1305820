/*
 * json_scan.c - in-place JSON scanning (see json_scan.h).
 *
 * skip_value() walks one value and returns where it ends; it is the single
 * validator, used both to check a whole document and to step over members
 * while looking for a path. Nesting is bounded by JSON_MAX_DEPTH.
 */
#include "json_scan.h"
#include "haas_util.h"

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* p at the opening quote; returns past the closing quote or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= end)
                return NULL;
            if (*p == 'u') {
                if (end - p < 5)
                    return NULL;
                for (int i = 1; i <= 4; i++)
                    if (hex_digit(p[i]) < 0)
                        return NULL;
                p += 4;
            } else if (!(*p == '"' || *p == '\\' || *p == '/' || *p == 'b' || *p == 'f' || *p == 'n' ||
                         *p == 'r' || *p == 't')) {
                return NULL;
            }
        }
        p++;
    }
    return NULL;
}

static const char *skip_number(const char *p, const char *end)
{
    const char *s = p;
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p > s ? p : NULL;
}

static const char *skip_literal(const char *p, const char *end, const char *word)
{
    size_t n = haas_strlen(word);
    if ((size_t)(end - p) < n || haas_memcmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

/* Skips one value starting at p (no leading white space); fills *v. */
static const char *skip_value(const char *p, const char *end, int depth, json_value *v)
{
    if (p >= end || depth > JSON_MAX_DEPTH)
        return NULL;
    const char *q;
    json_type t;
    switch (*p) {
    case '"':
        q = skip_string(p, end);
        t = JSON_STRING;
        if (q && v) {
            v->type = t, v->start = p + 1, v->len = (size_t)(q - p - 2);
            return q;
        }
        return q;
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        t = *p == '{' ? JSON_OBJECT : JSON_ARRAY;
        q = skip_ws(p + 1, end);
        if (q < end && *q == close) {
            q++;
            break;
        }
        for (;;) {
            if (t == JSON_OBJECT) {
                if (q >= end || *q != '"' || !(q = skip_string(q, end)))
                    return NULL;
                q = skip_ws(q, end);
                if (q >= end || *q != ':')
                    return NULL;
                q = skip_ws(q + 1, end);
            }
            if (!(q = skip_value(q, end, depth + 1, NULL)))
                return NULL;
            q = skip_ws(q, end);
            if (q < end && *q == ',') {
                q = skip_ws(q + 1, end);
                continue;
            }
            if (q < end && *q == close) {
                q++;
                break;
            }
            return NULL;
        }
        break;
    }
    case 't':
        q = skip_literal(p, end, "true"), t = JSON_TRUE;
        break;
    case 'f':
        q = skip_literal(p, end, "false"), t = JSON_FALSE;
        break;
    case 'n':
        q = skip_literal(p, end, "null"), t = JSON_NULL;
        break;
    default:
        q = skip_number(p, end), t = JSON_NUMBER;
        break;
    }
    if (q && v)
        v->type = t, v->start = p, v->len = (size_t)(q - p);
    return q;
}

bool json_valid(const char *doc, size_t len)
{
    const char *end = doc + len;
    const char *p = skip_value(skip_ws(doc, end), end, 0, NULL);
    return p && skip_ws(p, end) == end;
}

/* Is the (escaped) string [s, s+n) exactly key? Keys in paths are plain. */
static bool key_equals(const char *s, size_t n, const char *key, size_t klen)
{
    return n == klen && haas_memcmp(s, key, n) == 0;
}

bool json_find(const char *doc, size_t len, const char *path, json_value *out)
{
    const char *end = doc + len;
    if (!json_valid(doc, len))
        return false;
    json_value cur;
    if (!skip_value(skip_ws(doc, end), end, 0, &cur))
        return false;
    const char *pp = path;
    while (*pp) {
        if (*pp == '.')
            pp++;
        if (*pp == '[') {
            /* array index */
            uint64_t idx = 0;
            const char *c = ++pp;
            while (*pp >= '0' && *pp <= '9')
                pp++;
            if (*pp != ']' || !haas_parse_u64(c, (size_t)(pp - c), &idx) || cur.type != JSON_ARRAY)
                return false;
            pp++;
            const char *q = skip_ws(cur.start + 1, end);
            if (*q == ']')
                return false;
            for (uint64_t i = 0;; i++) {
                json_value item;
                const char *after = skip_value(q, end, 0, &item);
                if (!after)
                    return false;
                if (i == idx) {
                    cur = item;
                    break;
                }
                q = skip_ws(after, end);
                if (*q != ',')
                    return false;
                q = skip_ws(q + 1, end);
            }
            continue;
        }
        /* object key up to '.', '[' or the end */
        const char *k = pp;
        while (*pp && *pp != '.' && *pp != '[')
            pp++;
        size_t klen = (size_t)(pp - k);
        if (cur.type != JSON_OBJECT || klen == 0)
            return false;
        const char *q = skip_ws(cur.start + 1, end);
        bool found = false;
        while (*q == '"') {
            const char *kend = skip_string(q, end);
            bool match = key_equals(q + 1, (size_t)(kend - q - 2), k, klen);
            q = skip_ws(skip_ws(kend, end) + 1, end); /* past ':' */
            json_value member;
            const char *after = skip_value(q, end, 0, &member);
            if (!after)
                return false;
            if (match) {
                cur = member;
                found = true; /* the last duplicate would win in most parsers; the first is fine */
                break;
            }
            q = skip_ws(after, end);
            if (*q != ',')
                break;
            q = skip_ws(q + 1, end);
        }
        if (!found)
            return false;
    }
    *out = cur;
    return true;
}

/* Appends code point cp as UTF-8; false when it does not fit. */
static bool put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
    uint8_t b[4];
    size_t k;
    if (cp < 0x80)
        b[0] = (uint8_t)cp, k = 1;
    else if (cp < 0x800)
        b[0] = (uint8_t)(0xc0 | (cp >> 6)), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), k = 2;
    else if (cp < 0x10000)
        b[0] = (uint8_t)(0xe0 | (cp >> 12)), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
        b[2] = (uint8_t)(0x80 | (cp & 0x3f)), k = 3;
    else
        b[0] = (uint8_t)(0xf0 | (cp >> 18)), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f)),
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f)), k = 4;
    if (*n + k + 1 > cap)
        return false;
    haas_memcpy(out + *n, b, k);
    *n += k;
    return true;
}

static uint32_t hex4(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (uint32_t)hex_digit(p[i]);
    return v;
}

static bool is_high_surrogate(uint32_t cp) { return cp >= 0xd800 && cp < 0xdc00; }
static bool is_low_surrogate(uint32_t cp) { return cp >= 0xdc00 && cp < 0xe000; }

/* Decodes the escape at p (just past its backslash) of a validated string;
 * *after gets the end of it. A \u surrogate pair makes one code point; an
 * unpaired surrogate is returned as it is. */
static uint32_t decode_escape(const char *p, const char **after)
{
    *after = p + 1;
    switch (*p) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': break;
    default: return (uint8_t)*p; /* \" \\ \/ */
    }
    uint32_t cp = hex4(p + 1);
    *after = p + 5;
    /* p[5] is inside the string (at worst its closing quote); a backslash
     * there starts a complete escape. */
    if (is_high_surrogate(cp) && p[5] == '\\' && p[6] == 'u' && is_low_surrogate(hex4(p + 7))) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(p + 7) - 0xdc00);
        *after = p + 11;
    }
    return cp;
}

bool json_string(const json_value *v, char *out, size_t cap)
{
    if (v->type != JSON_STRING || cap == 0)
        return false;
    size_t n = 0;
    const char *p = v->start, *end = v->start + v->len;
    while (p < end) {
        if (*p != '\\') {
            if (n + 2 > cap)
                return false;
            out[n++] = *p++;
            continue;
        }
        uint32_t cp = decode_escape(p + 1, &p);
        if (cp == 0 || !put_utf8(out, cap, &n, cp))
            return false;
    }
    out[n] = '\0';
    return true;
}

bool json_int(const json_value *v, int64_t *out)
{
    if (v->type != JSON_NUMBER)
        return false;
    const char *s = v->start;
    size_t n = v->len;
    bool neg = n > 0 && s[0] == '-';
    uint64_t u;
    if (!haas_parse_u64(s + neg, n - neg, &u) || u > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? -(int64_t)u : (int64_t)u;
    return true;
}

bool json_get_string(const char *doc, size_t len, const char *path, char *out, size_t cap)
{
    json_value v;
    return json_find(doc, len, path, &v) && json_string(&v, out, cap);
}

bool json_get_int(const char *doc, size_t len, const char *path, int64_t *out)
{
    json_value v;
    return json_find(doc, len, path, &v) && json_int(&v, out);
}

/* ---- json_plain_object: the manifest.json rules ---- */

/* Steps over the string at p (its opening quote) of a validated document,
 * refusing control characters (raw DEL, escaped \b \f \n \r \t, \u0000 to
 * \u001f, \u007f; raw ones below 0x20 are invalid JSON already) and unpaired
 * surrogate escapes. Returns past the closing quote, or NULL. */
static const char *plain_string(const char *p)
{
    for (p++; *p != '"';) {
        if (*p == 0x7f)
            return NULL;
        if (*p != '\\') {
            p++;
            continue;
        }
        uint32_t cp = decode_escape(p + 1, &p);
        if (cp < 0x20 || cp == 0x7f || is_high_surrogate(cp) || is_low_surrogate(cp))
            return NULL; /* a surrogate left by decode_escape is unpaired */
    }
    return p + 1;
}

/* Reads a string as its unescaped UTF-8 bytes, one at a time. */
typedef struct {
    const char *p;      /* next character of the (validated) string body */
    char buf[5];        /* the UTF-8 bytes of the escape being read */
    size_t len, pos;
} string_reader;

static int next_byte(string_reader *r)
{
    if (r->pos < r->len)
        return (uint8_t)r->buf[r->pos++];
    if (*r->p == '"')
        return -1;
    if (*r->p != '\\')
        return (uint8_t)*r->p++;
    uint32_t cp = decode_escape(r->p + 1, &r->p);
    r->len = 0;
    put_utf8(r->buf, sizeof r->buf, &r->len, cp); /* up to 4 bytes and room for a NUL: fits */
    r->pos = 1;
    return (uint8_t)r->buf[0];
}

/* Are the strings at a and b (their opening quotes) equal once unescaped? */
static bool strings_equal(const char *a, const char *b)
{
    string_reader x = {a + 1, {0}, 0, 0}, y = {b + 1, {0}, 0, 0};
    for (;;) {
        int c = next_byte(&x);
        if (c != next_byte(&y))
            return false;
        if (c < 0)
            return true;
    }
}

/* Does a member before `key` of the object whose first member is at
 * `first` have the same key? */
static bool key_seen(const char *first, const char *key, const char *end)
{
    for (const char *q = first; q < key;) {
        if (strings_equal(q, key))
            return true;
        q = skip_ws(skip_ws(skip_string(q, end), end) + 1, end);   /* past ':' */
        q = skip_ws(skip_ws(skip_value(q, end, 0, NULL), end) + 1, end); /* past ',' */
    }
    return false;
}

static const char *plain_value(const char *p, const char *end, json_plain *why);

/* An object or array at p (validated) whose strings and members follow the
 * rules; returns past its closing bracket, or NULL with *why set. */
static const char *plain_container(const char *p, const char *end, json_plain *why)
{
    bool object = *p == '{';
    const char *first = skip_ws(p + 1, end), *q = first;
    while (*q != '}' && *q != ']') {
        if (object && key_seen(first, q, end)) {
            *why = JSON_PLAIN_DUPLICATE_KEY;
            return NULL;
        }
        if (object) {
            if (!(q = plain_value(q, end, why)))
                return NULL;
            q = skip_ws(skip_ws(q, end) + 1, end); /* past ':' */
        }
        if (!(q = plain_value(q, end, why)))
            return NULL;
        q = skip_ws(q, end);
        if (*q == ',')
            q = skip_ws(q + 1, end);
    }
    return q + 1;
}

static const char *plain_value(const char *p, const char *end, json_plain *why)
{
    const char *q;
    if (*p == '{' || *p == '[')
        return plain_container(p, end, why);
    if (*p != '"')
        return skip_value(p, end, 0, NULL);
    if (!(q = plain_string(p)))
        *why = JSON_PLAIN_BAD_STRING;
    return q;
}

json_plain json_plain_object(const char *doc, size_t len)
{
    const char *end = doc + len;
    json_plain why = JSON_PLAIN_OK;
    if (!json_valid(doc, len))
        return JSON_PLAIN_NOT_JSON;
    if (!haas_utf8_valid((const uint8_t *)doc, len))
        return JSON_PLAIN_NOT_UTF8;
    const char *p = skip_ws(doc, end);
    if (*p != '{')
        return JSON_PLAIN_NOT_OBJECT;
    plain_container(p, end, &why);
    return why;
}
