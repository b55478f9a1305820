/*
 * package_check.h - decide whether an uploaded file is an acceptable HaaS
 * app package (docs/protocol.md section 9).
 *
 * THE PACKAGE RULES. This is the one list, for both sides: haas-emu refuses
 * at upload every package that breaks a rule, with the code shown (all HTTP
 * 400), and the device SDK (sdk/src, see "extraction" in upgrade.c) refuses
 * the same package when it is served anyway (app.result 405), so that what
 * the server accepts a device installs, whole. Where a rule needs code, both
 * sides run the same code: the SDK's tar reader (sdk/src/tar_reader.c) for
 * T1-T3 and its manifest reader (sdk/src/manifest.c, json_scan.c) for M1-M4.
 *
 * Gzip layer (zlib; the server inflates the file once, with nothing else)
 *   G1  the file is gzip-compressed (starts with 1f 8b)       NotGzip
 *   G2  it is one gzip member, whole: deflate data intact,
 *       CRC-32 and ISIZE right, not cut short                 ArchiveUnreadable
 *   G3  nothing follows that member: no trailing bytes, no
 *       second gzip member                                    TrailingData
 *   G4  what it holds is a tar, not gzip again                DoubleCompressed
 * Tar layer
 *   T1  a complete tar: valid headers, the end-of-archive
 *       marker or at least every member complete, at least
 *       one member                                            ArchiveUnreadable
 *   T2  member names: relative, no ".." component, no empty
 *       or "." component (but a leading "./"), no backslash,
 *       no control character, valid UTF-8, 1 to 255 bytes     UnsafeMemberName
 *   T3  files and folders only: no symbolic or hard link,
 *       device, FIFO, socket or sparse file                   ForbiddenMemberType
 *   T4  limits: more members than --max-entries              TooManyEntries
 *       files adding up to more than --max-unpacked-size
 *       (or a tar stream larger than that plus 4 KiB of
 *       headers per member)                                   UnpackedTooLarge
 *       unpacked/packed above --max-ratio past 1 MiB, for the
 *       files and for the whole tar stream                    DecompressionBomb
 * manifest.json
 *   M1  a file manifest.json at the top of the archive        ManifestMissing
 *       (pack from inside the app folder), and only one       ManifestInvalid
 *   M2  one plain JSON object: strict JSON (RFC 8259), UTF-8
 *       without byte-order mark, no comments, no trailing
 *       text, at most 1536 bytes                              ManifestInvalid
 *   M3  no object in it has a key twice; no string (keys
 *       too) holds a control character (U+0000-U+001F,
 *       U+007F; raw or escaped, "\u0000" included) or an
 *       unpaired surrogate escape                             ManifestInvalid
 *   M4  appName, appid and version are strings                ManifestInvalid
 *       equal to the file name's appName, appid and version
 *       (the device: appid and version equal to the push's;
 *       a push names no appName)                              ManifestMismatch
 *
 * TrailingData and DoubleCompressed are the two codes these rules added; the
 * others are older. Sizes are counted from the bytes actually decompressed,
 * never from what the headers claim. The limits of T4 are each side's own
 * configuration (the device: max_package_size, max_unpacked_size,
 * max_entries in haas_config; it has no ratio rule): a device configured
 * below the server refuses packages the server accepts, and so does one
 * whose app_dir/work_dir leave less room for member paths than 255 bytes.
 */
#ifndef HAAS_PACKAGE_CHECK_H
#define HAAS_PACKAGE_CHECK_H

#include <stdint.h>

typedef struct {
    int64_t max_unpacked_size;
    int max_entries;
    int max_ratio;
} package_limits;

typedef struct {
    const char *code;    /* NULL when the package is acceptable */
    char message[300];
    int entries;         /* members seen */
    int64_t unpacked;    /* bytes of file content */
} package_verdict;

/*
 * Checks the package file at path (packed_size bytes) against limits and the
 * app name, app id and version its file name announced. Returns 0 when
 * acceptable, -1 with v->code and v->message set otherwise.
 */
int package_check(const char *path, int64_t packed_size, const package_limits *limits,
                  const char *app_name, const char *app_id, const char *version, package_verdict *v);

#endif
