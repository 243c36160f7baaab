/* Unit tests of snapshot documents: the JSON round trip, validation of
 * damaged files (fixtures in tests/data/snapshots) and atomic writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auditor/snapshot.h"

#define FIXTURE_DIR DA_TEST_DATA_DIR "/snapshots"

#define GUID_A "01234567-89ab-4cde-8f01-23456789abcd"
#define GUID_B "f0e1d2c3-b4a5-4697-8899-aabbccddeeff"

/* 2^53 - 1, the largest USN a snapshot holds. */
#define MAX_USN 9007199254740991ull

/* ---- Helpers ----------------------------------------------------------------------------- */

static char *path_in(const char *dir, const char *name)
{
    size_t length = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(length);

    assert_non_null(path);
    snprintf(path, length, "%s/%s", dir, name);
    return path;
}

static void remove_tree(const char *path)
{
    struct stat info;
    DIR *stream = NULL;
    struct dirent *entry = NULL;

    if (lstat(path, &info) != 0)
        return;
    if (!S_ISDIR(info.st_mode)) {
        unlink(path);
        return;
    }
    stream = opendir(path);
    if (stream != NULL) {
        while ((entry = readdir(stream)) != NULL) {
            char *child = NULL;

            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                continue;
            child = path_in(path, entry->d_name);
            remove_tree(child);
            free(child);
        }
        closedir(stream);
    }
    rmdir(path);
}

