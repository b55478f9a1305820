/*
 * datadir.h - the data directory: its layout, its lock, its clean-up.
 *
 *   <data>/haas.db        the SQLite database (WAL: also -wal and -shm)
 *   <data>/haas.db-reserve  room held back so deletes work on a full disk
 *                         (store_reserve.h)
 *   <data>/packages/      accepted packages, <appId>/<file>.tar.gz
 *   <data>/tmp/           uploads in progress
 *   <data>/haas-emu.lock  held (flock) by the one haas-emu using the folder
 */
#ifndef HAAS_DATADIR_H
#define HAAS_DATADIR_H

#include <stddef.h>

/*
 * Creates the folders and takes the lock. Fails with a clear message (in
 * err) when another haas-emu holds the folder. Fills the two folder paths.
 * Returns 0 or -1.
 */
int datadir_prepare(const char *dir, char *packages, size_t plen, char *tmp, size_t tlen,
                    char *err, size_t errlen);

/*
 * Removes what an earlier run left half-done: files in tmp/, and package
 * files no version row names (a crash between rename and commit, or a
 * failed unlink). Call after the database is open. Returns files removed.
 */
int datadir_sweep(const char *packages, const char *tmp);

#endif
