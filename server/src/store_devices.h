/*
 * store_devices.h - devices (table devices, with the app versions of
 * device_apps): their triple, their status and what they last reported.
 * What devices report over MQTT is written by store_reports.h; this file
 * adds, reads, lists and deletes them.
 */
#ifndef HAAS_STORE_DEVICES_H
#define HAAS_STORE_DEVICES_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define STORE_DEVICE_APPS_MAX 64           /* app versions read per device */
#define STORE_DEVICE_INFO_MAX (16 * 1024)  /* bytes of a deviceinfo payload kept */
#define STORE_REFUSAL_MAX 2048             /* bytes of a refusal notice kept (the plugin's are shorter) */
#define STORE_IP_SIZE 65
#define STORE_FIRMWARE_SIZE 65             /* firmwareVersion: at most 64 bytes */

/* An app version a device reported (hli_event_upgrade_query) or reached. */
typedef struct {
    char app_id[STORE_APP_ID_SIZE];
    char version[STORE_VERSION_SIZE];
} store_device_app;

typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
    char device_secret[STORE_SECRET_SIZE];
    char status[STORE_WORD_SIZE];       /* "inactive", "online" or "offline" */
    int64_t last_online_at;             /* Unix seconds, 0 = never */
    bool has_ip;                        /* ip is known */
    char ip[STORE_IP_SIZE];
    int64_t created_at;
    int app_count;                      /* entries of apps, ordered by appId */
    store_device_app apps[STORE_DEVICE_APPS_MAX];
    bool has_firmware;                  /* firmware_version is known */
    char firmware_version[STORE_FIRMWARE_SIZE];
    bool has_device_info;               /* device_info was reported */
    char device_info[STORE_DEVICE_INFO_MAX + 1]; /* the last thing/deviceinfo/update payload, as sent */
    int64_t device_info_at;
    bool has_refusal;                   /* last_refusal is known */
    char last_refusal[STORE_REFUSAL_MAX + 1]; /* the broker plugin's last refusal notice (JSON text) */
    bool enabled;                       /* false: disabled, the broker refuses its logins (DeviceDisabled) */
} store_device;

/* Which device: what store_device_ids hands out. */
typedef struct {
    char product_key[STORE_PK_SIZE];
    char device_name[STORE_DN_SIZE];
} store_device_id;

struct sqlite3_stmt;

/* For the store's own files: a db_read_fn (db.h) that reads a row's first
 * two columns, its product_key and device_name, into the store_device_id
 * out. */
void store_device_id_read(struct sqlite3_stmt *st, void *out);

/* Called with each device of store_device_ids; it must not call the store. */
typedef void (*store_device_id_fn)(const store_device_id *id, void *ctx);

/*
 * Adds device dn to product pk with secret, created at now (Unix seconds).
 * Returns STORE_OK, STORE_EXISTS (the product has a device of that name; it
 * is left as it is), STORE_CONFLICT (there is no product pk) or
 * STORE_ERROR.
 */
store_status store_device_insert(const char *pk, const char *dn, const char *secret, int64_t now);

/* Reads device dn of product pk into out. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
store_status store_device_get(const char *pk, const char *dn, store_device *out);

/* Does device dn of product pk exist? Returns STORE_OK (yes), STORE_NOT_FOUND or STORE_ERROR. */
store_status store_device_exists(const char *pk, const char *dn);

/*
 * One page of product pk's devices (store_device rows) by name, or with pk
 * NULL of every product's, by product key and name: those with that status
 * (NULL = any). Returns STORE_OK or STORE_ERROR (also STORE_OK with no rows
 * when the product does not exist).
 */
store_status store_device_list(const char *pk, const char *status, store_page *page);

/* How many devices of product pk (NULL: of every product) are in status
 * (NULL: any), from the kept counts, into *n. Returns STORE_OK or
 * STORE_ERROR. */
store_status store_device_count(const char *pk, const char *status, int *n);

/*
 * One page of the devices in group gid (store_device rows), by product key
 * and name. Returns STORE_OK or STORE_ERROR.
 */
store_status store_device_list_group(const char *gid, store_page *page);

/*
 * Deletes device dn of product pk, with its memberships and task states
 * (on a full disk too: db.h, db_delete). Returns STORE_OK,
 * STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_device_delete(const char *pk, const char *dn);

/*
 * Calls each(id, ctx) for every device of product pk, by name. Returns
 * STORE_OK (also for a product without devices, or none at all) or
 * STORE_ERROR.
 */
store_status store_device_ids(const char *pk, store_device_id_fn each, void *ctx);

/*
 * Enables or disables device dn of product pk (a disabled device's logins
 * are refused by the broker plugin, which reads the flag). Works on a full
 * disk too. Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR.
 */
store_status store_device_set_enabled(const char *pk, const char *dn, bool enabled);

#endif
