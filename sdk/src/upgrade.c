/*
 * upgrade.c - the upgrade state machine behind haas_upgrade.h.
 *
 * The flow of one upgrade, each step recorded in the journal (journal.h)
 * before its effects start, so boot_recover() can take over after a cut:
 *
 *   push accepted  -> DOWNLOADING  download to work/package.tar.gz (resumes
 *                                  from the bytes on flash), check size+MD5
 *                  -> EXTRACTING   inflate + tar stream into work/new
 *                  -> SWAPPING     app -> work/old, work/new -> app
 *                  -> PENDING      restart; the new app must confirm within
 *                                  the timeout and max_boot_attempts boots
 *   confirmed      -> REPORT 200   (then work/old is removed)
 *   not confirmed  -> ROLLING_BACK app -> work/failed, work/old -> app
 *                  -> REPORT 405
 *   download/verify failure -> REPORT 404; extraction failure -> REPORT 405
 *   REPORT         -> app.result sent when connected -> journal removed
 *
 * Every step is idempotent from the state on flash: a rename that already
 * happened is recognised by which folders exist.
 */
#include "haas_upgrade.h"
#include "alink.h"
#include "haas_util.h"
#include "json_scan.h"
#include "manifest.h"

#define DEFAULT_MAX_PACKAGE (16ULL << 20)
#define DEFAULT_MAX_UNPACKED (64ULL << 20)
#define DEFAULT_MAX_ENTRIES 1024
#define DEFAULT_CONFIRM_MS 60000
#define RECONNECT_MS 2000      /* the first retry after a lost or refused connection ... */
#define RECONNECT_MAX_MS 60000 /* ... doubling per failed try up to this (a refused login is not hammered) */
#define HAAS_DIR_MAX 160 /* longest app_dir / work_dir: paths below them fit in 192 bytes */

/* A manifest.json the rules allow fits in the buffer it is read into. */
typedef char manifest_fits[MANIFEST_MAX < sizeof ((haas_upgrade *)0)->msg ? 1 : -1];

/* ---- small helpers ---- */

static void emit(haas_upgrade *u, haas_event_type type, const char *version, uint64_t done, uint64_t total, int code,
                 const char *detail)
{
    if (!u->on_event)
        return;
    haas_event ev = {type, u->journal.app_id[0] ? u->journal.app_id : u->app_id, version, done, total, code, detail};
    u->on_event(u->user, &ev);
}

static void say(haas_upgrade *u, haas_log_level level, const char *a, const char *b)
{
    char line[256];
    haas_sb sb;
    haas_sb_init(&sb, line, sizeof line);
    haas_sb_str(&sb, a);
    if (b)
        haas_sb_str(&sb, b);
    u->port.log(u->port.ctx, level, sb.ok ? line : a);
}

/* path[i] = <dir>/<name> (name may be NULL for dir alone). */
static const char *path_of(haas_upgrade *u, int i, const char *dir, const char *name)
{
    haas_sb sb;
    haas_sb_init(&sb, u->path[i], sizeof u->path[i]);
    haas_sb_str(&sb, dir);
    if (name) {
        haas_sb_str(&sb, "/");
        haas_sb_str(&sb, name);
    }
    return sb.ok ? u->path[i] : NULL;
}

static const char *work(haas_upgrade *u, int i, const char *name) { return path_of(u, i, u->cfg.work_dir, name); }

static int kind(haas_upgrade *u, const char *p) { return p ? u->port.path_kind(u->port.ctx, p) : -1; }

static int save_journal(haas_upgrade *u)
{
    return journal_save(&u->port, u->cfg.work_dir, &u->journal, u->msg, sizeof u->msg, u->path[0], u->path[1]);
}

/* Reads app_dir/manifest.json into u->app_id / u->app_version. */
static void read_manifest(haas_upgrade *u)
{
    u->app_id[0] = u->app_version[0] = '\0';
    const char *p = path_of(u, 0, u->cfg.app_dir, "manifest.json");
    haas_file f = p ? u->port.file_open(u->port.ctx, p, HAAS_FILE_READ) : NULL;
    if (!f)
        return;
    size_t len = 0;
    long n;
    while (len < sizeof u->msg && (n = u->port.file_read(u->port.ctx, f, u->msg + len, sizeof u->msg - len)) > 0)
        len += (size_t)n;
    u->port.file_close(u->port.ctx, f);
    if (len >= sizeof u->msg || !json_get_string(u->msg, len, "appid", u->app_id, sizeof u->app_id) ||
        !json_get_string(u->msg, len, "version", u->app_version, sizeof u->app_version))
        u->app_id[0] = u->app_version[0] = '\0';
}

