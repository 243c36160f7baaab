#include "auditor/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "auditor/log.h"
#include "auditor/snapshot.h"

#define SNAPSHOT_PREFIX "snapshot-"
#define SNAPSHOT_SUFFIX ".json"

/* The maximum size of `latest`, which contains one file name. */
#define LATEST_FILE_MAX 4096

/* The maximum number of names tried after the highest "-N" in use. Only
 * files created by other programs can make it take more than one. */
#define COLLISION_ATTEMPTS_MAX 1000

/* Maximum length of file content quoted in an error message. */
#define QUOTE_MAX 64

struct da_state {
    char *dir;
    int lock_fd;
    /* Set when da_state_load_latest failed: da_state_save then writes
     * nothing, so `latest` and the snapshot it names stay as they were. */
    bool load_failed;
    /* File name written by da_state_write and not yet named by `latest`. */
    char *pending_name;
};

static char *join_path(const char *dir, const char *name)
{
    size_t dir_length = strlen(dir);
    size_t name_length = strlen(name);
    char *path = malloc(dir_length + 1 + name_length + 1);

    if (path == NULL)
        return NULL;
    memcpy(path, dir, dir_length);
    path[dir_length] = '/';
    memcpy(path + dir_length + 1, name, name_length + 1);
    return path;
}

/* Appends text to the message in err, cutting it when the buffer is full. */
static void append_to_message(struct da_error *err, const char *text)
{
    size_t used;

    if (err == NULL)
        return;
    used = strlen(err->message);
    snprintf(err->message + used, sizeof(err->message) - used, "%s", text);
}

/* ---- Opening and locking --------------------------------------------------------------- */

/* Returns the pid recorded in the lock file, or 0 when none is readable. */
static long read_lock_holder(int fd)
{
    char text[32];
    ssize_t got;
    char *end = NULL;
    long pid;

    got = pread(fd, text, sizeof(text) - 1, 0);
    if (got <= 0)
        return 0;
    text[got] = '\0';

    errno = 0;
    pid = strtol(text, &end, 10);
    if (errno != 0 || end == text || (*end != '\n' && *end != '\0') || pid <= 0)
        return 0;
    return pid;
}

/* Replaces the lock file's content with our pid, for the message another
 * poll shows while we hold the lock. It is informational only, so a
 * failure to write it is ignored: the flock() is what excludes others. */
static void record_lock_holder(int fd)
{
    char text[32];
    int length = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)length, 0) != length)
        (void)ftruncate(fd, 0);
}

static int take_lock(const char *lock_path, int *out, struct da_error *err)
{
    int fd = -1;
    int result;
    int status = 0;

    fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot open lock file %s: %s", lock_path,
                              strerror(errno));
        goto out;
    }

    do {
        result = flock(fd, LOCK_EX | LOCK_NB);
    } while (result != 0 && errno == EINTR);

    if (result != 0 && errno == EWOULDBLOCK) {
        long holder = read_lock_holder(fd);

        if (holder > 0)
            status = da_error_set(err, DA_ERR_LOCAL,
                                  "another delegaudit poll holds the lock on %s (pid %ld); wait "
                                  "for it to finish",
                                  lock_path, holder);
        else
            status = da_error_set(err, DA_ERR_LOCAL,
                                  "another delegaudit poll holds the lock on %s; wait for it "
                                  "to finish",
                                  lock_path);
        goto out;
    }
    if (result != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot lock %s: %s", lock_path, strerror(errno));
        goto out;
    }

    record_lock_holder(fd);
    *out = fd;
    fd = -1;

out:
    if (fd >= 0)
        close(fd);
    return status;
}

