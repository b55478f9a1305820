/*
 * package_file.h - a package being written into <data>/tmp: a temporary
 * file (mode 0644, so it can be served as it is once moved into the package
 * store) whose size, md5 and sha256 are counted as the bytes go in, so a
 * package is read once. Uploads (upload.c) and the --seed loader (seed.c)
 * receive packages this way before service_versions.h decides on them.
 */
#ifndef HAAS_PACKAGE_FILE_H
#define HAAS_PACKAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct package_file package_file;

/* Creates an empty temporary file in tmp_dir. Returns it, or NULL (errno set). */
package_file *package_file_open(const char *tmp_dir);

/* Appends len bytes. Returns 0, or -1 (errno set: ENOSPC when the disk is full). */
int package_file_write(package_file *f, const void *data, size_t len);

/* Ends the writing: the digests are final, the file is flushed to disk.
 * Returns 0, or -1 (errno set). */
int package_file_finish(package_file *f);

/* The file's path and size; after package_file_finish, its digests (lower-case hex). */
const char *package_file_path(const package_file *f);
int64_t package_file_size(const package_file *f);
const char *package_file_md5(const package_file *f);
const char *package_file_sha256(const package_file *f);

/* The file was moved elsewhere (into the package store): never remove it. */
void package_file_keep(package_file *f);

/* Closes the file and removes it unless kept. Safe to call twice. */
void package_file_discard(package_file *f);

/* Discards (as above) and frees f. NULL is fine. */
void package_file_free(package_file *f);

/* A stored file (package or firmware) that must go, or stay, with a
 * commit (store_commit_with): path is removed when committed says it
 * should be (a row that was not added, or one that was deleted). */
typedef struct {
    const char *path;
    bool remove_if_committed;
} package_change;

/*
 * store_done_fn (store.h) for a package_change ctx: removes the file while
 * the database lock is still held - so an upload of the same object (which
 * adds its row under that lock) can never have put its own file there in
 * between. A failure is logged (the file is then removed at next start).
 */
void package_change_settle(bool committed, void *ctx);

#endif
