/* Reading back the JSON document that `delegaudit verify --json` writes,
 * for `delegaudit report --verify FILE`. docs/verify-json.md describes the
 * document. */
#ifndef DELEGAUDIT_VERIFY_LOAD_H
#define DELEGAUDIT_VERIFY_LOAD_H

#include "auditor/error.h"
#include "auditor/verify.h"

/* Reads and validates the verify document at path into result, then runs
 * da_verify_evaluate, so the states, the verdict and krbtgt_converged come
 * from the data and not from the stored names.
 *
 * Errors:
 *  - DA_ERR_LOCAL when the file cannot be opened or read, is not a regular
 *    file, or memory runs out;
 *  - DA_ERR_USAGE when the file is not a verify document: empty, not JSON,
 *    another "format", a "format_version" newer than
 *    DA_VERIFY_FORMAT_VERSION, or a member that is missing, of the wrong
 *    type or out of range. The message names the file and the member, as
 *    in "accounts[2].domain_controllers[1].state".
 *
 * On success the caller frees result with da_verify_result_clear. On
 * failure result is zeroed. */
int da_verify_load_file(const char *path, struct da_verify_result *result, struct da_error *err);

#endif
