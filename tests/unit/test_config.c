/* Settings from options and configuration files, and password files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditor/config.h"
#include "auditor/password.h"

static char *write_temporary(const char *content, size_t length)
{
    char *path = strdup("/tmp/delegaudit-test-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, length), (ssize_t)length);
    close(fd);
    return path;
}

static void settings_defaults(void **state)
{
    struct da_settings settings;

    da_settings_init(&settings);
    assert_int_equal(settings.page_size, 1000);
    assert_int_equal(settings.connect_timeout, 10);
    assert_int_equal(settings.operation_timeout, 120);
    assert_int_equal(settings.keep, 30);
    assert_null(settings.uri);
    assert_false(settings.simple_bind);
    da_settings_clear(&settings);
}

static void settings_reject_invalid_numbers(void **state)
{
    static const struct {
        const char *name;
        const char *value;
    } cases[] = {
        {"page-size", "0"},      {"page-size", "100001"}, {"page-size", "10x"},
        {"page-size", ""},       {"timeout", "-1"},       {"connect-timeout", "0"},
        {"keep", "-3"},          {"range-size", "abc"},   {"timeout", "99999999999999999999"},
    };
    struct da_settings settings;

    da_settings_init(&settings);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct da_error err = {0};
        int rc = da_settings_set(&settings, cases[i].name, cases[i].value, "--test", &err);

        if (rc != DA_ERR_USAGE)
            fail_msg("%s=\"%s\" returned %d instead of a usage error", cases[i].name,
                     cases[i].value, rc);
        assert_non_null(strstr(err.message, "--test"));
    }
    assert_int_equal(settings.page_size, 1000);
    da_settings_clear(&settings);
}

static void settings_reject_unknown_mechanism(void **state)
{
    struct da_settings settings;
    struct da_error err = {0};

    da_settings_init(&settings);
    assert_int_equal(da_settings_set(&settings, "mech", "DIGEST-MD5", "-Y", &err), DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "DIGEST-MD5"));
    assert_int_equal(da_settings_set(&settings, "mech", "gssapi", "-Y", &err), 0);
    da_settings_clear(&settings);
}

static void config_file_applies_settings(void **state)
{
    static const char content[] = "# scheduled audit of dc1\n"
                                  "uri = ldaps://dc1.contoso.test\n"
                                  "  base=OU=Service Accounts,DC=contoso,DC=test  \n"
                                  "\n"
                                  "simple-bind = yes\n"
                                  "binddn = CN=audit,CN=Users,DC=contoso,DC=test\n"
                                  "password-file = /etc/delegaudit/password\n"
                                  "page-size = 500\n"
                                  "keep = 0\n"
                                  "starttls = no\n";
    char *path = write_temporary(content, sizeof(content) - 1);
    struct da_settings settings;
    struct da_error err = {0};

    da_settings_init(&settings);
    assert_int_equal(da_settings_load_file(&settings, path, &err), 0);
    assert_string_equal(settings.uri, "ldaps://dc1.contoso.test");
    assert_string_equal(settings.base, "OU=Service Accounts,DC=contoso,DC=test");
    assert_true(settings.simple_bind);
    assert_string_equal(settings.bind_dn, "CN=audit,CN=Users,DC=contoso,DC=test");
    assert_string_equal(settings.password_file, "/etc/delegaudit/password");
    assert_int_equal(settings.page_size, 500);
    assert_int_equal(settings.keep, 0);
    assert_false(settings.starttls);
    da_settings_clear(&settings);
    unlink(path);
    free(path);
}

static void config_file_errors_name_line(void **state)
{
    static const struct {
        const char *content;
        const char *expected;
    } cases[] = {
        {"uri = ldaps://dc1\nfrobnicate = 1\n", ":2: unknown setting \"frobnicate\""},
        {"uri ldaps://dc1\n", ":1: expected \"name = value\""},
        {"password = secret\n", ":1: passwords are not read"},
        {"page-size = many\n", ":1: invalid value \"many\""},
        {"json = perhaps\n", ":1: invalid value \"perhaps\""},
        {"uri =\n", ":1: the value is empty"},
        {"base = \"OU=x\n", ":1: invalid quoted value"},
        {"base = \"OU=x\" trailing\n", ":1: invalid quoted value"},
        {"uri = # only a comment\n", ":1: the value is empty"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temporary(cases[i].content, strlen(cases[i].content));
        struct da_settings settings;
        struct da_error err = {0};

        da_settings_init(&settings);
        assert_int_equal(da_settings_load_file(&settings, path, &err), DA_ERR_USAGE);
        if (strstr(err.message, cases[i].expected) == NULL || strstr(err.message, path) == NULL)
            fail_msg("case %zu: message \"%s\" lacks \"%s\" or the path", i, err.message,
                     cases[i].expected);
        da_settings_clear(&settings);
        unlink(path);
        free(path);
    }
}

static void config_file_comments_and_quotes(void **state)
{
    static const char content[] = "state = /var/lib/delegaudit   # hourly snapshots\n"
                                  "base = \"OU=Team #1,DC=contoso,DC=test\"  # quoted\n"
                                  "binddn = CN=svc#audit,DC=contoso,DC=test\n"
                                  "uri=ldaps://dc1.contoso.test\t# the DC\n";
    char *path = write_temporary(content, sizeof(content) - 1);
    struct da_settings settings;
    struct da_error err = {0};

    da_settings_init(&settings);
    assert_int_equal(da_settings_load_file(&settings, path, &err), 0);
    assert_string_equal(settings.state_dir, "/var/lib/delegaudit");
    assert_string_equal(settings.base, "OU=Team #1,DC=contoso,DC=test");
    assert_string_equal(settings.bind_dn, "CN=svc#audit,DC=contoso,DC=test");
    assert_string_equal(settings.uri, "ldaps://dc1.contoso.test");
    da_settings_clear(&settings);
    unlink(path);
    free(path);
}

static void config_file_missing(void **state)
{
    struct da_settings settings;
    struct da_error err = {0};

    da_settings_init(&settings);
    assert_int_equal(da_settings_load_file(&settings, "/nonexistent/delegaudit.conf", &err),
                     DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "/nonexistent/delegaudit.conf"));
    da_settings_clear(&settings);
}

static void password_file_trailing_newline(void **state)
{
    static const struct {
        const char *content;
        const char *expected;
    } cases[] = {
        {"Secret1", "Secret1"},
        {"Secret1\n", "Secret1"},
        {"Secret1\r\n", "Secret1"},
        {"Secret1\n\n", "Secret1\n"},
        {" spaced ", " spaced "},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temporary(cases[i].content, strlen(cases[i].content));
        char *password = NULL;
        struct da_error err = {0};

        assert_int_equal(da_password_read_file(path, &password, &err), 0);
        assert_string_equal(password, cases[i].expected);
        da_password_free(password);
        unlink(path);
        free(path);
    }
}

static void password_file_rejects_bad(void **state)
{
    char big[2000];
    static const char with_nul[] = {'a', '\0', 'b'};
    char *paths[3];
    char *password = NULL;
    struct da_error err = {0};

    memset(big, 'x', sizeof(big));
    paths[0] = write_temporary("\n", 1);
    paths[1] = write_temporary(with_nul, sizeof(with_nul));
    paths[2] = write_temporary(big, sizeof(big));

    assert_int_equal(da_password_read_file(paths[0], &password, &err), DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "is empty"));
    assert_int_equal(da_password_read_file(paths[1], &password, &err), DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "NUL"));
    assert_int_equal(da_password_read_file(paths[2], &password, &err), DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "longer than"));
    assert_int_equal(da_password_read_file("/nonexistent/password", &password, &err),
                     DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "/nonexistent/password"));
    assert_null(password);

    for (size_t i = 0; i < 3; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settings_defaults),
        cmocka_unit_test(settings_reject_invalid_numbers),
        cmocka_unit_test(settings_reject_unknown_mechanism),
        cmocka_unit_test(config_file_applies_settings),
        cmocka_unit_test(config_file_errors_name_line),
        cmocka_unit_test(config_file_comments_and_quotes),
        cmocka_unit_test(config_file_missing),
        cmocka_unit_test(password_file_trailing_newline),
        cmocka_unit_test(password_file_rejects_bad),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