/* Decides the outcome: journal REPORT(code), to be sent when connected.
 * The staged package is not needed any more, whatever the outcome. */
static void decide(haas_upgrade *u, int code)
{
    const char *pkg = work(u, 0, "package.tar.gz");
    if (kind(u, pkg) == 1)
        u->port.remove_file(u->port.ctx, pkg);
    u->journal.state = JOURNAL_REPORT;
    u->journal.code = code;
    save_journal(u);
    u->state = HAAS_IDLE;
    if (code != 200)
        emit(u, HAAS_EV_FAILED, u->journal.version, 0, 0, code, code == 404 ? "download or verification failed"
                                                                            : "installation failed");
}

/* ---- MQTT ---- */

static int publish_event(haas_upgrade *u, const char *event, size_t len)
{
    if (!u->connected || len == 0)
        return HAAS_PORT_ERR;
    haas_sb sb;
    haas_sb_init(&sb, u->topic, sizeof u->topic);
    haas_sb_str(&sb, "thing/event/");
    haas_sb_str(&sb, event);
    haas_sb_str(&sb, "/post");
    char suffix[96];
    haas_strlcpy(suffix, u->topic, sizeof suffix);
    if (!alink_topic(u->topic, sizeof u->topic, u->cfg.product_key, u->cfg.device_name, suffix))
        return HAAS_PORT_ERR;
    return u->port.mqtt_publish(u->port.ctx, u->topic, u->msg, len, 1);
}

static void send_query(haas_upgrade *u);

/* Sends the decided result, then the version now running (after a rollback
 * that is the old one again); the journal goes once the result is out. */
static void send_result(haas_upgrade *u)
{
    if (u->journal.state != JOURNAL_REPORT || !u->connected)
        return;
    haas_journal *j = &u->journal;
    size_t len = alink_build_result(u->msg, sizeof u->msg, u->next_msg_id++, j->code, j->app_id, j->version,
                                    j->old_version);
    if (publish_event(u, "hli_event", len) != 0)
        return;
    emit(u, HAAS_EV_RESULT_SENT, j->version, 0, 0, j->code, NULL);
    journal_clear(&u->port, u->cfg.work_dir, u->path[0]);
    haas_memset(j, 0, sizeof *j);
    send_query(u);
}

static void send_query(haas_upgrade *u)
{
    size_t len = alink_build_query(u->msg, sizeof u->msg, u->next_msg_id++, u->app_id, u->app_version,
                                   u->cfg.firmware_version ? u->cfg.firmware_version : "");
    publish_event(u, "hli_event_upgrade_query", len);
}

/* A message from the cloud (called from inside mqtt_poll). */
static void on_message(void *core, const char *topic, const uint8_t *payload, size_t len)
{
    haas_upgrade *u = core;
    if (u->module.message && u->module.message(u->module.self, topic, payload, len))
        return;
    size_t tl = haas_strlen(topic);
    static const char push_suffix[] = "/thing/service/hli_service_upgrade_push";
    if (tl < sizeof push_suffix - 1 || haas_strcmp(topic + tl - (sizeof push_suffix - 1), push_suffix) != 0)
        return; /* post_replies and the rest need nothing */
    alink_push push;
    alink_push_verdict v = alink_parse_push((const char *)payload, len, u->app_id, u->app_version, &push);
    if (v == ALINK_PUSH_OK && (u->state != HAAS_IDLE || u->journal.state != JOURNAL_NONE)) {
        say(u, HAAS_LOG_WARN, "push ignored: an upgrade is already in progress", NULL);
        emit(u, HAAS_EV_PUSH_IGNORED, push.version, 0, 0, 0, "an upgrade is already in progress");
        return;
    }
    if (v != ALINK_PUSH_OK) {
        say(u, HAAS_LOG_INFO, "push ignored: ", alink_push_verdict_text(v));
        emit(u, HAAS_EV_PUSH_IGNORED, push.version, 0, 0, 0, alink_push_verdict_text(v));
        return;
    }
    haas_journal *j = &u->journal;
    haas_memset(j, 0, sizeof *j);
    j->state = JOURNAL_DOWNLOADING;
    haas_strlcpy(j->app_id, push.app_id, sizeof j->app_id);
    haas_strlcpy(j->version, push.version, sizeof j->version);
    haas_strlcpy(j->old_version, u->app_version, sizeof j->old_version);
    haas_strlcpy(j->url, push.url, sizeof j->url);
    haas_strlcpy(j->md5, push.md5, sizeof j->md5);
    j->size = push.size;
    /* A stale staging file of an older attempt must not be resumed. */
    const char *pkg = work(u, 0, "package.tar.gz");
    if (kind(u, pkg) == 1)
        u->port.remove_file(u->port.ctx, pkg);
    if (save_journal(u) != 0) {
        haas_memset(j, 0, sizeof *j);
        say(u, HAAS_LOG_ERROR, "cannot write the journal; push ignored", NULL);
        return;
    }
    say(u, HAAS_LOG_INFO, "local version low, upgrade to ", push.version);
    emit(u, HAAS_EV_PUSH_ACCEPTED, push.version, 0, push.size, 0, NULL);
    u->state = HAAS_DOWNLOADING;
    u->download_attempts = 0;
}

