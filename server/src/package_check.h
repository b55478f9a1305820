/*
 * package_check.h - decide whether an uploaded file is an acceptable HaaS
 * app package (PROTOCOL.md 4.6), reading it once with libarchive.
 *
 * The rules, each with its own error code (all HTTP 400):
 *   NotGzip             the file is not gzip-compressed
 *   ArchiveUnreadable   gzip or tar is corrupt or truncated
 *   UnsafeMemberName    absolute name, "..", backslash, control characters,
 *                       empty or overlong name
 *   ForbiddenMemberType symbolic or hard link, device, FIFO, socket
 *   TooManyEntries      more members than --max-entries
 *   UnpackedTooLarge    the files add up to more than --max-unpacked-size
 *   DecompressionBomb   unpacked/packed above --max-ratio (past 1 MiB)
 *   ManifestMissing     no manifest.json at the top of the archive
 *   ManifestInvalid     manifest.json is not one plain JSON object with
 *                       string appName, appid and version
 *   ManifestMismatch    the manifest's appName/appid/version differ from the
 *                       file name's
 * Sizes are counted from the bytes actually decompressed, never from what the
 * headers claim.
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
