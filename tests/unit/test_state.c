/* Unit tests of the state directory: first poll, save and load, file
 * names, retention, damaged `latest` files and the poll lock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auditor/snapshot.h"
#include "auditor/state.h"

#define GUID_A "01234567-89ab-4cde-8f01-23456789abcd"

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

/* Each test gets a fresh parent directory; the state directory is
 * DIR/state, which da_state_open creates. */
struct fixture {
    char *parent;
    char *dir;
};

static int make_fixture(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));

    if (fixture == NULL)
        return -1;
    fixture->parent = strdup("/tmp/delegaudit-test-state-XXXXXX");
    if (fixture->parent == NULL || mkdtemp(fixture->parent) == NULL)
        return -1;
    fixture->dir = path_in(fixture->parent, "state");
    *state = fixture;
    return 0;
}

static int remove_fixture(void **state)
{
    struct fixture *fixture = *state;

    remove_tree(fixture->parent);
    free(fixture->dir);
    free(fixture->parent);
    free(fixture);
    return 0;
}

static char *read_text(const char *path)
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
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "wb");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
}

static bool file_exists(const char *dir, const char *name)
{
    char *path = path_in(dir, name);
    struct stat info;
    bool exists = lstat(path, &info) == 0;

    free(path);
    return exists;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists the entries of dir, sorted, one per line, for comparing the whole
 * directory before and after a call. */
static char *list_dir(const char *dir)
{
    DIR *stream = opendir(dir);
    struct dirent *entry = NULL;
    char *names[256];
    size_t count = 0;
    size_t length = 1;
    char *listing = NULL;

    assert_non_null(stream);
    while ((entry = readdir(stream)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        assert_true(count < 256);
        names[count] = strdup(entry->d_name);
        assert_non_null(names[count]);
        length += strlen(names[count]) + 1;
        count++;
    }
    closedir(stream);
    qsort(names, count, sizeof(names[0]), compare_strings);

    listing = malloc(length);
    assert_non_null(listing);
    listing[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        strcat(listing, names[i]);
        strcat(listing, "\n");
        free(names[i]);
    }
    return listing;
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

/* A small valid snapshot polled at poll_time; dc_host distinguishes saves. */
static struct da_snapshot *make_snapshot(const char *poll_time, const char *dc_host)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_account account = {0};

    assert_non_null(snapshot);
    snapshot->poll.time = copy(poll_time);
    snapshot->poll.dc_host = copy(dc_host);
    snapshot->poll.uri = copy("ldaps://dc1.example.test");
    snapshot->poll.invocation_id = copy("6f1c2a4e-9b3d-4c5e-8f7a-1b2c3d4e5f60");
    snapshot->poll.highest_committed_usn = 1000;
    snapshot->poll.base_dn = copy("DC=example,DC=test");
    snapshot->poll.complete = true;

    account.guid = copy(GUID_A);
    account.dn = copy("CN=WEB01,DC=example,DC=test");
    account.kind = DA_KIND_COMPUTER;
    account.user_account_control = DA_UAC_TRUSTED_FOR_DELEGATION;
    account.when_changed = copy("20261204194500.0Z");
    account.usn_changed = 999;
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
    return snapshot;
}

static struct da_state *open_state(const char *dir)
{
    struct da_state *state = NULL;
    struct da_error err = {0};

    if (da_state_open(dir, &state, &err) != 0)
        fail_msg("da_state_open(%s): %s", dir, err.message);
    return state;
}

static void save(struct da_state *state, const char *poll_time, const char *dc_host, unsigned keep,
                 char **path_out)
{
    struct da_snapshot *snapshot = make_snapshot(poll_time, dc_host);
    struct da_error err = {0};

    if (da_state_save(state, snapshot, keep, path_out, &err) != 0)
        fail_msg("da_state_save: %s", err.message);
    da_snapshot_free(snapshot);
}

/* ---- Opening ----------------------------------------------------------------------------- */

static void open_creates_directory(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = NULL;
    struct stat info;

    handle = open_state(fixture->dir);
    assert_string_equal(da_state_path(handle), fixture->dir);
    assert_int_equal(stat(fixture->dir, &info), 0);
    assert_true(S_ISDIR(info.st_mode));
    assert_int_equal(info.st_mode & 0777, 0700);
    assert_true(file_exists(fixture->dir, "lock"));
    da_state_close(handle);

    /* Opening an existing directory works too. */
    handle = open_state(fixture->dir);
    da_state_close(handle);
}

static void open_strips_trailing_slashes(void **state)
{
    struct fixture *fixture = *state;
    char *with_slashes = path_in(fixture->parent, "state//");
    struct da_state *handle = open_state(with_slashes);

    assert_string_equal(da_state_path(handle), fixture->dir);
    da_state_close(handle);
    free(with_slashes);
}

static void open_rejects_regular_file(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = NULL;
    struct da_error err = {0};

    write_text(fixture->dir, "not a directory\n");
    assert_int_equal(da_state_open(fixture->dir, &handle, &err), DA_ERR_LOCAL);
    assert_null(handle);
    assert_message_contains(&err, fixture->dir);
    assert_message_contains(&err, "not a directory");
}

static void open_rejects_missing_parent(void **state)
{
    struct fixture *fixture = *state;
    char *nested = path_in(fixture->parent, "missing/state");
    struct da_state *handle = NULL;
    struct da_error err = {0};

    assert_int_equal(da_state_open(nested, &handle, &err), DA_ERR_LOCAL);
    assert_null(handle);
    assert_message_contains(&err, nested);
    assert_message_contains(&err, "create its parent directory first");
    free(nested);
}

static void open_rejects_empty_path(void **state)
{
    struct da_state *handle = NULL;
    struct da_error err = {0};

    (void)state;
    assert_int_equal(da_state_open("", &handle, &err), DA_ERR_USAGE);
    assert_null(handle);
}

/* ---- Loading and saving ------------------------------------------------------------------ */

static void first_poll_has_no_latest(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    struct da_error err = {0};
    /* Non-NULL sentinels show that the call sets both outputs. */
    struct da_snapshot *snapshot = (struct da_snapshot *)&err;
    char *path = (char *)&err;

    assert_int_equal(da_state_load_latest(handle, &snapshot, &path, &err), 0);
    assert_null(snapshot);
    assert_null(path);
    /* Loading writes nothing: only the lock file exists. */
    assert_false(file_exists(fixture->dir, "latest"));
    da_state_close(handle);
}

static void save_then_load(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    struct da_snapshot *loaded = NULL;
    char *saved_path = NULL;
    char *loaded_path = NULL;
    char *latest_path = path_in(fixture->dir, "latest");
    char *latest = NULL;
    struct da_error err = {0};
    struct stat info;

    save(handle, "2026-12-04T19:51:00Z", "dc1", 0, &saved_path);
    assert_non_null(saved_path);
    assert_non_null(strstr(saved_path, "/snapshot-20261204T195100Z.json"));
    assert_int_equal(stat(saved_path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);

    latest = read_text(latest_path);
    assert_string_equal(latest, "snapshot-20261204T195100Z.json\n");

    assert_int_equal(da_state_load_latest(handle, &loaded, &loaded_path, &err), 0);
    assert_non_null(loaded);
    assert_string_equal(loaded_path, saved_path);
    assert_string_equal(loaded->poll.time, "2026-12-04T19:51:00Z");
    assert_string_equal(loaded->poll.dc_host, "dc1");
    assert_int_equal(loaded->account_count, 1);
    assert_string_equal(loaded->accounts[0].guid, GUID_A);

    da_snapshot_free(loaded);
    free(loaded_path);
    free(saved_path);
    free(latest);
    free(latest_path);
    da_state_close(handle);
}

static void load_from_new_handle(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    struct da_snapshot *loaded = NULL;
    struct da_error err = {0};

    save(handle, "2026-12-04T19:51:00.123Z", "dc1", 0, NULL);
    da_state_close(handle);

    handle = open_state(fixture->dir);
    assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), 0);
    assert_non_null(loaded);
    assert_string_equal(loaded->poll.time, "2026-12-04T19:51:00.123Z");
    assert_true(file_exists(fixture->dir, "snapshot-20261204T195100Z.json"));
    da_snapshot_free(loaded);
    da_state_close(handle);
}

static void same_second_gets_suffix(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *first = NULL;
    char *second = NULL;
    char *third = NULL;
    char *first_text = NULL;
    char *latest_path = path_in(fixture->dir, "latest");
    char *latest = NULL;

    save(handle, "2026-12-04T19:51:00Z", "first", 0, &first);
    first_text = read_text(first);
    save(handle, "2026-12-04T19:51:00Z", "second", 0, &second);
    save(handle, "2026-12-04T19:51:00Z", "third", 0, &third);

    assert_non_null(strstr(first, "/snapshot-20261204T195100Z.json"));
    assert_non_null(strstr(second, "/snapshot-20261204T195100Z-2.json"));
    assert_non_null(strstr(third, "/snapshot-20261204T195100Z-3.json"));

    /* Earlier files are not overwritten. */
    {
        char *again = read_text(first);

        assert_string_equal(again, first_text);
        assert_non_null(strstr(again, "\"first\""));
        free(again);
    }
    latest = read_text(latest_path);
    assert_string_equal(latest, "snapshot-20261204T195100Z-3.json\n");

    free(latest);
    free(latest_path);
    free(first_text);
    free(third);
    free(second);
    free(first);
    da_state_close(handle);
}

static void suffix_skips_foreign_file(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *foreign_path = path_in(fixture->dir, "snapshot-20261204T195100Z.json");
    char *text = NULL;
    char *path = NULL;

    /* A file that delegaudit did not write must not be replaced. */
    write_text(foreign_path, "not ours\n");
    save(handle, "2026-12-04T19:51:00Z", "dc1", 0, &path);
    assert_non_null(strstr(path, "/snapshot-20261204T195100Z-2.json"));
    text = read_text(foreign_path);
    assert_string_equal(text, "not ours\n");

    free(text);
    free(path);
    free(foreign_path);
    da_state_close(handle);
}

static void save_rejects_bad_poll_time(void **state)
{
    static const char *const times[] = {
        "2026-12-04 19:51:00Z",
        "2026-12-04T19:51:00",
        "2026-12-04T19:51:00+01:00",
        "2026-12-04T19:51Z",
        "../../etc/passwd",
        "2026-12-04T19:51:00.Z",
        "",
    };
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *before = list_dir(fixture->dir);

    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct da_snapshot *snapshot = make_snapshot(times[i], "dc1");
        struct da_error err = {0};
        char *after = NULL;

        assert_int_equal(da_state_save(handle, snapshot, 0, NULL, &err), DA_ERR_LOCAL);
        assert_message_contains(&err, "poll time");
        after = list_dir(fixture->dir);
        assert_string_equal(before, after);
        free(after);
        da_snapshot_free(snapshot);
    }
    free(before);
    da_state_close(handle);
}

