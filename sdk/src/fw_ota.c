/*
 * fw_ota.c - standard firmware OTA with A/B slots (haas_fw.h): the boot
 * decision, the MQTT side (inform, push, firmware/get, progress) and the
 * download into the inactive slot.
 *
 * One firmware job, each step durable before the next starts:
 *
 *   push accepted   erase the inactive slot, task DOWNLOADING (slot)
 *   download        image bytes into the slot after its header; the task
 *                   records the bytes received at each 10 % progress step
 *                   (a power cut resumes from there with a Range request)
 *   verify          size, sign and md5 over the image as read back from
 *                   the slot                                     (else -3)
 *   burn            slot header, then the otadata entry NEW for the slot
 *                   (else -4), progress 100, task INSTALLED, reboot
 *   boot            NEW -> PENDING_VERIFY (boots 1); each later boot
 *                   counts; more than max_boot_attempts -> ABORTED: task
 *                   REPORT -1 first, then the entry, so the old slot boots
 *                   and the -1 goes out at the next connect. A task
 *                   INSTALLED whose slot does not boot (its entry was torn
 *                   by a cut while it was rewritten) becomes REPORT -1 too
 *   confirm         entry VALID, task NONE; the new version is informed
 *   reject          task REPORT -1, entry INVALID, reboot
 *
 * A cut anywhere leaves a bootable slot: the booted otadata entry is never
 * written while another image is being made, a slot is named by an entry
 * only after its image and header are on flash, and a torn record fails
 * its CRC-32 (the other entry or copy then counts).
 */
#include "haas_fw.h"
#include "haas_util.h"
#include "private/fw_store.h"
#include "private/ota_msg.h"

#define DEFAULT_BOOTS 3
#define DEFAULT_ATTEMPTS 5
#define PROGRESS_EVERY 10 /* percent */

/* ---- small helpers ---- */

static void emit(haas_fw *fw, haas_fw_event_type type, const char *version, int code, uint64_t done,
                 uint64_t total, const char *detail)
{
    if (!fw->cfg.on_event)
        return;
    haas_fw_event ev = {type, version, fw->slot, code, done, total, detail};
    fw->cfg.on_event(fw->cfg.user, &ev);
}

static void say(haas_fw *fw, haas_log_level level, const char *a, const char *b)
{
    char line[256];
    haas_sb sb;
    haas_sb_init(&sb, line, sizeof line);
    haas_sb_str(&sb, "fw: ");
    haas_sb_str(&sb, a);
    if (b)
        haas_sb_str(&sb, b);
    fw->port.log(fw->port.ctx, level, sb.ok ? line : a);
}

/* fw->desc = a b c d (each may be NULL). */
static const char *describe(haas_fw *fw, const char *a, const char *b, const char *c, const char *d)
{
    haas_sb sb;
    haas_sb_init(&sb, fw->desc, sizeof fw->desc);
    const char *parts[] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        if (parts[i])
            haas_sb_str(&sb, parts[i]);
    return fw->desc;
}

static uint8_t max_boots(const haas_fw *fw) { return fw->cfg.max_boot_attempts ? fw->cfg.max_boot_attempts : DEFAULT_BOOTS; }

static void save_task(haas_fw *fw)
{
    if (fw_task_save(&fw->flash, &fw->task, fw->buf) != 0)
        say(fw, HAAS_LOG_ERROR, "cannot write the task record", NULL);
}

static void clear_task(haas_fw *fw)
{
    uint32_t seq = fw->task.seq;
    haas_memset(&fw->task, 0, sizeof fw->task);
    fw->task.seq = seq;
    save_task(fw);
}

/* ---- MQTT ---- */

static bool connected(const haas_fw *fw) { return fw->up && haas_connected(fw->up); }

static int publish(haas_fw *fw, ota_topic_kind kind, size_t len)
{
    if (!connected(fw) || len == 0 ||
        !ota_topic(fw->topic, sizeof fw->topic, kind, fw->up->cfg.product_key, fw->up->cfg.device_name))
        return HAAS_PORT_ERR;
    return fw->port.mqtt_publish(fw->port.ctx, fw->topic, fw->msg, len, 1);
}