static int connect_now(haas_upgrade *u)
{
    char client_id[160], username[80], password[65];
    if (alink_credentials(&u->port, u->cfg.product_key, u->cfg.device_name, u->cfg.device_secret, client_id,
                          username, password) != 0)
        return HAAS_PORT_ERR;
    int rc = u->port.mqtt_connect(u->port.ctx, u->cfg.mqtt_host, u->cfg.mqtt_port, client_id, username, password,
                                  u->cfg.keepalive_s ? u->cfg.keepalive_s : 60);
    if (rc != 0)
        return rc;
    if (!alink_topic(u->topic, sizeof u->topic, u->cfg.product_key, u->cfg.device_name,
                     "thing/service/hli_service_upgrade_push") ||
        u->port.mqtt_subscribe(u->port.ctx, u->topic, 1) != 0) {
        u->port.mqtt_disconnect(u->port.ctx);
        return HAAS_PORT_ERR;
    }
    u->connected = true;
    say(u, HAAS_LOG_INFO, "subscribed topic success: ", u->topic);
    emit(u, HAAS_EV_CONNECTED, u->app_version, 0, 0, 0, NULL);
    if (u->module.connected)
        u->module.connected(u->module.self);
    if (u->journal.state == JOURNAL_REPORT)
        send_result(u); /* followed by the query */
    else if (u->state != HAAS_CONFIRMING)
        send_query(u); /* an unconfirmed app is reported once it is confirmed */
    return 0;
}

/* ---- download ---- */

static int download_sink(void *core, const uint8_t *data, size_t len)
{
    haas_upgrade *u = core;
    if (u->received + len > u->journal.size) {
        u->error = 404;
        return 1; /* more bytes than announced */
    }
    if (u->port.file_write(u->port.ctx, u->file, data, len) != 0) {
        u->error = 404;
        return 1;
    }
    u->port.hash_update(u->port.ctx, &u->md5, data, len);
    u->port.hash_update(u->port.ctx, &u->sha256, data, len);
    u->received += len;
    return 0;
}

static bool md5_matches(const uint8_t digest[16], const char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        char h = hex[2 * i], l = hex[2 * i + 1];
        if (h >= 'A' && h <= 'F')
            h = (char)(h - 'A' + 'a');
        if (l >= 'A' && l <= 'F')
            l = (char)(l - 'A' + 'a');
        if (h != digits[digest[i] >> 4] || l != digits[digest[i] & 15])
            return false;
    }
    return true;
}

/* Fetches the package (resuming from the bytes already on flash) and
 * verifies it. Returns 0, or 404. */