/* ---- Retention --------------------------------------------------------------------------- */

static void retention_keeps_newest(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *listing = NULL;

    save(handle, "2026-12-01T00:00:00Z", "dc1", 3, NULL);
    save(handle, "2026-12-02T00:00:00Z", "dc1", 3, NULL);
    save(handle, "2026-12-03T00:00:00Z", "dc1", 3, NULL);
    save(handle, "2026-12-04T00:00:00Z", "dc1", 3, NULL);
    save(handle, "2026-12-05T00:00:00Z", "dc1", 3, NULL);

    listing = list_dir(fixture->dir);
    assert_string_equal(listing, "latest\n"
                                 "lock\n"
                                 "snapshot-20261203T000000Z.json\n"
                                 "snapshot-20261204T000000Z.json\n"
                                 "snapshot-20261205T000000Z.json\n");
    free(listing);
    da_state_close(handle);
}

static void retention_zero_keeps_all(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *listing = NULL;

    save(handle, "2026-12-01T00:00:00Z", "dc1", 0, NULL);
    save(handle, "2026-12-02T00:00:00Z", "dc1", 0, NULL);
    save(handle, "2026-12-03T00:00:00Z", "dc1", 0, NULL);

    listing = list_dir(fixture->dir);
    assert_string_equal(listing, "latest\n"
                                 "lock\n"
                                 "snapshot-20261201T000000Z.json\n"
                                 "snapshot-20261202T000000Z.json\n"
                                 "snapshot-20261203T000000Z.json\n");
    free(listing);
    da_state_close(handle);
}