static int make_temp_dir(void **state)
{
    char *dir = strdup("/tmp/delegaudit-test-snapshot-XXXXXX");

    if (dir == NULL || mkdtemp(dir) == NULL) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int remove_temp_dir(void **state)
{
    remove_tree(*state);
    free(*state);
    return 0;
}

/* Reads a whole file; the result is NUL-terminated and *length excludes it. */
static char *read_text(const char *path, size_t *length)
{
    FILE *file = fopen(path, "rb");
    char *text = NULL;
    long size;

    assert_non_null(file);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    size = ftell(file);
    assert_true(size >= 0);
    rewind(file);
    text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    text[size] = '\0';
    fclose(file);
    if (length != NULL)
        *length = (size_t)size;
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "wb");

    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

/* Counts directory entries other than . and .., to find left-over
 * temporary files. */
static size_t count_entries(const char *dir)
{
    DIR *stream = opendir(dir);
    struct dirent *entry = NULL;
    size_t count = 0;

    assert_non_null(stream);
    while ((entry = readdir(stream)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            count++;
    }
    closedir(stream);
    return count;
}

static void assert_message_contains(const struct da_error *err, const char *text)
{
    if (strstr(err->message, text) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", err->message, text);
}

static char *copy(const char *text)
{
    char *result = strdup(text);

    assert_non_null(result);
    return result;
}

static void append(struct da_strv *strv, const char *value)
{
    assert_int_equal(da_strv_append(strv, value), 0);
}

static void add_account(struct da_snapshot *snapshot, const char *guid, enum da_account_kind kind,
                        const char *dn, const char *sid, const char *sam, uint32_t uac,
                        uint64_t usn)
{
    struct da_account account = {0};

    account.guid = copy(guid);
    account.dn = copy(dn);
    account.sid = sid != NULL ? copy(sid) : NULL;
    account.sam_account_name = sam != NULL ? copy(sam) : NULL;
    account.kind = kind;
    account.user_account_control = uac;
    account.when_changed = copy("20261204194500.0Z");
    account.usn_changed = usn;
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
}

/* Builds a snapshot with every kind of account, both kinds of krbtgt
 * account, resource-based delegation SIDs and strings that need escaping.
 * Accounts are added out of GUID order. */
static struct da_snapshot *build_rich_snapshot(void)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_krbtgt krbtgt = {0};
    struct da_account *account = NULL;

    assert_non_null(snapshot);
    snapshot->poll.time = copy("2026-12-04T19:51:00Z");
    snapshot->poll.dc_host = copy("dc1.example.test");
    snapshot->poll.uri = copy("ldaps://dc1.example.test:636");
    snapshot->poll.invocation_id = copy("6f1c2a4e-9b3d-4c5e-8f7a-1b2c3d4e5f60");
    snapshot->poll.highest_committed_usn = MAX_USN;
    snapshot->poll.base_dn = copy("DC=example,DC=test");
    snapshot->poll.domain_sid = copy("S-1-5-21-1111111111-2222222222-3333333333");
    snapshot->poll.complete = true;

    krbtgt.dn = copy("CN=krbtgt,CN=Users,DC=example,DC=test");
    krbtgt.sid = copy("S-1-5-21-1111111111-2222222222-3333333333-502");
    krbtgt.sam_account_name = copy("krbtgt");
    append(&krbtgt.service_principal_names, "kadmin/changepw");
    assert_int_equal(da_snapshot_add_krbtgt(snapshot, &krbtgt), 0);

    krbtgt.dn = copy("CN=krbtgt_24680,CN=Users,DC=example,DC=test");
    krbtgt.sid = copy("S-1-5-21-1111111111-2222222222-3333333333-1601");
    krbtgt.sam_account_name = copy("krbtgt_24680");
    krbtgt.read_only_dc = true;
    assert_int_equal(da_snapshot_add_krbtgt(snapshot, &krbtgt), 0);

    add_account(snapshot, "ffffffff-ffff-4fff-bfff-ffffffffffff", DA_KIND_USER,
                /* "Ünïcødé 用户" in UTF-8, split where a letter follows an escape. */
                "CN=Smith\\, John \"JS\",OU=\xc3\x9c"
                "n\xc3\xaf"
                "c\xc3\xb8"
                "d\xc3\xa9 "
                "\xe7\x94\xa8\xe6\x88\xb7,DC=example,DC=test",
                "S-1-5-21-1111111111-2222222222-3333333333-1104",
                "tab\there\nnew line\x01\x1f\x7f \\end\\", DA_UAC_TRUSTED_FOR_DELEGATION, 0);
    account = &snapshot->accounts[snapshot->account_count - 1];
    append(&account->service_principal_names, "HTTP/web.example.test:8443");
    append(&account->service_principal_names, "");
    append(&account->service_principal_names, "a\\b,\"c\"");
    append(&account->service_principal_names, "emoji \xf0\x9f\x99\x82");

    add_account(snapshot, GUID_B, DA_KIND_COMPUTER, "CN=WEB01,OU=Servers,DC=example,DC=test",
                "S-1-5-21-1111111111-2222222222-3333333333-1105", "WEB01$", 0xffffffffu, MAX_USN);
    account = &snapshot->accounts[snapshot->account_count - 1];
    append(&account->allowed_to_delegate_to, "cifs/fs01.example.test");
    append(&account->allowed_to_delegate_to, "cifs/FS01");

    add_account(snapshot, GUID_A, DA_KIND_GMSA, "CN=svc-app,CN=Managed Service Accounts,DC=x", NULL,
                NULL, DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, 1);
    account = &snapshot->accounts[snapshot->account_count - 1];
    free(account->when_changed);
    account->when_changed = copy("");

    add_account(snapshot, "00000000-0000-4000-8000-000000000000", DA_KIND_MSA, "CN=msa,DC=x",
                "S-1-5-21-1-2-3-1200", "msa$", 0, 42);
    account = &snapshot->accounts[snapshot->account_count - 1];
    account->has_allowed_to_act = true;
    append(&account->allowed_to_act, "S-1-5-21-1111111111-2222222222-3333333333-1105");
    append(&account->allowed_to_act, "S-1-5-21-1111111111-2222222222-3333333333-1106");
    append(&account->allowed_to_act, "S-1-1-0");

    add_account(snapshot, "7fffffff-0000-4000-8000-000000000000", DA_KIND_INETORGPERSON,
                "CN=person,DC=x", "S-1-5-21-1-2-3-1300", "person", 0, 43);
    account = &snapshot->accounts[snapshot->account_count - 1];
    /* The attribute is present but its descriptor held no allow entry. */
    account->has_allowed_to_act = true;

    add_account(snapshot, "80000000-0000-4000-8000-000000000000", DA_KIND_OTHER, "CN=other,DC=x",
                "S-1-5-21-1-2-3-1400", "other", DA_UAC_NOT_DELEGATED, 44);
    return snapshot;
}

static void assert_same_string(const char *expected, const char *actual)
{
    if (expected == NULL) {
        assert_null(actual);
        return;
    }
    assert_non_null(actual);
    assert_string_equal(expected, actual);
}

static void assert_same_strv(const struct da_strv *expected, const struct da_strv *actual)
{
    assert_int_equal(expected->count, actual->count);
    for (size_t i = 0; i < expected->count; i++)
        assert_string_equal(expected->items[i], actual->items[i]);
}

static void assert_same_snapshot(const struct da_snapshot *expected,
                                 const struct da_snapshot *actual)
{
    assert_same_string(expected->poll.time, actual->poll.time);
    assert_same_string(expected->poll.dc_host, actual->poll.dc_host);
    assert_same_string(expected->poll.uri, actual->poll.uri);
    assert_same_string(expected->poll.invocation_id, actual->poll.invocation_id);
    assert_true(expected->poll.highest_committed_usn == actual->poll.highest_committed_usn);
    assert_same_string(expected->poll.base_dn, actual->poll.base_dn);
    assert_same_string(expected->poll.domain_sid, actual->poll.domain_sid);
    assert_int_equal(expected->poll.complete, actual->poll.complete);

    assert_int_equal(expected->krbtgt_count, actual->krbtgt_count);
    for (size_t i = 0; i < expected->krbtgt_count; i++) {
        const struct da_krbtgt *left = &expected->krbtgts[i];
        const struct da_krbtgt *right = &actual->krbtgts[i];

        assert_same_string(left->dn, right->dn);
        assert_same_string(left->sid, right->sid);
        assert_same_string(left->sam_account_name, right->sam_account_name);
        assert_int_equal(left->read_only_dc, right->read_only_dc);
        assert_same_strv(&left->service_principal_names, &right->service_principal_names);
    }

    assert_int_equal(expected->account_count, actual->account_count);
    for (size_t i = 0; i < expected->account_count; i++) {
        const struct da_account *left = &expected->accounts[i];
        const struct da_account *right = &actual->accounts[i];

        assert_same_string(left->guid, right->guid);
        assert_same_string(left->dn, right->dn);
        assert_same_string(left->sid, right->sid);
        assert_same_string(left->sam_account_name, right->sam_account_name);
        assert_int_equal(left->kind, right->kind);
        assert_int_equal(left->user_account_control, right->user_account_control);
        assert_same_strv(&left->allowed_to_delegate_to, &right->allowed_to_delegate_to);
        assert_same_strv(&left->service_principal_names, &right->service_principal_names);
        assert_same_strv(&left->allowed_to_act, &right->allowed_to_act);
        assert_int_equal(left->has_allowed_to_act, right->has_allowed_to_act);
        assert_same_string(left->when_changed, right->when_changed);
        assert_true(left->usn_changed == right->usn_changed);
    }
}

/* Serialises snapshot, reparses the text and validates it, as a file
 * round trip does without the file. */
static int reparse(const struct da_snapshot *snapshot, struct da_snapshot **out,
                   struct da_error *err)
{
    cJSON *json = da_snapshot_to_json(snapshot);
    char *text = NULL;
    cJSON *parsed = NULL;
    int status;

    assert_non_null(json);
    text = cJSON_Print(json);
    assert_non_null(text);
    parsed = cJSON_Parse(text);
    assert_non_null(parsed);
    status = da_snapshot_from_json(parsed, out, err);
    cJSON_Delete(parsed);
    cJSON_free(text);
    cJSON_Delete(json);
    return status;
}

/* Returns the JSON object of the account with the given GUID in document. */
static cJSON *account_member(cJSON *document, const char *guid)
{
    cJSON *accounts = cJSON_GetObjectItemCaseSensitive(document, "accounts");
    cJSON *account = cJSON_GetObjectItemCaseSensitive(accounts, guid);

    assert_non_null(account);
    return account;
}

/* Validates document and expects failure with a message containing text. */
static void assert_document_rejected(const cJSON *document, const char *text)
{
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};

    assert_int_equal(da_snapshot_from_json(document, &snapshot, &err), DA_ERR_LOCAL);
    assert_null(snapshot);
    assert_message_contains(&err, text);
}

/* ---- JSON round trip ------------------------------------------------------------------- */

static void round_trip_rich_snapshot(void **state)
{
    struct da_snapshot *original = build_rich_snapshot();
    struct da_snapshot *copy_back = NULL;
    struct da_error err = {0};

    (void)state;
    assert_int_equal(reparse(original, &copy_back, &err), 0);
    /* The reader sorts by GUID, so compare against the sorted original. */
    assert_int_equal(da_snapshot_sort(original), 0);
    assert_same_snapshot(original, copy_back);
    assert_string_equal(copy_back->accounts[0].guid, "00000000-0000-4000-8000-000000000000");
    assert_true(copy_back->accounts[1].usn_changed == 1);
    da_snapshot_free(copy_back);
    da_snapshot_free(original);
}

static void round_trip_null_optionals(void **state)
{
    struct da_snapshot *original = build_rich_snapshot();
    struct da_snapshot *copy_back = NULL;
    struct da_error err = {0};
    cJSON *json = NULL;
    cJSON *account = NULL;

    (void)state;
    /* Every string a poll can leave NULL when an attribute is missing. */
    free(original->poll.domain_sid);
    original->poll.domain_sid = NULL;
    free(original->poll.dc_host);
    original->poll.dc_host = NULL;
    free(original->poll.invocation_id);
    original->poll.invocation_id = NULL;
    free(original->krbtgts[1].sid);
    original->krbtgts[1].sid = NULL;
    free(original->krbtgts[1].sam_account_name);
    original->krbtgts[1].sam_account_name = NULL;
    free(original->accounts[0].when_changed);
    original->accounts[0].when_changed = NULL;

    json = da_snapshot_to_json(original);
    assert_non_null(json);
    /* NULL is written as JSON null rather than left out. */
    account = account_member(json, GUID_A);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(account, "sid")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(account, "sam_account_name")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(json, "poll"), "domain_sid")));
    cJSON_Delete(json);

    assert_int_equal(reparse(original, &copy_back, &err), 0);
    assert_int_equal(da_snapshot_sort(original), 0);
    assert_same_snapshot(original, copy_back);
    da_snapshot_free(copy_back);
    da_snapshot_free(original);
}

