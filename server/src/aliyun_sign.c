/*
 * aliyun_sign.c - Alibaba Cloud's RPC signature version 1 (see
 * aliyun_sign.h).
 */
#include "aliyun_sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

long aliyun_percent_encode(const char *in, size_t len, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        size_t need = unreserved(c) ? 1 : 3;
        if (o + need >= size)
            return -1;
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= size)
        return -1;
    out[o] = '\0';
    return (long)o;
}

/* A parameter with its name and value encoded, for sorting. */
typedef struct {
    char *name;
    char *value;
} encoded_param;

static int by_name(const void *a, const void *b)
{
    const encoded_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* enc(text) in a fresh string, or NULL. */
static char *encode_dup(const char *text)
{
    size_t len = strlen(text), size = len * 3 + 1;
    char *out = malloc(size);
    if (out && aliyun_percent_encode(text, len, out, size) < 0) {
        free(out);
        out = NULL;
    }
    return out;
}

/* The canonicalised query of params (Signature left out), or NULL. */
static char *canonical_query(const aliyun_param *params, size_t n)
{
    encoded_param *list = calloc(n ? n : 1, sizeof *list);
    size_t m = 0, total = 1;
    bool ok = list != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        if (!strcmp(params[i].name, "Signature"))
            continue;
        list[m].name = encode_dup(params[i].name);
        list[m].value = encode_dup(params[i].value ? params[i].value : "");
        ok = list[m].name && list[m].value;
        if (list[m].name)
            total += strlen(list[m].name) + 2 + (list[m].value ? strlen(list[m].value) : 0);
        m++;
    }
    char *out = ok ? malloc(total) : NULL;
    if (out) {
        qsort(list, m, sizeof *list, by_name);
        size_t used = 0;
        out[0] = '\0';
        for (size_t i = 0; i < m; i++)
            used += (size_t)snprintf(out + used, total - used, "%s%s=%s", i ? "&" : "", list[i].name, list[i].value);
    }
    for (size_t i = 0; list && i < m; i++) {
        free(list[i].name);
        free(list[i].value);
    }
    free(list);
    return out;
}

char *aliyun_string_to_sign(const char *method, const aliyun_param *params, size_t n)
{
    char *query = canonical_query(params, n);
    char *encoded = query ? encode_dup(query) : NULL;
    size_t size = encoded ? strlen(method) + strlen(encoded) + 8 : 0;
    char *out = encoded ? malloc(size) : NULL;
    if (out)
        snprintf(out, size, "%s&%%2F&%s", method, encoded);
    free(query);
    free(encoded);
    return out;
}

bool aliyun_hmac_sha1_base64(const char *key, const char *text, char *out, size_t size)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (size < 29 || !HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)text, strlen(text), mac, &mac_len))
        return false;
    EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
    return true;
}

bool aliyun_sign_text(const char *secret, const char *text, char *out, size_t size)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    size_t klen = strlen(secret);
    char *key = malloc(klen + 2);
    if (!key || size < 29) {
        free(key);
        return false;
    }
    memcpy(key, secret, klen);
    key[klen] = '&';
    key[klen + 1] = '\0';
    bool ok = HMAC(EVP_sha1(), key, (int)klen + 1, (const unsigned char *)text, strlen(text), mac, &mac_len) != NULL;
    OPENSSL_cleanse(key, klen + 1);
    free(key);
    if (ok)
        EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
    return ok;
}

bool aliyun_signature_ok(const char *secret, const char *method, const aliyun_param *params, size_t n,
                         const char *signature)
{
    char *text = aliyun_string_to_sign(method, params, n);
    char want[64];
    bool ok = text && aliyun_sign_text(secret, text, want, sizeof want);
    free(text);
    size_t len = strlen(want);
    return ok && signature && strlen(signature) == len && CRYPTO_memcmp(signature, want, len) == 0;
}

bool aliyun_parse_timestamp(const char *text, long long *out)
{
    struct tm tm = {0};
    int used = 0;
    if (!text || strlen(text) < 20 ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &used) != 6 || used != 19)
        return false;
    const char *rest = text + 19;
    if (*rest == '.') {
        size_t digits = strspn(rest + 1, "0123456789");
        if (digits == 0)
            return false;
        rest += 1 + digits;
    }
    if (strcmp(rest, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (long long)timegm(&tm);
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool aliyun_form_decode(char *text)
{
    char *w = text;
    for (const char *p = text; *p; p++) {
        if (*p == '+') {
            *w++ = ' ';
        } else if (*p == '%') {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (lo < 0)
                return false;
            if (hi == 0 && lo == 0)
                return false; /* a NUL byte would cut the value short */
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return true;
}