static void inform(haas_fw *fw)
{
    if (!connected(fw))
        return;
    size_t len = ota_build_inform(fw->msg, sizeof fw->msg, haas_next_id(fw->up), fw->version, fw->module);
    if (publish(fw, OTA_TOPIC_INFORM, len) == 0)
        emit(fw, HAAS_FW_EV_INFORMED, fw->version, 0, 0, 0, NULL);
}

static void progress(haas_fw *fw, int step, const char *desc)
{
    if (!connected(fw))
        return;
    size_t len = ota_build_progress(fw->msg, sizeof fw->msg, haas_next_id(fw->up), step, desc, fw->task.t.module);
    if (publish(fw, OTA_TOPIC_PROGRESS, len) == 0)
        emit(fw, HAAS_FW_EV_PROGRESS, fw->task.t.version, step, fw->task.received, fw->task.t.size, desc);
}

/* Sends the outcome the task holds, then forgets it. */
static void send_report(haas_fw *fw)
{
    if (fw->task.state != FW_TASK_REPORT || !connected(fw))
        return;
    size_t len = ota_build_progress(fw->msg, sizeof fw->msg, haas_next_id(fw->up), fw->task.code, fw->task.desc,
                                    fw->task.t.module);
    if (publish(fw, OTA_TOPIC_PROGRESS, len) != 0)
        return;
    emit(fw, HAAS_FW_EV_REPORTED, fw->task.t.version, fw->task.code, 0, 0, fw->task.desc);
    clear_task(fw);
}

/* The job failed with step code: kept on flash, sent when connected. */
static void fail(haas_fw *fw, int code, const char *why)
{
    say(fw, HAAS_LOG_ERROR, "upgrade failed: ", why);
    fw->task.state = FW_TASK_REPORT;
    fw->task.code = code;
    haas_strlcpy(fw->task.desc, why, sizeof fw->task.desc);
    save_task(fw);
    fw->state = HAAS_FW_RUNNING;
    emit(fw, HAAS_FW_EV_FAILED, fw->task.t.version, code, 0, 0, why);
    send_report(fw);
}

/* ---- boot ---- */

/* Gives up the booted new image (state ABORTED or INVALID): the -1 report
 * first, then the entry, so a cut between the two repeats both. */
static void give_up(haas_fw *fw, uint32_t state, const char *why)
{
    fw_otadata *e = &fw->otadata[fw->booted];
    uint32_t seq = fw->task.seq;
    haas_memset(&fw->task, 0, sizeof fw->task);
    fw->task.seq = seq;
    fw->task.state = FW_TASK_REPORT;
    fw->task.code = OTA_STEP_UPGRADE_FAILED;
    haas_strlcpy(fw->task.t.version, fw->version, sizeof fw->task.t.version);
    haas_strlcpy(fw->task.t.module, fw->module, sizeof fw->task.t.module);
    describe(fw, "firmware ", fw->version, why, "; rolled back to the previous slot");
    haas_strlcpy(fw->task.desc, fw->desc, sizeof fw->task.desc);
    save_task(fw);
    e->state = state; /* in memory even if the write fails: this boot rolls back */
    if (fw_otadata_write(&fw->flash, fw->booted, e) != 0)
        say(fw, HAAS_LOG_ERROR, "cannot write otadata", NULL);
    say(fw, HAAS_LOG_WARN, "rolling back: ", fw->desc);
    emit(fw, HAAS_FW_EV_ROLLED_BACK, fw->version, OTA_STEP_UPGRADE_FAILED, 0, 0, fw->desc);
}

/* Boots the entry fw->booted: counts the boot of a new image. Returns
 * false when it had to be given up (choose again). */
static bool count_boot(haas_fw *fw)
{
    fw_otadata *e = &fw->otadata[fw->booted];
    if (e->state != FW_IMG_NEW && e->state != FW_IMG_PENDING_VERIFY) {
        fw->state = HAAS_FW_RUNNING;
        return true;
    }
    if (e->state == FW_IMG_PENDING_VERIFY && e->boots >= max_boots(fw)) {
        give_up(fw, FW_IMG_ABORTED, " did not confirm itself in its boots allowed");
        return false;
    }
    e->state = FW_IMG_PENDING_VERIFY;
    e->boots++;
    if (fw_otadata_write(&fw->flash, fw->booted, e) != 0)
        say(fw, HAAS_LOG_ERROR, "cannot count the boot in otadata", NULL);
    fw->state = HAAS_FW_PENDING_VERIFY;
    return true;
}

