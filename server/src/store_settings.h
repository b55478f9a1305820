/*
 * store_settings.h - key/value settings haas-emu generates once and keeps
 * (the secret that signs package URLs, the MQTT link's instance id): table
 * settings.
 */
#ifndef HAAS_STORE_SETTINGS_H
#define HAAS_STORE_SETTINGS_H

#include "store.h"

#include <stddef.h>

/*
 * Reads setting key into out (outlen bytes, NUL-terminated, cut to fit).
 * Returns STORE_OK, STORE_NOT_FOUND (no such setting) or STORE_ERROR.
 */
store_status store_setting_get(const char *key, char *out, size_t outlen);

/* Sets key to value, replacing any value it had. Returns STORE_OK or STORE_ERROR. */
store_status store_setting_set(const char *key, const char *value);

#endif