int da_state_open(const char *dir, struct da_state **out, struct da_error *err)
{
    struct da_state *state = NULL;
    char *lock_path = NULL;
    struct stat info;
    size_t length;
    int status = 0;

    if (dir == NULL || dir[0] == '\0') {
        status = da_error_set(err, DA_ERR_USAGE, "the state directory path is empty");
        goto out;
    }

    state = calloc(1, sizeof(*state));
    if (state == NULL || (state->dir = strdup(dir)) == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory opening state directory %s", dir);
        goto out;
    }
    state->lock_fd = -1;
    /* Trailing slashes would double in every path built below; "/" stays. */
    length = strlen(state->dir);
    while (length > 1 && state->dir[length - 1] == '/')
        state->dir[--length] = '\0';

    if (mkdir(state->dir, S_IRWXU) != 0 && errno != EEXIST) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot create state directory %s: %s%s",
                              state->dir, strerror(errno),
                              errno == ENOENT ? "; create its parent directory first" : "");
        goto out;
    }
    if (stat(state->dir, &info) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot open state directory %s: %s", state->dir,
                              strerror(errno));
        goto out;
    }
    if (!S_ISDIR(info.st_mode)) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "state directory %s exists but is not a directory; choose another "
                              "path or move the file aside",
                              state->dir);
        goto out;
    }

    lock_path = join_path(state->dir, "lock");
    if (lock_path == NULL) {
        status =
            da_error_set(err, DA_ERR_LOCAL, "out of memory opening state directory %s", state->dir);
        goto out;
    }
    status = take_lock(lock_path, &state->lock_fd, err);
    if (status != 0)
        goto out;

    *out = state;
    state = NULL;

out:
    free(lock_path);
    da_state_close(state);
    return status;
}

const char *da_state_path(const struct da_state *state)
{
    return state->dir;
}

void da_state_close(struct da_state *state)
{
    if (state == NULL)
        return;

    da_state_discard(state);
    if (state->lock_fd >= 0) {
        /* Clearing our pid first keeps a later contender from naming a
         * process that no longer holds the lock. */
        (void)ftruncate(state->lock_fd, 0);
        close(state->lock_fd);
    }
    free(state->dir);
    free(state);
}

/* ---- Snapshot file names --------------------------------------------------------------- */

/* True for a name of the form snapshot-*.json without a directory part or
 * control characters. */
static bool is_snapshot_name(const char *name, size_t length)
{
    size_t prefix_length = strlen(SNAPSHOT_PREFIX);
    size_t suffix_length = strlen(SNAPSHOT_SUFFIX);

    if (length <= prefix_length + suffix_length || length > NAME_MAX)
        return false;
    if (memcmp(name, SNAPSHOT_PREFIX, prefix_length) != 0 ||
        memcmp(name + length - suffix_length, SNAPSHOT_SUFFIX, suffix_length) != 0)
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)name[i];

        if (byte == '/' || byte < 0x20 || byte == 0x7f)
            return false;
    }
    return true;
}

/* Splits the middle of snapshot-<stamp>[-N].json into the stamp and N,
 * where a name without a suffix counts as N = 1. */
static void split_snapshot_name(const char *name, size_t *stamp_length, unsigned long *sequence)
{
    size_t prefix_length = strlen(SNAPSHOT_PREFIX);
    size_t middle_length = strlen(name) - prefix_length - strlen(SNAPSHOT_SUFFIX);
    const char *middle = name + prefix_length;
    size_t digits = 0;

    *stamp_length = middle_length;
    *sequence = 1;

    while (digits < middle_length && digits < 9 && middle[middle_length - 1 - digits] >= '0' &&
           middle[middle_length - 1 - digits] <= '9')
        digits++;
    if (digits == 0 || digits >= middle_length || middle[middle_length - 1 - digits] != '-' ||
        middle[middle_length - digits] == '0')
        return;

    *stamp_length = middle_length - 1 - digits;
    *sequence = strtoul(middle + middle_length - digits, NULL, 10);
}

/* Orders snapshot file names by poll time, then by "-N" suffix as a
 * number. Plain strcmp would put "-2" before the unsuffixed name ('-' sorts
 * before '.') and "-10" before "-2". */
static int compare_snapshot_names(const void *a, const void *b)
{
    const char *left = *(const char *const *)a;
    const char *right = *(const char *const *)b;
    size_t prefix_length = strlen(SNAPSHOT_PREFIX);
    size_t left_stamp;
    size_t right_stamp;
    unsigned long left_sequence;
    unsigned long right_sequence;
    size_t common;
    int order;

    split_snapshot_name(left, &left_stamp, &left_sequence);
    split_snapshot_name(right, &right_stamp, &right_sequence);

    common = left_stamp < right_stamp ? left_stamp : right_stamp;
    order = memcmp(left + prefix_length, right + prefix_length, common);
    if (order != 0)
        return order;
    if (left_stamp != right_stamp)
        return left_stamp < right_stamp ? -1 : 1;
    if (left_sequence != right_sequence)
        return left_sequence < right_sequence ? -1 : 1;
    return strcmp(left, right);
}