static void round_trip_empty_snapshot(void **state)
{
    struct da_snapshot *original = da_snapshot_new();
    struct da_snapshot *copy_back = NULL;
    struct da_error err = {0};

    (void)state;
    original->poll.time = copy("2026-01-01T00:00:00Z");
    original->poll.dc_host = copy("");
    original->poll.uri = copy("ldap://127.0.0.1");
    original->poll.invocation_id = copy("");
    original->poll.base_dn = copy("");
    assert_int_equal(reparse(original, &copy_back, &err), 0);
    assert_same_snapshot(original, copy_back);
    assert_int_equal(copy_back->account_count, 0);
    assert_int_equal(copy_back->krbtgt_count, 0);
    da_snapshot_free(copy_back);
    da_snapshot_free(original);
}

static void omitted_optionals_read_as_null(void **state)
{
    struct da_snapshot *original = build_rich_snapshot();
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};
    cJSON *json = da_snapshot_to_json(original);
    cJSON *account = NULL;

    (void)state;
    assert_non_null(json);
    account = account_member(json, GUID_B);
    cJSON_DeleteItemFromObjectCaseSensitive(account, "sid");
    cJSON_DeleteItemFromObjectCaseSensitive(account, "sam_account_name");
    cJSON_DeleteItemFromObjectCaseSensitive(account, "when_changed");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "poll"),
                                            "dc_host");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "poll"),
                                            "domain_sid");

    assert_int_equal(da_snapshot_from_json(json, &snapshot, &err), 0);
    assert_null(da_snapshot_find(snapshot, GUID_B)->sid);
    assert_null(da_snapshot_find(snapshot, GUID_B)->sam_account_name);
    assert_null(da_snapshot_find(snapshot, GUID_B)->when_changed);
    assert_null(snapshot->poll.dc_host);
    assert_null(snapshot->poll.domain_sid);
    da_snapshot_free(snapshot);
    cJSON_Delete(json);
    da_snapshot_free(original);
}

