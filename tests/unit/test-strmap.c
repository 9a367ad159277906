/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"

static void test_basics(void **state) {
        StrMap m = STRMAP_INIT;
        int a = 1, b = 2;

        assert_null(strmap_get(&m, "a"));
        assert_null(strmap_remove(&m, "a"));
        assert_int_equal(strmap_put(&m, "a", &a), 0);
        assert_int_equal(strmap_put(&m, "b", &b), 0);
        assert_int_equal(strmap_put(&m, "a", &b), -EEXIST);
        assert_int_equal(strmap_put(&m, NULL, &b), -EINVAL);
        assert_ptr_equal(strmap_get(&m, "a"), &a);
        assert_ptr_equal(strmap_get(&m, "b"), &b);
        assert_null(strmap_get(&m, "c"));
        assert_null(strmap_get(&m, NULL));
        assert_int_equal(strmap_size(&m), 2);
        assert_ptr_equal(strmap_remove(&m, "a"), &a);
        assert_null(strmap_get(&m, "a"));
        assert_ptr_equal(strmap_get(&m, "b"), &b);
        assert_int_equal(strmap_size(&m), 1);
        /* A removed key can come back. */
        assert_int_equal(strmap_put(&m, "a", &b), 0);
        assert_ptr_equal(strmap_get(&m, "a"), &b);
        strmap_done(&m);
        assert_int_equal(strmap_size(&m), 0);
        assert_null(strmap_get(&m, "b"));
}

/* Keys are compared by content, not by pointer. */
static void test_key_content(void **state) {
        StrMap m = STRMAP_INIT;
        char k1[] = "web", k2[] = "web";
        int v = 0;

        assert_int_equal(strmap_put(&m, k1, &v), 0);
        assert_ptr_equal(strmap_get(&m, k2), &v);
        assert_int_equal(strmap_put(&m, k2, &v), -EEXIST);
        assert_ptr_equal(strmap_remove(&m, k2), &v);
        strmap_done(&m);
}

#define N 5000

/* Many keys, growing past several resizes, half removed: every lookup
 * still finds exactly what is in. */
static void test_many(void **state) {
        StrMap m = STRMAP_INIT;
        static char keys[N][16];

        for (int i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "c%d", i);
                assert_int_equal(strmap_put(&m, keys[i], keys[i]), 0);
        }
        assert_int_equal(strmap_size(&m), N);
        for (int i = 0; i < N; i += 2)
                assert_ptr_equal(strmap_remove(&m, keys[i]), keys[i]);
        assert_int_equal(strmap_size(&m), N / 2);
        for (int i = 0; i < N; i++) {
                char k[16];
                snprintf(k, sizeof(k), "c%d", i);
                if (i % 2)
                        assert_ptr_equal(strmap_get(&m, k), keys[i]);
                else
                        assert_null(strmap_get(&m, k));
        }
        assert_null(strmap_get(&m, "c5000"));
        assert_true(m.n_slots >= 16 && (m.n_slots & (m.n_slots - 1)) == 0);
        strmap_done(&m);
}

/* Register/unregister churn at a steady count (what the broker does):
 * tombstones do not pile up, the table does not grow, lookups end. */
static void test_churn(void **state) {
        StrMap m = STRMAP_INIT;
        static char keys[600][16];
        char probe[] = "probe";
        size_t slots;

        for (int i = 0; i < 500; i++) {
                snprintf(keys[i], sizeof(keys[i]), "bulk%d", i);
                assert_int_equal(strmap_put(&m, keys[i], keys[i]), 0);
        }
        slots = m.n_slots;
        for (int round = 0; round < 100000; round++) {
                assert_int_equal(strmap_put(&m, probe, probe), 0);
                assert_ptr_equal(strmap_get(&m, "probe"), probe);
                assert_ptr_equal(strmap_remove(&m, "probe"), probe);
                assert_null(strmap_get(&m, "probe"));
        }
        assert_int_equal(m.n_slots, slots);
        assert_true((m.n_items + m.n_tombstones) * 4 <= m.n_slots * 3);
        assert_int_equal(strmap_size(&m), 500);
        for (int i = 0; i < 500; i++)
                assert_ptr_equal(strmap_get(&m, keys[i]), keys[i]);
        strmap_done(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basics),
                cmocka_unit_test(test_key_content),
                cmocka_unit_test(test_many),
                cmocka_unit_test(test_churn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