/* Builds YYYYMMDDTHHMMSSZ from a poll time "YYYY-MM-DDTHH:MM:SS[.fff]Z". */
static int format_stamp(const char *poll_time, char stamp[17], struct da_error *err)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
    char quoted[QUOTE_MAX * 4 + 4];
    size_t used = 0;
    size_t i;

    if (poll_time == NULL)
        return da_error_set(err, DA_ERR_LOCAL,
                            "cannot name the snapshot file: the snapshot has no poll time");

    for (i = 0; pattern[i] != '\0'; i++) {
        if (pattern[i] == 'd') {
            if (poll_time[i] < '0' || poll_time[i] > '9')
                goto invalid;
            stamp[used++] = poll_time[i];
        } else if (poll_time[i] != pattern[i]) {
            goto invalid;
        } else if (pattern[i] == 'T') {
            stamp[used++] = 'T';
        }
    }
    if (poll_time[i] == '.') {
        i++;
        if (poll_time[i] < '0' || poll_time[i] > '9')
            goto invalid;
        while (poll_time[i] >= '0' && poll_time[i] <= '9')
            i++;
    }
    if (poll_time[i] != 'Z' || poll_time[i + 1] != '\0')
        goto invalid;

    stamp[used++] = 'Z';
    stamp[used] = '\0';
    return 0;

invalid:
    da_error_quote(poll_time, strlen(poll_time), quoted, sizeof(quoted));
    return da_error_set(err, DA_ERR_LOCAL,
                        "cannot name the snapshot file: poll time \"%s\" is not a UTC time of "
                        "the form YYYY-MM-DDTHH:MM:SSZ",
                        quoted);
}

/* ---- Loading ----------------------------------------------------------------------------- */

/* Reads the snapshot file name from `latest`. *missing is set, and the
 * return is 0, when there is no `latest` file. */
static int read_latest_name(const char *latest_path, char **out, bool *missing,
                            struct da_error *err)
{
    int fd = -1;
    struct stat info;
    char text[LATEST_FILE_MAX + 1];
    size_t length = 0;
    char *name = NULL;
    int status = 0;

    *missing = false;
    fd = open(latest_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
        *missing = true;
        goto out;
    }
    if (fd < 0) {
        status =
            da_error_set(err, DA_ERR_LOCAL, "cannot open %s: %s", latest_path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "%s is not a regular file; move it aside to start a new baseline",
                              latest_path);
        goto out;
    }

    /* Reading one byte past the limit distinguishes a long file from a full one. */
    while (length < sizeof(text)) {
        ssize_t got = read(fd, text + length, sizeof(text) - length);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            status =
                da_error_set(err, DA_ERR_LOCAL, "cannot read %s: %s", latest_path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        length += (size_t)got;
    }
    if (length > LATEST_FILE_MAX) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "%s is corrupt: it is longer than %d bytes, but it should contain "
                              "one snapshot file name; restore it from a backup or move it "
                              "aside to start a new baseline",
                              latest_path, LATEST_FILE_MAX);
        goto out;
    }

    /* One line: the final newline is optional, nothing may follow it. */
    if (length > 0 && text[length - 1] == '\n')
        length--;
    if (memchr(text, '\0', length) != NULL || !is_snapshot_name(text, length)) {
        char quoted[QUOTE_MAX * 4 + 4];

        da_error_quote(text, length, quoted, sizeof(quoted));
        status = da_error_set(err, DA_ERR_LOCAL,
                              "%s is corrupt: it contains \"%s\", but it should contain one file "
                              "name of the form snapshot-*.json with no directory part; restore "
                              "it from a backup or move it aside to start a new baseline",
                              latest_path, quoted);
        goto out;
    }

    name = malloc(length + 1);
    if (name == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory reading %s", latest_path);
        goto out;
    }
    memcpy(name, text, length);
    name[length] = '\0';
    *out = name;

out:
    if (fd >= 0)
        close(fd);
    return status;
}

static int list_snapshot_files(const char *dir, char ***out, size_t *out_count);

/* Warns when snapshots exist without a `latest` file. Deleting `latest` is
 * how an administrator starts a new baseline, but it is also how someone
 * would hide the changes made since the last poll. */
