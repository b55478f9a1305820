/*
 * haas_upgrade.h - the device SDK's public API: HaaS Cloud app upgrades,
 * safe to embed in Core2 (ESP32) firmware.
 *
 * What it does: connects to the cloud (or the emulator) with the device
 * triple, listens for hli_service_upgrade_push, downloads the package with
 * resume, verifies its size and MD5 (SHA-256 is computed too), extracts the
 * tar.gz as a stream into a staging folder, swaps it in with a journal so a
 * power cut at any point boots either the whole old app or the whole new
 * one, restarts, waits for the new app to confirm itself (rolling back when
 * it does not), and reports the real result (hli_event app.result 200, 404
 * or 405) once it is known.
 *
 * How to use it (single-threaded, no allocation; the caller owns the
 * haas_upgrade struct, e.g. as a static):
 *
 *     static haas_upgrade up;
 *     int st = haas_boot(&up, &cfg, &port, on_event, NULL);  // every boot, before running the app
 *     // run the app from cfg.app_dir; if st == HAAS_CONFIRMING, the new app
 *     // calls haas_confirm(&up) once it works
 *     haas_start(&up);                                        // connect, subscribe, report, query
 *     for (;;) haas_drive(&up, 100);                          // the main loop
 *
 * The platform is reached only through haas_port (haas_port.h).
 *
 * Worst-case stack of each call (bytes; the core's frames only, from
 * -fcallgraph-info=su at -Os; add the port's own functions and the event
 * callback; tests/mcu/stack_report.py writes this table, make test-mcu
 * checks it and a budget of 4096 bytes a call):
 *
 *     call                    cortex-m3    cortex-m4
 *     haas_boot                    1512         1520
 *     haas_start                    784          784
 *     haas_drive                   3028         3036
 *     haas_confirm                  496          496
 *     haas_reject                   804          812
 *     haas_set_module                 4            4
 *     haas_connected                  0            0
 *     haas_next_id                    0            0
 *     haas_app_id                     0            0
 *     haas_app_version                0            0
 * (end of the generated table)
 */
#ifndef HAAS_UPGRADE_H
#define HAAS_UPGRADE_H

#include "haas_port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Internal types the struct below holds by value (coreMQTT-style: headers a
 * public struct needs live in include/private/, not in src/). */
#include "private/journal.h"
#include "private/tar_reader.h"

typedef struct {
    const char *product_key, *device_name, *device_secret;
    const char *mqtt_host;
    uint16_t mqtt_port;
    uint16_t keepalive_s;          /* 0 = 60 */
    const char *app_dir;           /* where the app lives, e.g. "/data/pyamp" (at most 160 bytes) */
    const char *work_dir;          /* staging and journal, e.g. "/data/.haas" (same file system, at most 160 bytes) */
    const char *firmware_version;  /* reported in the upgrade query */
    uint64_t max_package_size;     /* bytes; larger pushes fail with 404; 0 = 16 MiB */
    uint64_t max_unpacked_size;    /* bytes of files in a package; 0 = 64 MiB */
    uint32_t max_entries;          /* members of a package; 0 = 1024 */
    uint32_t confirm_timeout_ms;   /* new app must confirm within this; 0 = 60 s */
    uint8_t max_download_attempts; /* resumes after a cut; 0 = 5 */
    uint8_t max_boot_attempts;     /* unconfirmed boots before rollback; 0 = 3 */
} haas_config;

typedef enum {
    HAAS_IDLE = 0,        /* running the installed app, listening for pushes */
    HAAS_DOWNLOADING,     /* a push was accepted; the package is being fetched */
    HAAS_INSTALLING,      /* verified; extracting and swapping */
    HAAS_REBOOT_NEEDED,   /* the new app is in place: restart into it */
    HAAS_CONFIRMING,      /* the new app runs; haas_confirm() is awaited */
} haas_state;

