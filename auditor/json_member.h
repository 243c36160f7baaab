/* Member look-up in the JSON documents that delegaudit reads back:
 * snapshots and verify results. */
#ifndef DELEGAUDIT_JSON_MEMBER_H
#define DELEGAUDIT_JSON_MEMBER_H

#include <cjson/cJSON.h>

/* Finds the member called name of object. cJSON keeps every copy of a
 * repeated key and its own look-up returns the first, so a repeated member
 * is reported instead of letting one copy win silently. Returns -1 when
 * name is repeated, else 0 with *item NULL when the member is missing. */
int da_json_member(const cJSON *object, const char *name, const cJSON **item);

#endif