static void warn_orphaned_snapshots(const struct da_state *state)
{
    char **names = NULL;
    size_t count = 0;

    if (list_snapshot_files(state->dir, &names, &count) != 0)
        return;
    if (count > 0)
        da_log_warning("%s has %zu snapshot files but no `latest` file, so this "
                "poll starts a new baseline and reports no changes. If nobody removed `latest` "
                "on purpose, find out who did, and compare with the newest old snapshot: "
                "delegaudit diff OLD NEW",
                state->dir, count);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int da_state_load_latest(struct da_state *state, struct da_snapshot **out, char **path_out,
                         struct da_error *err)
{
    char *latest_path = NULL;
    char *name = NULL;
    char *snapshot_path = NULL;
    struct da_snapshot *snapshot = NULL;
    bool missing = false;
    int status;

    latest_path = join_path(state->dir, "latest");
    if (latest_path == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory loading the latest snapshot");
        goto out;
    }

    status = read_latest_name(latest_path, &name, &missing, err);
    if (status != 0)
        goto out;
    if (missing) {
        *out = NULL;
        if (path_out != NULL)
            *path_out = NULL;
        warn_orphaned_snapshots(state);
        goto out;
    }

    snapshot_path = join_path(state->dir, name);
    if (snapshot_path == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory loading the latest snapshot");
        goto out;
    }
    status = da_snapshot_read_file(snapshot_path, &snapshot, err);
    if (status != 0) {
        /* Moving only the snapshot aside would leave `latest` naming a
         * missing file, so the advice covers both. */
        char advice[PATH_MAX + 64];

        snprintf(advice, sizeof(advice), "; move %s aside too, because it names this file",
                 latest_path);
        append_to_message(err, advice);
        goto out;
    }

    *out = snapshot;
    snapshot = NULL;
    if (path_out != NULL) {
        *path_out = snapshot_path;
        snapshot_path = NULL;
    }

out:
    if (status != 0)
        state->load_failed = true;
    da_snapshot_free(snapshot);
    free(snapshot_path);
    free(name);
    free(latest_path);
    return status;
}

/* ---- Saving and pruning ------------------------------------------------------------------ */

/* Returns the highest "-N" sequence among the names in DIR that carry
 * stamp, 1 for an unsuffixed name, or 0 when no name carries it. */
static unsigned long highest_sequence(const char *dir, const char *stamp, int *error)
{
    DIR *stream = NULL;
    struct dirent *entry = NULL;
    size_t stamp_length = strlen(stamp);
    unsigned long highest = 0;

    *error = 0;
    stream = opendir(dir);
    if (stream == NULL) {
        *error = errno;
        return 0;
    }
    for (;;) {
        size_t name_stamp_length;
        unsigned long sequence;

        errno = 0;
        entry = readdir(stream);
        if (entry == NULL) {
            *error = errno;
            break;
        }
        if (!is_snapshot_name(entry->d_name, strlen(entry->d_name)))
            continue;
        split_snapshot_name(entry->d_name, &name_stamp_length, &sequence);
        if (name_stamp_length == stamp_length &&
            memcmp(entry->d_name + strlen(SNAPSHOT_PREFIX), stamp, stamp_length) == 0 &&
            sequence > highest)
            highest = sequence;
    }
    closedir(stream);
    return highest;
}

/* Finds a name for a new snapshot file polled at stamp. The name sorts
 * after every file with the same stamp, including files that pruning has
 * deleted since, because a reused "-2" would sort before a surviving "-3"
 * and then be pruned as the older one. The lock keeps other delegaudit
 * processes from taking the name before the rename creates the file, and
 * the lstat() loop steps over files that other programs created. */
static int choose_new_name(const struct da_state *state, const char *stamp, char **name_out,
                           char **path_out, struct da_error *err)
{
    char name[64];
    char *path = NULL;
    struct stat info;
    unsigned long sequence;
    int error = 0;
    int status = 0;

    sequence = highest_sequence(state->dir, stamp, &error) + 1;
    if (error != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot list state directory %s: %s", state->dir,
                              strerror(error));
        goto out;
    }

    for (unsigned attempt = 0; attempt < COLLISION_ATTEMPTS_MAX; attempt++, sequence++) {
        if (sequence == 1)
            snprintf(name, sizeof(name), SNAPSHOT_PREFIX "%s" SNAPSHOT_SUFFIX, stamp);
        else
            snprintf(name, sizeof(name), SNAPSHOT_PREFIX "%s-%lu" SNAPSHOT_SUFFIX, stamp, sequence);

        free(path);
        path = join_path(state->dir, name);
        if (path == NULL) {
            status = da_error_set(err, DA_ERR_LOCAL, "out of memory saving the snapshot");
            goto out;
        }
        if (lstat(path, &info) == 0)
            continue;
        if (errno != ENOENT) {
            status = da_error_set(err, DA_ERR_LOCAL, "cannot check whether %s exists: %s", path,
                                  strerror(errno));
            goto out;
        }

        *name_out = strdup(name);
        if (*name_out == NULL) {
            status = da_error_set(err, DA_ERR_LOCAL, "out of memory saving the snapshot");
            goto out;
        }
        *path_out = path;
        path = NULL;
        goto out;
    }

    status = da_error_set(err, DA_ERR_LOCAL,
                          "cannot name the snapshot file: every name tried for poll time %s "
                          "exists in %s already; move old snapshot files aside",
                          stamp, state->dir);

out:
    free(path);
    return status;
}

