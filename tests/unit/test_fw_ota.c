/*
 * test_fw_ota.c - unit tests of the SDK's firmware OTA with A/B slots
 * (sdk/src/fw_ota.c, sdk/src/fw_store.c) against in-memory doubles:
 *
 *   flash   six areas as byte arrays (two slots, two otadata entries, two
 *           task copies); an erase sets 0xFF, a write to a record area
 *           replaces its content; faults per area, and a power cut at the
 *           n-th write or erase (a write torn in half, then the flash
 *           frozen: nothing later reaches it);
 *   port    MQTT publishes and subscriptions recorded; http_get serves an
 *           image from an offset and can cut, fail or send too much;
 *           digests through OpenSSL EVP; reboot counted.
 *
 * The MQTT side is driven through the module hooks haas_fw_attach installs
 * on a haas_upgrade (connected, message, drive), as haas_drive calls them.
 * Covered: CRC-32, otadata choice and next entry, slot headers and task
 * copies (torn records), the boot decision (factory, new, counting,
 * rollback), a whole upgrade with its exact messages, confirm and reject,
 * each failure step (-2 download, -3 verify, -4 burn), ignored pushes, a
 * resumed download, and a power cut at every flash step of an upgrade and
 * of a rollback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "haas_fw.h"
#include "haas_upgrade.h"
#include "private/fw_store.h"
#include "private/ota_msg.h"

#define PK "a1PK0000001"
#define DN "core2-0001"
#define UPGRADE_TOPIC "/ota/device/upgrade/" PK "/" DN
#define GET_REPLY_TOPIC "/sys/" PK "/" DN "/thing/ota/firmware/get_reply"
#define INFORM_TOPIC "/ota/device/inform/" PK "/" DN
#define PROGRESS_TOPIC "/ota/device/progress/" PK "/" DN
#define GET_TOPIC "/sys/" PK "/" DN "/thing/ota/firmware/get"
#define OLD "1.0.0"
#define NEW "1.0.1"
#define SLOT_CAP (64 * 1024)
#define IMG_LEN (20000)

/* ================================================================== */
/* The flash double                                                    */
/* ================================================================== */

static uint8_t areas[HAAS_FLASH_AREAS][SLOT_CAP];
static int flash_ops;        /* writes and erases so far */
static int cut_at;           /* the op at which the power goes (0: never) */
static bool dead;            /* after the cut: nothing reaches the flash */
static int fail_area = -1;   /* writes/erases of this area fail */
static int fail_after;       /* ... after this many succeeded */
static bool fail_reads;

static uint64_t cap_of(haas_flash_area a) { return a <= HAAS_FLASH_SLOT1 ? SLOT_CAP : 4096; }

static uint64_t f_size(void *ctx, haas_flash_area a)
{
    (void)ctx;
    return cap_of(a);
}

static int f_read(void *ctx, haas_flash_area a, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    if (fail_reads && a <= HAAS_FLASH_SLOT1)
        return HAAS_PORT_ERR;
    assert_true(off + len <= cap_of(a));
    memcpy(buf, areas[a] + off, len);
    return 0;
}

/* Counts an op; true when the power goes now. */
static bool power_cut(void)
{
    if (dead)
        return true;
    if (cut_at && ++flash_ops == cut_at) {
        dead = true;
        return true;
    }
    if (!cut_at)
        flash_ops++;
    return false;
}

static bool faulted(haas_flash_area a)
{
    if ((int)a != fail_area)
        return false;
    if (fail_after > 0) {
        fail_after--;
        return false;
    }
    return true;
}

static int f_write(void *ctx, haas_flash_area a, uint64_t off, const void *data, size_t len)
{
    (void)ctx;
    assert_true(off + len <= cap_of(a));
    bool was_dead = dead;
    if (power_cut()) {
        if (!was_dead) { /* torn: the record erased, half the bytes in */
            if (a > HAAS_FLASH_SLOT1)
                memset(areas[a], 0xff, 4096);
            memcpy(areas[a] + off, data, len / 2);
        }
        return HAAS_PORT_ERR;
    }
    if (faulted(a))
        return HAAS_PORT_ERR;
    if (a > HAAS_FLASH_SLOT1)
        memset(areas[a], 0xff, 4096);
    memcpy(areas[a] + off, data, len);
    return 0;
}

static int f_erase(void *ctx, haas_flash_area a)
{
    (void)ctx;
    if (power_cut() || faulted(a))
        return HAAS_PORT_ERR;
    memset(areas[a], 0xff, cap_of(a));
    return 0;
}

static const haas_flash flash = {NULL, f_size, f_read, f_write, f_erase};

/* ================================================================== */
/* The port double                                                     */
/* ================================================================== */

typedef struct {
    char topic[160];
    char payload[800];
} pub;

static pub pubs[256];
static int npubs;
static char subs[8][160];
static int nsubs;
static int reboots;
static bool sub_fail, pub_fail;
static uint8_t img[SLOT_CAP + 64];
static size_t img_len = IMG_LEN;
static uint64_t http_offsets[16];
static int http_calls;
static long cut_after = -1;  /* bytes served before a cut, per call */
static int cut_calls;        /* calls that are cut */
static int http_fail;        /* a status error */
static size_t http_extra;    /* bytes served beyond the image */

