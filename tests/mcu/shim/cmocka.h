/*
 * cmocka.h (MCU shim) - the part of cmocka's API the SDK's unit tests use,
 * for running them on a microcontroller (tests/mcu): test groups with
 * setup and teardown, the assert_* macros, fail, fail_msg, print_message
 * and print_error. A failed assertion longjmps out of the test, as cmocka
 * does. The summary lines are cmocka's, so tests/run.py counts them the
 * same way: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), ...".
 */
#ifndef MCU_CMOCKA_SHIM_H
#define MCU_CMOCKA_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
    CMFixtureFunction setup_func;
    CMFixtureFunction teardown_func;
    void *initial_state;
};

#define cmocka_unit_test(f) {#f, f, NULL, NULL, NULL}
#define cmocka_unit_test_setup(f, setup) {#f, f, setup, NULL, NULL}
#define cmocka_unit_test_teardown(f, teardown) {#f, f, NULL, teardown, NULL}
#define cmocka_unit_test_setup_teardown(f, setup, teardown) {#f, f, setup, teardown, NULL}
#define cmocka_run_group_tests(tests, gsetup, gteardown)                                                         \
    _cm_run_group_tests(#tests, tests, sizeof(tests) / sizeof((tests)[0]), gsetup, gteardown)

/* Runs the tests; returns how many failed. */
int _cm_run_group_tests(const char *group, const struct CMUnitTest *tests, size_t count, CMFixtureFunction gsetup,
                        CMFixtureFunction gteardown);

/* Fails the running test (never returns). */
void _cm_fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
void _cm_int_equal(uintmax_t a, uintmax_t b, int want_equal, const char *file, int line);
void _cm_string_equal(const char *a, const char *b, int want_equal, const char *file, int line);
void _cm_memory_equal(const void *a, const void *b, size_t n, const char *file, int line);
void _cm_in_range(uintmax_t v, uintmax_t lo, uintmax_t hi, const char *file, int line);
void print_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define assert_true(c) ((c) ? (void)0 : _cm_fail(__FILE__, __LINE__, "%s is false", #c))
#define assert_false(c) (!(c) ? (void)0 : _cm_fail(__FILE__, __LINE__, "%s is true", #c))
#define assert_non_null(p) ((p) != NULL ? (void)0 : _cm_fail(__FILE__, __LINE__, "%s is NULL", #p))
#define assert_null(p) ((p) == NULL ? (void)0 : _cm_fail(__FILE__, __LINE__, "%s is not NULL", #p))
#define assert_ptr_equal(a, b)                                                                                   \
    ((const void *)(a) == (const void *)(b) ? (void)0 : _cm_fail(__FILE__, __LINE__, "%s != %s", #a, #b))
#define assert_int_equal(a, b) _cm_int_equal((uintmax_t)(a), (uintmax_t)(b), 1, __FILE__, __LINE__)
#define assert_int_not_equal(a, b) _cm_int_equal((uintmax_t)(a), (uintmax_t)(b), 0, __FILE__, __LINE__)
#define assert_string_equal(a, b) _cm_string_equal((const char *)(a), (const char *)(b), 1, __FILE__, __LINE__)
#define assert_string_not_equal(a, b) _cm_string_equal((const char *)(a), (const char *)(b), 0, __FILE__, __LINE__)
#define assert_memory_equal(a, b, n) _cm_memory_equal((a), (b), (size_t)(n), __FILE__, __LINE__)
#define assert_in_range(v, lo, hi) _cm_in_range((uintmax_t)(v), (uintmax_t)(lo), (uintmax_t)(hi), __FILE__, __LINE__)
#define fail() _cm_fail(__FILE__, __LINE__, "fail()")
#define fail_msg(...) _cm_fail(__FILE__, __LINE__, __VA_ARGS__)

#endif