static int download(haas_upgrade *u)
{
    haas_journal *j = &u->journal;
    uint64_t limit = u->cfg.max_package_size ? u->cfg.max_package_size : DEFAULT_MAX_PACKAGE;
    if (j->size == 0 || j->size > limit) {
        say(u, HAAS_LOG_ERROR, "package size is zero or above max_package_size", NULL);
        return 404;
    }
    const char *pkg = work(u, 1, "package.tar.gz");
    uint8_t attempts_max = u->cfg.max_download_attempts ? u->cfg.max_download_attempts : 5;
    for (;;) {
        /* Hash what is already there, then append the rest. */
        u->received = 0;
        u->error = 0;
        u->port.hash_init(u->port.ctx, &u->md5, HAAS_HASH_MD5);
        u->port.hash_init(u->port.ctx, &u->sha256, HAAS_HASH_SHA256);
        uint64_t staged = 0;
        if (u->port.file_size(u->port.ctx, pkg, &staged) == 0 && staged > j->size)
            u->port.remove_file(u->port.ctx, pkg); /* not ours: start over */
        haas_file f = kind(u, pkg) == 1 ? u->port.file_open(u->port.ctx, pkg, HAAS_FILE_READ) : NULL;
        long n;
        while (f && (n = u->port.file_read(u->port.ctx, f, u->buf, sizeof u->buf)) > 0) {
            u->port.hash_update(u->port.ctx, &u->md5, u->buf, (size_t)n);
            u->port.hash_update(u->port.ctx, &u->sha256, u->buf, (size_t)n);
            u->received += (uint64_t)n;
        }
        if (f)
            u->port.file_close(u->port.ctx, f);
        int rc = 0;
        if (u->received < j->size) {
            u->file = u->port.file_open(u->port.ctx, pkg, u->received ? HAAS_FILE_APPEND : HAAS_FILE_WRITE);
            if (!u->file) {
                rc = HAAS_PORT_ERR;
            } else {
                uint64_t total = 0;
                rc = u->port.http_get(u->port.ctx, j->url, u->received, download_sink, u, &total);
                u->port.file_sync(u->port.ctx, u->file);
                u->port.file_close(u->port.ctx, u->file);
                u->file = NULL;
            }
        }
        emit(u, HAAS_EV_PROGRESS, j->version, u->received, j->size, 0, NULL);
        uint8_t md5[16], sha[32];
        u->port.hash_final(u->port.ctx, &u->md5, md5);
        u->port.hash_final(u->port.ctx, &u->sha256, sha);
        if (rc == HAAS_PORT_ERR_NET && !u->error && ++u->download_attempts < attempts_max) {
            say(u, HAAS_LOG_WARN, "download cut; resuming", NULL);
            continue; /* the digests start again over the bytes on flash */
        }
        if (rc != 0 || u->error || u->received != j->size || !md5_matches(md5, j->md5)) {
            say(u, HAAS_LOG_ERROR, rc != 0 ? "download failed" : "package size or md5 mismatch", NULL);
            u->port.remove_file(u->port.ctx, pkg);
            return 404;
        }
        char hex[65];
        haas_sb sb;
        haas_sb_init(&sb, hex, sizeof hex);
        haas_sb_hex(&sb, sha, sizeof sha);
        emit(u, HAAS_EV_VERIFIED, j->version, j->size, j->size, 0, hex);
        return 0;
    }
}

/* ---- extraction ----
 *
 * The package rules are one list, written down at the top of
 * server/src/package_check.h; haas-emu refuses at upload what breaks them,
 * and the core refuses it here when a package is served anyway:
 *   G1-G3  one gzip member, CRC-32 and ISIZE right, nothing after it: the
 *          port's inflater (haas_port.h), and unpack(), which also wants the
 *          file to end where the stream ends;
 *   G4     a tar inside, not gzip again: the tar reader (a gzip header is no
 *          tar header; said in words by tar_failure());
 *   T1-T3  a complete tar of files and folders with safe UTF-8 names: the
 *          tar reader (tar_reader.c, the same code haas-emu runs);
 *   T4     max_entries and max_unpacked_size: tar_entry();
 *   M1-M4  manifest.json at the top, once, plain, its appid and version
 *          those of the push: tar_entry() and check_manifest(), with
 *          manifest.c (the same code haas-emu runs).
 */

/* Why a tar callback stopped the extraction (kept in u->error). */
enum { STOP_NONE, STOP_ENTRIES, STOP_SIZE, STOP_MANIFEST_TWICE, STOP_FLASH };

static const char *stop_text(int why)
{
    switch (why) {
    case STOP_ENTRIES: return "more members than max_entries";
    case STOP_SIZE: return "the files add up to more than max_unpacked_size";
    case STOP_MANIFEST_TWICE: return "manifest.json appears twice";
    default: return "a member cannot be written";
    }
}

static int stop(haas_upgrade *u, int why)
{
    u->error = why;
    return 1;
}

/* Creates every parent folder of new/<name>. */
static int make_parents(haas_upgrade *u, const char *name)
{
    for (size_t i = 0; name[i]; i++) {
        if (name[i] != '/')
            continue;
        char part[TAR_NAME_MAX + 1];
        haas_memcpy(part, name, i);
        part[i] = '\0';
        const char *p = path_of(u, 0, u->path[1], part);
        if (!p || u->port.make_dir(u->port.ctx, p) != 0)
            return -1;
    }
    return 0;
}

