/*
 * planted_failure.c - a core test with a failure planted on purpose: one
 * assertion about the core (haas_util's number formatting) that is wrong.
 * tests/mcu/run.py runs it on each target and expects the target to report
 * exactly one failed test and exit 1, proving that a failing core test on
 * the MCU fails `make test-mcu`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "haas_util.h"

static void test_right(void **state)
{
    (void)state;
    char buf[32];
    haas_sb sb;
    haas_sb_init(&sb, buf, sizeof buf);
    haas_sb_i64(&sb, 1234567890123LL);
    assert_string_equal(buf, "1234567890123");
}

static void test_planted_failure(void **state)
{
    (void)state;
    char buf[32];
    haas_sb sb;
    haas_sb_init(&sb, buf, sizeof buf);
    haas_sb_i64(&sb, 42);
    assert_string_equal(buf, "43"); /* planted: wrong on purpose */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right),
        cmocka_unit_test(test_planted_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