static int p_subscribe(void *ctx, const char *topic, int qos)
{
    (void)ctx;
    assert_int_equal(qos, 1);
    assert_true(nsubs < 8);
    if (sub_fail)
        return HAAS_PORT_ERR;
    snprintf(subs[nsubs++], sizeof subs[0], "%s", topic);
    return 0;
}

static int p_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos)
{
    (void)ctx;
    assert_int_equal(qos, 1);
    assert_true(npubs < 256);
    assert_true(len < sizeof pubs[0].payload);
    if (pub_fail)
        return HAAS_PORT_ERR_NET;
    snprintf(pubs[npubs].topic, sizeof pubs[0].topic, "%s", topic);
    memcpy(pubs[npubs].payload, payload, len);
    pubs[npubs].payload[len] = '\0';
    npubs++;
    return 0;
}

static int p_http_get(void *ctx, const char *url, uint64_t offset, haas_sink_fn sink, void *core, uint64_t *total)
{
    (void)ctx;
    assert_non_null(strstr(url, "://127.0.0.1:8443/"));
    assert_true(http_calls < 16);
    http_offsets[http_calls++] = offset;
    if (http_fail)
        return HAAS_PORT_ERR_HTTP;
    *total = img_len;
    size_t end = img_len + http_extra, pos = (size_t)offset;
    bool cut = cut_calls > 0;
    if (cut) {
        cut_calls--;
        if (pos + (size_t)cut_after < end)
            end = pos + (size_t)cut_after;
    }
    while (pos < end) {
        size_t n = end - pos < 4096 ? end - pos : 4096;
        if (sink(core, img + pos, n) != 0)
            return HAAS_PORT_ERR_ABORTED;
        pos += n;
    }
    return cut ? HAAS_PORT_ERR_NET : 0;
}

static int p_hash_init(void *ctx, haas_hash_state *st, haas_hash_kind kind)
{
    (void)ctx;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    EVP_DigestInit_ex(c, kind == HAAS_HASH_MD5 ? EVP_md5() : EVP_sha256(), NULL);
    st->ptr_ = c;
    return 0;
}

static void p_hash_update(void *ctx, haas_hash_state *st, const void *data, size_t len)
{
    (void)ctx;
    EVP_DigestUpdate(st->ptr_, data, len);
}

static void p_hash_final(void *ctx, haas_hash_state *st, uint8_t *digest)
{
    (void)ctx;
    unsigned n = 0;
    EVP_DigestFinal_ex(st->ptr_, digest, &n);
    EVP_MD_CTX_free(st->ptr_);
}

static void p_log(void *ctx, haas_log_level level, const char *message)
{
    (void)ctx, (void)level, (void)message;
}

static void p_reboot(void *ctx)
{
    (void)ctx;
    reboots++;
}

static uint64_t p_now(void *ctx)
{
    (void)ctx;
    return 0;
}

static haas_port port;

/* ================================================================== */
/* Fixture                                                             */
/* ================================================================== */

static haas_fw fw;
static haas_upgrade up;
static haas_fw_config cfg;
static int events[HAAS_FW_EV_INFORMED + 1];

static void on_event(void *user, const haas_fw_event *ev)
{
    (void)user;
    events[ev->type]++;
}

static int setup(void **state)
{
    (void)state;
    for (int a = 0; a < HAAS_FLASH_AREAS; a++)
        memset(areas[a], 0xff, sizeof areas[a]);
    flash_ops = cut_at = 0;
    dead = fail_reads = false;
    fail_area = -1;
    fail_after = 0;
    npubs = nsubs = reboots = http_calls = http_fail = cut_calls = 0;
    sub_fail = pub_fail = false;
    cut_after = -1;
    http_extra = 0;
    img_len = IMG_LEN;
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7 + (i >> 8));
    memset(events, 0, sizeof events);
    memset(&port, 0, sizeof port);
    port.mqtt_subscribe = p_subscribe;
    port.mqtt_publish = p_publish;
    port.http_get = p_http_get;
    port.hash_init = p_hash_init;
    port.hash_update = p_hash_update;
    port.hash_final = p_hash_final;
    port.log = p_log;
    port.reboot = p_reboot;
    port.now_ms = p_now;
    cfg = (haas_fw_config){.factory_version = OLD, .download_port = 8443, .on_event = on_event};
    return 0;
}

/* A boot: the firmware part, then attached to a connected haas_upgrade. */
static int boot(void)
{
    int st = haas_fw_boot(&fw, &cfg, &port, &flash);
    memset(&up, 0, sizeof up);
    up.cfg.product_key = PK;
    up.cfg.device_name = DN;
    up.next_msg_id = 1;
    haas_fw_attach(&fw, &up);
    return st;
}

static void connect(void)
{
    nsubs = 0; /* a new connection subscribes anew */
    up.connected = true;
    up.module.connected(up.module.self);
}

static bool deliver(const char *topic, const char *payload)
{
    return up.module.message(up.module.self, topic, (const uint8_t *)payload, strlen(payload));
}

static void drive(void) { up.module.drive(up.module.self); }