static int tar_entry(void *user, const char *name, tar_entry_type type, uint64_t size)
{
    haas_upgrade *u = user;
    uint32_t max_entries = u->cfg.max_entries ? u->cfg.max_entries : DEFAULT_MAX_ENTRIES;
    uint64_t max_unpacked = u->cfg.max_unpacked_size ? u->cfg.max_unpacked_size : DEFAULT_MAX_UNPACKED;
    if (++u->entries > max_entries)
        return stop(u, STOP_ENTRIES);
    if (u->unpacked + size > max_unpacked)
        return stop(u, STOP_SIZE);
    u->unpacked += size;
    /* u->path[1] holds work/new for the whole extraction. */
    if (make_parents(u, name) != 0)
        return stop(u, STOP_FLASH);
    const char *p = path_of(u, 0, u->path[1], name);
    if (!p)
        return stop(u, STOP_FLASH);
    if (haas_strcmp(name, "manifest.json") == 0 && kind(u, p) != 0)
        return stop(u, STOP_MANIFEST_TWICE);
    if (type == TAR_ENTRY_DIR)
        return u->port.make_dir(u->port.ctx, p) != 0 ? stop(u, STOP_FLASH) : 0;
    u->file = u->port.file_open(u->port.ctx, p, HAAS_FILE_WRITE);
    return u->file == NULL ? stop(u, STOP_FLASH) : 0;
}

static int tar_data(void *user, const uint8_t *data, size_t len)
{
    haas_upgrade *u = user;
    if (u->file && u->port.file_write(u->port.ctx, u->file, data, len) != 0)
        return stop(u, STOP_FLASH);
    return 0;
}

static int tar_entry_end(void *user)
{
    haas_upgrade *u = user;
    if (!u->file)
        return 0;
    int rc = u->port.file_sync(u->port.ctx, u->file);
    if (u->port.file_close(u->port.ctx, u->file) != 0)
        rc = -1;
    u->file = NULL;
    return rc != 0 ? stop(u, STOP_FLASH) : 0;
}

static const tar_callbacks tar_cb = {tar_entry, tar_data, tar_entry_end};

static int inflated(void *core, const uint8_t *data, size_t len)
{
    haas_upgrade *u = core;
    return tar_reader_feed(&u->tar, data, len) != TAR_OK;
}

static const char trailing_text[] = "data after the end of the gzip stream (a second gzip member or trailing bytes)";

/* The tar reader refused the inflated bytes (result t). */
static const char *tar_failure(haas_upgrade *u, int t)
{
    if (t == TAR_ERR_CALLBACK)
        return stop_text(u->error);
    if (u->tar.entries == 0 && u->tar.block[0] == 0x1f && u->tar.block[1] == 0x8b)
        return "the package is gzip inside gzip, not a tar";
    return tar_result_text(t);
}

/* inflate_feed returned r < 0. */
static const char *inflate_failure(haas_upgrade *u, int r)
{
    if (u->tar.error != TAR_OK) /* the sink (tar) stopped it */
        return tar_failure(u, u->tar.error);
    return r == HAAS_PORT_ERR_TRAILING ? trailing_text : "gzip data is corrupt or cut";
}

/* Inflates the open package file through the tar reader into work/new:
 * exactly one gzip member and the file ends with it (G1-G3), a complete
 * tar (T1). Returns NULL, or why not. */
static const char *unpack(haas_upgrade *u, haas_file in)
{
    int r = 0;
    long n = 0;
    while (r == 0 && (n = u->port.file_read(u->port.ctx, in, u->buf, sizeof u->buf)) > 0)
        r = u->port.inflate_feed(u->port.ctx, u->buf, (size_t)n, inflated, u);
    if (r == 1) /* the stream ended at the end of a piece: so must the file */
        n = u->port.file_read(u->port.ctx, in, u->buf, sizeof u->buf);
    if (n < 0)
        return "cannot read the package";
    if (r < 0)
        return inflate_failure(u, r);
    if (r == 0)
        return "gzip data is corrupt or cut";
    if (n > 0)
        return trailing_text;
    int t = tar_reader_finish(&u->tar);
    return t == TAR_OK ? NULL : tar_failure(u, t);
}