static void retention_orders_suffixes_numerically(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *listing = NULL;

    /* Eleven polls in one second: as text, "-10" < "-2" and "-2" < no
     * suffix, so a plain name sort would keep the wrong two. */
    for (int i = 0; i < 11; i++)
        save(handle, "2026-12-04T19:51:00Z", "dc1", 2, NULL);

    listing = list_dir(fixture->dir);
    assert_string_equal(listing, "latest\n"
                                 "lock\n"
                                 "snapshot-20261204T195100Z-10.json\n"
                                 "snapshot-20261204T195100Z-11.json\n");
    free(listing);
    da_state_close(handle);
}

static void retention_never_deletes_latest(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *latest_path = path_in(fixture->dir, "latest");
    char *listing = NULL;
    char *latest = NULL;
    struct da_snapshot *loaded = NULL;
    struct da_error err = {0};

    save(handle, "2026-12-05T00:00:00Z", "dc1", 1, NULL);
    /* The clock went back: the new file sorts as the oldest, yet it is the
     * one `latest` names, so it stays and the newer-named file goes. */
    save(handle, "2026-12-04T00:00:00Z", "dc1", 1, NULL);

    listing = list_dir(fixture->dir);
    assert_string_equal(listing, "latest\n"
                                 "lock\n"
                                 "snapshot-20261204T000000Z.json\n");
    latest = read_text(latest_path);
    assert_string_equal(latest, "snapshot-20261204T000000Z.json\n");
    assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), 0);
    assert_non_null(loaded);

    da_snapshot_free(loaded);
    free(latest);
    free(listing);
    free(latest_path);
    da_state_close(handle);
}