static void hex(const EVP_MD *md, const void *data, size_t len, char *out)
{
    uint8_t d[32];
    unsigned n = 0;
    EVP_Digest(data, len, d, &n, md, NULL);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static char push_buf[2048];

/* An upgrade message for version of img[0..img_len), signMethod method; a
 * sign or md5 of NULL is computed. */
static const char *push_msg(const char *version, const char *method, const char *sign, const char *md5,
                            const char *module)
{
    char s[65], m[33];
    hex(strcmp(method, "Md5") == 0 ? EVP_md5() : EVP_sha256(), img, img_len, s);
    hex(EVP_md5(), img, img_len, m);
    snprintf(push_buf, sizeof push_buf,
             "{\"code\":\"1000\",\"data\":{\"size\":%zu,\"version\":\"%s\",\"url\":\"https://127.0.0.1/b/fw.bin"
             "?Expires=1\",\"md5\":\"%s\",\"sign\":\"%s\",\"signMethod\":\"%s\",\"module\":\"%s\"},\"id\":1,"
             "\"message\":\"success\"}",
             img_len, version, md5 ? md5 : m, sign ? sign : s, method, module);
    return push_buf;
}

static int count_pubs(const char *topic, const char *needle)
{
    int n = 0;
    for (int i = 0; i < npubs; i++)
        n += strcmp(pubs[i].topic, topic) == 0 && (!needle || strstr(pubs[i].payload, needle));
    return n;
}

static const pub *last_pub(const char *topic)
{
    for (int i = npubs - 1; i >= 0; i--)
        if (strcmp(pubs[i].topic, topic) == 0)
            return &pubs[i];
    return NULL;
}

static fw_task stored_task(void)
{
    fw_task t;
    uint8_t buf[FW_TASK_BYTES];
    fw_task_load(&flash, &t, buf);
    return t;
}

/* Push, download, install: the device reboots into NEW. */
static void install_new(const char *method)
{
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    connect();
    assert_true(deliver(UPGRADE_TOPIC, push_msg(NEW, method, NULL, NULL, "default")));
    drive();
    assert_int_equal(reboots, 1);
}

/* ================================================================== */
/* Records                                                             */
/* ================================================================== */

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(fw_crc32("123456789", 9), 0xcbf43926u);
    assert_int_equal(fw_crc32("", 0), 0);
}

static void test_otadata_records(void **state)
{
    (void)state;
    fw_otadata e[2];
    bool ok[2] = {true, true};
    fw_otadata_load(&flash, e);
    assert_false(e[0].valid);
    assert_false(e[1].valid);
    assert_int_equal(fw_otadata_select(e, ok), -1);

    /* nothing booted: the first entry for slot 1 has seq 2, goes to index 0 */
    fw_otadata n;
    assert_int_equal(fw_otadata_next(e, -1, 1, &n), 0);
    assert_int_equal(n.seq, 2);
    assert_int_equal(fw_otadata_slot(&n), 1);
    assert_int_equal(n.state, FW_IMG_NEW);
    assert_int_equal(fw_otadata_write(&flash, 0, &n), 0);
    fw_otadata_load(&flash, e);
    assert_true(e[0].valid);
    assert_int_equal(e[0].seq, 2);
    assert_int_equal(fw_otadata_select(e, ok), 0);
    /* its slot without an image: not bootable */
    ok[1] = false;
    assert_int_equal(fw_otadata_select(e, ok), -1);
    ok[1] = true;

    /* booted 0 (slot 1): the next for slot 0 is seq 3, written to index 1 */
    assert_int_equal(fw_otadata_next(e, 0, 0, &n), 1);
    assert_int_equal(n.seq, 3);
    assert_int_equal(fw_otadata_write(&flash, 1, &n), 0);
    fw_otadata_load(&flash, e);
    assert_int_equal(fw_otadata_select(e, ok), 1); /* highest seq */
    /* rejected or aborted entries are skipped */
    e[1].state = FW_IMG_INVALID;
    assert_int_equal(fw_otadata_select(e, ok), 0);
    e[1].state = FW_IMG_ABORTED;
    assert_int_equal(fw_otadata_select(e, ok), 0);
    /* the next for slot 0 again must skip a seq naming slot 1: 3 -> 5 */
    assert_int_equal(fw_otadata_next(e, 0, 0, &n), 1);
    assert_int_equal(n.seq, 5);
    /* with nothing booted, the older entry is overwritten */
    assert_int_equal(fw_otadata_next(e, -1, 1, &n), 0);
    e[0].seq = 9;
    assert_int_equal(fw_otadata_next(e, -1, 1, &n), 1);
    e[1].valid = false;
    assert_int_equal(fw_otadata_next(e, -1, 1, &n), 1);

    /* a torn entry is not valid; nor a zero or all-ones sequence number */
    areas[HAAS_FLASH_OTADATA1][5] ^= 1;
    fw_otadata_load(&flash, e);
    assert_true(e[0].valid);
    assert_false(e[1].valid);
    fw_otadata z = {true, 0, FW_IMG_VALID, 0};
    fw_otadata_write(&flash, 1, &z);
    fw_otadata_load(&flash, e);
    assert_false(e[1].valid);
    z.seq = 0xffffffffu;
    fw_otadata_write(&flash, 1, &z);
    fw_otadata_load(&flash, e);
    assert_false(e[1].valid);
    /* an unreadable area */
    fail_reads = true;
    fw_slot_header h;
    assert_false(fw_slot_header_read(&flash, 0, &h));
}

