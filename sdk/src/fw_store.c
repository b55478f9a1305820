/*
 * fw_store.c - firmware OTA's records on flash: otadata, slot headers and
 * the task (see fw_store.h).
 */
#include "haas_fw.h"
#include "haas_util.h"
#include "private/fw_store.h"

#define OTADATA_MAGIC 0x4f544144u /* "OTAD" */
#define SLOT_MAGIC 0x48465731u    /* "HFW1" */
#define TASK_MAGIC 0x4654534bu    /* "FTSK" */

uint32_t fw_crc32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- a cursor that writes or reads fixed-width little-endian fields ---- */

typedef struct {
    uint8_t *p;
    size_t pos;
    bool write;
} cursor;

static void c_u32(cursor *c, uint32_t *v)
{
    for (int i = 0; i < 4; i++) {
        if (c->write)
            c->p[c->pos + (size_t)i] = (uint8_t)(*v >> (8 * i));
        else
            *v = (i == 0 ? 0 : *v) | (uint32_t)c->p[c->pos + (size_t)i] << (8 * i);
    }
    c->pos += 4;
}

static void c_u64(cursor *c, uint64_t *v)
{
    uint32_t lo = (uint32_t)*v, hi = (uint32_t)(*v >> 32);
    c_u32(c, &lo);
    c_u32(c, &hi);
    if (!c->write)
        *v = (uint64_t)hi << 32 | lo;
}

static void c_i32(cursor *c, int32_t *v)
{
    uint32_t u = (uint32_t)*v;
    c_u32(c, &u);
    if (!c->write)
        *v = u <= 0x7fffffffu ? (int32_t)u : -(int32_t)(0xffffffffu - u) - 1;
}

/* A field of n bytes: a NUL-terminated string (read back with a NUL). */
static void c_str(cursor *c, char *s, size_t n)
{
    if (c->write) {
        haas_memset(c->p + c->pos, 0, n);
        haas_strlcpy((char *)c->p + c->pos, s, n);
    } else {
        haas_memcpy(s, c->p + c->pos, n);
        s[n - 1] = '\0';
    }
    c->pos += n;
}

static void c_bytes(cursor *c, uint8_t *b, size_t n)
{
    if (c->write)
        haas_memcpy(c->p + c->pos, b, n);
    else
        haas_memcpy(b, c->p + c->pos, n);
    c->pos += n;
}

/* Ends a record of `size` bytes: the CRC-32 of what comes before it in its
 * last 4 bytes. Reading: true when it matches. */
static bool c_crc(cursor *c, size_t size)
{
    uint32_t crc = fw_crc32(c->p, size - 4), stored = crc;
    c->pos = size - 4;
    if (c->write)
        c_u32(c, &crc);
    else
        c_u32(c, &stored);
    return stored == crc;
}

/* ---- otadata ---- */

int fw_otadata_slot(const fw_otadata *e) { return (int)((e->seq - 1u) % 2u); }

static bool otadata_codec(cursor *c, fw_otadata *e)
{
    uint32_t magic = OTADATA_MAGIC;
    c_u32(c, &magic);
    c_u32(c, &e->seq);
    c_u32(c, &e->state);
    c_u32(c, &e->boots);
    return c_crc(c, FW_OTADATA_BYTES) && magic == OTADATA_MAGIC;
}

void fw_otadata_load(const haas_flash *flash, fw_otadata e[2])
{
    for (int i = 0; i < 2; i++) {
        uint8_t b[FW_OTADATA_BYTES];
        cursor c = {b, 0, false};
        haas_memset(&e[i], 0, sizeof e[i]);
        if (flash->read(flash->ctx, (haas_flash_area)(HAAS_FLASH_OTADATA0 + i), 0, b, sizeof b) != 0)
            continue;
        e[i].valid = otadata_codec(&c, &e[i]) && e[i].seq != 0 && e[i].seq != 0xffffffffu;
    }
}

int fw_otadata_write(const haas_flash *flash, int index, const fw_otadata *e)
{
    uint8_t b[FW_OTADATA_BYTES];
    fw_otadata copy = *e;
    cursor c = {b, 0, true};
    otadata_codec(&c, &copy);
    return flash->write(flash->ctx, (haas_flash_area)(HAAS_FLASH_OTADATA0 + index), 0, b, sizeof b);
}

static bool bootable(const fw_otadata *e, const bool slot_ok[2])
{
    return e->valid && e->state != FW_IMG_INVALID && e->state != FW_IMG_ABORTED && slot_ok[fw_otadata_slot(e)];
}

int fw_otadata_select(const fw_otadata e[2], const bool slot_ok[2])
{
    int best = -1;
    for (int i = 0; i < 2; i++)
        if (bootable(&e[i], slot_ok) && (best < 0 || e[i].seq > e[best].seq))
            best = i;
    return best;
}