static void retention_ignores_other_files(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *notes = path_in(fixture->dir, "notes.txt");
    char *moved = path_in(fixture->dir, "snapshot-20200101T000000Z.json.bad");
    char *directory = path_in(fixture->dir, "snapshot-20200101T000000Z.json");
    char *listing = NULL;

    write_text(notes, "kept\n");
    write_text(moved, "kept\n");
    assert_int_equal(mkdir(directory, 0700), 0);
    save(handle, "2026-12-04T00:00:00Z", "dc1", 1, NULL);
    save(handle, "2026-12-05T00:00:00Z", "dc1", 1, NULL);

    listing = list_dir(fixture->dir);
    assert_string_equal(listing, "latest\n"
                                 "lock\n"
                                 "notes.txt\n"
                                 "snapshot-20200101T000000Z.json\n"
                                 "snapshot-20200101T000000Z.json.bad\n"
                                 "snapshot-20261205T000000Z.json\n");
    free(listing);
    free(directory);
    free(moved);
    free(notes);
    da_state_close(handle);
}

/* ---- Damaged state ----------------------------------------------------------------------- */

static void corrupt_latest_snapshot_kept(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *saved_path = NULL;
    char *latest_path = path_in(fixture->dir, "latest");
    char *snapshot_before = NULL;
    char *latest_before = NULL;
    char *listing_before = NULL;
    char *text = NULL;
    struct da_snapshot *loaded = NULL;
    struct da_snapshot *next = NULL;
    struct da_error err = {0};

    save(handle, "2026-12-04T19:51:00Z", "dc1", 1, &saved_path);
    /* Cut the snapshot short, as a crash of some other writer might. */
    text = read_text(saved_path);
    text[strlen(text) / 2] = '\0';
    write_text(saved_path, text);
    free(text);

    snapshot_before = read_text(saved_path);
    latest_before = read_text(latest_path);
    listing_before = list_dir(fixture->dir);

    assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), DA_ERR_LOCAL);
    assert_null(loaded);
    assert_message_contains(&err, saved_path);
    assert_message_contains(&err, "is truncated");
    assert_message_contains(&err, latest_path);
    assert_message_contains(&err, "aside too, because it names this file");

    text = read_text(saved_path);
    assert_string_equal(text, snapshot_before);
    free(text);
    text = read_text(latest_path);
    assert_string_equal(text, latest_before);
    free(text);

    /* A caller must not save after a failed load; if it tries, nothing
     * is written, nothing is pruned and both files stay as they are. */
    next = make_snapshot("2026-12-05T00:00:00Z", "dc1");
    assert_int_equal(da_state_save(handle, next, 1, NULL, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, "failed to load");
    text = read_text(saved_path);
    assert_string_equal(text, snapshot_before);
    free(text);
    text = read_text(latest_path);
    assert_string_equal(text, latest_before);
    free(text);
    text = list_dir(fixture->dir);
    assert_string_equal(text, listing_before);
    free(text);

    da_snapshot_free(next);
    free(listing_before);
    free(latest_before);
    free(snapshot_before);
    free(latest_path);
    free(saved_path);
    da_state_close(handle);
}