static void test_slot_headers(void **state)
{
    (void)state;
    fw_slot_header h = {12345, "1.2.3", "MCU", {1, 2, 3}}, r;
    assert_false(fw_slot_header_read(&flash, 1, &r)); /* erased */
    assert_int_equal(fw_slot_header_write(&flash, 1, &h), 0);
    assert_true(fw_slot_header_read(&flash, 1, &r));
    assert_int_equal(r.size, 12345);
    assert_string_equal(r.version, "1.2.3");
    assert_string_equal(r.module, "MCU");
    assert_memory_equal(r.sha256, h.sha256, 32);
    areas[HAAS_FLASH_SLOT1][100] ^= 0x40;
    assert_false(fw_slot_header_read(&flash, 1, &r));
    assert_string_equal(r.version, "");
    fw_slot_header blank = {1, "", "m", {0}};
    fw_slot_header_write(&flash, 0, &blank);
    assert_false(fw_slot_header_read(&flash, 0, &r)); /* a header without a version boots nothing */
}

static void test_task_copies(void **state)
{
    (void)state;
    uint8_t buf[FW_TASK_BYTES];
    fw_task t, r;
    fw_task_load(&flash, &t, buf);
    assert_int_equal(t.seq, 0);
    assert_int_equal(t.state, FW_TASK_NONE);
    t.state = FW_TASK_DOWNLOADING;
    t.code = -3;
    t.slot = 1;
    t.last_step = 40;
    t.received = 1u << 20;
    t.t.size = 5000000000ull;
    t.t.sign_method = OTA_SIGN_SHA256;
    strcpy(t.t.version, NEW);
    strcpy(t.t.url, "https://h/x");
    strcpy(t.t.md5, "m");
    strcpy(t.t.sign, "s");
    strcpy(t.t.module, "MCU");
    strcpy(t.desc, "why");
    assert_int_equal(fw_task_save(&flash, &t, buf), 0);
    assert_int_equal(t.seq, 1); /* copy 1 */
    fw_task_load(&flash, &r, buf);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.code, -3);
    assert_int_equal(r.received, 1u << 20);
    assert_int_equal(r.t.size, 5000000000ull);
    assert_int_equal(r.t.sign_method, OTA_SIGN_SHA256);
    assert_string_equal(r.t.module, "MCU");
    assert_string_equal(r.desc, "why");

    /* the next save goes to copy 0; a torn one leaves copy 1 */
    t.state = FW_TASK_REPORT;
    assert_int_equal(fw_task_save(&flash, &t, buf), 0);
    fw_task_load(&flash, &r, buf);
    assert_int_equal(r.seq, 2);
    assert_int_equal(r.state, FW_TASK_REPORT);
    areas[HAAS_FLASH_TASK0][300] ^= 1;
    fw_task_load(&flash, &r, buf);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.state, FW_TASK_DOWNLOADING);

    /* a failed save keeps the sequence number: the next one retries the same copy */
    fail_area = HAAS_FLASH_TASK1;
    t.seq = 2;
    assert_int_not_equal(fw_task_save(&flash, &t, buf), 0);
    assert_int_equal(t.seq, 2);
    fail_area = -1;
    assert_int_equal(fw_task_save(&flash, &t, buf), 0);
    assert_int_equal(t.seq, 3);

    /* both torn: none */
    areas[HAAS_FLASH_TASK1][7] ^= 1;
    fw_task_load(&flash, &r, buf);
    assert_int_equal(r.seq, 0);
    assert_int_equal(r.state, FW_TASK_NONE);
}

/* ================================================================== */
/* Boot, upgrade, confirm, reject, rollback                            */
/* ================================================================== */

