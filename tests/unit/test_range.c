/* Ranged retrieval: parsing of attribute descriptions and the fetch loop,
 * driven by hand-written responses shaped like those of a Windows DC
 * (MaxValRange 1500) and by responses of a misbehaving server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap/range.h"

#define ATTR "msDS-AllowedToDelegateTo"

static void parse_accepts_ranges(void **state)
{
    struct da_range range;

    assert_int_equal(da_range_parse(ATTR ";range=0-1499", ATTR, &range), 1);
    assert_int_equal(range.low, 0);
    assert_int_equal(range.high, 1499);
    assert_false(range.last);

    assert_int_equal(da_range_parse("msds-allowedtodelegateto;Range=1500-*", ATTR, &range), 1);
    assert_int_equal(range.low, 1500);
    assert_true(range.last);

    assert_int_equal(da_range_parse(ATTR, ATTR, &range), 0);
    assert_int_equal(da_range_parse("MSDS-ALLOWEDTODELEGATETO", ATTR, &range), 0);
}

static void parse_rejects_malformed(void **state)
{
    static const char *const malformed[] = {
        ATTR ";range=",        ATTR ";range=-5",      ATTR ";range=5-",
        ATTR ";range=10-9",    ATTR ";range=0-1499x", ATTR ";range=0-*x",
        ATTR ";range=a-b",     ATTR ";range=99999999999999999999999-*",
        ATTR ";range=+1-5",
    };
    struct da_range range;

    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        int kind = da_range_parse(malformed[i], ATTR, &range);

        if (kind != -2)
            fail_msg("\"%s\" parsed as %d instead of -2", malformed[i], kind);
    }
}

static void parse_other_attribute(void **state)
{
    struct da_range range;

    assert_int_equal(da_range_parse("servicePrincipalName", ATTR, &range), -1);
    assert_int_equal(da_range_parse(ATTR "X", ATTR, &range), -1);
    assert_int_equal(da_range_parse(ATTR ";binary", ATTR, &range), -1);
}

/* A scripted server: each response gives the description and value count
 * for the next request, and records the low bound requested. */
struct answer {
    const char *desc; /* NULL: attribute absent */
    unsigned count;
};

struct script {
    const struct answer *answers;
    size_t answer_count;
    size_t next;
    unsigned long requested[16];
    unsigned value_serial;
};

static int scripted_fetch(void *context, const char *attr, unsigned long low, char **returned_desc,
                          struct da_strv *values, struct da_error *err)
{
    struct script *script = context;
    const struct answer *answer;

    if (script->next >= script->answer_count)
        fail_msg("the loop requested range %lu after the script ended", low);
    script->requested[script->next] = low;
    answer = &script->answers[script->next++];

    *returned_desc = answer->desc != NULL ? strdup(answer->desc) : NULL;
    for (unsigned i = 0; i < answer->count; i++) {
        char value[64];

        snprintf(value, sizeof(value), "cifs/host-%u.contoso.test", script->value_serial++);
        assert_int_equal(da_strv_append(values, value), 0);
    }
    return 0;
}

static void fill_values(struct da_strv *values, unsigned count, struct script *script)
{
    for (unsigned i = 0; i < count; i++) {
        char value[64];

        snprintf(value, sizeof(value), "cifs/host-%u.contoso.test", script->value_serial++);
        assert_int_equal(da_strv_append(values, value), 0);
    }
}

static void collect_windows_ranges(void **state)
{
    /* 3,200 values on a Windows DC: 0-1499, 1500-2999, 3000-*. */
    static const struct answer answers[] = {
        {ATTR ";range=1500-2999", 1500},
        {ATTR ";range=3000-*", 200},
    };
    struct script script = {answers, 2, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 1500, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-1499", &values, scripted_fetch,
                                      &script, &err), 0);
    assert_int_equal(values.count, 3200);
    assert_int_equal(script.next, 2);
    assert_int_equal(script.requested[0], 1500);
    assert_int_equal(script.requested[1], 3000);
    assert_string_equal(values.items[0], "cifs/host-0.contoso.test");
    assert_string_equal(values.items[3199], "cifs/host-3199.contoso.test");
    da_strv_clear(&values);
}