static void usn_limit_is_exact(void **state)
{
    static const struct {
        double value;
        bool valid;
    } cases[] = {
        {0.0, true},
        {9007199254740991.0, true},
        {9007199254740992.0, false}, /* 2^53 */
        {18014398509481984.0, false},
        {-1.0, false},
        {0.5, false},
        {1e300, false},
    };
    struct da_snapshot *original = build_rich_snapshot();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *json = da_snapshot_to_json(original);
        struct da_snapshot *snapshot = NULL;
        struct da_error err = {0};

        assert_non_null(json);
        assert_non_null(cJSON_ReplaceItemInObjectCaseSensitive(
            account_member(json, GUID_A), "usn_changed", cJSON_CreateNumber(cases[i].value)));
        if (cases[i].valid) {
            assert_int_equal(da_snapshot_from_json(json, &snapshot, &err), 0);
            assert_true(da_snapshot_find(snapshot, GUID_A)->usn_changed ==
                        (uint64_t)cases[i].value);
            da_snapshot_free(snapshot);
        } else {
            assert_document_rejected(json, "accounts[\"" GUID_A "\"].usn_changed: expected a "
                                           "whole number 0..9007199254740991");
        }
        cJSON_Delete(json);
    }
    da_snapshot_free(original);
}

static void usn_text_above_limit_rejected(void **state)
{
    /* 2^53 + 1 parses to the double 2^53, so the reader must reject 2^53
     * itself to catch it. */
    static const char text[] =
        "{\"format\": \"delegaudit-snapshot\", \"format_version\": 1, \"poll\": {\"time\": "
        "\"t\", \"dc_host\": \"h\", \"uri\": \"u\", \"invocation_id\": \"i\", "
        "\"highest_committed_usn\": 9007199254740993, \"base_dn\": \"b\", \"complete\": "
        "true}, \"krbtgt_accounts\": [], \"accounts\": {}}";
    cJSON *json = cJSON_Parse(text);

    (void)state;
    assert_non_null(json);
    assert_document_rejected(json, "poll.highest_committed_usn: expected a whole number "
                                   "0..9007199254740991");
    cJSON_Delete(json);
}

static void uac_limit_is_uint32(void **state)
{
    struct da_snapshot *original = build_rich_snapshot();
    cJSON *json = da_snapshot_to_json(original);

    (void)state;
    assert_non_null(json);
    assert_non_null(cJSON_ReplaceItemInObjectCaseSensitive(
        account_member(json, GUID_A), "user_account_control", cJSON_CreateNumber(4294967296.0)));
    assert_document_rejected(json, "accounts[\"" GUID_A "\"].user_account_control: expected a "
                                   "whole number 0..4294967295");
    cJSON_Delete(json);
    da_snapshot_free(original);
}

