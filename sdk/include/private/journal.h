/*
 * journal.h - the install journal: one small file in the work folder that
 * says how far an upgrade has come, so a restart (or a power cut) can finish
 * it or undo it.
 *
 * It is written atomically: the new content goes to "journal.tmp", is
 * synced, and is renamed over "journal" (the port's rename is atomic and
 * durable). A reader therefore sees the old or the new journal, never a mix;
 * a file without the closing "end" line is treated as absent.
 */
#ifndef HAAS_JOURNAL_H
#define HAAS_JOURNAL_H

#include "haas_port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JOURNAL_NONE = 0,     /* no upgrade in progress */
    JOURNAL_DOWNLOADING,  /* fetching into work/package.tar.gz */
    JOURNAL_EXTRACTING,   /* verified; extracting into work/new */
    JOURNAL_SWAPPING,     /* app -> work/old, work/new -> app */
    JOURNAL_PENDING,      /* new app in place, not confirmed yet (boots counts its starts) */
    JOURNAL_ROLLING_BACK, /* app -> work/failed, work/old -> app */
    JOURNAL_REPORT,       /* outcome decided (code); to be sent as app.result */
} journal_state;

typedef struct haas_journal {
    journal_state state;
    char app_id[20];
    char version[32];      /* pushed */
    char old_version[32];  /* installed when the push came */
    char url[1024];
    char md5[33];
    uint64_t size;
    uint32_t boots;
    int32_t code;          /* JOURNAL_REPORT: 200, 404 or 405 */
} haas_journal;

/*
 * Reads <work_dir>/journal into j (state JOURNAL_NONE when absent or
 * incomplete). buf is scratch space of buflen bytes (the file must fit);
 * path is scratch for 192 bytes.
 */
void journal_load(const haas_port *port, const char *work_dir, haas_journal *j, char *buf, size_t buflen,
                  char *path);

/* Writes j atomically. Returns 0 or a negative port error. */
int journal_save(const haas_port *port, const char *work_dir, const haas_journal *j, char *buf, size_t buflen,
                 char *path, char *path2);

/* Removes the journal (the upgrade is over). */
int journal_clear(const haas_port *port, const char *work_dir, char *path);

/* "work_dir/name" into out (192 bytes); false when too long. */
bool journal_path(char *out, const char *work_dir, const char *name);

#endif