static void test_boot_arguments(void **state)
{
    (void)state;
    assert_int_equal(haas_fw_boot(NULL, &cfg, &port, &flash), -1);
    assert_int_equal(haas_fw_boot(&fw, NULL, &port, &flash), -1);
    assert_int_equal(haas_fw_boot(&fw, &cfg, NULL, &flash), -1);
    assert_int_equal(haas_fw_boot(&fw, &cfg, &port, NULL), -1);
    haas_flash partial = flash;
    partial.erase = NULL;
    assert_int_equal(haas_fw_boot(&fw, &cfg, &port, &partial), -1);
    char longname[OTA_MODULE_MAX + 1];
    memset(longname, 'm', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cfg.module = longname;
    assert_int_equal(haas_fw_boot(&fw, &cfg, &port, &flash), -1);
    cfg.module = NULL;
    cfg.factory_version = "0123456789012345678901234567890123";
    assert_int_equal(haas_fw_boot(&fw, &cfg, &port, &flash), -1);
    cfg.factory_version = NULL;
    assert_int_equal(haas_fw_boot(&fw, &cfg, &port, &flash), HAAS_FW_RUNNING);
    assert_string_equal(haas_fw_version(&fw), "");
    assert_int_equal(haas_fw_confirm(&fw), -1);
    assert_int_equal(haas_fw_reject(&fw), -1);
}

static void test_factory_boot_informs(void **state)
{
    (void)state;
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_int_equal(haas_fw_slot(&fw), 0);
    assert_string_equal(haas_fw_version(&fw), OLD);
    assert_int_equal(events[HAAS_FW_EV_BOOTED], 1);
    connect();
    assert_int_equal(nsubs, 2);
    assert_string_equal(subs[0], UPGRADE_TOPIC);
    assert_string_equal(subs[1], GET_REPLY_TOPIC);
    assert_int_equal(npubs, 2);
    assert_string_equal(pubs[0].topic, INFORM_TOPIC);
    assert_string_equal(pubs[0].payload, "{\"id\":1, \"params\":{\"version\":\"1.0.0\"}}");
    assert_string_equal(pubs[1].topic, GET_TOPIC);
    assert_string_equal(pubs[1].payload, "{\"id\":2, \"params\":{}}");
    /* a nothing-pending reply, an error reply, other topics */
    assert_true(deliver(GET_REPLY_TOPIC, "{\"code\":200,\"data\":{},\"id\":2,\"message\":\"success\"}"));
    assert_true(deliver(GET_REPLY_TOPIC, "{\"code\":500,\"data\":{},\"id\":2}"));
    assert_false(deliver("/sys/" PK "/" DN "/thing/service/hli_service_upgrade_push", "{}"));
    assert_false(deliver("/ota/device/upgrade/" PK "/other", "{}"));
    assert_int_equal(events[HAAS_FW_EV_PUSH_IGNORED], 0);
    assert_int_equal(npubs, 2);

    /* a module of its own: named in inform and get; no query when asked */
    setup(NULL);
    cfg.module = "MCU";
    cfg.no_query = true;
    boot();
    connect();
    assert_int_equal(npubs, 1);
    assert_string_equal(pubs[0].payload, "{\"id\":1, \"params\":{\"version\":\"1.0.0\",\"module\":\"MCU\"}}");
    /* not connected: nothing sent */
    up.connected = false;
    drive();
    assert_int_equal(npubs, 1);
}

static void test_upgrade_confirmed(void **state)
{
    (void)state;
    install_new("SHA256");
    /* the messages: progress 0, then at most every 10 %, then 100 */
    assert_int_equal(count_pubs(PROGRESS_TOPIC, "\"step\":\"0\""), 1);
    assert_int_equal(count_pubs(PROGRESS_TOPIC, "\"step\":\"100\""), 1);
    int steps = count_pubs(PROGRESS_TOPIC, NULL), last = -1;
    assert_in_range(steps, 3, 12);
    for (int i = 0; i < npubs; i++) {
        int step;
        if (strcmp(pubs[i].topic, PROGRESS_TOPIC) != 0)
            continue;
        assert_int_equal(sscanf(strstr(pubs[i].payload, "\"step\":\"") + 8, "%d", &step), 1);
        assert_true(last < 0 || step >= last + 10 || step == 100);
        assert_non_null(strstr(pubs[i].payload, "\"desc\":\"\",\"module\":\"default\"}}"));
        last = step;
    }
    assert_int_equal(http_calls, 1);
    assert_int_equal(http_offsets[0], 0);
    assert_memory_equal(areas[HAAS_FLASH_SLOT1] + FW_SLOT_HEADER_SIZE, img, img_len);
    assert_int_equal(events[HAAS_FW_EV_INSTALLED], 1);
    assert_int_equal(stored_task().state, FW_TASK_INSTALLED);

    /* the reboot: the new slot, pending; no inform until confirmed */
    npubs = 0;
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(haas_fw_slot(&fw), 1);
    assert_string_equal(haas_fw_version(&fw), NEW);
    connect();
    assert_int_equal(count_pubs(INFORM_TOPIC, NULL), 0);
    assert_int_equal(count_pubs(GET_TOPIC, NULL), 0);
    /* a push meanwhile is refused: the old slot must stay */
    assert_true(deliver(UPGRADE_TOPIC, push_msg("1.0.2", "SHA256", NULL, NULL, "default")));
    assert_int_equal(events[HAAS_FW_EV_PUSH_IGNORED], 1);
    assert_int_equal(stored_task().state, FW_TASK_INSTALLED);
    assert_int_equal(haas_fw_confirm(&fw), 0);
    assert_int_equal(stored_task().state, FW_TASK_NONE);
    assert_int_equal(count_pubs(INFORM_TOPIC, "\"version\":\"1.0.1\""), 1);
    assert_int_equal(haas_fw_confirm(&fw), -1);
    /* later boots run it as confirmed */
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_int_equal(haas_fw_slot(&fw), 1);
    assert_string_equal(haas_fw_version(&fw), NEW);

    /* and the next upgrade goes to slot 0 */
    img[0] ^= 1;
    connect();
    deliver(UPGRADE_TOPIC, push_msg("1.0.2", "Md5", NULL, NULL, "default"));
    drive();
    assert_int_equal(reboots, 2);
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(haas_fw_slot(&fw), 0);
    assert_string_equal(haas_fw_version(&fw), "1.0.2");
}

static void test_crash_loop_rolls_back(void **state)
{
    (void)state;
    install_new("Md5");
    for (int i = 1; i <= 3; i++) { /* three unconfirmed boots allowed */
        assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
        assert_int_equal(fw.otadata[fw.booted].boots, (uint32_t)i);
    }
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_int_equal(haas_fw_slot(&fw), 0);
    assert_string_equal(haas_fw_version(&fw), OLD);
    assert_int_equal(events[HAAS_FW_EV_ROLLED_BACK], 1);
    fw_task t = stored_task();
    assert_int_equal(t.state, FW_TASK_REPORT);
    assert_int_equal(t.code, -1);
    /* at the connect: progress -1 with why, then the old version */
    npubs = 0;
    connect();
    assert_string_equal(pubs[0].topic, PROGRESS_TOPIC);
    assert_non_null(strstr(pubs[0].payload, "\"step\":\"-1\",\"desc\":\"firmware 1.0.1 did not confirm"));
    assert_non_null(strstr(pubs[0].payload, "\"module\":\"default\""));
    assert_string_equal(pubs[1].topic, INFORM_TOPIC);
    assert_non_null(strstr(pubs[1].payload, "\"version\":\"1.0.0\""));
    assert_int_equal(events[HAAS_FW_EV_REPORTED], 1);
    assert_int_equal(stored_task().state, FW_TASK_NONE);
    /* and it stays rolled back */
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_string_equal(haas_fw_version(&fw), OLD);

    /* max_boot_attempts 1: the second boot rolls back */
    setup(NULL);
    cfg.max_boot_attempts = 1;
    install_new("SHA256");
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_string_equal(haas_fw_version(&fw), OLD);
}

static void test_reject_rolls_back(void **state)
{
    (void)state;
    install_new("SHA256");
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(haas_fw_reject(&fw), 0);
    assert_int_equal(reboots, 2);
    assert_int_equal(haas_fw_reject(&fw), -1);
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_string_equal(haas_fw_version(&fw), OLD);
    npubs = 0;
    connect();
    assert_non_null(strstr(pubs[0].payload, "\"step\":\"-1\",\"desc\":\"firmware 1.0.1 rejected itself"));
    assert_non_null(strstr(pubs[1].payload, "\"version\":\"1.0.0\""));
    /* the same version may be pushed again: it goes to slot 1 again */
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "default"));
    drive();
    assert_int_equal(reboots, 3);
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(haas_fw_slot(&fw), 1);
}

