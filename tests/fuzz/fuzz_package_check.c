/*
 * fuzz_package_check.c - libFuzzer target for upload validation: any bytes
 * as an uploaded package, checked by package_check() (libarchive) with small
 * limits. It must give a verdict, never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "package_check.h"

static char path[64];

static void remove_file(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/haas-fuzz-package-%d", (int)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    package_limits limits = {1 << 20, 64, 50};
    package_verdict v;
    int rc = package_check(path, (int64_t)size, &limits, "python9000", "8800100099990000", "0.0.2", &v);
    if (rc == 0 && v.code)
        abort(); /* accepted with an error code: inconsistent */
    if (rc != 0 && !v.code)
        abort(); /* refused without saying why */
    return 0;
}
