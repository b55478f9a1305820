/*
 * tar_reader.c - a streaming reader of tar archives (see tar_reader.h).
 *
 * Design
 * ------
 * The reader is a push parser: tar_reader_feed takes whatever bytes the
 * inflater produced and walks them through a small state machine. Nothing
 * is allocated and nothing recurses; all state lives in the tar_reader
 * struct, so any chunk boundary (even 1 byte) is just a pause:
 *
 *   ST_HEADER    a 512-byte header block is assembled in t->block; when it
 *                is complete it is checked and decoded (on_header).
 *   ST_FILE      the data of a regular file; handed to on_data straight from
 *                the caller's buffer, never copied. Directories pass through
 *                this state with 0 bytes so that the end callback is shared.
 *   ST_LONGNAME  the data of a GNU 'L' header: the next member's name,
 *                collected into t->name.
 *   ST_PAX       the data of a pax 'x' header: "<len> key=value\n" records,
 *                parsed byte by byte into t->record (path and size are kept
 *                for the next member; too long records are skipped).
 *   ST_SKIP      data that is read over (pax 'g' global headers).
 *   ST_PAD       the padding up to the next 512-byte boundary.
 *   ST_END       two zero blocks were seen: further bytes (the padding of
 *                the last 10 KiB record) are ignored.
 *   ST_FINISHED  tar_reader_finish accepted the archive.
 *
 * In the data-like states t->remaining counts the bytes left; when it
 * reaches 0 the state's end action runs (data_done) and t->padding bytes
 * follow in ST_PAD.
 *
 * Names from every source (ustar prefix + name, 'L' data, pax path) are
 * built through name_put, which drops leading "./" and enforces
 * TAR_NAME_MAX, then checked by name_check before anything is reported.
 * Besides the rules of tar_reader.h (relative, no "..", no backslash or
 * control character, valid UTF-8) name_check also refuses empty and "."
 * components in the middle ("a//b", "a/./b"), so that every reported name
 * is in a single canonical form.
 *
 * Decisions where tar_reader.h leaves room (all on the strict side):
 *  - on_entry_end comes as soon as a member's data is complete, before its
 *    padding; a folder gets on_entry and on_entry_end at once.
 *  - a single zero block followed by a header, a folder with a non-zero
 *    size, and 'L'/'x' metadata followed by the end blocks are
 *    TAR_ERR_FORMAT; pax "GNU.sparse.*" keys (sparse files, whose data is
 *    not the file content) are TAR_ERR_FORBIDDEN_TYPE.
 *  - a "file" whose name ends in '/' is a folder (old V7 convention).
 *  - finish without end blocks is TAR_OK only at a block boundary between
 *    members, with no pending 'L'/'x' metadata and at least one member
 *    reported (an empty input is TAR_ERR_TRUNCATED).
 *  - the first error is stored in t->error and returned by every later
 *    call; TAR_ERR_AFTER_END is returned by a feed after a successful
 *    tar_reader_finish. Bytes after the end blocks are ignored (TAR_OK).
 */
#include "private/tar_reader.h"
#include "haas_util.h"

enum {
    ST_HEADER,
    ST_FILE,
    ST_LONGNAME,
    ST_PAX,
    ST_SKIP,
    ST_PAD,
    ST_END,
    ST_FINISHED
};

#define BLOCK 512

/* Offsets and lengths of the header fields used here (POSIX ustar). */
#define H_NAME 0
#define H_NAME_LEN 100
#define H_SIZE 124
#define H_SIZE_LEN 12
#define H_CHKSUM 148
#define H_CHKSUM_LEN 8
#define H_TYPE 156
#define H_MAGIC 257
#define H_PREFIX 345
#define H_PREFIX_LEN 155

/* A ustar prefix and its '/' always fit in a name. */
typedef char prefix_fits[TAR_NAME_MAX >= H_PREFIX_LEN + 1 ? 1 : -1];

/* Longest decimal length field of a pax record ("<len> "). */
#define PAX_LEN_DIGITS 20

static const tar_callbacks no_callbacks = {NULL, NULL, NULL};

/* Parses an octal header field: optional leading spaces, at least one
 * digit, then only spaces or NULs up to the end of the field. The fields
 * parsed here are at most 12 bytes, so the value cannot overflow. */