/* A cut while the new image's entry is rewritten (boot count, VALID)
 * leaves it torn: the old slot boots, and the job is reported failed. */
static void test_lost_boot_record_reports_failure(void **state)
{
    (void)state;
    install_new("SHA256");
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    areas[HAAS_FLASH_OTADATA0 + fw.booted][6] ^= 0x10;
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_string_equal(haas_fw_version(&fw), OLD);
    fw_task t = stored_task();
    assert_int_equal(t.state, FW_TASK_REPORT);
    assert_int_equal(t.code, -1);
    npubs = 0;
    connect();
    assert_non_null(strstr(pubs[0].payload, "\"step\":\"-1\",\"desc\":\"firmware 1.0.1 did not boot"));
    assert_non_null(strstr(pubs[1].payload, "\"version\":\"1.0.0\""));

    /* a DOWNLOADING task whose image runs (the cut took the INSTALLED
     * save) counts as installed; one under an unconfirmed image is dropped */
    setup(NULL);
    install_new("SHA256");
    fw_task k = stored_task();
    uint8_t buf[FW_TASK_BYTES];
    k.state = FW_TASK_DOWNLOADING;
    fw_task_save(&flash, &k, buf);
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(stored_task().state, FW_TASK_DOWNLOADING);
    assert_int_equal(haas_fw_confirm(&fw), 0);
    assert_int_equal(stored_task().state, FW_TASK_NONE);
    k.seq = stored_task().seq;
    k.state = FW_TASK_INSTALLED;
    fw_task_save(&flash, &k, buf);
    assert_int_equal(boot(), HAAS_FW_RUNNING); /* confirmed, the task's clearing lost */
    assert_int_equal(stored_task().state, FW_TASK_NONE);
    setup(NULL);
    install_new("SHA256");
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    k = stored_task();
    k.state = FW_TASK_DOWNLOADING;
    k.slot = 0;
    strcpy(k.t.version, "9.9.9");
    fw_task_save(&flash, &k, buf);
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    assert_int_equal(stored_task().state, FW_TASK_NONE);
}

/* The port says no: a subscription refused (the platform's automatic
 * subscription may still deliver), a report whose publish fails stays on
 * flash for the next connection; no event callback; an upper-case sign. */
static void test_port_refusals(void **state)
{
    (void)state;
    cfg.on_event = NULL;
    sub_fail = true;
    boot();
    connect();
    assert_int_equal(count_pubs(INFORM_TOPIC, NULL), 1);
    http_fail = 1;
    pub_fail = true;
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "default"));
    drive();
    assert_int_equal(stored_task().state, FW_TASK_REPORT);
    pub_fail = false;
    drive(); /* the next haas_drive sends it */
    assert_int_equal(count_pubs(PROGRESS_TOPIC, "\"step\":\"-2\""), 1);
    assert_int_equal(stored_task().state, FW_TASK_NONE);

    /* signs in upper-case hex are the same digests */
    http_fail = 0;
    char sign[65];
    hex(EVP_sha256(), img, img_len, sign);
    for (char *c = sign; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", sign, NULL, "default"));
    drive();
    assert_int_equal(reboots, 1);
}

static void test_confirm_write_fails(void **state)
{
    (void)state;
    install_new("SHA256");
    assert_int_equal(boot(), HAAS_FW_PENDING_VERIFY);
    fail_area = HAAS_FLASH_OTADATA0 + fw.booted;
    assert_int_not_equal(haas_fw_confirm(&fw), 0);
    fail_area = -1;
    assert_int_equal(haas_fw_confirm(&fw), 0); /* still pending: it can try again */
    assert_int_equal(boot(), HAAS_FW_RUNNING);
}

/* ================================================================== */
/* Failures and ignored pushes                                         */
/* ================================================================== */