/* The bootloader's choice. */
static void choose_slot(haas_fw *fw)
{
    for (int round = 0; round < 3; round++) {
        fw_slot_header h[2];
        bool ok[2] = {fw_slot_header_read(&fw->flash, 0, &h[0]), fw_slot_header_read(&fw->flash, 1, &h[1])};
        fw->booted = fw_otadata_select(fw->otadata, ok);
        fw->slot = fw->booted < 0 ? 0 : fw_otadata_slot(&fw->otadata[fw->booted]);
        haas_strlcpy(fw->version, ok[fw->slot] ? h[fw->slot].version : fw->factory_version, sizeof fw->version);
        fw->state = HAAS_FW_RUNNING;
        if (fw->booted < 0 || count_boot(fw))
            return;
    }
}

/* The task found at boot: a download resumes; an installed image that
 * runs awaits its confirmation (or has it), one that does not boot failed. */
static void resume_task(haas_fw *fw)
{
    fw_task *k = &fw->task;
    bool runs = k->slot == (uint32_t)fw->slot && haas_strcmp(k->t.version, fw->version) == 0;
    if (k->state == FW_TASK_DOWNLOADING && !runs && fw->state != HAAS_FW_PENDING_VERIFY) {
        fw->state = HAAS_FW_DOWNLOADING;
        say(fw, HAAS_LOG_INFO, "resuming the download of ", k->t.version);
    } else if ((k->state == FW_TASK_DOWNLOADING || k->state == FW_TASK_INSTALLED) && runs) {
        if (fw->state != HAAS_FW_PENDING_VERIFY)
            clear_task(fw); /* confirmed before a cut took the task's update */
    } else if (k->state == FW_TASK_INSTALLED) {
        k->state = FW_TASK_REPORT;
        k->code = OTA_STEP_UPGRADE_FAILED;
        describe(fw, "firmware ", k->t.version, " did not boot (a power cut took its boot record)", NULL);
        haas_strlcpy(k->desc, fw->desc, sizeof k->desc);
        save_task(fw);
        say(fw, HAAS_LOG_WARN, "upgrade failed: ", fw->desc);
    } else if (k->state == FW_TASK_DOWNLOADING) {
        clear_task(fw); /* a download under an image not confirmed yet: never taken */
    }
}

static bool flash_ok(const haas_flash *f) { return f && f->size && f->read && f->write && f->erase; }

static bool text_fits(const char *s, size_t cap) { return !s || haas_strlen(s) < cap; }

int haas_fw_boot(haas_fw *fw, const haas_fw_config *cfg, const haas_port *port, const haas_flash *flash)
{
    if (!fw || !cfg || !port || !flash_ok(flash) || !text_fits(cfg->module, OTA_MODULE_MAX) ||
        !text_fits(cfg->factory_version, OTA_VERSION_MAX))
        return -1;
    haas_memset(fw, 0, sizeof *fw);
    fw->cfg = *cfg;
    fw->port = *port;
    fw->flash = *flash;
    haas_strlcpy(fw->module, cfg->module && cfg->module[0] ? cfg->module : OTA_DEFAULT_MODULE, sizeof fw->module);
    haas_strlcpy(fw->factory_version, cfg->factory_version ? cfg->factory_version : "", sizeof fw->factory_version);
    fw_otadata_load(&fw->flash, fw->otadata);
    fw_task_load(&fw->flash, &fw->task, fw->buf);
    choose_slot(fw);
    resume_task(fw);
    say(fw, HAAS_LOG_INFO, "running firmware ", fw->version);
    emit(fw, HAAS_FW_EV_BOOTED, fw->version, fw->booted < 0 ? FW_IMG_VALID : (int)fw->otadata[fw->booted].state, 0,
         0, NULL);
    return (int)fw->state;
}

