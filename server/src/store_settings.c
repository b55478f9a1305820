/*
 * store_settings.c - the settings table (see store_settings.h).
 */
#include "store_settings.h"
#include "db.h"

#include <stdio.h>

typedef struct {
    char *out;
    size_t len;
} setting_out;

static void read_value(sqlite3_stmt *st, void *out)
{
    setting_out *o = out;
    db_copy(o->out, o->len, st, 0);
}

store_status store_setting_get(const char *key, char *out, size_t outlen)
{
    setting_out o = {out, outlen};
    return db_one("SELECT value FROM settings WHERE key = ?1", read_value, &o, "s", key);
}

store_status store_setting_set(const char *key, const char *value)
{
    return db_write("INSERT OR REPLACE INTO settings(key, value) VALUES (?1, ?2)", NULL, "ss", key, value);
}
