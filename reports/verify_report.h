/* Renderers for the result of `delegaudit verify`, and the pieces of it
 * that the remediation report shows with `delegaudit report --verify`.
 * They read a result that da_verify_evaluate has evaluated; they never
 * query. Every directory value is escaped for its output format. */
#ifndef DELEGAUDIT_VERIFY_REPORT_H
#define DELEGAUDIT_VERIFY_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "auditor/verify.h"

/* Writes the text output of `delegaudit verify`: the verdict line, what
 * was verified, the domain controllers, each account on each DC, the
 * krbtgt password on each DC and the next step. Returns -1 on a write
 * error or when memory runs out. */
int da_verify_write_text(FILE *out, const struct da_verify_result *result);

/* Writes one pretty-printed JSON document (format "delegaudit-verify",
 * version DA_VERIFY_FORMAT_VERSION; docs/verify-json.md describes the
 * schema) and a newline. Returns -1 on a write error or when memory runs
 * out. */
int da_verify_write_json(FILE *out, const struct da_verify_result *result);

/* Builds the document that da_verify_write_json prints. USNs are raw items
 * (cJSON_IsRaw) with their decimal digits, because cJSON 1.7.15 can print
 * a number above 2^52 as a neighbouring integer. Returns NULL when memory
 * runs out. */
cJSON *da_verify_to_json(const struct da_verify_result *result);

/* Writes the verification section of the text remediation report: the
 * verdict, the time, the state of each account on each DC and the krbtgt
 * password on each DC. path is the file the result was read from, or
 * NULL. Returns -1 on a write error or when memory runs out. */
int da_verify_write_text_section(FILE *out, const struct da_verify_result *result,
                                 const char *path);

/* Builds the verdict as one sentence, such as "BACKDOORED: DC2 still lists
 * krbtgt/CONTOSO.TEST for svc-x". The sentence contains directory values
 * unescaped, so the caller escapes it for its format. Returns NULL when
 * memory runs out. */
char *da_verify_verdict_line(const struct da_verify_result *result);

/* Order of a DC's last krbtgt password change relative to the newest
 * finding time among the accounts. */
enum da_verify_reset_order {
    DA_RESET_NOT_COMPARED, /* no finding time or pwdLastSet, or a time in an
                              unknown form */
    DA_RESET_BEFORE_FINDING,
    DA_RESET_AFTER_FINDING,
};

/* Returns the newest finding_time among the accounts, or NULL when no
 * account has one. */
const char *da_verify_newest_finding_time(const struct da_verify_result *result);

/* Compares the krbtgt pwdLastSet of dc with the newest finding time. Both
 * may be ISO 8601 UTC ("2026-12-04T19:51:00Z") or LDAP GeneralizedTime
 * ("20261204195100.0Z"). A password set at the same time as the finding
 * counts as set before it. */
enum da_verify_reset_order da_verify_krbtgt_reset_order(const struct da_verify_result *result,
                                                        const struct da_verify_dc *dc);

#endif