static void wrong_member_types_name_path(void **state)
{
    struct da_snapshot *original = build_rich_snapshot();
    cJSON *json = NULL;
    cJSON *krbtgts = NULL;
    cJSON *spns = NULL;

    (void)state;
    json = da_snapshot_to_json(original);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "poll"),
                                           "complete", cJSON_CreateString("yes"));
    assert_document_rejected(json, "poll.complete: expected true or false");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    krbtgts = cJSON_GetObjectItemCaseSensitive(json, "krbtgt_accounts");
    spns =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(krbtgts, 0), "service_principal_names");
    cJSON_AddItemToArray(spns, cJSON_CreateNumber(5));
    assert_document_rejected(json,
                             "krbtgt_accounts[0].service_principal_names[1]: expected a string");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_ReplaceItemInObjectCaseSensitive(account_member(json, GUID_A), "kind",
                                           cJSON_CreateString("robot"));
    assert_document_rejected(json, "accounts[\"" GUID_A "\"].kind: expected one of user");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_ReplaceItemInObjectCaseSensitive(account_member(json, GUID_A), "allowed_to_act",
                                           cJSON_CreateString("S-1-1-0"));
    assert_document_rejected(json, "accounts[\"" GUID_A "\"].allowed_to_act: expected an array");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_ReplaceItemInObjectCaseSensitive(account_member(json, GUID_A), "dn", cJSON_CreateNull());
    assert_document_rejected(json, "accounts[\"" GUID_A "\"].dn: expected a string");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_DeleteItemFromObjectCaseSensitive(account_member(json, GUID_A), "kind");
    assert_document_rejected(json, "accounts[\"" GUID_A "\"].kind: missing member");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "poll"), "time");
    assert_document_rejected(json, "poll.time: missing member");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_ReplaceItemInObjectCaseSensitive(account_member(json, GUID_A), "when_changed",
                                           cJSON_CreateNumber(20261204));
    assert_document_rejected(json,
                             "accounts[\"" GUID_A "\"].when_changed: expected a string or null");
    cJSON_Delete(json);

    json = da_snapshot_to_json(original);
    cJSON_ReplaceItemInObjectCaseSensitive(json, "accounts", cJSON_CreateArray());
    assert_document_rejected(json, "accounts: expected an object");
    cJSON_Delete(json);

    da_snapshot_free(original);
}

static void duplicate_member_rejected(void **state)
{
    struct da_snapshot *original = build_rich_snapshot();
    cJSON *json = da_snapshot_to_json(original);

    (void)state;
    /* cJSON_AddItemToObject appends without looking for the name, which is
     * what its parser does with a repeated key too. */
    cJSON_AddItemToObject(account_member(json, GUID_A), "dn", cJSON_CreateString("CN=other"));
    assert_document_rejected(json, "accounts[\"" GUID_A "\"].dn: the member appears more than "
                                   "once");
    cJSON_Delete(json);
    da_snapshot_free(original);
}

static void top_level_must_be_object(void **state)
{
    cJSON *json = cJSON_CreateArray();

    (void)state;
    assert_document_rejected(json, "expected a JSON object");
    assert_document_rejected(NULL, "expected a JSON object");
    cJSON_Delete(json);
}

/* ---- Files ------------------------------------------------------------------------------- */

static void file_round_trip(void **state)
{
    const char *dir = *state;
    char *path = path_in(dir, "snapshot.json");
    struct da_snapshot *original = build_rich_snapshot();
    struct da_snapshot *copy_back = NULL;
    struct da_error err = {0};
    struct stat info;
    char *text = NULL;
    size_t length = 0;

    assert_int_equal(da_snapshot_write_file(path, original, &err), 0);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 07777, 0600);
    text = read_text(path, &length);
    assert_true(length > 0);
    assert_int_equal(text[length - 1], '\n');
    free(text);
    assert_int_equal(count_entries(dir), 1);

    assert_int_equal(da_snapshot_read_file(path, &copy_back, &err), 0);
    assert_int_equal(da_snapshot_sort(original), 0);
    assert_same_snapshot(original, copy_back);

    /* A second write replaces the file and leaves nothing else behind. */
    da_snapshot_free(copy_back);
    copy_back = NULL;
    original->poll.complete = false;
    assert_int_equal(da_snapshot_write_file(path, original, &err), 0);
    assert_int_equal(da_snapshot_read_file(path, &copy_back, &err), 0);
    assert_false(copy_back->poll.complete);
    assert_int_equal(count_entries(dir), 1);

    da_snapshot_free(copy_back);
    da_snapshot_free(original);
    free(path);
}

