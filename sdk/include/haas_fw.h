/*
 * haas_fw.h - standard Alibaba Cloud IoT firmware OTA for a device that
 * embeds the SDK (haas_upgrade.h), with ESP-IDF-like A/B slots.
 *
 * What it does, riding on haas_upgrade's MQTT connection:
 *   - at every boot, as a bootloader would: picks the slot to run from the
 *     otadata (two entries with sequence numbers and CRC-32, image states
 *     NEW, PENDING_VERIFY, VALID, INVALID, ABORTED), counts the boots of a
 *     new image and rolls back to the other slot when the new image has not
 *     confirmed within max_boot_attempts boots;
 *   - after every connect: informs the running version on
 *     /ota/device/inform/{pk}/{dn} (not while a new image awaits its
 *     confirmation) and asks thing/ota/firmware/get for a pending job;
 *   - on an upgrade push (/ota/device/upgrade/{pk}/{dn}, or a
 *     firmware/get_reply): downloads the image into the inactive slot with
 *     Range requests and resumes after a cut or a power loss, reports
 *     progress at most every 10 percent, verifies size and sign (MD5 or
 *     SHA-256, and the md5 field when given) from what is on flash, writes
 *     the slot header, makes the slot the next to boot and reboots;
 *   - reports failures as progress steps: -2 download failed, -3 verify
 *     failed, -4 burn failed, -1 upgrade failed (a rollback: the new image
 *     crashed, did not confirm, or was rejected), with a desc in words.
 * The server sees success as an inform of the new version after the reboot
 * (sent once the new image has confirmed itself).
 *
 * How to use it (no allocation; the caller owns both structs):
 *
 *     static haas_upgrade up;
 *     static haas_fw fw;
 *     int fs = haas_fw_boot(&fw, &fw_cfg, &port, &flash);  // first, at every boot
 *     // runs the image of haas_fw_slot(&fw); if fs == HAAS_FW_PENDING_VERIFY
 *     // the new image calls haas_fw_confirm(&fw) once it works (or
 *     // haas_fw_reject(&fw): rollback and reboot)
 *     cfg.firmware_version = haas_fw_version(&fw);         // in the app upgrade query too
 *     haas_boot(&up, &cfg, &port, on_event, NULL);
 *     haas_fw_attach(&fw, &up);                             // after haas_boot
 *     haas_start(&up);
 *     for (;;) haas_drive(&up, 100);                       // downloads run in here
 *
 * The flash is reached through haas_flash (below); everything else through
 * haas_port (haas_port.h).
 *
 * Worst-case stack of each call (bytes; the core's frames only, from
 * -fcallgraph-info=su at -Os; add the port's own functions and the event
 * callback; tests/mcu/stack_report.py writes this table, make test-mcu
 * checks it and a budget of 4096 bytes a call):
 *
 *     call                    cortex-m3    cortex-m4
 *     haas_fw_boot                 1080         1080
 *     haas_fw_attach                 28           28
 *     haas_fw_confirm               392          392
 *     haas_fw_reject                400          400
 *     haas_fw_version                 0            0
 *     haas_fw_slot                    0            0
 * (end of the generated table)
 */
#ifndef HAAS_FW_H
#define HAAS_FW_H

#include "haas_port.h"
#include "haas_upgrade.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "private/fw_store.h"
#include "private/ota_msg.h"

/* ---- the flash port ---- */

/* The areas firmware OTA uses; a port maps them onto partitions (ESP-IDF:
 * ota_0, ota_1, otadata's two sectors, and two sectors of a data
 * partition) or files (the POSIX port). */
typedef enum {
    HAAS_FLASH_SLOT0 = 0,
    HAAS_FLASH_SLOT1,
    HAAS_FLASH_OTADATA0,
    HAAS_FLASH_OTADATA1,
    HAAS_FLASH_TASK0,
    HAAS_FLASH_TASK1,
    HAAS_FLASH_AREAS
} haas_flash_area;

/*
 * Flash areas for the core. Every function gets ctx first and returns 0 or
 * a negative HAAS_PORT_* code.
 *   size   the capacity of an area in bytes (a slot holds
 *          FW_SLOT_HEADER_SIZE bytes of header, then the image).
 *   read   len bytes at offset; bytes never written since the last erase
 *          read as 0xFF. Reading past the capacity fails.
 *   write  len bytes at offset, durable when it returns. In the OTADATA
 *          and TASK areas a write replaces the area's whole content (a NOR
 *          flash port erases the sector first); a write cut by a power loss
 *          may leave any prefix, which the records' CRC-32 catch. In a SLOT
 *          area the core writes each byte once after an erase, except that
 *          a download resumed after a power loss writes the same bytes
 *          again.
 *   erase  sets the whole area to 0xFF, durably.
 */
typedef struct haas_flash {
    void *ctx;
    uint64_t (*size)(void *ctx, haas_flash_area area);
    int (*read)(void *ctx, haas_flash_area area, uint64_t offset, void *buf, size_t len);
    int (*write)(void *ctx, haas_flash_area area, uint64_t offset, const void *data, size_t len);
    int (*erase)(void *ctx, haas_flash_area area);
} haas_flash;