int haas_fw_confirm(haas_fw *fw)
{
    if (fw->state != HAAS_FW_PENDING_VERIFY || fw->booted < 0)
        return -1;
    fw_otadata *e = &fw->otadata[fw->booted];
    e->state = FW_IMG_VALID;
    int rc = fw_otadata_write(&fw->flash, fw->booted, e);
    if (rc != 0) {
        e->state = FW_IMG_PENDING_VERIFY;
        say(fw, HAAS_LOG_ERROR, "cannot mark the image valid", NULL);
        return rc;
    }
    fw->state = HAAS_FW_RUNNING;
    if (fw->task.state != FW_TASK_NONE)
        clear_task(fw); /* INSTALLED, or a rejection of this image that a cut left half done */
    say(fw, HAAS_LOG_INFO, "confirmed firmware ", fw->version);
    emit(fw, HAAS_FW_EV_CONFIRMED, fw->version, 0, 0, 0, NULL);
    inform(fw);
    return 0;
}

int haas_fw_reject(haas_fw *fw)
{
    if (fw->state != HAAS_FW_PENDING_VERIFY || fw->booted < 0)
        return -1;
    give_up(fw, FW_IMG_INVALID, " rejected itself");
    fw->state = HAAS_FW_RUNNING;
    fw->port.reboot(fw->port.ctx);
    return 0;
}

const char *haas_fw_version(const haas_fw *fw) { return fw->version; }
int haas_fw_slot(const haas_fw *fw) { return fw->slot; }

/* ---- download, verify, burn ---- */

static int sink(void *core, const uint8_t *data, size_t len)
{
    haas_fw *fw = core;
    fw_task *k = &fw->task;
    if (k->received + len > k->t.size) {
        fw->error = OTA_STEP_DOWNLOAD_FAILED;
        describe(fw, "the server sent more bytes than size", NULL, NULL, NULL);
        return 1;
    }
    if (fw->flash.write(fw->flash.ctx, (haas_flash_area)(HAAS_FLASH_SLOT0 + k->slot), FW_SLOT_HEADER_SIZE + k->received,
                        data, len) != 0) {
        fw->error = OTA_STEP_BURN_FAILED;
        describe(fw, "cannot write the image into the slot", NULL, NULL, NULL);
        return 1;
    }
    k->received += len;
    uint64_t pct = haas_percent(k->received, k->t.size);
    if (pct < 100 && pct >= (uint64_t)(k->last_step + PROGRESS_EVERY)) {
        k->last_step = (int32_t)pct;
        save_task(fw); /* a power cut resumes from here */
        progress(fw, (int)pct, "");
    }
    return 0;
}

/* Fetches the rest of the image. 0, or the failing step (fw->desc says why). */
static int download(haas_fw *fw)
{
    fw_task *k = &fw->task;
    uint8_t tries = fw->cfg.max_download_attempts ? fw->cfg.max_download_attempts : DEFAULT_ATTEMPTS;
    if (!ota_url_with_port(fw->url, sizeof fw->url, k->t.url, fw->cfg.download_port)) {
        describe(fw, "the url cannot be used", NULL, NULL, NULL);
        return OTA_STEP_DOWNLOAD_FAILED;
    }
    while (k->received < k->t.size) {
        uint64_t total = 0;
        fw->error = 0;
        int rc = fw->port.http_get(fw->port.ctx, fw->url, k->received, sink, fw, &total);
        if (fw->error)
            return fw->error;
        if (rc == HAAS_PORT_ERR_NET && ++fw->attempts < tries) {
            say(fw, HAAS_LOG_WARN, "download cut; resuming", NULL);
            save_task(fw);
            continue;
        }
        if (rc != 0 || k->received != k->t.size) {
            describe(fw, rc == HAAS_PORT_ERR_HTTP ? "the server refused the download"
                         : rc != 0                ? "the download failed"
                                                  : "the server sent fewer bytes than size", NULL, NULL, NULL);
            return OTA_STEP_DOWNLOAD_FAILED;
        }
    }
    return 0;
}

