/*
 * xtensa_smoke.c - a freestanding smoke run of the SDK core on an ESP8266
 * core (xtensa lx106) in qemu-system-xtensa's sim machine: no C library,
 * only the core, libgcc and the memcpy the compiler may emit (which every
 * ESP firmware has in ROM; provided here). It is also what `make
 * sdk-cross` links, so a helper the core needs and Debian's lx106 libgcc
 * lacks (__udivdi3, __umoddi3, __muldi3) is a link error there: every
 * public function is referenced below, so all of the core is linked in.
 *
 * The checks exercise the core's 64-bit number handling, the tar reader,
 * JSON and manifest reading, CRC-32 and a firmware push, and print
 * "xtensa smoke: N checks passed, M failed" through semihosting (simcall);
 * the exit code is the number failed.
 */
#include <stddef.h>
#include <stdint.h>

#include "haas_fw.h"
#include "haas_upgrade.h"
#include "haas_util.h"
#include "json_scan.h"
#include "manifest.h"
#include "private/fw_store.h"
#include "private/ota_msg.h"
#include "private/tar_reader.h"

void *memcpy(void *dst, const void *src, size_t n);
int smoke_main(void);

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* Every public call, so the link pulls the whole core in. */
__attribute__((used)) static const void *const public_calls[] = {
    (const void *)haas_boot,       (const void *)haas_start,     (const void *)haas_drive,
    (const void *)haas_confirm,    (const void *)haas_reject,    (const void *)haas_set_module,
    (const void *)haas_connected,  (const void *)haas_next_id,   (const void *)haas_app_id,
    (const void *)haas_app_version, (const void *)haas_fw_boot,  (const void *)haas_fw_attach,
    (const void *)haas_fw_confirm, (const void *)haas_fw_reject, (const void *)haas_fw_version,
    (const void *)haas_fw_slot,
};

static int sim_write(const char *buf, int len)
{
    register int a2 __asm__("a2") = 4; /* SYS_write */
    register int a3 __asm__("a3") = 1; /* stdout */
    register const char *a4 __asm__("a4") = buf;
    register int a5 __asm__("a5") = len;
    __asm__ volatile("simcall" : "+r"(a2) : "r"(a3), "r"(a4), "r"(a5) : "memory");
    return a2;
}

static void say(const char *s) { sim_write(s, (int)haas_strlen(s)); }

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    say("xtensa smoke: FAILED ");
    say(what);
    say("\n");
}

static int u64_is(uint64_t v, const char *want)
{
    char buf[32];
    haas_sb sb;
    haas_sb_init(&sb, buf, sizeof buf);
    haas_sb_u64(&sb, v);
    return sb.ok && haas_strcmp(buf, want) == 0;
}

/* ---- a one-file tar, made here ---- */

static uint8_t tar[512 * 4];
static char got_name[64];
static uint64_t got_size;
static uint8_t got_data[16];
static size_t got_len;

static int on_entry(void *user, const char *name, tar_entry_type type, uint64_t size)
{
    (void)user;
    (void)type;
    haas_strlcpy(got_name, name, sizeof got_name);
    got_size = size;
    return 0;
}

static int on_data(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len && got_len < sizeof got_data; i++)
        got_data[got_len++] = data[i];
    return 0;
}

static int on_end(void *user)
{
    (void)user;
    return 0;
}

static void octal(uint8_t *field, size_t width, uint32_t v)
{
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (uint8_t)('0' + (v & 7u));
        v >>= 3;
    }
    field[width - 1] = 0;
}

static int tar_check(void)
{
    haas_memset(tar, 0, sizeof tar);
    haas_memcpy(tar, "main.py", 7);
    octal(tar + 100, 8, 0644);
    octal(tar + 108, 8, 0);
    octal(tar + 116, 8, 0);
    octal(tar + 124, 12, 6);
    octal(tar + 136, 12, 0);
    tar[156] = '0';
    haas_memcpy(tar + 257, "ustar", 6);
    tar[263] = '0', tar[264] = '0';
    haas_memset(tar + 148, ' ', 8);
    uint32_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum += tar[i];
    octal(tar + 148, 7, sum);
    tar[155] = ' ';
    haas_memcpy(tar + 512, "print(", 6);
    static const tar_callbacks cb = {on_entry, on_data, on_end};
    static tar_reader r;
    tar_reader_init(&r, &cb, NULL);
    int rc = TAR_OK;
    for (size_t off = 0; off < sizeof tar && rc == TAR_OK; off += 100) /* in odd pieces */
        rc = tar_reader_feed(&r, tar + off, sizeof tar - off < 100 ? sizeof tar - off : 100);
    return rc == TAR_OK && tar_reader_finish(&r) == TAR_OK && haas_strcmp(got_name, "main.py") == 0 &&
           got_size == 6 && got_len == 6 && haas_memcmp(got_data, "print(", 6) == 0;
}

int smoke_main(void)
{
    say("xtensa smoke: the SDK core on an lx106\n");
    uint64_t v = 0;
    check(u64_is(18446744073709551615ull, "18446744073709551615"), "u64 max to text");
    check(u64_is(1000000000000ull, "1000000000000"), "u64 to text");
    check(u64_is(0, "0"), "zero to text");
    check(haas_parse_u64("18446744073709551615", 20, &v) && v == 18446744073709551615ull, "u64 max parsed");
    check(!haas_parse_u64("18446744073709551616", 20, &v), "u64 overflow refused");
    check(haas_parse_u64("4294967296", 10, &v) && v == 4294967296ull, "2^32 parsed");
    check(haas_percent(50, 200) == 25 && haas_percent(3u << 30, 4ull << 30) == 75, "percent");
    uint64_t big = 12345678901234567890ull;
    check(haas_u64_divmod10(&big) == 0 && big == 1234567890123456789ull, "divide by 10");
    check(fw_crc32("123456789", 9) == 0xcbf43926u, "CRC-32");
    static const char manifest[] = "{\"appName\":\"python9000\",\"version\":\"0.0.2\",\"appid\":\"8800100099990000\"}";
    manifest_fields m;
    check(manifest_read(manifest, sizeof manifest - 1, &m) == MANIFEST_OK && haas_strcmp(m.version, "0.0.2") == 0,
          "manifest.json");
    static const char push[] = "{\"code\":\"1000\",\"data\":{\"size\":4096,\"version\":\"1.1.0\",\"url\":"
                               "\"https://example.com/fw.bin\",\"signMethod\":\"Md5\",\"sign\":"
                               "\"0123456789abcdef0123456789abcdef\"},\"id\":1,\"message\":\"success\"}";
    static ota_task t;
    check(ota_parse_upgrade(push, sizeof push - 1, &t) == OTA_MSG_OK && t.size == 4096, "firmware push");
    check(tar_check(), "tar reader");
    char line[64];
    haas_sb sb;
    haas_sb_init(&sb, line, sizeof line);
    haas_sb_str(&sb, "xtensa smoke: ");
    haas_sb_u64(&sb, (uint64_t)passed);
    haas_sb_str(&sb, " checks passed, ");
    haas_sb_u64(&sb, (uint64_t)failed);
    haas_sb_str(&sb, " failed\n");
    say(line);
    return failed;
}
