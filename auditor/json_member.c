#include "auditor/json_member.h"

#include <string.h>

int da_json_member(const cJSON *object, const char *name, const cJSON **item)
{
    const cJSON *child = NULL;
    const cJSON *found = NULL;

    cJSON_ArrayForEach(child, object)
    {
        if (child->string == NULL || strcmp(child->string, name) != 0)
            continue;
        if (found != NULL)
            return -1;
        found = child;
    }
    *item = found;
    return 0;
}