/* Runs a push of NEW whose job fails; returns the step reported. */
static int failing_job(const char *msg)
{
    boot();
    connect();
    npubs = 0;
    deliver(UPGRADE_TOPIC, msg);
    drive();
    assert_int_equal(reboots, 0);
    const pub *p = last_pub(PROGRESS_TOPIC);
    assert_non_null(p);
    int step = 0;
    assert_int_equal(sscanf(strstr(p->payload, "\"step\":\"") + 8, "%d", &step), 1);
    assert_int_equal(events[HAAS_FW_EV_FAILED], 1);
    assert_int_equal(events[HAAS_FW_EV_REPORTED], 1);
    assert_int_equal(stored_task().state, FW_TASK_NONE);
    /* still the old firmware, and it takes the next push */
    assert_int_equal(boot(), HAAS_FW_RUNNING);
    assert_string_equal(haas_fw_version(&fw), OLD);
    return step;
}

static void test_verify_failures(void **state)
{
    (void)state;
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", "00000000000000000000000000000000000000000000000000000000000"
                                                          "00000", NULL, "default")),
                     -3);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "does not match its sign (SHA256)"));
    setup(NULL);
    assert_int_equal(failing_job(push_msg(NEW, "Md5", "00000000000000000000000000000000", NULL, "default")), -3);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "does not match its sign (Md5)"));
    setup(NULL);
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, "00000000000000000000000000000000", "default")), -3);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "does not match its md5"));
    /* the slot cannot be read back */
    setup(NULL);
    boot();
    connect();
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "default"));
    fail_reads = true;
    drive();
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "\"step\":\"-4\""));
}

static void test_download_failures(void **state)
{
    (void)state;
    http_fail = 1;
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, NULL, "default")), -2);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "refused"));
    /* cut at every try: 5 tries, then -2 */
    setup(NULL);
    cut_calls = 100;
    cut_after = 1000;
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, NULL, "default")), -2);
    assert_int_equal(http_calls, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(http_offsets[i], 1000u * (unsigned)i);
    /* more bytes than size */
    setup(NULL);
    http_extra = 10;
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, NULL, "default")), -2);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "more bytes than size"));
    /* fewer bytes than size (a server that says it is done) */
    setup(NULL);
    char *m = (char *)push_msg(NEW, "SHA256", NULL, NULL, "default");
    img_len -= 10;
    assert_int_equal(failing_job(m), -2);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "fewer bytes"));
    /* a URL that cannot take the port */
    setup(NULL);
    cfg.download_port = 0;
    port.http_get = NULL; /* never called */
    boot();
    connect();
    fw.task.state = FW_TASK_DOWNLOADING;
    fw.task.t.size = 10;
    strcpy(fw.task.t.url, "https://h");
    fw.state = HAAS_FW_DOWNLOADING;
    drive();
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "\"step\":\"-2\",\"desc\":\"the url cannot be used"));
}

static void test_cut_download_resumes(void **state)
{
    (void)state;
    cut_calls = 2;
    cut_after = 7000;
    install_new("SHA256");
    assert_int_equal(http_calls, 3);
    assert_int_equal(http_offsets[1], 7000);
    assert_int_equal(http_offsets[2], 14000);
    assert_memory_equal(areas[HAAS_FLASH_SLOT1] + FW_SLOT_HEADER_SIZE, img, img_len);
}

static void test_burn_failures(void **state)
{
    (void)state;
    fail_area = HAAS_FLASH_SLOT1; /* the erase */
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, NULL, "default")), -4);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "cannot erase"));
    setup(NULL);
    fail_area = HAAS_FLASH_SLOT1; /* an image write */
    fail_after = 2;
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, NULL, "default")), -4);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "cannot write the image"));
    setup(NULL);
    fail_area = HAAS_FLASH_OTADATA0; /* the new entry */
    assert_int_equal(failing_job(push_msg(NEW, "SHA256", NULL, NULL, "default")), -4);
    assert_non_null(strstr(last_pub(PROGRESS_TOPIC)->payload, "otadata"));
    /* a failed report stays on flash and goes out at the next connect */
    setup(NULL);
    boot();
    connect();
    http_fail = 1;
    up.connected = false;
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "default"));
    drive();
    assert_int_equal(stored_task().state, FW_TASK_REPORT);
    assert_int_equal(count_pubs(PROGRESS_TOPIC, "\"step\":\"-2\""), 0);
    boot();
    connect();
    assert_int_equal(count_pubs(PROGRESS_TOPIC, "\"step\":\"-2\""), 1);
    assert_int_equal(stored_task().state, FW_TASK_NONE);
}

static void test_ignored_pushes(void **state)
{
    (void)state;
    boot();
    connect();
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "MCU"));             /* another module */
    npubs = 0;
    deliver(UPGRADE_TOPIC, push_msg(OLD, "SHA256", NULL, NULL, "default"));         /* runs already: */
    assert_int_equal(count_pubs(INFORM_TOPIC, "\"version\":\"1.0.0\""), 1);       /* informed again */
    deliver(UPGRADE_TOPIC, "{\"code\":\"1000\",\"data\":{\"size\":1}}");              /* malformed */
    img_len = SLOT_CAP;                                                               /* larger than a slot */
    deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "default"));
    assert_int_equal(events[HAAS_FW_EV_PUSH_IGNORED], 4);
    img_len = IMG_LEN;
    /* a get_reply job is taken like a push; a second push while downloading is not */
    char reply[2048];
    const char *m = push_msg(NEW, "SHA256", NULL, NULL, "default");
    snprintf(reply, sizeof reply, "{\"code\":200,%s", strstr(m, "\"data\""));
    assert_true(deliver(GET_REPLY_TOPIC, reply));
    assert_int_equal(events[HAAS_FW_EV_PUSH_ACCEPTED], 1);
    deliver(UPGRADE_TOPIC, m);
    assert_int_equal(events[HAAS_FW_EV_PUSH_IGNORED], 5);
    assert_int_equal(stored_task().state, FW_TASK_DOWNLOADING);
    drive();
    assert_int_equal(reboots, 1);
    assert_int_equal(npubs > 0, 1);
}