/* ---- events ---- */

typedef enum {
    HAAS_FW_EV_BOOTED,        /* version, slot: the image this boot runs (code: its fw_img_state) */
    HAAS_FW_EV_ROLLED_BACK,   /* version: the image given up; detail: why */
    HAAS_FW_EV_PUSH_ACCEPTED, /* version, total: the job */
    HAAS_FW_EV_PUSH_IGNORED,  /* version (may be NULL), detail: why */
    HAAS_FW_EV_PROGRESS,      /* code: the step sent; done/total bytes */
    HAAS_FW_EV_INSTALLED,     /* version, slot: verified and made next to boot; a reboot follows */
    HAAS_FW_EV_CONFIRMED,     /* version: the new image confirmed itself */
    HAAS_FW_EV_FAILED,        /* code -1..-4, detail */
    HAAS_FW_EV_REPORTED,      /* code -1..-4 sent as progress */
    HAAS_FW_EV_INFORMED,      /* version sent as inform */
} haas_fw_event_type;

typedef struct {
    haas_fw_event_type type;
    const char *version;
    int slot;
    int code;
    uint64_t done, total;
    const char *detail;
} haas_fw_event;

typedef void (*haas_fw_event_fn)(void *user, const haas_fw_event *ev);

typedef struct {
    const char *module;            /* the module this firmware is; NULL or "" = "default" (at most 63 bytes) */
    const char *factory_version;   /* the version of slot 0 while it has no header (the image flashed at the factory) */
    uint16_t download_port;        /* the port downloads go to (the URL has none); 0 = 443 for https, 80 for http */
    uint8_t max_boot_attempts;     /* unconfirmed boots of a new image before rollback; 0 = 3 */
    uint8_t max_download_attempts; /* tries after a cut within one download; 0 = 5 */
    bool no_query;                 /* true: no thing/ota/firmware/get after connecting */
    haas_fw_event_fn on_event;     /* may be NULL */
    void *user;
} haas_fw_config;

/* What haas_fw_boot returns. */
typedef enum {
    HAAS_FW_RUNNING = 0,       /* a confirmed (or factory) image runs */
    HAAS_FW_PENDING_VERIFY,    /* a new image runs and must confirm or reject itself */
    HAAS_FW_DOWNLOADING,       /* an interrupted download resumes in haas_drive */
} haas_fw_state;

/* Everything firmware OTA keeps; treat as opaque. */
typedef struct haas_fw {
    haas_fw_config cfg;
    char module[OTA_MODULE_MAX];
    char factory_version[OTA_VERSION_MAX];
    haas_port port;
    haas_flash flash;
    haas_upgrade *up;           /* attached to (haas_fw_attach) */
    haas_fw_state state;
    fw_otadata otadata[2];
    int booted;                 /* the otadata entry booted, or -1 (slot 0, factory) */
    int slot;                   /* the slot running */
    char version[OTA_VERSION_MAX]; /* its version */
    fw_task task;               /* as on flash */
    ota_task incoming;          /* a message being judged */
    uint8_t attempts;
    int error;                  /* failure inside the download sink: a step */
    /* work areas */
    char topic[192];
    char msg[800];
    char url[OTA_URL_MAX + 8];
    char desc[OTA_DESC_MAX];
    uint8_t buf[FW_TASK_BYTES];
    haas_hash_state md5, sha256;
} haas_fw;

/*
 * At every boot, before the firmware's own work (it is the bootloader's
 * part): reads otadata, the slot headers and the task; counts a boot of a
 * new image, or rolls back when it has not confirmed within
 * max_boot_attempts boots (the -1 report is kept for the next connection);
 * finishes the task of an install that completed. Returns an
 * haas_fw_state, or -1 on invalid arguments (a NULL pointer or function,
 * a module of 64 bytes or more, a factory_version of 32 or more).
 */
int haas_fw_boot(haas_fw *fw, const haas_fw_config *cfg, const haas_port *port, const haas_flash *flash);

/* Rides on up's connection: up's haas_start/haas_drive then inform, take
 * pushes, download and report for fw. Call after haas_boot (which forgets
 * any earlier attachment). */
void haas_fw_attach(haas_fw *fw, haas_upgrade *up);

/* The new image works: marks it VALID and informs its version (now, or at
 * the next connect). Returns 0, or -1 when no new image awaits it, or a
 * negative port error when otadata cannot be written. */
int haas_fw_confirm(haas_fw *fw);

/* The new image does not work: marks it INVALID, keeps the -1 report for
 * the next connection, and reboots (port reboot) into the previous slot.
 * Returns 0, or -1 when no new image awaits it. */
int haas_fw_reject(haas_fw *fw);

/* The running image's version and slot (0 or 1). */
const char *haas_fw_version(const haas_fw *fw);
int haas_fw_slot(const haas_fw *fw);

#endif