typedef enum {
    HAAS_EV_PUSH_ACCEPTED,   /* version: the pushed one */
    HAAS_EV_PUSH_IGNORED,    /* detail: why (stock rules) */
    HAAS_EV_PROGRESS,        /* done / total bytes downloaded */
    HAAS_EV_VERIFIED,        /* size, MD5 match; detail: SHA-256 hex */
    HAAS_EV_INSTALLED,       /* swapped in; a restart follows */
    HAAS_EV_CONFIRMED,       /* the new app confirmed itself */
    HAAS_EV_ROLLED_BACK,     /* the old app is back (code 405) */
    HAAS_EV_FAILED,          /* code 404 (download/verify) or 405 (install) */
    HAAS_EV_RESULT_SENT,     /* code sent as hli_event app.result */
    HAAS_EV_CONNECTED,
    HAAS_EV_DISCONNECTED,
} haas_event_type;

typedef struct {
    haas_event_type type;
    const char *app_id, *version; /* the version concerned (pushed or installed) */
    uint64_t done, total;
    int code;
    const char *detail;
} haas_event;

typedef void (*haas_event_fn)(void *user, const haas_event *ev);

/*
 * A module that rides on the SDK's MQTT connection (haas_fw.h's firmware
 * OTA is one): each function gets self first and may be NULL. connected
 * runs after each connect (the module subscribes and publishes through the
 * port itself), message is offered every message before the SDK looks at
 * it (true: it was the module's), drive runs at the end of each haas_drive.
 */
typedef struct {
    void *self;
    void (*connected)(void *self);
    bool (*message)(void *self, const char *topic, const uint8_t *payload, size_t len);
    void (*drive)(void *self);
} haas_module;

/* Everything the SDK keeps; treat as opaque. */
typedef struct haas_upgrade {
    haas_config cfg;
    haas_port port;
    haas_event_fn on_event;
    void *user;
    haas_state state;
    haas_journal journal;        /* the install in progress, as on flash */
    char app_id[20], app_version[32]; /* from the installed manifest.json */
    bool connected;
    uint64_t next_connect_ms, confirm_deadline_ms;
    uint32_t reconnect_ms;       /* wait before the next try: doubles per failed connect (backoff) */
    uint32_t next_msg_id;
    uint8_t download_attempts;
    /* work areas */
    char path[2][192];
    char topic[192];
    char msg[1600];
    uint8_t buf[1024];
    haas_hash_state md5, sha256;
    uint64_t received, unpacked;
    uint32_t entries;
    haas_file file;              /* the file being written */
    int error;                   /* failure inside a stream callback */
    tar_reader tar;
    haas_module module;          /* haas_set_module */
} haas_upgrade;

/*
 * At every boot, before the app runs: reads the journal and finishes or
 * undoes an interrupted install so the app folder holds one complete app.
 * Returns the state: HAAS_CONFIRMING when a new app boots for the first
 * time(s) and must confirm; HAAS_DOWNLOADING or HAAS_INSTALLING when an
 * interrupted download or extraction will go on in haas_drive (the app
 * folder then holds the old app); HAAS_IDLE otherwise. Negative on invalid
 * arguments (missing fields, app_dir or work_dir longer than 160 bytes).
 */
int haas_boot(haas_upgrade *u, const haas_config *cfg, const haas_port *port, haas_event_fn on_event, void *user);

/* Connects and subscribes to the push topic, sends a pending result and the
 * upgrade query. Returns 0, or a negative port error (haas_drive retries). */
int haas_start(haas_upgrade *u);

/*
 * Runs the SDK for about budget_ms: MQTT traffic (and reconnects), and the
 * next step of an upgrade (a download or an installation runs to its end
 * within one call). Returns the state after the call.
 */
int haas_drive(haas_upgrade *u, uint32_t budget_ms);

/* The new app works: commits the upgrade and reports 200. Returns 0, or -1
 * when there is nothing to confirm. */
int haas_confirm(haas_upgrade *u);

/* The new app failed (it crashed, or its own checks failed): rolls back to
 * the previous app at once and reports 405. Returns 0, or -1 when there is
 * nothing to reject. The previous app should be started afterwards. */
int haas_reject(haas_upgrade *u);

/* Attaches one module (haas_module above), replacing any other; call it
 * after haas_boot, which forgets it. */
void haas_set_module(haas_upgrade *u, const haas_module *m);

/* Is the MQTT connection up? */
bool haas_connected(const haas_upgrade *u);

/* The next message id of the device (shared with its modules). */
uint32_t haas_next_id(haas_upgrade *u);

/* The installed app's id and version ("" when none). */
const char *haas_app_id(const haas_upgrade *u);
const char *haas_app_version(const haas_upgrade *u);

#endif