static bool parse_octal(const uint8_t *f, size_t n, uint64_t *out)
{
    size_t i = 0, digits = 0;
    uint64_t v = 0;

    while (i < n && f[i] == ' ')
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++)
        v = v * 8 + (uint64_t)(f[i] - '0');
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return false;
    *out = v;
    return digits > 0;
}

/* Parses the 12-byte size field: octal, or GNU base-256 (first byte has
 * the high bit set; the value is big-endian in the remaining bits). */
static int parse_size(const uint8_t *f, uint64_t *out)
{
    if (f[0] & 0x80) {
        uint64_t v = f[0] & 0x3f;
        if (f[0] & 0x40) /* negative */
            return TAR_ERR_FORMAT;
        for (size_t i = 1; i < H_SIZE_LEN; i++) {
            if (v >> 56) /* would not fit in 64 bits */
                return TAR_ERR_FORMAT;
            v = (v << 8) | f[i];
        }
        *out = v;
        return TAR_OK;
    }
    return parse_octal(f, H_SIZE_LEN, out) ? TAR_OK : TAR_ERR_FORMAT;
}

/* True when the block holds only zero bytes (end-of-archive marker). */
static bool is_zero_block(const uint8_t *b)
{
    for (size_t i = 0; i < BLOCK; i++)
        if (b[i])
            return false;
    return true;
}

/* Checks the header checksum: the sum of all bytes with the chksum field
 * counted as spaces, as unsigned bytes (POSIX) or as signed bytes (some
 * historic writers). */
static int check_checksum(const uint8_t *b)
{
    uint64_t want;
    uint32_t usum = 0;
    int32_t ssum = 0;

    if (!parse_octal(b + H_CHKSUM, H_CHKSUM_LEN, &want))
        return TAR_ERR_FORMAT;
    for (size_t i = 0; i < BLOCK; i++) {
        uint8_t c = b[i];
        if (i - H_CHKSUM < H_CHKSUM_LEN) /* i in [148, 156) */
            c = ' ';
        usum += c;
        ssum += (int32_t)(c ^ 0x80) - 128; /* c as a signed byte */
    }
    if (want == usum || (int64_t)want == ssum)
        return TAR_OK;
    return TAR_ERR_CHECKSUM;
}

/* Accepts the POSIX ("ustar\0"), GNU ("ustar ") and old V7 (none) magic.
 * Sets *ustar for the POSIX one, whose prefix field is part of the name. */
static int check_magic(const uint8_t *b, bool *ustar)
{
    static const uint8_t v7[6] = {0, 0, 0, 0, 0, 0};
    *ustar = haas_memcmp(b + H_MAGIC, "ustar", 6) == 0; /* with its NUL */
    if (*ustar || haas_memcmp(b + H_MAGIC, "ustar ", 6) == 0 ||
        haas_memcmp(b + H_MAGIC, v7, 6) == 0)
        return TAR_OK;
    return TAR_ERR_FORMAT;
}

/* Appends c to the name being built in name[0..*fill). A leading "./" is
 * dropped as soon as something follows it (so "./" alone stays and is
 * recognised as the archive root). */
static int name_put(char *name, size_t *fill, char c)
{
    if (*fill == 2 && name[0] == '.' && name[1] == '/')
        *fill = 0;
    if (*fill >= TAR_NAME_MAX)
        return TAR_ERR_NAME_TOO_LONG;
    name[(*fill)++] = c;
    name[*fill] = '\0';
    return TAR_OK;
}

/* Appends a NUL-terminated (or full-length) header field to the name. */
static int name_put_field(char *name, size_t *fill, const uint8_t *f, size_t n)
{
    for (size_t i = 0; i < n && f[i]; i++) {
        int r = name_put(name, fill, (char)f[i]);
        if (r)
            return r;
    }
    return TAR_OK;
}

/* Normalises name in place (drops trailing '/') and checks it. Sets *root
 * for the archive root ("." or "./"). Leading "./" were dropped by
 * name_put already. */