/* The extracted manifest.json: the manifest rules (manifest.c), and the
 * app and version of the push (M4). Returns NULL, or why not. */
static const char *check_manifest(haas_upgrade *u, const char *newdir)
{
    const char *p = path_of(u, 0, newdir, "manifest.json");
    haas_file f = p ? u->port.file_open(u->port.ctx, p, HAAS_FILE_READ) : NULL;
    if (!f)
        return "the package has no manifest.json file at its top";
    size_t len = 0;
    long n = 0;
    while (len < sizeof u->msg && (n = u->port.file_read(u->port.ctx, f, u->msg + len, sizeof u->msg - len)) > 0)
        len += (size_t)n;
    u->port.file_close(u->port.ctx, f);
    if (n < 0)
        return "cannot read manifest.json";
    manifest_fields m;
    manifest_result r = manifest_read(u->msg, len, &m); /* more than MANIFEST_MAX: too large */
    if (r != MANIFEST_OK)
        return manifest_result_text(r);
    if (haas_strcmp(m.appid, u->journal.app_id) != 0 || haas_strcmp(m.version, u->journal.version) != 0)
        return "the package's manifest.json does not match the push";
    return NULL;
}

/* Extracts work/package.tar.gz into work/new. Returns 0 or 405. */
static int extract(haas_upgrade *u)
{
    const char *newdir = work(u, 1, "new");
    if (!newdir || u->port.remove_tree(u->port.ctx, newdir) != 0 || u->port.make_dir(u->port.ctx, newdir) != 0)
        return 405;
    const char *pkg = path_of(u, 0, u->cfg.work_dir, "package.tar.gz");
    haas_file in = pkg ? u->port.file_open(u->port.ctx, pkg, HAAS_FILE_READ) : NULL;
    if (!in)
        return 405;
    u->entries = 0;
    u->unpacked = 0;
    u->file = NULL;
    u->error = STOP_NONE;
    tar_reader_init(&u->tar, &tar_cb, u);
    const char *why = u->port.inflate_begin(u->port.ctx) == 0 ? unpack(u, in) : "gzip data is corrupt or cut";
    u->port.inflate_end(u->port.ctx);
    u->port.file_close(u->port.ctx, in);
    if (u->file) {
        u->port.file_close(u->port.ctx, u->file);
        u->file = NULL;
    }
    if (why)
        say(u, HAAS_LOG_ERROR, "package cannot be extracted: ", why);
    else if ((why = check_manifest(u, newdir)) != NULL)
        say(u, HAAS_LOG_ERROR, "package cannot be installed: ", why);
    if (why) {
        u->port.remove_tree(u->port.ctx, newdir);
        return 405;
    }
    return 0;
}

/* ---- swap, rollback, commit (all safe to repeat after a cut) ---- */

static int rename_dir(haas_upgrade *u, const char *from, const char *to)
{
    return u->port.rename(u->port.ctx, from, to);
}

/* app -> old, new -> app, judged by which folders exist. */
static int swap(haas_upgrade *u)
{
    const char *app = path_of(u, 0, u->cfg.app_dir, NULL);
    const char *newdir = work(u, 1, "new");
    char old[192];
    if (!app || !newdir || !journal_path(old, u->cfg.work_dir, "old"))
        return -1;
    int has_new = kind(u, newdir) == 2, has_app = kind(u, app) == 2;
    if (!has_new)
        return has_app ? 0 : -1; /* already swapped (or nothing to swap to) */
    if (has_app && rename_dir(u, app, old) != 0)
        return -1;
    return rename_dir(u, newdir, app);
}

/* app -> failed, old -> app, failed removed. */
static int rollback(haas_upgrade *u)
{
    const char *app = path_of(u, 0, u->cfg.app_dir, NULL);
    char old[192], failed[192];
    if (!app || !journal_path(old, u->cfg.work_dir, "old") || !journal_path(failed, u->cfg.work_dir, "failed"))
        return -1;
    if (kind(u, old) == 2) {
        if (kind(u, app) == 2) {
            if (u->port.remove_tree(u->port.ctx, failed) != 0 || rename_dir(u, app, failed) != 0)
                return -1;
        }
        if (rename_dir(u, old, app) != 0)
            return -1;
    }
    return u->port.remove_tree(u->port.ctx, failed);
}