static void collect_final_range_empty(void **state)
{
    /* Exactly 1,500 values: AD may close with an empty "1500-*" range. */
    static const struct answer answers[] = {{ATTR ";range=1500-*", 0}};
    struct script script = {answers, 1, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 1500, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-1499", &values, scripted_fetch,
                                      &script, &err), 0);
    assert_int_equal(values.count, 1500);
    da_strv_clear(&values);
}

static void collect_without_range(void **state)
{
    struct script script = {NULL, 0, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 3, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR, &values, scripted_fetch, &script, &err), 0);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-*", &values, scripted_fetch, &script,
                                      &err), 0);
    assert_int_equal(script.next, 0);
    assert_int_equal(values.count, 3);
    da_strv_clear(&values);
}

static void collect_rejects_no_progress(void **state)
{
    /* A server that responds to a non-final range without values would make
     * a naive loop request the same range forever. */
    static const struct answer answers[] = {{ATTR ";range=1500-2999", 0}};
    struct script script = {answers, 1, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 1500, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-1499", &values, scripted_fetch,
                                      &script, &err), DA_ERR_DIRECTORY);
    assert_non_null(strstr(err.message, "no progress"));
    assert_int_equal(script.next, 1);
    da_strv_clear(&values);
}

static void collect_rejects_repeated_range(void **state)
{
    static const struct answer answers[] = {{ATTR ";range=0-1499", 1500}};
    struct script script = {answers, 1, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 1500, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-1499", &values, scripted_fetch,
                                      &script, &err), DA_ERR_DIRECTORY);
    assert_non_null(strstr(err.message, "does not start at 1500"));
    da_strv_clear(&values);
}

static void collect_rejects_missing_answer(void **state)
{
    static const struct answer answers[] = {{NULL, 0}};
    struct script script = {answers, 1, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 1500, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-1499", &values, scripted_fetch,
                                      &script, &err), DA_ERR_DIRECTORY);
    assert_non_null(strstr(err.message, "no values"));
    da_strv_clear(&values);
}

static void collect_rejects_plain_answer(void **state)
{
    /* A follow-up response without a range would repeat every value. */
    static const struct answer answers[] = {{ATTR, 1500}};
    struct script script = {answers, 1, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    fill_values(&values, 1500, &script);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=0-1499", &values, scripted_fetch,
                                      &script, &err), DA_ERR_DIRECTORY);
    assert_non_null(strstr(err.message, "not a range"));
    da_strv_clear(&values);
}

static void collect_rejects_first_not_zero(void **state)
{
    struct script script = {NULL, 0, 0, {0}, 0};
    struct da_strv values = {0};
    struct da_error err = {0};

    assert_int_equal(da_range_collect(ATTR, ATTR ";range=5-9", &values, scripted_fetch, &script,
                                      &err), DA_ERR_DIRECTORY);
    assert_int_equal(da_range_collect(ATTR, ATTR ";range=9-5", &values, scripted_fetch, &script,
                                      &err), DA_ERR_DIRECTORY);
    assert_int_equal(script.next, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_ranges),
        cmocka_unit_test(parse_rejects_malformed),
        cmocka_unit_test(parse_other_attribute),
        cmocka_unit_test(collect_windows_ranges),
        cmocka_unit_test(collect_final_range_empty),
        cmocka_unit_test(collect_without_range),
        cmocka_unit_test(collect_rejects_no_progress),
        cmocka_unit_test(collect_rejects_repeated_range),
        cmocka_unit_test(collect_rejects_missing_answer),
        cmocka_unit_test(collect_rejects_plain_answer),
        cmocka_unit_test(collect_rejects_first_not_zero),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