static void read_valid_fixture(void **state)
{
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};
    const struct da_account *account = NULL;

    (void)state;
    assert_int_equal(da_snapshot_read_file(FIXTURE_DIR "/valid_v1.json", &snapshot, &err), 0);
    assert_string_equal(snapshot->poll.time, "2026-12-04T19:51:00Z");
    assert_true(snapshot->poll.highest_committed_usn == 123456);
    assert_true(snapshot->poll.complete);
    assert_int_equal(snapshot->krbtgt_count, 2);
    assert_false(snapshot->krbtgts[0].read_only_dc);
    assert_true(snapshot->krbtgts[1].read_only_dc);
    assert_string_equal(snapshot->krbtgts[1].sam_account_name, "krbtgt_24680");

    /* The file lists GUID_B first; the reader sorts. */
    assert_int_equal(snapshot->account_count, 2);
    assert_string_equal(snapshot->accounts[0].guid, GUID_A);
    assert_string_equal(snapshot->accounts[1].guid, GUID_B);

    account = da_snapshot_find(snapshot, GUID_A);
    assert_non_null(account);
    assert_null(account->sid);              /* written as null */
    assert_null(account->sam_account_name); /* left out */
    assert_true(account->has_allowed_to_act);
    assert_int_equal(account->allowed_to_act.count, 1);

    account = da_snapshot_find(snapshot, GUID_B);
    assert_int_equal(account->kind, DA_KIND_COMPUTER);
    assert_int_equal(account->user_account_control, 16781312);
    assert_true(da_account_protocol_transition(account));
    assert_int_equal(account->allowed_to_delegate_to.count, 2);
    assert_string_equal(account->allowed_to_delegate_to.items[1], "cifs/FS01");
    da_snapshot_free(snapshot);
}

struct fixture_case {
    const char *name;
    const char *keywords[3];
    bool suggests_new_baseline;
};

static void damaged_fixtures_rejected(void **state)
{
    static const struct fixture_case cases[] = {
        {"truncated.json",
         {"is truncated", "before the JSON document is complete", "byte offset 700"},
         true},
        {"corrupt.json", {"is corrupt", "invalid JSON at line 19", "byte offset"}, true},
        {"trailing_garbage.json", {"unexpected data after the JSON document", "line 55"}, true},
        {"newer_version.json", {"format_version 2 is newer", "newer delegaudit", "upgrade"}, false},
        {"wrong_format.json",
         {"\"someone-elses-snapshot\"", "expected \"delegaudit-snapshot\"",
          "not a delegaudit snapshot"},
         true},
        {"wrong_member_type.json",
         {"accounts[\"" GUID_A "\"].user_account_control: expected a whole number "
          "0..4294967295"},
         true},
        {"duplicate_guid.json", {"accounts: key \"" GUID_B "\" appears more than once"}, true},
        {"bad_guid_key.json",
         {"key \"01234567-89AB-4CDE-8F01-23456789ABCD\"", "lower-case 8-4-4-4-12"},
         true},
        {"empty.json", {"is empty"}, true},
        {"usn_too_large.json",
         {"accounts[\"" GUID_A "\"].usn_changed: expected a whole number 0..9007199254740991"},
         true},
        {"string_version.json", {"format_version: expected a whole number"}, true},
        {"missing_version.json", {"format_version: missing member"}, true},
        {"nul_escape.json", {"\\u0000", "line 6"}, true},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = path_in(FIXTURE_DIR, cases[i].name);
        struct da_snapshot *snapshot = NULL;
        struct da_error err = {0};

        print_message("fixture %s\n", cases[i].name);
        assert_int_equal(da_snapshot_read_file(path, &snapshot, &err), DA_ERR_LOCAL);
        assert_null(snapshot);
        assert_message_contains(&err, path);
        for (size_t k = 0; k < 3 && cases[i].keywords[k] != NULL; k++)
            assert_message_contains(&err, cases[i].keywords[k]);
        if (cases[i].suggests_new_baseline)
            assert_message_contains(&err, "move it aside to start a new baseline");
        else
            assert_null(strstr(err.message, "new baseline"));
        free(path);
    }
}

static void every_prefix_reads_as_truncated(void **state)
{
    const char *dir = *state;
    char *path = path_in(dir, "prefix.json");
    char *valid = NULL;
    size_t length = 0;

    valid = read_text(FIXTURE_DIR "/valid_v1.json", &length);
    /* The last byte is the final newline, without which the file is still
     * complete, so stop one short of it. */
    for (size_t cut = 1; cut + 1 < length; cut++) {
        struct da_snapshot *snapshot = NULL;
        struct da_error err = {0};
        FILE *file = fopen(path, "wb");

        assert_non_null(file);
        assert_int_equal(fwrite(valid, 1, cut, file), cut);
        assert_int_equal(fclose(file), 0);

        assert_int_equal(da_snapshot_read_file(path, &snapshot, &err), DA_ERR_LOCAL);
        if (strstr(err.message, "is truncated") == NULL)
            fail_msg("cut at %zu: %s", cut, err.message);
    }
    free(valid);
    free(path);
}

