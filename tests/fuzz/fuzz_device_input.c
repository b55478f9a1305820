/*
 * fuzz_device_input.c - libFuzzer target for what a device or the network
 * hands the device SDK: JSON documents (the push, manifest.json) with the
 * push and manifest rules, and tar streams fed in chunks of varying size.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined; run
 * by tests/run.py for a bounded time on the seed corpus in tests/corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alink.h"
#include "haas_util.h"
#include "json_scan.h"
#include "manifest.h"
#include "private/tar_reader.h"

static int on_entry(void *u, const char *name, tar_entry_type type, uint64_t size)
{
    (void)u, (void)type, (void)size;
    return name[0] == '\0'; /* the reader never reports an empty name */
}

static int on_data(void *u, const uint8_t *data, size_t len)
{
    (void)u, (void)data, (void)len;
    return 0;
}

static int on_end(void *u)
{
    (void)u;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* JSON and the push rules */
    const char *doc = (const char *)data;
    json_valid(doc, size);
    json_value v;
    char out[256];
    static const char *const paths[] = {"id", "params.app[0].url", "params.app[3].version", "a.b[0][1].c", "[0]"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (json_find(doc, size, paths[i], &v))
            json_string(&v, out, sizeof out);
    alink_push push;
    alink_parse_push(doc, size, "8800100099990000", "0.0.1", &push);

    /* the manifest rules: a plain object passes as a valid one */
    json_plain plain = json_plain_object(doc, size);
    if (plain == JSON_PLAIN_OK && (!json_valid(doc, size) || !haas_utf8_valid(data, size)))
        __builtin_trap();
    manifest_fields m;
    manifest_read(doc, size, &m);

    /* tar, in chunks whose sizes come from the data itself */
    static const tar_callbacks cb = {on_entry, on_data, on_end};
    tar_reader t;
    tar_reader_init(&t, &cb, NULL);
    size_t pos = 0, step = size ? (size_t)data[0] % 700 + 1 : 1;
    while (pos < size) {
        size_t n = size - pos < step ? size - pos : step;
        if (tar_reader_feed(&t, data + pos, n) != TAR_OK)
            break;
        pos += n;
    }
    tar_reader_finish(&t);
    return 0;
}