/* Lists the regular files in DIR named snapshot-*.json. */
static int list_snapshot_files(const char *dir, char ***out, size_t *out_count)
{
    DIR *stream = NULL;
    struct dirent *entry = NULL;
    char **names = NULL;
    size_t count = 0;
    size_t capacity = 0;
    int status = -1;

    stream = opendir(dir);
    if (stream == NULL)
        goto out;

    for (;;) {
        struct stat info;
        char *copy = NULL;

        errno = 0;
        entry = readdir(stream);
        if (entry == NULL) {
            if (errno != 0)
                goto out;
            break;
        }
        if (!is_snapshot_name(entry->d_name, strlen(entry->d_name)))
            continue;
        /* Symbolic links and directories with a matching name are not ours. */
        if (fstatat(dirfd(stream), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(info.st_mode))
            continue;

        if (count == capacity) {
            size_t larger = capacity != 0 ? capacity * 2 : 16;
            char **grown = realloc(names, larger * sizeof(*names));

            if (grown == NULL)
                goto out;
            names = grown;
            capacity = larger;
        }
        copy = strdup(entry->d_name);
        if (copy == NULL)
            goto out;
        names[count++] = copy;
    }

    *out = names;
    *out_count = count;
    names = NULL;
    count = 0;
    status = 0;

out:
    if (stream != NULL)
        closedir(stream);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return status;
}

/* Deletes the oldest snapshot files so that at most keep remain, always
 * keeping keep_name, the file just written. A failure here is a warning on
 * stderr because the new snapshot is already safe. */
static void prune_snapshots(const struct da_state *state, const char *keep_name, unsigned keep)
{
    char **names = NULL;
    size_t count = 0;
    size_t kept_count = 1;

    if (keep == 0)
        return;

    if (list_snapshot_files(state->dir, &names, &count) != 0) {
        da_log_warning("cannot list %s to delete old snapshots: %s; the new "
                "snapshot is saved",
                state->dir, strerror(errno));
        return;
    }
    if (count > 1)
        qsort(names, count, sizeof(*names), compare_snapshot_names);

    /* Walk from the newest down; keep_name is counted in kept_count already. */
    for (size_t i = count; i-- > 0;) {
        char *path = NULL;

        if (strcmp(names[i], keep_name) == 0)
            continue;
        if (kept_count < keep) {
            kept_count++;
            continue;
        }
        path = join_path(state->dir, names[i]);
        if (path == NULL || unlink(path) != 0)
            da_log_warning("cannot delete old snapshot %s/%s: %s; the new "
                    "snapshot is saved",
                    state->dir, names[i], path == NULL ? "out of memory" : strerror(errno));
        free(path);
    }

    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int da_state_write(struct da_state *state, const struct da_snapshot *snapshot, char **path_out,
                   struct da_error *err)
{
    char stamp[17];
    char *name = NULL;
    char *path = NULL;
    int status;

    if (state->load_failed) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "not saving a snapshot in %s: the latest snapshot failed to load, "
                              "and its files stay unchanged for inspection",
                              state->dir);
        goto out;
    }
    if (state->pending_name != NULL) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "a snapshot written to %s is neither committed nor discarded",
                              state->dir);
        goto out;
    }

    status = format_stamp(snapshot->poll.time, stamp, err);
    if (status != 0)
        goto out;
    status = choose_new_name(state, stamp, &name, &path, err);
    if (status != 0)
        goto out;

    status = da_snapshot_write_file(path, snapshot, err);
    if (status != 0)
        goto out;

    state->pending_name = name;
    name = NULL;
    if (path_out != NULL) {
        *path_out = path;
        path = NULL;
    }