static void latest_naming_missing_file(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *latest_path = path_in(fixture->dir, "latest");
    char *missing = path_in(fixture->dir, "snapshot-20261204T195100Z.json");
    struct da_snapshot *loaded = NULL;
    struct da_error err = {0};

    write_text(latest_path, "snapshot-20261204T195100Z.json\n");
    assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), DA_ERR_LOCAL);
    assert_null(loaded);
    assert_message_contains(&err, missing);
    assert_message_contains(&err, "No such file or directory");
    assert_message_contains(&err, latest_path);
    free(missing);
    free(latest_path);
    da_state_close(handle);
}

static void latest_with_bad_content_rejected(void **state)
{
    static const char *const contents[] = {
        "../etc/passwd\n",
        "../etc/passwd",
        "/etc/passwd\n",
        "snapshot-../../etc/passwd.json\n",
        "snapshot-x/y.json\n",
        "",
        "\n",
        "other.json\n",
        "snapshot-.json\n",
        "snapshot-20261204T195100Z.json\nsnapshot-20261205T195100Z.json\n",
        "snapshot-20261204T195100Z.json\n\n",
        "snapshot-20261204T195100Z.json\r\n",
        " snapshot-20261204T195100Z.json\n",
    };
    struct fixture *fixture = *state;
    char *latest_path = path_in(fixture->dir, "latest");

    for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
        struct da_state *handle = open_state(fixture->dir);
        struct da_snapshot *loaded = NULL;
        struct da_error err = {0};
        char *after = NULL;

        print_message("latest case %zu\n", i);
        write_text(latest_path, contents[i]);
        assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), DA_ERR_LOCAL);
        assert_null(loaded);
        assert_message_contains(&err, latest_path);
        assert_message_contains(&err, "is corrupt");
        assert_message_contains(&err, "snapshot-*.json");
        after = read_text(latest_path);
        assert_string_equal(after, contents[i]);
        free(after);
        da_state_close(handle);
    }
    free(latest_path);
}

static void latest_too_long_rejected(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *latest_path = path_in(fixture->dir, "latest");
    char *long_text = malloc(10001);
    struct da_snapshot *loaded = NULL;
    struct da_error err = {0};

    assert_non_null(long_text);
    memset(long_text, 'a', 10000);
    long_text[10000] = '\0';
    write_text(latest_path, long_text);
    assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, latest_path);
    assert_message_contains(&err, "longer than");
    free(long_text);
    free(latest_path);
    da_state_close(handle);
}

static void latest_that_is_directory_rejected(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = open_state(fixture->dir);
    char *latest_path = path_in(fixture->dir, "latest");
    struct da_snapshot *loaded = NULL;
    struct da_error err = {0};

    assert_int_equal(mkdir(latest_path, 0700), 0);
    assert_int_equal(da_state_load_latest(handle, &loaded, NULL, &err), DA_ERR_LOCAL);
    assert_message_contains(&err, latest_path);
    assert_message_contains(&err, "not a regular file");
    free(latest_path);
    da_state_close(handle);
}

/* ---- Locking ----------------------------------------------------------------------------- */

