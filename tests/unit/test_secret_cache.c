/*
 * test_secret_cache.c - cmocka unit tests of the broker plugin's memory of
 * device secrets (server/plugin/secret_cache.c): kept and found again,
 * replaced, forgotten all at once, the limit, growth past the first table,
 * and a secret too long for the caller's buffer.
 *
 * Built by `make unit-tests` (test_secret_cache_SRC in the Makefile) as
 * build/tests/test_secret_cache; run by tests/run.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "secret_cache.h"

static void test_kept_and_found(void **state)
{
    (void)state;
    struct haas_secret_cache *c = haas_secret_cache_new(10);
    char secret[65];
    bool enabled = true;
    assert_false(haas_secret_cache_get(c, "a1Product01", "dev-1", secret, sizeof secret, &enabled));
    assert_true(haas_secret_cache_put(c, "a1Product01", "dev-1", "s3cret-1", false));
    assert_true(haas_secret_cache_put(c, "a1Product02", "dev-1", "s3cret-2", true)); /* same name, other product */
    assert_true(haas_secret_cache_get(c, "a1Product01", "dev-1", secret, sizeof secret, &enabled));
    assert_string_equal(secret, "s3cret-1");
    assert_false(enabled);
    assert_true(haas_secret_cache_get(c, "a1Product02", "dev-1", secret, sizeof secret, &enabled));
    assert_string_equal(secret, "s3cret-2");
    assert_true(enabled);
    /* the key is the pair, not the text of both run together */
    assert_false(haas_secret_cache_get(c, "a1Product0", "1dev-1", secret, sizeof secret, &enabled));
    assert_false(haas_secret_cache_get(c, "a1Product01", "dev-", secret, sizeof secret, &enabled));
    /* replaced, not added */
    assert_true(haas_secret_cache_put(c, "a1Product01", "dev-1", "new-secret", true));
    assert_int_equal(haas_secret_cache_count(c), 2);
    assert_true(haas_secret_cache_get(c, "a1Product01", "dev-1", secret, sizeof secret, &enabled));
    assert_string_equal(secret, "new-secret");
    assert_true(enabled);
    /* a buffer too small for the secret and its NUL: not found */
    char small[10];
    assert_false(haas_secret_cache_get(c, "a1Product01", "dev-1", small, sizeof small, &enabled));
    char fits[11];
    assert_true(haas_secret_cache_get(c, "a1Product01", "dev-1", fits, sizeof fits, &enabled));
    assert_string_equal(fits, "new-secret");
    haas_secret_cache_free(c);
}

static void test_reset_forgets_all(void **state)
{
    (void)state;
    struct haas_secret_cache *c = haas_secret_cache_new(10);
    char secret[65];
    bool enabled;
    haas_secret_cache_reset(c); /* empty: nothing to do */
    assert_true(haas_secret_cache_put(c, "a1Product01", "dev-1", "s1", true));
    assert_true(haas_secret_cache_put(c, "a1Product01", "dev-2", "s2", true));
    haas_secret_cache_reset(c);
    assert_int_equal(haas_secret_cache_count(c), 0);
    assert_false(haas_secret_cache_get(c, "a1Product01", "dev-1", secret, sizeof secret, &enabled));
    assert_false(haas_secret_cache_get(c, "a1Product01", "dev-2", secret, sizeof secret, &enabled));
    assert_true(haas_secret_cache_put(c, "a1Product01", "dev-2", "s2b", true)); /* usable again */
    assert_true(haas_secret_cache_get(c, "a1Product01", "dev-2", secret, sizeof secret, &enabled));
    assert_string_equal(secret, "s2b");
    haas_secret_cache_free(c);
    haas_secret_cache_free(NULL);
    haas_secret_cache_reset(NULL);
}

/* More devices than the first table holds, up to the limit; the rest are
 * not kept, and all that were are found. */
static void test_grows_up_to_its_limit(void **state)
{
    (void)state;
    enum { MAX = 5000 };
    struct haas_secret_cache *c = haas_secret_cache_new(MAX);
    char dn[32], want[32], secret[65];
    bool enabled;
    for (int i = 0; i < MAX + 10; i++) {
        snprintf(dn, sizeof dn, "dev-%05d", i);
        snprintf(want, sizeof want, "secret-%05d", i);
        assert_int_equal(haas_secret_cache_put(c, "a1Product01", dn, want, i % 2 == 0), i < MAX);
    }
    assert_int_equal(haas_secret_cache_count(c), MAX);
    for (int i = 0; i < MAX + 10; i++) {
        snprintf(dn, sizeof dn, "dev-%05d", i);
        snprintf(want, sizeof want, "secret-%05d", i);
        bool found = haas_secret_cache_get(c, "a1Product01", dn, secret, sizeof secret, &enabled);
        assert_int_equal(found, i < MAX);
        if (found) {
            assert_string_equal(secret, want);
            assert_int_equal(enabled, i % 2 == 0);
        }
    }
    /* full, but one already kept is still replaced */
    assert_true(haas_secret_cache_put(c, "a1Product01", "dev-00007", "changed", false));
    assert_true(haas_secret_cache_get(c, "a1Product01", "dev-00007", secret, sizeof secret, &enabled));
    assert_string_equal(secret, "changed");
    haas_secret_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_and_found),
        cmocka_unit_test(test_reset_forgets_all),
        cmocka_unit_test(test_grows_up_to_its_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