static int name_check(char *name, bool *root)
{
    size_t n = haas_strlen(name), start = 0;

    *root = false;
    if (name[0] == '/')
        return TAR_ERR_UNSAFE_NAME;
    while (n > 0 && name[n - 1] == '/')
        name[--n] = '\0';
    if (n == 0)
        return TAR_ERR_UNSAFE_NAME;
    if (n == 1 && name[0] == '.') {
        *root = true;
        return TAR_OK;
    }
    for (size_t i = 0; i <= n; i++) {
        uint8_t c = (uint8_t)name[i];
        if (c == '/' || c == '\0') {
            size_t len = i - start;
            /* empty, "." and ".." components */
            if (len == 0 || (name[start] == '.' && (len == 1 || (len == 2 && name[start + 1] == '.'))))
                return TAR_ERR_UNSAFE_NAME;
            start = i + 1;
        } else if (c < 0x20 || c == 0x7f || c == '\\') {
            return TAR_ERR_UNSAFE_NAME;
        }
    }
    return haas_utf8_valid((const uint8_t *)name, n) ? TAR_OK : TAR_ERR_UNSAFE_NAME;
}

/* The current member's data is complete: runs the end action of the
 * state, then goes on to the padding or the next header. */
static int data_done(tar_reader *t)
{
    switch (t->state) {
    case ST_FILE:
        if (t->cb->on_entry_end && t->cb->on_entry_end(t->user) != 0)
            return TAR_ERR_CALLBACK;
        break;
    case ST_LONGNAME:
        t->have_long_name = true;
        break;
    case ST_PAX:
        if (t->record_len != 0 || t->record_fill != 0) /* record cut short */
            return TAR_ERR_FORMAT;
        break;
    default: /* ST_SKIP, ST_PAD */
        break;
    }
    if (t->padding > 0) { /* 0 once in ST_PAD */
        t->state = ST_PAD;
        t->remaining = t->padding;
        t->padding = 0;
    } else {
        t->state = ST_HEADER;
    }
    return TAR_OK;
}

/* Enters a data-like state for size bytes (plus padding to 512). */
static int start_data(tar_reader *t, int state, uint64_t size)
{
    t->state = state;
    t->remaining = size;
    t->padding = (BLOCK - (size & (BLOCK - 1))) & (BLOCK - 1);
    t->record_fill = 0;
    t->record_len = 0;
    t->record_skip = 0;
    return size == 0 ? data_done(t) : TAR_OK;
}

/* A file or directory header: works out the name and size, checks them
 * and reports the member. */
static int begin_member(tar_reader *t, const uint8_t *h, bool ustar, bool is_dir)
{
    uint64_t size = t->pax_size;
    size_t n;
    bool root;
    int r;

    if (!t->have_long_name) {
        n = 0;
        t->name[0] = '\0';
        if (ustar && h[H_PREFIX]) {
            /* 155 + 1 bytes always fit (see prefix_fits) */
            (void)name_put_field(t->name, &n, h + H_PREFIX, H_PREFIX_LEN);
            (void)name_put(t->name, &n, '/');
        }
        r = name_put_field(t->name, &n, h + H_NAME, H_NAME_LEN);
        if (r)
            return r;
    }
    if (!t->have_pax_size && parse_size(h + H_SIZE, &size) != TAR_OK)
        return TAR_ERR_FORMAT;
    t->have_long_name = false;
    t->have_pax_size = false;

    n = haas_strlen(t->name);
    if (n > 0 && t->name[n - 1] == '/') /* V7 style: a "file" named "x/" is a folder */
        is_dir = true;
    r = name_check(t->name, &root);
    if (r)
        return r;
    if (is_dir && size != 0)
        return TAR_ERR_FORMAT;
    if (root) {
        if (!is_dir)
            return TAR_ERR_UNSAFE_NAME;
        return TAR_OK; /* the archive root "./" is not reported */
    }
    t->entries++;
    if (t->cb->on_entry &&
        t->cb->on_entry(t->user, t->name, is_dir ? TAR_ENTRY_DIR : TAR_ENTRY_FILE, size) != 0)
        return TAR_ERR_CALLBACK;
    return start_data(t, ST_FILE, size);
}

