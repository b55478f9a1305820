/*
 * faults.h - fault injection: rules that break things on purpose, on both
 * channels a device depends on, so that upgrade code can be proven to
 * survive them (docs/protocol.md section 14).
 *
 * A rule has an action, a scope (every device, a product, a device, a
 * task), a trigger (always, the next N times, with probability p drawn
 * from the --random-seed stream, or from a time on, by the emulator's
 * clock) and counts its firings. Every firing is logged and shows in the
 * console's message log (kind "fault"). Rules live in memory: made through
 * POST /api/v1/faults, a --faults file or the seed.
 *
 * With no rule, each hook is one atomic load: the hot paths pay nothing
 * more.
 */
#ifndef HAAS_FAULTS_H
#define HAAS_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* What a download fault does to the answer (download.c applies it). */
typedef struct {
    int status;             /* answer with this HTTP status (404, 500, 503), 0: no */
    int64_t delay_ms;       /* wait before the first byte */
    int64_t bytes_per_s;    /* bandwidth cap, 0: none */
    int64_t truncate_at;    /* close the connection after this many body bytes, -1: no */
    int64_t corrupt_at;     /* flip corrupt_count bytes from this offset of the file, -1: no */
    int64_t corrupt_count;
    int64_t stall_at;       /* stop sending at this offset of the body for stall_ms, -1: no */
    int64_t stall_ms;
    int64_t extra_length;   /* announce this many bytes more than are sent, 0: no */
    bool refuse_range;      /* answer a Range request with the whole file (200) */
    bool any;               /* a rule fired */
} fault_download;

/* What a push fault does (push.c, ota_push.c apply it). */
typedef struct {
    bool drop;              /* not sent (recorded as sent) */
    bool duplicate;         /* sent twice */
    bool wrong_md5;         /* with another MD5 */
    bool wrong_size;        /* with a size one byte off */
    int64_t delay_ms;       /* sent this much later (by the emulator's clock) */
    bool disconnect;        /* the device is disconnected right after */
    bool any;
} fault_push;

/* Is any rule enabled? (One atomic load: the hooks' fast path.) */
bool faults_active(void);

/* The download faults for object (the package's key) requested from
 * client_ip: fills *out; false when none fired. */
bool faults_on_download(const char *object, const char *client_ip, fault_download *out);

/* The push faults for device pk/dn (task_id: its task, job or rollout, may
 * be ""): fills *out; false when none fired. */
bool faults_on_push(const char *pk, const char *dn, const char *task_id, fault_push *out);

/* Device pk/dn came online: true when a rule disconnects it now. */
bool faults_on_connect(const char *pk, const char *dn);

/* Device pk/dn sent a message (its first since its connect is the moment
 * it has subscribed: a HaaS device subscribes, then reports): true when a
 * disconnect when=subscribe rule disconnects it now. */
bool faults_on_uplink(const char *pk, const char *dn);

/* Device pk/dn sent a result (hli_event app.result, or an OTA progress or
 * inform): true when a rule drops it (handled as lost). */
bool faults_on_result(const char *pk, const char *dn, const char *task_id);

/* Device pk/dn's login was refused (DeviceDisabled while a refuse-login
 * rule holds it): counts it; the rule lets the device in after N. */
void faults_on_refused(const char *pk, const char *dn);

/* Rules due by the clock (restart the broker; let refused devices in). */
void faults_tick(int64_t now_ms);

/* ---- the rules, for the API and the loaders ---- */

/*
 * Adds a rule from its JSON (docs/protocol.md section 14). Returns its
 * JSON (the caller deletes it), or NULL with a code and message in
 * code/message (InvalidFault).
 */
cJSON *faults_add(const cJSON *rule, const char **code, char *message, size_t len);

/* Every rule as a JSON array (the caller deletes it). */
cJSON *faults_list(void);

/* Rule id: its JSON, or NULL when there is none. */
cJSON *faults_get(const char *id);

/* Enables or disables rule id; false when there is none. */
bool faults_enable(const char *id, bool on);

/* Deletes rule id; false when there is none. */
bool faults_delete(const char *id);

/* Loads a JSON file holding an array of rules (--faults). 0, or -1 with a
 * message in err. */
int faults_load_file(const char *path, char *err, size_t errlen);

#endif
