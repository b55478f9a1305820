/*
 * cmocka_shim.c - the MCU shim of cmocka (see shim/cmocka.h): runs a group
 * of tests, catches failed assertions with longjmp, prints cmocka's lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmocka.h"

static jmp_buf test_env;
static int in_test;

void print_message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void print_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void _cm_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("[   ERROR  ] --- ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n[   LINE   ] --- %s:%d: error: Failure!\n", file, line);
    if (in_test)
        longjmp(test_env, 1);
    printf("[  FAILED  ] an assertion outside a test\n");
    for (;;)
        ;
}

void _cm_int_equal(uintmax_t a, uintmax_t b, int want_equal, const char *file, int line)
{
    if ((a == b) != want_equal)
        _cm_fail(file, line, "%#llx %s %#llx", (unsigned long long)a, want_equal ? "!=" : "==",
                 (unsigned long long)b);
}

void _cm_string_equal(const char *a, const char *b, int want_equal, const char *file, int line)
{
    int equal = (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
    if (equal != want_equal)
        _cm_fail(file, line, "\"%s\" %s \"%s\"", a ? a : "(null)", want_equal ? "!=" : "==", b ? b : "(null)");
}

void _cm_memory_equal(const void *a, const void *b, size_t n, const char *file, int line)
{
    if (memcmp(a, b, n) != 0)
        _cm_fail(file, line, "%zu bytes differ", n);
}

void _cm_in_range(uintmax_t v, uintmax_t lo, uintmax_t hi, const char *file, int line)
{
    if (v < lo || v > hi)
        _cm_fail(file, line, "%llu is not within %llu..%llu", (unsigned long long)v, (unsigned long long)lo,
                 (unsigned long long)hi);
}

int _cm_run_group_tests(const char *group, const struct CMUnitTest *tests, size_t count, CMFixtureFunction gsetup,
                        CMFixtureFunction gteardown)
{
    void *gstate = NULL;
    volatile size_t failed = 0, passed = 0;
    static const char *failed_names[512];
    printf("[==========] %s: Running %zu test(s).\n", group, count);
    if (gsetup && gsetup(&gstate) != 0) {
        printf("[  FAILED  ] group setup\n");
        return (int)count;
    }
    for (size_t i = 0; i < count; i++) {
        const struct CMUnitTest *t = &tests[i];
        void *state = t->initial_state ? t->initial_state : gstate;
        volatile int ok = 1;
        printf("[ RUN      ] %s\n", t->name);
        in_test = 1;
        if (setjmp(test_env) == 0) {
            if (t->setup_func && t->setup_func(&state) != 0) {
                printf("[  ERROR   ] %s setup failed\n", t->name);
                ok = 0;
            } else {
                t->test_func(&state);
            }
        } else {
            ok = 0;
        }
        if (setjmp(test_env) == 0) {
            if (t->teardown_func && t->teardown_func(&state) != 0) {
                printf("[  ERROR   ] %s teardown failed\n", t->name);
                ok = 0;
            }
        } else {
            ok = 0;
        }
        in_test = 0;
        if (ok) {
            passed++;
            printf("[       OK ] %s\n", t->name);
        } else {
            if (failed < sizeof failed_names / sizeof failed_names[0])
                failed_names[failed] = t->name;
            failed++;
            printf("[  FAILED  ] %s\n", t->name);
        }
    }
    if (gteardown)
        gteardown(&gstate);
    printf("[==========] %s: %zu test(s) run.\n", group, count);
    printf("[  PASSED  ] %zu test(s).\n", (size_t)passed);
    if (failed) {
        printf("[  FAILED  ] %zu test(s), listed below:\n", (size_t)failed);
        for (size_t i = 0; i < failed && i < sizeof failed_names / sizeof failed_names[0]; i++)
            printf("[  FAILED  ] %s\n", failed_names[i]);
    }
    return (int)failed;
}