static void lock_held_by_second_handle(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *first = open_state(fixture->dir);
    struct da_state *second = NULL;
    struct da_error err = {0};
    char *lock_path = path_in(fixture->dir, "lock");
    char pid_text[64];

    /* flock() locks belong to the open file description, so a second
     * open() in this process conflicts with the first. */
    assert_int_equal(da_state_open(fixture->dir, &second, &err), DA_ERR_LOCAL);
    assert_null(second);
    assert_message_contains(&err, "another delegaudit poll holds the lock on");
    assert_message_contains(&err, lock_path);
    snprintf(pid_text, sizeof(pid_text), "(pid %ld)", (long)getpid());
    assert_message_contains(&err, pid_text);

    da_state_close(first);
    second = open_state(fixture->dir);
    da_state_close(second);
    free(lock_path);
}

static void lock_held_by_child_process(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = NULL;
    struct da_error err = {0};
    int ready[2];
    int release[2];
    pid_t child;
    char byte = 0;
    char pid_text[64];
    int wait_status = 0;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* The child takes the lock, reports, and holds it until released.
         * It leaves through _exit so that cmocka's state is not reused. */
        struct da_state *held = NULL;
        struct da_error child_err = {0};
        char result;

        close(ready[0]);
        close(release[1]);
        result = da_state_open(fixture->dir, &held, &child_err) == 0 ? 'y' : 'n';
        if (write(ready[1], &result, 1) != 1)
            _exit(2);
        if (read(release[0], &result, 1) < 0)
            _exit(3);
        da_state_close(held);
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);

    assert_int_equal(read(ready[0], &byte, 1), 1);
    assert_int_equal(byte, 'y');

    assert_int_equal(da_state_open(fixture->dir, &handle, &err), DA_ERR_LOCAL);
    assert_null(handle);
    assert_message_contains(&err, "another delegaudit poll holds the lock");
    snprintf(pid_text, sizeof(pid_text), "(pid %ld)", (long)child);
    assert_message_contains(&err, pid_text);

    byte = 'x';
    assert_int_equal(write(release[1], &byte, 1), 1);
    assert_int_equal(waitpid(child, &wait_status, 0), child);
    assert_true(WIFEXITED(wait_status));
    assert_int_equal(WEXITSTATUS(wait_status), 0);
    close(ready[0]);
    close(release[1]);

    /* The child's exit released the lock. */
    handle = open_state(fixture->dir);
    da_state_close(handle);
}

static void lock_released_by_killed_holder(void **state)
{
    struct fixture *fixture = *state;
    struct da_state *handle = NULL;
    int ready[2];
    pid_t child;
    char byte = 0;
    int wait_status = 0;

    assert_int_equal(pipe(ready), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct da_state *held = NULL;
        struct da_error child_err = {0};

        close(ready[0]);
        if (da_state_open(fixture->dir, &held, &child_err) != 0)
            _exit(1);
        if (write(ready[1], "y", 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    close(ready[1]);
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);

    /* A crashed poll leaves its pid in the lock file, but the kernel drops
     * the flock() with the process. */
    assert_int_equal(kill(child, SIGKILL), 0);
    assert_int_equal(waitpid(child, &wait_status, 0), child);
    assert_true(WIFSIGNALED(wait_status));

    handle = open_state(fixture->dir);
    da_state_close(handle);
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, make_fixture, remove_fixture)
    const struct CMUnitTest tests[] = {
        TEST(open_creates_directory),
        TEST(open_strips_trailing_slashes),
        TEST(open_rejects_regular_file),
        TEST(open_rejects_missing_parent),
        TEST(open_rejects_empty_path),
        TEST(first_poll_has_no_latest),
        TEST(save_then_load),
        TEST(load_from_new_handle),
        TEST(same_second_gets_suffix),
        TEST(suffix_skips_foreign_file),
        TEST(save_rejects_bad_poll_time),
        TEST(retention_keeps_newest),
        TEST(retention_zero_keeps_all),
        TEST(retention_orders_suffixes_numerically),
        TEST(retention_never_deletes_latest),
        TEST(retention_ignores_other_files),
        TEST(corrupt_latest_snapshot_kept),
        TEST(latest_naming_missing_file),
        TEST(latest_with_bad_content_rejected),
        TEST(latest_too_long_rejected),
        TEST(latest_that_is_directory_rejected),
        TEST(lock_held_by_second_handle),
        TEST(lock_held_by_child_process),
        TEST(lock_released_by_killed_holder),
    };
#undef TEST

    return cmocka_run_group_tests(tests, NULL, NULL);
}