static void roll_back_and_report(haas_upgrade *u, const char *why)
{
    say(u, HAAS_LOG_WARN, "rolling back: ", why);
    u->journal.state = JOURNAL_ROLLING_BACK;
    save_journal(u);
    u->state = HAAS_IDLE;
    if (rollback(u) != 0) {
        /* The journal stays ROLLING_BACK: every boot tries again, and 405 is
         * reported only once the old app is back in place. */
        say(u, HAAS_LOG_ERROR, "rollback failed; will retry at next boot", NULL);
        read_manifest(u);
        return;
    }
    read_manifest(u);
    emit(u, HAAS_EV_ROLLED_BACK, u->app_version, 0, 0, 405, why);
    decide(u, 405);
}

/* Extract, swap, then ask for the restart. */
static void install(haas_upgrade *u)
{
    int code = extract(u);
    if (code != 0) {
        decide(u, code);
        return;
    }
    /* A leftover of an earlier upgrade must go first: the swap moves the
     * running app there, and a rollback trusts what it finds there. */
    char old[192];
    journal_path(old, u->cfg.work_dir, "old");
    if (u->port.remove_tree(u->port.ctx, old) != 0) {
        say(u, HAAS_LOG_ERROR, "cannot clear the backup folder; not installing", NULL);
        const char *newdir = work(u, 1, "new");
        if (newdir)
            u->port.remove_tree(u->port.ctx, newdir);
        decide(u, 405);
        return;
    }
    u->journal.state = JOURNAL_SWAPPING;
    if (save_journal(u) != 0 || swap(u) != 0) {
        say(u, HAAS_LOG_ERROR, "swap failed", NULL);
        roll_back_and_report(u, "swap failed");
        return;
    }
    const char *pkg = work(u, 0, "package.tar.gz");
    u->port.remove_file(u->port.ctx, pkg);
    u->journal.state = JOURNAL_PENDING;
    u->journal.boots = 0;
    save_journal(u);
    emit(u, HAAS_EV_INSTALLED, u->journal.version, 0, 0, 0, NULL);
    u->state = HAAS_REBOOT_NEEDED;
    say(u, HAAS_LOG_INFO, "Reset Device to upgrade app", NULL);
    u->port.reboot(u->port.ctx);
}

/* ---- boot ---- */

static void boot_recover(haas_upgrade *u)
{
    haas_journal *j = &u->journal;
    uint8_t max_boots = u->cfg.max_boot_attempts ? u->cfg.max_boot_attempts : 3;
    switch (j->state) {
    case JOURNAL_NONE:
        break;
    case JOURNAL_DOWNLOADING:
        u->state = HAAS_DOWNLOADING; /* resumes after haas_start */
        break;
    case JOURNAL_EXTRACTING:
        u->state = HAAS_INSTALLING;
        break;
    case JOURNAL_SWAPPING:
        if (swap(u) != 0) {
            roll_back_and_report(u, "interrupted swap could not be completed");
            break;
        }
        j->state = JOURNAL_PENDING;
        j->boots = 0;
        save_journal(u);
        /* FALLTHROUGH - this boot runs the new app */
    case JOURNAL_PENDING:
        if (++j->boots > max_boots) {
            roll_back_and_report(u, "the new app did not confirm");
            break;
        }
        save_journal(u);
        u->state = HAAS_CONFIRMING;
        u->confirm_deadline_ms =
            u->port.now_ms(u->port.ctx) + (u->cfg.confirm_timeout_ms ? u->cfg.confirm_timeout_ms : DEFAULT_CONFIRM_MS);
        break;
    case JOURNAL_ROLLING_BACK:
        roll_back_and_report(u, "interrupted rollback");
        break;
    case JOURNAL_REPORT: {
        /* The decision stands; finish its clean-up. */
        char old[192];
        journal_path(old, u->cfg.work_dir, "old");
        if (j->code == 200)
            u->port.remove_tree(u->port.ctx, old);
        break;
    }
    }
    /* Leftovers that no state needs. */
    if (j->state != JOURNAL_EXTRACTING && j->state != JOURNAL_SWAPPING) {
        const char *newdir = work(u, 1, "new");
        if (newdir)
            u->port.remove_tree(u->port.ctx, newdir);
    }
    read_manifest(u);
}

