/*
 * clientid.c - parse the username `dn&pk` and the clientId `<id>|k=v,...|`
 * of an Aliyun-style MQTT CONNECT. See clientid.h for the accepted grammar.
 *
 * Pure string handling with explicit bounds: no allocation, no global state,
 * no recursion. Used by haas_auth.c (authentication and ACL) and by the unit
 * tests in tests/unit/test_clientid.c.
 */
#include "clientid.h"

#include <stddef.h>
#include <string.h>

/* True for [A-Za-z0-9]; independent of the locale. */
static bool is_alnum_ascii(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* True for the printable, non-space ASCII range 0x21..0x7e. */
static bool is_graph_ascii(char c)
{
    return c >= 0x21 && c <= 0x7e;
}

bool haas_parse_username(const char *username, struct haas_device_id *out)
{
    if (out == NULL) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    if (username == NULL) {
        return false;
    }
    size_t n = strnlen(username, HAAS_USERNAME_MAX + 1);
    if (n > HAAS_USERNAME_MAX) {
        return false;
    }
    const char *amp = memchr(username, '&', n);
    if (amp == NULL) {
        return false;
    }
    size_t dn_len = (size_t)(amp - username);
    size_t pk_len = n - dn_len - 1;
    if (dn_len > HAAS_DN_MAX || pk_len > HAAS_PK_MAX) {
        return false;
    }
    memcpy(out->device_name, username, dn_len);
    out->device_name[dn_len] = '\0';
    memcpy(out->product_key, amp + 1, pk_len);
    out->product_key[pk_len] = '\0';
    if (!valid_device_name(out->device_name) || !valid_product_key(out->product_key)) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    return true;
}

/* Copies [s, s+len) into dst (capacity cap incl. NUL). False when too long. */
static bool copy_field(char *dst, size_t cap, const char *s, size_t len)
{
    if (len >= cap) {
        return false;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

/* Stores the value of a key that matters (the others are ignored); a known
 * key given twice makes the clientId malformed (false). */
static bool store_known_key(const char *key, size_t key_len, const char *val, size_t val_len,
                            struct haas_client_id *out)
{
    static const struct {
        const char *name;
        size_t seen_at;  /* offset of its bool has_<key> */
        size_t field_at; /* offset of its char buffer, 0: no text kept */
        size_t field_size;
    } KEYS[] = {
#define TEXT_KEY(field) \
    {#field, offsetof(struct haas_client_id, has_##field), offsetof(struct haas_client_id, field), \
     sizeof(((struct haas_client_id *)0)->field)}
        TEXT_KEY(timestamp),
        TEXT_KEY(signmethod),
        TEXT_KEY(securemode),
#undef TEXT_KEY
        {"_ss", offsetof(struct haas_client_id, has_ss), 0, 0},
    };
    for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
        if (strlen(KEYS[i].name) != key_len || memcmp(key, KEYS[i].name, key_len) != 0) {
            continue;
        }
        bool *seen = (bool *)((char *)out + KEYS[i].seen_at);
        if (*seen) {
            return false;
        }
        *seen = true;
        if (KEYS[i].field_at == 0) { /* _ss: only whether it says 1 */
            out->auto_subscribe = val_len == 1 && val[0] == '1';
            return true;
        }
        return copy_field((char *)out + KEYS[i].field_at, KEYS[i].field_size, val, val_len);
    }
    return true; /* unknown key: ignored */
}

/*
 * Handles one item `key=value` (or an item without `=`) of the clientId
 * list. Returns false when the item makes the clientId malformed.
 */
static bool parse_item(const char *item, size_t len, struct haas_client_id *out)
{
    if (len == 0) {
        return true; /* empty item: ignored */
    }
    const char *eq = memchr(item, '=', len);
    size_t key_len = eq ? (size_t)(eq - item) : len;
    if (key_len == 0 || key_len > HAAS_KEY_MAX) {
        return false;
    }
    for (size_t i = 0; i < key_len; i++) {
        if (!is_alnum_ascii(item[i]) && item[i] != '_') {
            return false;
        }
    }
    if (eq == NULL) {
        return true; /* a bare flag with no value: ignored */
    }
    const char *val = eq + 1;
    size_t val_len = len - key_len - 1;
    if (val_len > HAAS_VALUE_MAX) {
        return false;
    }
    for (size_t i = 0; i < val_len; i++) {
        /* ',' and '|' cannot occur here: they delimit the item. */
        if (!is_graph_ascii(val[i])) {
            return false;
        }
    }
    return store_known_key(item, key_len, val, val_len, out);
}

/* Does the work of haas_parse_client_id(); `out` is already zeroed. */
static bool parse_client_id(const char *client_id, struct haas_client_id *out)
{
    size_t n = strnlen(client_id, HAAS_CLIENTID_MAX + 1);
    if (n > HAAS_CLIENTID_MAX) {
        return false;
    }
    const char *bar1 = memchr(client_id, '|', n);
    if (bar1 == NULL) {
        return false;
    }
    size_t id_len = (size_t)(bar1 - client_id);
    if (id_len == 0 || id_len > HAAS_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < id_len; i++) {
        if (!is_graph_ascii(client_id[i])) {
            return false;
        }
    }
    memcpy(out->id, client_id, id_len);
    out->id[id_len] = '\0';

    const char *list = bar1 + 1;
    const char *end = client_id + n;
    const char *bar2 = memchr(list, '|', (size_t)(end - list));
    if (bar2 == NULL || bar2 + 1 != end) {
        return false; /* no closing `|`, or text after it */
    }
    const char *item = list;
    while (item <= bar2) {
        const char *comma = memchr(item, ',', (size_t)(bar2 - item));
        const char *item_end = comma ? comma : bar2;
        if (!parse_item(item, (size_t)(item_end - item), out)) {
            return false;
        }
        item = item_end + 1;
    }
    return true;
}

bool haas_parse_client_id(const char *client_id, struct haas_client_id *out)
{
    if (out == NULL) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    if (client_id == NULL) {
        return false;
    }
    if (!parse_client_id(client_id, out)) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    return true;
}