out:
    free(path);
    free(name);
    return status;
}

int da_state_commit(struct da_state *state, unsigned keep, struct da_error *err)
{
    char *path = NULL;
    char *latest_path = NULL;
    char *latest_text = NULL;
    int status = 0;

    if (state->pending_name == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "no written snapshot to commit in %s", state->dir);

    path = join_path(state->dir, state->pending_name);
    latest_path = join_path(state->dir, "latest");
    latest_text = malloc(strlen(state->pending_name) + 2);
    if (path == NULL || latest_path == NULL || latest_text == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "out of memory saving the snapshot; %s/%s was written, but "
                              "`latest` was not updated",
                              state->dir, state->pending_name);
        goto out;
    }
    sprintf(latest_text, "%s\n", state->pending_name);
    status = da_file_write_atomic(latest_path, latest_text, strlen(latest_text), err);
    if (status != 0) {
        /* The new file stays: `latest` names either the previous snapshot,
         * so this one is an unused extra, or already this one. Deleting it
         * could leave `latest` naming a missing file. */
        da_error_prefix(err, "wrote %s, but updating %s failed", path, latest_path);
        goto out;
    }

    prune_snapshots(state, state->pending_name, keep);

out:
    free(state->pending_name);
    state->pending_name = NULL;
    free(latest_text);
    free(latest_path);
    free(path);
    return status;
}

void da_state_discard(struct da_state *state)
{
    char *path;

    if (state->pending_name == NULL)
        return;
    path = join_path(state->dir, state->pending_name);
    /* `latest` does not name this file, so removing it restores the state
     * directory as it was before da_state_write. */
    if (path == NULL || unlink(path) != 0)
        da_log_warning("could not remove the uncommitted snapshot %s/%s",
                state->dir, state->pending_name);
    free(path);
    free(state->pending_name);
    state->pending_name = NULL;
}

int da_state_save(struct da_state *state, const struct da_snapshot *snapshot, unsigned keep,
                  char **path_out, struct da_error *err)
{
    int status = da_state_write(state, snapshot, path_out, err);

    if (status != 0)
        return status;
    status = da_state_commit(state, keep, err);
    if (status != 0 && path_out != NULL) {
        free(*path_out);
        *path_out = NULL;
    }
    return status;
}

int da_state_load_history(struct da_state *state, const char *skip_name, size_t max,
                          struct da_snapshot ***out, size_t *out_count)
{
    char **names = NULL;
    size_t count = 0;
    struct da_snapshot **snapshots = NULL;
    size_t loaded = 0;

    *out = NULL;
    *out_count = 0;
    if (max == 0 || list_snapshot_files(state->dir, &names, &count) != 0)
        return 0;
    if (count > 1)
        qsort(names, count, sizeof(*names), compare_snapshot_names);

    snapshots = calloc(max, sizeof(*snapshots));
    if (snapshots == NULL)
        goto out;

    /* Newest first. An old snapshot that no longer reads only narrows the
     * matching of events to renamed accounts, so it is skipped with a
     * warning instead of failing the report. */
    for (size_t i = count; i-- > 0 && loaded < max;) {
        struct da_error err = {0};
        char *path;

        if (skip_name != NULL && strcmp(names[i], skip_name) == 0)
            continue;
        path = join_path(state->dir, names[i]);
        if (path == NULL)
            break;
        if (da_snapshot_read_file(path, &snapshots[loaded], &err) == 0)
            loaded++;
        else
            da_log_warning("skipping an older snapshot: %s", err.message);
        free(path);
    }

out:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    *out = snapshots;
    *out_count = loaded;
    return snapshots == NULL ? -1 : 0;
}