/* A complete header block is in t->block: decodes it. */
static int on_header(tar_reader *t)
{
    const uint8_t *h = t->block;
    uint64_t size;
    bool ustar = false;
    int r;

    t->block_fill = 0;
    if (is_zero_block(h)) {
        if (t->have_long_name || t->have_pax_size) /* metadata for no member */
            return TAR_ERR_FORMAT;
        if (++t->zero_blocks == 2)
            t->state = ST_END;
        return TAR_OK;
    }
    if (t->zero_blocks) /* a lone zero block inside the archive */
        return TAR_ERR_FORMAT;
    r = check_checksum(h);
    if (r == TAR_OK)
        r = check_magic(h, &ustar);
    if (r)
        return r;

    switch (h[H_TYPE]) {
    case '0':
    case '\0':
    case '7': /* contiguous file: a regular file everywhere else */
        return begin_member(t, h, ustar, false);
    case '5':
        return begin_member(t, h, ustar, true);
    case 'L':
    case 'x':
    case 'g':
        break;
    default: /* links ('1', '2', 'K'), devices, FIFOs, sparse, unknown */
        return TAR_ERR_FORBIDDEN_TYPE;
    }
    if (parse_size(h + H_SIZE, &size) != TAR_OK)
        return TAR_ERR_FORMAT;
    if (h[H_TYPE] == 'L') {
        t->name[0] = '\0';
        t->have_long_name = false;
        return start_data(t, ST_LONGNAME, size);
    }
    return start_data(t, h[H_TYPE] == 'x' ? ST_PAX : ST_SKIP, size);
}

/* One byte of 'L' data. record_fill is the name length so far and
 * record_skip is set once the terminating NUL was seen. */
static int longname_byte(tar_reader *t, uint8_t c)
{
    if (t->record_skip)
        return TAR_OK;
    if (c == 0) {
        t->record_skip = 1;
        return TAR_OK;
    }
    return name_put(t->name, &t->record_fill, (char)c);
}

/* True when the key record[0..klen) is key. */
static bool key_is(const char *record, size_t klen, const char *key)
{
    return klen == haas_strlen(key) && haas_memcmp(record, key, klen) == 0;
}

/* A complete pax record "key=value" is in t->record (whole when
 * record_len fits, else only its start). */
static int pax_record(tar_reader *t)
{
    bool whole = t->record_len <= sizeof t->record;
    size_t k = 0, vlen, n;

    while (k < t->record_fill && t->record[k] != '=')
        k++;
    if (k == t->record_fill) /* no '=' in what was kept */
        return whole ? TAR_ERR_FORMAT : TAR_OK; /* else: a long key, not ours */
    if (k == 0)
        return TAR_ERR_FORMAT;
    if (k >= 11 && haas_memcmp(t->record, "GNU.sparse.", 11) == 0)
        return TAR_ERR_FORBIDDEN_TYPE; /* sparse files are not supported */
    vlen = (size_t)t->record_len - k - 2; /* without "=" and "\n" */
    if (key_is(t->record, k, "path")) {
        if (!whole)
            return TAR_ERR_NAME_TOO_LONG;
        n = 0;
        t->name[0] = '\0';
        for (size_t i = 0; i < vlen; i++) {
            char c = t->record[k + 1 + i];
            int r = c ? name_put(t->name, &n, c) : TAR_ERR_UNSAFE_NAME;
            if (r)
                return r;
        }
        t->have_long_name = vlen > 0; /* "path=" unsets it */
    } else if (key_is(t->record, k, "size")) {
        if (!whole)
            return TAR_ERR_FORMAT;
        t->have_pax_size = vlen > 0;
        if (vlen > 0 && !haas_parse_u64(t->record + k + 1, vlen, &t->pax_size))
            return TAR_ERR_FORMAT;
    }
    return TAR_OK;
}

/* One byte of pax 'x' data. While record_len is 0 the decimal length is
 * collected; then record_len is the length of "key=value\n", record_skip
 * the bytes of it still to come and record_fill the bytes kept. */