static bool hex_equals(const uint8_t *digest, size_t n, const char *hex)
{
    static const char digits[] = "0123456789abcdef";
    if (haas_strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = hex[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (c != digits[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 15])
            return false;
    }
    return true;
}

/* Hashes the image as it is on flash. 0, or -4 when it cannot be read. */
static int hash_slot(haas_fw *fw, uint8_t md5[16], uint8_t sha[32])
{
    fw_task *k = &fw->task;
    int rc = 0;
    fw->port.hash_init(fw->port.ctx, &fw->md5, HAAS_HASH_MD5);
    fw->port.hash_init(fw->port.ctx, &fw->sha256, HAAS_HASH_SHA256);
    for (uint64_t off = 0; off < k->t.size && rc == 0;) {
        size_t n = k->t.size - off < sizeof fw->buf ? (size_t)(k->t.size - off) : sizeof fw->buf;
        rc = fw->flash.read(fw->flash.ctx, (haas_flash_area)(HAAS_FLASH_SLOT0 + k->slot), FW_SLOT_HEADER_SIZE + off,
                            fw->buf, n);
        fw->port.hash_update(fw->port.ctx, &fw->md5, fw->buf, n);
        fw->port.hash_update(fw->port.ctx, &fw->sha256, fw->buf, n);
        off += n;
    }
    fw->port.hash_final(fw->port.ctx, &fw->md5, md5);
    fw->port.hash_final(fw->port.ctx, &fw->sha256, sha);
    if (rc != 0)
        describe(fw, "cannot read the image back from the slot", NULL, NULL, NULL);
    return rc != 0 ? OTA_STEP_BURN_FAILED : 0;
}

/* sign (and md5 when given) against the image on flash. */
static int verify(haas_fw *fw, uint8_t sha[32])
{
    const ota_task *t = &fw->task.t;
    uint8_t md5[16];
    int rc = hash_slot(fw, md5, sha);
    if (rc != 0)
        return rc;
    bool sign_ok = t->sign_method == OTA_SIGN_MD5 ? hex_equals(md5, 16, t->sign) : hex_equals(sha, 32, t->sign);
    if (!sign_ok || (t->md5[0] && !hex_equals(md5, 16, t->md5))) {
        describe(fw, !sign_ok ? "the image does not match its sign (" : "the image does not match its md5 (",
                 t->sign_method == OTA_SIGN_MD5 ? "Md5" : "SHA256", ")", NULL);
        return OTA_STEP_VERIFY_FAILED;
    }
    return 0;
}

/* Header, then otadata: the slot boots next. 0 or -4. */
static int burn(haas_fw *fw, const uint8_t sha[32])
{
    fw_task *k = &fw->task;
    fw_slot_header h;
    haas_memset(&h, 0, sizeof h);
    h.size = k->t.size;
    haas_strlcpy(h.version, k->t.version, sizeof h.version);
    haas_strlcpy(h.module, k->t.module, sizeof h.module);
    haas_memcpy(h.sha256, sha, sizeof h.sha256);
    fw_otadata e;
    int index = fw_otadata_next(fw->otadata, fw->booted, (int)k->slot, &e);
    if (fw_slot_header_write(&fw->flash, (int)k->slot, &h) != 0 || fw_otadata_write(&fw->flash, index, &e) != 0) {
        describe(fw, "cannot write the slot header or otadata", NULL, NULL, NULL);
        return OTA_STEP_BURN_FAILED;
    }
    fw->otadata[index] = e;
    return 0;
}

static void run_job(haas_fw *fw)
{
    uint8_t sha[32];
    int code = download(fw);
    if (code == 0)
        code = verify(fw, sha);
    if (code == 0)
        code = burn(fw, sha);
    if (code != 0) {
        fail(fw, code, fw->desc);
        return;
    }
    progress(fw, 100, "");
    emit(fw, HAAS_FW_EV_INSTALLED, fw->task.t.version, 0, fw->task.t.size, fw->task.t.size, NULL);
    say(fw, HAAS_LOG_INFO, "installed; rebooting into firmware ", fw->task.t.version);
    fw->task.state = FW_TASK_INSTALLED;
    save_task(fw);
    fw->state = HAAS_FW_RUNNING;
    fw->port.reboot(fw->port.ctx);
}

/* ---- taking a job ---- */

/* Why the job in fw->incoming is not taken, or NULL. */
static const char *refusal(haas_fw *fw)
{
    const ota_task *t = &fw->incoming;
    if (haas_strcmp(t->module, fw->module) != 0)
        return "it is for another module";
    if (haas_strcmp(t->version, fw->version) == 0)
        return "that version runs already";
    if (fw->state == HAAS_FW_PENDING_VERIFY)
        return "the running image has not confirmed itself yet";
    if (fw->state == HAAS_FW_DOWNLOADING)
        return "a download is in progress";
    uint64_t room = fw->flash.size(fw->flash.ctx, (haas_flash_area)(HAAS_FLASH_SLOT0 + (1 - fw->slot)));
    if (room < FW_SLOT_HEADER_SIZE || t->size > room - FW_SLOT_HEADER_SIZE)
        return "it is larger than a slot";
    return NULL;
}

static void take(haas_fw *fw, ota_verdict v)
{
    if (v == OTA_MSG_EMPTY || v == OTA_MSG_CODE) {
        say(fw, HAAS_LOG_INFO, "no firmware job: ", ota_verdict_text(v));
        return;
    }
    const char *why = v != OTA_MSG_OK ? ota_verdict_text(v) : refusal(fw);
    if (why) {
        say(fw, HAAS_LOG_WARN, "firmware push ignored: ", why);
        emit(fw, HAAS_FW_EV_PUSH_IGNORED, v == OTA_MSG_OK ? fw->incoming.version : NULL, 0, 0, 0, why);
        if (v == OTA_MSG_OK && fw->state == HAAS_FW_RUNNING && haas_strcmp(fw->incoming.version, fw->version) == 0)
            inform(fw); /* the cloud thinks otherwise: tell it again */
        return;
    }
    uint32_t seq = fw->task.seq;
    haas_memset(&fw->task, 0, sizeof fw->task);
    fw->task.seq = seq;
    fw->task.t = fw->incoming;
    fw->task.slot = (uint32_t)(1 - fw->slot);
    fw->attempts = 0;
    if (fw->flash.erase(fw->flash.ctx, (haas_flash_area)(HAAS_FLASH_SLOT0 + fw->task.slot)) != 0) {
        fail(fw, OTA_STEP_BURN_FAILED, "cannot erase the inactive slot");
        return;
    }
    fw->task.state = FW_TASK_DOWNLOADING;
    save_task(fw);
    fw->state = HAAS_FW_DOWNLOADING;
    say(fw, HAAS_LOG_INFO, "upgrading to firmware ", fw->task.t.version);
    emit(fw, HAAS_FW_EV_PUSH_ACCEPTED, fw->task.t.version, 0, 0, fw->task.t.size, NULL);
    progress(fw, 0, "");
}

/* ---- the module hooks ---- */

static bool topic_is(haas_fw *fw, const char *topic, ota_topic_kind kind)
{
    return ota_topic(fw->topic, sizeof fw->topic, kind, fw->up->cfg.product_key, fw->up->cfg.device_name) &&
           haas_strcmp(topic, fw->topic) == 0;
}

static bool on_message(void *self, const char *topic, const uint8_t *payload, size_t len)
{
    haas_fw *fw = self;
    if (topic_is(fw, topic, OTA_TOPIC_UPGRADE))
        take(fw, ota_parse_upgrade((const char *)payload, len, &fw->incoming));
    else if (topic_is(fw, topic, OTA_TOPIC_GET_REPLY))
        take(fw, ota_parse_get_reply((const char *)payload, len, &fw->incoming));
    else
        return false;
    return true;
}

static void subscribe(haas_fw *fw, ota_topic_kind kind)
{
    if (!ota_topic(fw->topic, sizeof fw->topic, kind, fw->up->cfg.product_key, fw->up->cfg.device_name) ||
        fw->port.mqtt_subscribe(fw->port.ctx, fw->topic, 1) != 0)
        say(fw, HAAS_LOG_WARN, "cannot subscribe to ", fw->topic);
}

static void on_connected(void *self)
{
    haas_fw *fw = self;
    subscribe(fw, OTA_TOPIC_UPGRADE);
    subscribe(fw, OTA_TOPIC_GET_REPLY);
    send_report(fw);
    if (fw->state == HAAS_FW_PENDING_VERIFY)
        return; /* informed once it has confirmed itself */
    inform(fw);
    if (!fw->cfg.no_query && fw->state == HAAS_FW_RUNNING) {
        size_t len = ota_build_get(fw->msg, sizeof fw->msg, haas_next_id(fw->up), fw->module);
        publish(fw, OTA_TOPIC_GET, len);
    }
}

static void on_drive(void *self)
{
    haas_fw *fw = self;
    if (fw->state == HAAS_FW_DOWNLOADING)
        run_job(fw);
    send_report(fw);
}

void haas_fw_attach(haas_fw *fw, haas_upgrade *up)
{
    haas_module m = {fw, on_connected, on_message, on_drive};
    fw->up = up;
    haas_set_module(up, &m);
}