int haas_boot(haas_upgrade *u, const haas_config *cfg, const haas_port *port, haas_event_fn on_event, void *user)
{
    if (!u || !cfg || !port || !cfg->product_key || !cfg->device_name || !cfg->device_secret || !cfg->app_dir ||
        !cfg->work_dir || !cfg->mqtt_host)
        return -1;
    /* Room for "<dir>/<longest name we add>" in the 192-byte path buffers. */
    if (haas_strlen(cfg->app_dir) > HAAS_DIR_MAX || haas_strlen(cfg->work_dir) > HAAS_DIR_MAX)
        return -1;
    haas_memset(u, 0, sizeof *u);
    u->cfg = *cfg;
    u->port = *port;
    u->on_event = on_event;
    u->user = user;
    u->next_msg_id = 1;
    const char *w = path_of(u, 0, cfg->work_dir, NULL);
    if (!w || (kind(u, w) != 2 && u->port.make_dir(u->port.ctx, w) != 0))
        return -1;
    journal_load(&u->port, cfg->work_dir, &u->journal, u->msg, sizeof u->msg, u->path[0]);
    read_manifest(u);
    boot_recover(u);
    return (int)u->state;
}

int haas_start(haas_upgrade *u)
{
    int rc = connect_now(u);
    if (rc == 0) {
        u->reconnect_ms = 0;
        return 0;
    }
    /* exponential backoff: 2 s, 4 s, 8 s ... 60 s */
    u->reconnect_ms = u->reconnect_ms == 0 ? RECONNECT_MS
                      : u->reconnect_ms >= RECONNECT_MAX_MS / 2 ? RECONNECT_MAX_MS
                                                                 : u->reconnect_ms * 2;
    u->next_connect_ms = u->port.now_ms(u->port.ctx) + u->reconnect_ms;
    char line[64];
    haas_sb sb;
    haas_sb_init(&sb, line, sizeof line);
    haas_sb_str(&sb, "connect failed; next try in ");
    haas_sb_u64(&sb, u->reconnect_ms);
    haas_sb_str(&sb, " ms");
    say(u, HAAS_LOG_WARN, sb.ok ? line : "connect failed", NULL);
    return rc;
}

int haas_drive(haas_upgrade *u, uint32_t budget_ms)
{
    uint64_t now = u->port.now_ms(u->port.ctx);
    if (!u->connected && now >= u->next_connect_ms)
        haas_start(u);
    if (u->connected) {
        if (u->port.mqtt_poll(u->port.ctx, budget_ms, on_message, u) != 0) {
            u->connected = false;
            u->port.mqtt_disconnect(u->port.ctx);
            u->next_connect_ms = now + RECONNECT_MS;
            emit(u, HAAS_EV_DISCONNECTED, NULL, 0, 0, 0, NULL);
        }
    }
    switch (u->state) {
    case HAAS_DOWNLOADING: {
        int code = download(u);
        if (code != 0) {
            decide(u, code);
            break;
        }
        u->journal.state = JOURNAL_EXTRACTING;
        save_journal(u);
        u->state = HAAS_INSTALLING;
        break;
    }
    case HAAS_INSTALLING:
        install(u);
        break;
    case HAAS_CONFIRMING:
        if (u->port.now_ms(u->port.ctx) >= u->confirm_deadline_ms)
            roll_back_and_report(u, "the new app did not confirm in time");
        break;
    default:
        break;
    }
    send_result(u);
    if (u->module.drive)
        u->module.drive(u->module.self);
    return (int)u->state;
}

int haas_reject(haas_upgrade *u)
{
    if (u->state != HAAS_CONFIRMING)
        return -1;
    roll_back_and_report(u, "the new app failed");
    return 0;
}

int haas_confirm(haas_upgrade *u)
{
    if (u->state != HAAS_CONFIRMING)
        return -1;
    u->journal.state = JOURNAL_REPORT;
    u->journal.code = 200;
    save_journal(u); /* the decision first: a cut now still ends as success */
    char old[192];
    journal_path(old, u->cfg.work_dir, "old");
    u->port.remove_tree(u->port.ctx, old);
    u->state = HAAS_IDLE;
    emit(u, HAAS_EV_CONFIRMED, u->journal.version, 0, 0, 200, NULL);
    send_result(u);
    return 0;
}

void haas_set_module(haas_upgrade *u, const haas_module *m)
{
    if (m)
        u->module = *m;
    else
        haas_memset(&u->module, 0, sizeof u->module);
}

bool haas_connected(const haas_upgrade *u) { return u->connected; }

uint32_t haas_next_id(haas_upgrade *u) { return u->next_msg_id++; }

const char *haas_app_id(const haas_upgrade *u) { return u->app_id; }
const char *haas_app_version(const haas_upgrade *u) { return u->app_version; }