static int pax_byte(tar_reader *t, uint8_t c)
{
    if (t->record_len == 0) {
        if (c == ' ') {
            uint64_t len;
            if (!haas_parse_u64(t->record, t->record_fill, &len) || len < t->record_fill + 4)
                return TAR_ERR_FORMAT; /* at least "<len> k=\n" */
            t->record_len = len - t->record_fill - 1;
            t->record_skip = t->record_len;
            t->record_fill = 0;
            return TAR_OK;
        }
        if (t->record_fill >= PAX_LEN_DIGITS)
            return TAR_ERR_FORMAT;
        t->record[t->record_fill++] = (char)c;
        return TAR_OK;
    }
    if (t->record_fill < sizeof t->record)
        t->record[t->record_fill++] = (char)c;
    if (--t->record_skip > 0)
        return TAR_OK;
    {
        int r = c == '\n' ? pax_record(t) : TAR_ERR_FORMAT;
        t->record_len = 0;
        t->record_fill = 0;
        return r;
    }
}

/* Consumes n bytes of member data (n <= t->remaining) in the current
 * state. */
static int consume(tar_reader *t, const uint8_t *data, size_t n)
{
    int r = TAR_OK;

    switch (t->state) {
    case ST_FILE:
        if (t->cb->on_data && t->cb->on_data(t->user, data, n) != 0)
            return TAR_ERR_CALLBACK;
        break;
    case ST_LONGNAME:
        for (size_t i = 0; i < n && r == TAR_OK; i++)
            r = longname_byte(t, data[i]);
        break;
    case ST_PAX:
        for (size_t i = 0; i < n && r == TAR_OK; i++)
            r = pax_byte(t, data[i]);
        break;
    default: /* ST_SKIP, ST_PAD */
        break;
    }
    return r;
}

void tar_reader_init(tar_reader *t, const tar_callbacks *cb, void *user)
{
    haas_memset(t, 0, sizeof *t);
    t->cb = cb ? cb : &no_callbacks;
    t->user = user;
    t->state = ST_HEADER;
}

int tar_reader_feed(tar_reader *t, const uint8_t *data, size_t len)
{
    if (t->error)
        return t->error;
    if (t->state == ST_FINISHED)
        return TAR_ERR_AFTER_END;
    while (len > 0 && t->state != ST_END) {
        size_t n;
        int r = TAR_OK;

        if (t->state == ST_HEADER) {
            n = BLOCK - t->block_fill;
            if (n > len)
                n = len;
            haas_memcpy(t->block + t->block_fill, data, n);
            t->block_fill += n;
            if (t->block_fill == BLOCK)
                r = on_header(t);
        } else {
            n = (uint64_t)len > t->remaining ? (size_t)t->remaining : len;
            t->remaining -= n;
            r = consume(t, data, n);
            if (r == TAR_OK && t->remaining == 0)
                r = data_done(t);
        }
        if (r) {
            t->error = r;
            return r;
        }
        data += n;
        len -= n;
    }
    return TAR_OK;
}

int tar_reader_finish(tar_reader *t)
{
    if (t->error)
        return t->error;
    if (t->state == ST_HEADER) {
        /* No end blocks: accepted when the input stopped between members
         * and at least one member came. */
        if (t->block_fill != 0 || t->have_long_name || t->have_pax_size || t->entries == 0)
            t->error = TAR_ERR_TRUNCATED;
    } else if (t->state != ST_END && t->state != ST_FINISHED) {
        t->error = TAR_ERR_TRUNCATED;
    }
    if (t->error)
        return t->error;
    t->state = ST_FINISHED;
    return TAR_OK;
}

const char *tar_result_text(int result)
{
    switch (result) {
    case TAR_OK:
        return "ok";
    case TAR_ERR_CHECKSUM:
        return "tar header checksum mismatch";
    case TAR_ERR_FORMAT:
        return "malformed tar archive";
    case TAR_ERR_UNSAFE_NAME:
        return "unsafe member name";
    case TAR_ERR_NAME_TOO_LONG:
        return "member name too long";
    case TAR_ERR_FORBIDDEN_TYPE:
        return "forbidden member type";
    case TAR_ERR_TRUNCATED:
        return "tar archive truncated";
    case TAR_ERR_CALLBACK:
        return "stopped by callback";
    case TAR_ERR_AFTER_END:
        return "data after the end of the archive";
    default:
        return "unknown tar error";
    }
}
