/*
 * upload.h - receive an uploaded package into a temporary file.
 *
 * The body arrives either raw (Content-Type anything but multipart) or as
 * multipart/form-data with the file in the field "package" (or "firmware",
 * or "file" as an OSS PostObject form has it: one file either way). Either way the
 * bytes go straight to a package file in <data>/tmp/ (package_file.h)
 * while md5 and sha256 are computed, so a package of any allowed size costs
 * a few KiB of memory and is read once. The temporary file is removed by
 * upload_free() unless it was kept (moved into the package store).
 */
#ifndef HAAS_UPLOAD_H
#define HAAS_UPLOAD_H

#include "http.h"

#include <stdint.h>

typedef struct upload upload;

/*
 * Starts receiving the body of r into tmp_dir, refusing more than max_size
 * bytes. Returns NULL after calling http_fail_later() (e.g. 413 when the
 * declared Content-Length is too large).
 */
upload *upload_begin(http_request *r, const char *tmp_dir, int64_t max_size);

/* Takes the next len bytes of the body. Errors are recorded with
 * http_fail_later(); the rest of the body is then discarded. */
void upload_feed(upload *u, http_request *r, const char *data, size_t len);

/*
 * Ends the body: flushes the file and finishes the digests. Returns 0, or -1
 * after http_fail_later().
 */
int upload_finish(upload *u, http_request *r);

#define UPLOAD_FIELDS 8        /* small text fields of a multipart body kept */
#define UPLOAD_FIELD_MAX 4096  /* bytes of one kept field */

/* The value of multipart text field name (one of the first UPLOAD_FIELDS,
 * at most UPLOAD_FIELD_MAX bytes, no NUL), or NULL. */
const char *upload_field(const upload *u, const char *name);

/* The file name given by the multipart part ("" when raw or absent). */
const char *upload_part_filename(const upload *u);

/* The temporary file itself (package_file.h), e.g. to hand it to
 * service_version_add, which keeps it when it moves it elsewhere. */
struct package_file *upload_file(upload *u);

/* Removes the temporary file now unless kept (before an answer is sent,
 * so a client that got a refusal never finds the file still there). */
void upload_discard(upload *u);

/* Closes and frees; removes the temporary file unless kept. NULL ok. */
void upload_free(upload *u);

#endif
