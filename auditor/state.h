/* The state directory of scheduled polls.
 *
 * Layout of DIR:
 *   snapshot-YYYYMMDDTHHMMSSZ.json   one file per successful poll (a "-N"
 *                                    suffix keeps two polls of one second apart)
 *   latest                           the file name of the newest snapshot,
 *                                    one line, replaced atomically
 *   lock                             held with flock() while a poll runs;
 *                                    contains the holder's pid for messages
 * Nothing in DIR is written unless a poll completed. */
#ifndef DELEGAUDIT_STATE_H
#define DELEGAUDIT_STATE_H

#include "auditor/error.h"
#include "auditor/model.h"

struct da_state;

/* Opens DIR, creating it with mode 0700 when it does not exist, and takes
 * the lock without waiting. A lock held by another process is
 * DA_ERR_LOCAL whose message reports that a poll is already running. */
int da_state_open(const char *dir, struct da_state **out, struct da_error *err);

/* Loads the snapshot that `latest` names. With no `latest` file, *out is
 * NULL and the return is 0 (the first poll). A `latest` that names a
 * missing file, or a snapshot that fails validation, is DA_ERR_LOCAL and
 * names the file. *path_out (optional) receives the snapshot's path. */
int da_state_load_latest(struct da_state *state, struct da_snapshot **out, char **path_out,
                         struct da_error *err);

/* Writes the snapshot as a new file, points `latest` at it, then deletes
 * the oldest snapshot files so that at most `keep` remain (0 keeps all).
 * The file that `latest` named before is never deleted by this call's
 * pruning unless more than `keep` newer files exist. *path_out (optional)
 * receives the new file's path.
 * Files are ordered by the poll time in their names, then by the "-N"
 * suffix as a number; the file just written is always kept. A pruning
 * failure is printed to stderr as a warning and the return is still 0,
 * because the new snapshot is saved by then. After a failed
 * da_state_load_latest on the same handle, the call writes nothing and
 * returns DA_ERR_LOCAL, so the files that failed to load stay unchanged. */
int da_state_save(struct da_state *state, const struct da_snapshot *snapshot, unsigned keep,
                  char **path_out, struct da_error *err);

/* The two halves of da_state_save, for a caller that must deliver its
 * report before the new snapshot becomes the baseline. da_state_write
 * writes the snapshot file under its new name without touching `latest`.
 * da_state_commit then points `latest` at it and prunes as da_state_save
 * does, and da_state_discard removes it instead. da_state_close discards
 * a snapshot that was written but not committed. */
int da_state_write(struct da_state *state, const struct da_snapshot *snapshot, char **path_out,
                   struct da_error *err);
int da_state_commit(struct da_state *state, unsigned keep, struct da_error *err);
void da_state_discard(struct da_state *state);

/* Loads up to max snapshot files of the directory, newest first, leaving
 * out the file named skip_name (the latest, loaded already). A file that
 * fails to read is skipped with a warning. The caller frees each snapshot
 * and the array. Returns -1 when memory runs out. */
int da_state_load_history(struct da_state *state, const char *skip_name, size_t max,
                          struct da_snapshot ***out, size_t *out_count);

const char *da_state_path(const struct da_state *state);

/* Releases the lock and frees the handle. */
void da_state_close(struct da_state *state);

#endif