/* ================================================================== */
/* Power cuts                                                          */
/* ================================================================== */

/* One run of the device from boot: connect, maybe a push, drive until it
 * reboots or settles; the new firmware confirms (or, with crash, never
 * does). Returns after a reboot or when idle. */
static bool rolled_back(void)
{
    for (int i = 0; i < 2; i++)
        if (fw.otadata[i].valid && fw.otadata[i].state >= FW_IMG_INVALID)
            return true;
    return false;
}

static void run_once(bool crash)
{
    npubs = 0;
    int st = boot();
    if (st == HAAS_FW_PENDING_VERIFY && crash)
        return; /* crashed on start */
    if (st == HAAS_FW_PENDING_VERIFY)
        haas_fw_confirm(&fw);
    connect();
    /* the cloud pushes until the device runs NEW or has rolled back */
    if (fw.state == HAAS_FW_RUNNING && strcmp(fw.version, OLD) == 0 && !rolled_back() &&
        fw.task.state == FW_TASK_NONE)
        deliver(UPGRADE_TOPIC, push_msg(NEW, "SHA256", NULL, NULL, "default"));
    drive();
}

/* Runs the whole upgrade (or rollback) from a fresh flash, cutting the
 * power at flash op `cut` (0: none); returns the ops it took. */
static int upgrade_with_cut(int cut, bool crash)
{
    setup(NULL);
    cut_at = cut;
    for (int i = 0; i < 8 && !dead; i++)
        run_once(crash);
    return flash_ops;
}

static void check_bootable(const char *ctx)
{
    /* after the cut: the flash as it was, the next boot */
    dead = false;
    cut_at = 0;
    int st = boot();
    const char *v = haas_fw_version(&fw);
    if (strcmp(v, OLD) != 0 && strcmp(v, NEW) != 0)
        fail_msg("%s: boots firmware '%s'", ctx, v);
    if (strcmp(v, NEW) == 0) {
        assert_int_equal(haas_fw_slot(&fw), 1);
        assert_memory_equal(areas[HAAS_FLASH_SLOT1] + FW_SLOT_HEADER_SIZE, img, img_len);
    } else {
        assert_int_equal(haas_fw_slot(&fw), 0);
    }
    (void)st;
}

static void test_power_cut_at_every_flash_step(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) { /* 0: confirmed upgrade, 1: crash loop and rollback */
        bool crash = mode == 1;
        int ops = upgrade_with_cut(0, crash);
        assert_in_range(ops, 8, 100);
        int seen_new = 0, seen_old = 0;
        for (int cut = 1; cut <= ops; cut++) {
            char ctx[64];
            snprintf(ctx, sizeof ctx, "%s, cut at op %d of %d", crash ? "rollback" : "upgrade", cut, ops);
            upgrade_with_cut(cut, crash);
            assert_true(dead);
            check_bootable(ctx);
            seen_new += strcmp(haas_fw_version(&fw), NEW) == 0;
            seen_old += strcmp(haas_fw_version(&fw), OLD) == 0;
            /* and the device finishes: new (confirmed) or, for the crash loop, old */
            for (int i = 0; i < 8; i++)
                run_once(crash);
            assert_int_equal(boot(), HAAS_FW_RUNNING);
            if (strcmp(haas_fw_version(&fw), crash ? OLD : NEW) != 0)
                fail_msg("%s: ends on '%s'", ctx, haas_fw_version(&fw));
        }
        assert_true(seen_old > 0);
        if (!crash)
            assert_true(seen_new > 0);
        print_message("    %s: a power cut at each of %d flash steps; the next boot ran old %d times, new %d times\n",
                      crash ? "crash loop and rollback" : "confirmed upgrade", ops, seen_old, seen_new);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_crc32, setup),
        cmocka_unit_test_setup(test_otadata_records, setup),
        cmocka_unit_test_setup(test_slot_headers, setup),
        cmocka_unit_test_setup(test_task_copies, setup),
        cmocka_unit_test_setup(test_boot_arguments, setup),
        cmocka_unit_test_setup(test_factory_boot_informs, setup),
        cmocka_unit_test_setup(test_upgrade_confirmed, setup),
        cmocka_unit_test_setup(test_crash_loop_rolls_back, setup),
        cmocka_unit_test_setup(test_reject_rolls_back, setup),
        cmocka_unit_test_setup(test_lost_boot_record_reports_failure, setup),
        cmocka_unit_test_setup(test_port_refusals, setup),
        cmocka_unit_test_setup(test_confirm_write_fails, setup),
        cmocka_unit_test_setup(test_verify_failures, setup),
        cmocka_unit_test_setup(test_download_failures, setup),
        cmocka_unit_test_setup(test_cut_download_resumes, setup),
        cmocka_unit_test_setup(test_burn_failures, setup),
        cmocka_unit_test_setup(test_ignored_pushes, setup),
        cmocka_unit_test_setup(test_power_cut_at_every_flash_step, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