int fw_otadata_next(const fw_otadata e[2], int booted, int slot, fw_otadata *out)
{
    uint32_t max = 0;
    for (int i = 0; i < 2; i++)
        if (e[i].valid && e[i].seq > max)
            max = e[i].seq;
    haas_memset(out, 0, sizeof *out);
    out->valid = true;
    out->seq = max + 1;
    if (fw_otadata_slot(out) != slot)
        out->seq++;
    out->state = FW_IMG_NEW;
    if (booted >= 0)
        return 1 - booted;
    /* nothing booted: overwrite the invalid or the older entry */
    return e[0].valid && (!e[1].valid || e[0].seq > e[1].seq) ? 1 : 0;
}

/* ---- slot headers ---- */

static bool header_codec(cursor *c, fw_slot_header *h)
{
    uint32_t magic = SLOT_MAGIC, reserved = 0;
    c_u32(c, &magic);
    c_u32(c, &reserved);
    c_u64(c, &h->size);
    c_str(c, h->version, sizeof h->version);
    c_str(c, h->module, sizeof h->module);
    c_bytes(c, h->sha256, sizeof h->sha256);
    return c_crc(c, FW_SLOT_HEADER_SIZE) && magic == SLOT_MAGIC;
}

bool fw_slot_header_read(const haas_flash *flash, int slot, fw_slot_header *h)
{
    uint8_t b[FW_SLOT_HEADER_SIZE];
    cursor c = {b, 0, false};
    haas_memset(h, 0, sizeof *h);
    if (flash->read(flash->ctx, (haas_flash_area)(HAAS_FLASH_SLOT0 + slot), 0, b, sizeof b) != 0)
        return false;
    if (!header_codec(&c, h) || h->version[0] == '\0') {
        haas_memset(h, 0, sizeof *h);
        return false;
    }
    return true;
}

int fw_slot_header_write(const haas_flash *flash, int slot, const fw_slot_header *h)
{
    uint8_t b[FW_SLOT_HEADER_SIZE];
    fw_slot_header copy = *h;
    cursor c = {b, 0, true};
    haas_memset(b, 0, sizeof b);
    header_codec(&c, &copy);
    return flash->write(flash->ctx, (haas_flash_area)(HAAS_FLASH_SLOT0 + slot), 0, b, sizeof b);
}

/* ---- the task ---- */

static bool task_codec(cursor *c, fw_task *t)
{
    uint32_t magic = TASK_MAGIC, method = (uint32_t)t->t.sign_method;
    c_u32(c, &magic);
    c_u32(c, &t->seq);
    c_u32(c, &t->state);
    c_i32(c, &t->code);
    c_u32(c, &t->slot);
    c_i32(c, &t->last_step);
    c_u64(c, &t->received);
    c_u64(c, &t->t.size);
    c_u32(c, &method);
    c_str(c, t->t.version, sizeof t->t.version);
    c_str(c, t->t.url, sizeof t->t.url);
    c_str(c, t->t.md5, sizeof t->t.md5);
    c_str(c, t->t.sign, sizeof t->t.sign);
    c_str(c, t->t.module, sizeof t->t.module);
    c_str(c, t->desc, sizeof t->desc);
    t->t.sign_method = method == OTA_SIGN_SHA256 ? OTA_SIGN_SHA256 : OTA_SIGN_MD5;
    return c_crc(c, FW_TASK_BYTES) && magic == TASK_MAGIC && t->state <= FW_TASK_INSTALLED && t->slot <= 1;
}

/* Reads copy i into t; false when absent or torn. */
static bool task_read(const haas_flash *flash, int i, fw_task *t, uint8_t *buf)
{
    cursor c = {buf, 0, false};
    haas_memset(t, 0, sizeof *t);
    if (flash->read(flash->ctx, (haas_flash_area)(HAAS_FLASH_TASK0 + i), 0, buf, FW_TASK_BYTES) != 0)
        return false;
    return task_codec(&c, t) && t->seq != 0 && t->seq != 0xffffffffu;
}

void fw_task_load(const haas_flash *flash, fw_task *t, uint8_t *buf)
{
    fw_task other;
    bool a = task_read(flash, 0, t, buf);
    bool b = task_read(flash, 1, &other, buf);
    if (b && (!a || other.seq > t->seq))
        *t = other;
    else if (!a)
        haas_memset(t, 0, sizeof *t);
}

int fw_task_save(const haas_flash *flash, fw_task *t, uint8_t *buf)
{
    /* The copy holding t->seq is the newest (or none is, for seq 0): write
     * the other one. seq is odd in copy 1, even in copy 0. */
    t->seq++;
    int index = (int)(t->seq % 2u);
    cursor c = {buf, 0, true};
    haas_memset(buf, 0, FW_TASK_BYTES);
    task_codec(&c, t);
    int rc = flash->write(flash->ctx, (haas_flash_area)(HAAS_FLASH_TASK0 + index), 0, buf, FW_TASK_BYTES);
    if (rc != 0)
        t->seq--; /* the newest copy is still the one before: the next save goes to the same copy again */
    return rc;
}
