/*
 * fw_store.h - what firmware OTA keeps on flash (haas_fw.h), in the areas
 * of a haas_flash:
 *
 *   otadata   two entries (areas OTADATA0 and OTADATA1), each a sequence
 *             number, an image state, a boot count and a CRC-32, in the
 *             manner of ESP-IDF's otadata: the entry to boot is the one with
 *             the highest sequence number whose CRC is right, whose state is
 *             not INVALID or ABORTED and whose slot holds an image; it names
 *             slot (seq - 1) % 2. A new image gets the next sequence number
 *             that names its slot, written over the entry that is not
 *             booted, so a torn write leaves the booted entry as it was.
 *   slot      an image header (FW_SLOT_HEADER_SIZE bytes: size, version,
 *             module, SHA-256, CRC-32) followed by the image. The header is
 *             written last, after the image is verified.
 *   task      the firmware task in progress (a download, an installed image
 *             not confirmed yet, or an outcome to report), in two copies (areas TASK0, TASK1) with a sequence
 *             number and a CRC-32: a save writes the copy that is not the
 *             newest, so a torn save leaves the previous task.
 *
 * Every record is serialised field by field in little-endian order, so the
 * layout does not depend on the compiler.
 */
#ifndef HAAS_FW_STORE_H
#define HAAS_FW_STORE_H

#include "haas_port.h"
#include "private/ota_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct haas_flash;

#define FW_SLOT_HEADER_SIZE 256u /* the image starts at this offset of a slot */
#define FW_OTADATA_BYTES 20u     /* magic, seq, state, boots, crc */
#define FW_TASK_BYTES 1024u      /* a serialised task record */

/* Image states, with ESP-IDF's values (esp_ota_img_states_t). */
typedef enum {
    FW_IMG_NEW = 0,            /* written, never booted */
    FW_IMG_PENDING_VERIFY = 1, /* booted, not confirmed yet */
    FW_IMG_VALID = 2,          /* confirmed */
    FW_IMG_INVALID = 3,        /* rejected by the firmware itself */
    FW_IMG_ABORTED = 4,        /* did not confirm within the boots allowed */
} fw_img_state;

typedef struct {
    bool valid;     /* magic and CRC right (the other fields mean nothing otherwise) */
    uint32_t seq;   /* 1.. ; names slot (seq - 1) % 2 */
    uint32_t state; /* fw_img_state */
    uint32_t boots; /* boots while PENDING_VERIFY */
} fw_otadata;

typedef struct {
    uint64_t size;
    char version[OTA_VERSION_MAX];
    char module[OTA_MODULE_MAX];
    uint8_t sha256[32];
} fw_slot_header;

typedef enum {
    FW_TASK_NONE = 0,        /* nothing in progress */
    FW_TASK_DOWNLOADING = 1, /* fetching t into slot; received bytes are on flash */
    FW_TASK_REPORT = 2,      /* the outcome code/desc is to be sent as progress */
    FW_TASK_INSTALLED = 3,   /* t is in slot and named by otadata: it must boot and confirm */
} fw_task_state;

typedef struct {
    uint32_t seq;      /* of the copy it was read from or saved to */
    uint32_t state;    /* fw_task_state */
    int32_t code;      /* FW_TASK_REPORT: -1..-4 */
    uint32_t slot;     /* the slot being written */
    int32_t last_step; /* the last progress step sent */
    uint64_t received; /* bytes of the image known to be on flash */
    ota_task t;
    char desc[OTA_DESC_MAX];
} fw_task;

/* CRC-32 (IEEE 802.3, the one of zlib and ESP-IDF) of data. */
uint32_t fw_crc32(const void *data, size_t len);

/* ---- otadata ---- */

/* The slot an entry names. */
int fw_otadata_slot(const fw_otadata *e);

/* Reads both entries (an unreadable or torn one is not valid). */
void fw_otadata_load(const struct haas_flash *flash, fw_otadata e[2]);

/* Writes entry e into area OTADATA0 + index. 0 or a negative port error. */
int fw_otadata_write(const struct haas_flash *flash, int index, const fw_otadata *e);

/* The index of the entry to boot, or -1 when none qualifies (boot slot 0).
 * slot_ok[s]: slot s holds an image with a right header. */
int fw_otadata_select(const fw_otadata e[2], const bool slot_ok[2]);

/* The entry that makes slot the one to boot next (state NEW, boots 0):
 * its sequence number is the next above every valid entry that names slot.
 * Returns the index to write it to: not `booted` (the entry running now,
 * or -1), else the older or invalid one. */
int fw_otadata_next(const fw_otadata e[2], int booted, int slot, fw_otadata *out);

/* ---- slot headers ---- */

/* Reads the header of slot 0 or 1; false when absent or torn. */
bool fw_slot_header_read(const struct haas_flash *flash, int slot, fw_slot_header *h);

/* Writes it at the start of the slot. 0 or a negative port error. */
int fw_slot_header_write(const struct haas_flash *flash, int slot, const fw_slot_header *h);

/* ---- the task ---- */

/* Reads the newest valid copy into t (FW_TASK_NONE with seq 0 when there
 * is none). buf is scratch of FW_TASK_BYTES. */
void fw_task_load(const struct haas_flash *flash, fw_task *t, uint8_t *buf);

/* Saves t with the next sequence number into the copy that is not the
 * newest (t->seq is updated). buf is scratch of FW_TASK_BYTES. 0 or a
 * negative port error. */
int fw_task_save(const struct haas_flash *flash, fw_task *t, uint8_t *buf);

#endif
