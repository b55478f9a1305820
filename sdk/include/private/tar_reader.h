/*
 * tar_reader.h - a streaming reader of tar archives for the device SDK.
 *
 * Bytes go in as they come out of the inflater, in chunks of any size; the
 * reader calls back for each member. Memory is the reader struct alone (a
 * 512-byte block buffer and bounded name buffers), whatever the archive size:
 * nothing is allocated. It understands ustar (with its prefix field), GNU tar
 * (long names, type 'L'), and pax extended headers (type 'x': "path" and
 * "size" records; global 'g' headers are skipped), as written by GNU tar and
 * libarchive/bsdtar.
 *
 * Safety is decided here, before anything reaches the file system: names
 * are relative, contain no ".." component and no backslash or control
 * characters, and are valid UTF-8; only regular files and directories are
 * accepted (links, devices, FIFOs are errors). Names are handed over
 * normalised: no leading "./", no trailing "/"; the archive root entry "./"
 * is skipped. These are the member-name and member-type rules of the
 * package rule list (server/src/package_check.h), which haas-emu enforces
 * with this same reader at upload.
 */
#ifndef HAAS_TAR_READER_H
#define HAAS_TAR_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAR_NAME_MAX 255 /* longest member name accepted (bytes) */

typedef enum {
    TAR_OK = 0,
    TAR_ERR_CHECKSUM = -1,       /* a header's checksum is wrong */
    TAR_ERR_FORMAT = -2,         /* not a tar header / malformed numbers / bad pax record */
    TAR_ERR_UNSAFE_NAME = -3,    /* absolute, "..", backslash, control character, empty, not UTF-8 */
    TAR_ERR_NAME_TOO_LONG = -4,  /* longer than TAR_NAME_MAX */
    TAR_ERR_FORBIDDEN_TYPE = -5, /* link, device, FIFO, or unknown type */
    TAR_ERR_TRUNCATED = -6,      /* tar_reader_finish before the end-of-archive blocks */
    TAR_ERR_CALLBACK = -7,       /* a callback returned non-zero */
    TAR_ERR_AFTER_END = -8,      /* feed after a successful tar_reader_finish */
} tar_result;

typedef enum { TAR_ENTRY_FILE, TAR_ENTRY_DIR } tar_entry_type;

typedef struct {
    /* A member starts. name is normalised and safe, and valid only during
     * this call; size is 0 for folders. Return 0 to go on. */
    int (*on_entry)(void *user, const char *name, tar_entry_type type, uint64_t size);
    /* Content of the current file, in order, in pieces of any size. */
    int (*on_data)(void *user, const uint8_t *data, size_t len);
    /* The current member is complete. */
    int (*on_entry_end)(void *user);
} tar_callbacks;

/* The reader's state; the caller owns the memory (no allocation inside). */
typedef struct {
    const tar_callbacks *cb;
    void *user;
    uint8_t block[512];       /* header block being assembled */
    size_t block_fill;
    int state;                /* internal */
    uint64_t remaining;       /* bytes of the current member's data left */
    uint64_t padding;         /* bytes of padding left after it */
    char name[TAR_NAME_MAX + 1];      /* name from an 'L' or pax header, for the next member */
    bool have_long_name;
    uint64_t pax_size;        /* size from a pax header, for the next member */
    bool have_pax_size;
    char record[TAR_NAME_MAX + 64];  /* pax record being assembled */
    size_t record_fill;
    uint64_t record_len, record_skip;
    int zero_blocks;          /* consecutive zero blocks seen */
    int error;                /* sticky tar_result */
    uint64_t entries;         /* members reported */
} tar_reader;

/* Prepares t to read a new archive. */
void tar_reader_init(tar_reader *t, const tar_callbacks *cb, void *user);

/* Takes the next len bytes of the archive. Returns TAR_OK or an error
 * (sticky: every later call returns it too). */
int tar_reader_feed(tar_reader *t, const uint8_t *data, size_t len);

/* The input ended: TAR_OK when the archive ended properly (end-of-archive
 * blocks seen, or at least no member cut short), else an error. A cut that
 * falls exactly between two members looks complete: check the package's
 * digest before extracting (the SDK does). */
int tar_reader_finish(tar_reader *t);

/* A short English text for a tar_result. */
const char *tar_result_text(int result);

#endif