static void missing_file_rejected(void **state)
{
    char *path = path_in(*state, "no-such-snapshot.json");
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};

    assert_int_equal(da_snapshot_read_file(path, &snapshot, &err), DA_ERR_LOCAL);
    assert_null(snapshot);
    assert_message_contains(&err, path);
    assert_message_contains(&err, "No such file or directory");
    free(path);
}

static void directory_as_file_rejected(void **state)
{
    const char *dir = *state;
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};

    assert_int_equal(da_snapshot_read_file(dir, &snapshot, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, dir);
    assert_message_contains(&err, "not a regular file");
}

static void file_over_limit_rejected(void **state)
{
    char *path = path_in(*state, "huge.json");
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};
    int fd;

    /* A sparse file: its size is checked before anything is read. */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, ((off_t)1 << 30) + 1), 0);
    close(fd);

    assert_int_equal(da_snapshot_read_file(path, &snapshot, &err), DA_ERR_LOCAL);
    assert_null(snapshot);
    assert_message_contains(&err, path);
    assert_message_contains(&err, "larger than the 1 GiB limit");
    free(path);
}

static void nul_byte_rejected(void **state)
{
    char *path = path_in(*state, "nul.json");
    static const char content[] = "{\"format\": \"delegaudit\0-snapshot\"}";
    struct da_snapshot *snapshot = NULL;
    struct da_error err = {0};
    FILE *file = fopen(path, "wb");

    assert_non_null(file);
    assert_int_equal(fwrite(content, 1, sizeof(content) - 1, file), sizeof(content) - 1);
    assert_int_equal(fclose(file), 0);

    assert_int_equal(da_snapshot_read_file(path, &snapshot, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, path);
    assert_message_contains(&err, "NUL byte at line 1, byte offset 22");
    free(path);
}

/* ---- Atomic writes ----------------------------------------------------------------------- */

static void write_rejects_unreadable_snapshot(void **state)
{
    const char *dir = *state;
    char *path = path_in(dir, "snapshot.json");
    struct da_snapshot *snapshot = build_rich_snapshot();
    struct da_error err = {0};
    char *before = NULL;
    char *after = NULL;

    write_text(path, "previous content\n");
    before = read_text(path, NULL);

    snapshot->accounts[0].usn_changed = MAX_USN + 1;
    assert_int_equal(da_snapshot_write_file(path, snapshot, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, path);
    assert_message_contains(&err, "would not read back");
    assert_message_contains(&err, "usn_changed");
    snapshot->accounts[0].usn_changed = 0;

    /* Two accounts with one GUID would be a repeated key in the file. */
    free(snapshot->accounts[1].guid);
    snapshot->accounts[1].guid = copy(snapshot->accounts[0].guid);
    assert_int_equal(da_snapshot_write_file(path, snapshot, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, "appears more than once");

    free(snapshot->accounts[1].guid);
    snapshot->accounts[1].guid = NULL;
    assert_int_equal(da_snapshot_write_file(path, snapshot, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, "key \"\" is not an objectGUID");

    after = read_text(path, NULL);
    assert_string_equal(before, after);
    assert_int_equal(count_entries(dir), 1);
    free(after);
    free(before);
    da_snapshot_free(snapshot);
    free(path);
}

static void write_into_missing_directory_fails(void **state)
{
    const char *dir = *state;
    char *path = path_in(dir, "missing/snapshot.json");
    struct da_error err = {0};

    assert_int_equal(da_file_write_atomic(path, "x\n", 2, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, path);
    assert_message_contains(&err, "No such file or directory");
    assert_int_equal(count_entries(dir), 0);
    free(path);
}

static void write_over_directory_fails(void **state)
{
    const char *dir = *state;
    char *target = path_in(dir, "target");
    char *inside = path_in(target, "keep");
    struct da_error err = {0};
    struct stat info;

    assert_int_equal(mkdir(target, 0700), 0);
    write_text(inside, "kept");

    assert_int_equal(da_file_write_atomic(target, "x\n", 2, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, target);
    assert_int_equal(stat(target, &info), 0);
    assert_true(S_ISDIR(info.st_mode));
    assert_int_equal(count_entries(target), 1);
    /* Only the directory itself: the temporary file was removed. */
    assert_int_equal(count_entries(dir), 1);
    free(inside);
    free(target);
}

static void write_with_trailing_slash_fails(void **state)
{
    const char *dir = *state;
    char *path = path_in(dir, "");
    struct da_error err = {0};

    assert_int_equal(da_file_write_atomic(path, "x", 1, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, "names a directory");
    assert_int_equal(count_entries(dir), 0);
    free(path);
}

static void failed_temporary_keeps_target(void **state)
{
    const char *dir = *state;
    char name[256];
    char *path = NULL;
    char *after = NULL;
    struct da_error err = {0};

    /* A 250-byte name is valid, but the temporary name built from it is
     * longer than NAME_MAX, so creating the temporary file fails. */
    memset(name, 'a', 250);
    name[250] = '\0';
    path = path_in(dir, name);
    write_text(path, "old content\n");

    assert_int_equal(da_file_write_atomic(path, "new content\n", 12, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, "creating a temporary file");
    after = read_text(path, NULL);
    assert_string_equal(after, "old content\n");
    assert_int_equal(count_entries(dir), 1);
    free(after);
    free(path);
}

static void failed_write_keeps_target(void **state)
{
    const char *dir = *state;
    char *path = path_in(dir, "target.json");
    char *after = NULL;
    pid_t child;
    int wait_status = 0;

    write_text(path, "old content\n");

    /* The file size limit makes write() stop short and then fail with
     * EFBIG part way through, as a full disk would. It is set in a child
     * so that the test process keeps its own limit. */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rlimit limit = {4096, 4096};
        static char data[1 << 20];
        struct da_error err = {0};
        int result;

        signal(SIGXFSZ, SIG_IGN);
        memset(data, 'x', sizeof(data));
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
            _exit(2);
        result = da_file_write_atomic(path, data, sizeof(data), &err);
        if (result != DA_ERR_LOCAL || strstr(err.message, "writing") == NULL ||
            strstr(err.message, "File too large") == NULL)
            _exit(1);
        _exit(0);
    }
    assert_int_equal(waitpid(child, &wait_status, 0), child);
    assert_true(WIFEXITED(wait_status));
    assert_int_equal(WEXITSTATUS(wait_status), 0);

    after = read_text(path, NULL);
    assert_string_equal(after, "old content\n");
    assert_int_equal(count_entries(dir), 1);
    free(after);
    free(path);
}

static void write_relative_path(void **state)
{
    const char *dir = *state;
    char *previous = getcwd(NULL, 0);
    char *text = NULL;
    struct da_error err = {0};

    assert_non_null(previous);
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(da_file_write_atomic("plain", "abc", 3, &err), 0);
    text = read_text("plain", NULL);
    assert_string_equal(text, "abc");
    assert_int_equal(count_entries("."), 1);
    assert_int_equal(chdir(previous), 0);
    free(text);
    free(previous);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_rich_snapshot),
        cmocka_unit_test(round_trip_null_optionals),
        cmocka_unit_test(round_trip_empty_snapshot),
        cmocka_unit_test(omitted_optionals_read_as_null),
        cmocka_unit_test(usn_limit_is_exact),
        cmocka_unit_test(usn_text_above_limit_rejected),
        cmocka_unit_test(uac_limit_is_uint32),
        cmocka_unit_test(wrong_member_types_name_path),
        cmocka_unit_test(duplicate_member_rejected),
        cmocka_unit_test(top_level_must_be_object),
        cmocka_unit_test_setup_teardown(file_round_trip, make_temp_dir, remove_temp_dir),
        cmocka_unit_test(read_valid_fixture),
        cmocka_unit_test(damaged_fixtures_rejected),
        cmocka_unit_test_setup_teardown(every_prefix_reads_as_truncated, make_temp_dir,
                                        remove_temp_dir),
        cmocka_unit_test_setup_teardown(missing_file_rejected, make_temp_dir, remove_temp_dir),
        cmocka_unit_test_setup_teardown(directory_as_file_rejected, make_temp_dir, remove_temp_dir),
        cmocka_unit_test_setup_teardown(file_over_limit_rejected, make_temp_dir, remove_temp_dir),
        cmocka_unit_test_setup_teardown(nul_byte_rejected, make_temp_dir, remove_temp_dir),
        cmocka_unit_test_setup_teardown(write_rejects_unreadable_snapshot, make_temp_dir,
                                        remove_temp_dir),
        cmocka_unit_test_setup_teardown(write_into_missing_directory_fails, make_temp_dir,
                                        remove_temp_dir),
        cmocka_unit_test_setup_teardown(write_over_directory_fails, make_temp_dir, remove_temp_dir),
        cmocka_unit_test_setup_teardown(write_with_trailing_slash_fails, make_temp_dir,
                                        remove_temp_dir),
        cmocka_unit_test_setup_teardown(failed_temporary_keeps_target, make_temp_dir,
                                        remove_temp_dir),
        cmocka_unit_test_setup_teardown(failed_write_keeps_target, make_temp_dir, remove_temp_dir),
        cmocka_unit_test_setup_teardown(write_relative_path, make_temp_dir, remove_temp_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
