/* asprintf and open_memstream, which glibc declares for GNU sources. */
#define _GNU_SOURCE

#include "ldap/dc_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/log.h"
#include "ldap/ad.h"
#include "ldap/prefix_map.h"
#include "ldap/search.h"

struct prefix_map_value {
    unsigned char *blob;
    size_t length;
};

static int read_prefix_map_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    struct prefix_map_value *value = context;

    free(value->blob);
    value->blob = NULL;
    return da_entry_binary(entry, "prefixMap", &value->blob, &value->length, err);
}

int da_dc_read_attids(struct da_conn *conn, const char *schema_nc, struct da_dc_attids *attids,
                      struct da_error *err)
{
    static const char *const attributes[] = {"prefixMap", NULL};
    struct prefix_map_value value = {0};
    struct da_prefix_map map = {0};
    int rc = 0;

    if (schema_nc != NULL) {
        struct da_search search = {
            .base = schema_nc,
            .scope = DA_SCOPE_BASE,
            .filter = "(objectClass=*)",
            .attributes = attributes,
            .on_entry = read_prefix_map_entry,
            .context = &value,
        };
        rc = da_search_run(conn, &search, NULL, err);
        if (rc != 0) {
            da_error_prefix(err, "reading the prefix table of %s", schema_nc);
            free(value.blob);
            return rc;
        }
    }

    if (value.blob == NULL || da_prefix_map_parse(value.blob, value.length, &map) != 0) {
        if (da_conn_verbose(conn))
            da_log("%s: %s; using the default prefix table", da_conn_uri(conn),
                   value.blob == NULL ? "no prefixMap on the schema" : "prefixMap not understood");
        if (da_prefix_map_default(&map) != 0) {
            free(value.blob);
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        }
    }
    free(value.blob);

    if (da_prefix_map_attid(&map, DA_OID_ALLOWED_TO_DELEGATE_TO,
                            &attids->allowed_to_delegate_to) != 0 ||
        da_prefix_map_attid(&map, DA_OID_USER_ACCOUNT_CONTROL, &attids->user_account_control) !=
            0 ||
        da_prefix_map_attid(&map, DA_OID_UNICODE_PWD, &attids->unicode_pwd) != 0)
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the prefix table of %s has no entry for 1.2.840.113556.1.4, the "
                          "prefix of every base schema attribute; the schema is damaged or "
                          "the value misread: report this with the output of ldapsearch -b "
                          "\"%s\" -s base prefixMap",
                          da_conn_uri(conn), schema_nc != NULL ? schema_nc : "SCHEMA NC");
    da_prefix_map_clear(&map);
    return rc;
}

void da_dc_object_clear(struct da_dc_object *object)
{
    free(object->guid);
    free(object->dn);
    free(object->sid);
    free(object->sam_account_name);
    da_strv_clear(&object->allowed_to_delegate_to);
    memset(object, 0, sizeof(*object));
}

struct read_context {
    const struct da_dc_attids *attids;
    da_dc_object_fn on_object;
    void *context;
};

static int first_string(struct da_entry *entry, const char *attr, char **value,
                        struct da_error *err)
{
    struct da_strv values = {0};
    int rc = da_entry_strings(entry, attr, &values, err);

    *value = NULL;
    if (rc == 0 && values.count > 0) {
        *value = values.items[0];
        values.items[0] = NULL;
    }
    da_strv_clear(&values);
    return rc;
}

static int parse_number(const char *text, bool is_signed, uint64_t *value)
{
    char *end = NULL;

    if (text == NULL)
        return -1;
    errno = 0;
    if (is_signed) {
        long long parsed = strtoll(text, &end, 10);

        *value = (uint64_t)parsed;
    } else {
        if (text[0] == '-')
            return -1;
        *value = strtoull(text, &end, 10);
    }
    return errno != 0 || end == text || *end != '\0' ? -1 : 0;
}

/* Takes the metadata of each wanted attribute from the XML fragments, then
 * fills what they did not name from the binary blob. */
static int read_metadata(struct da_entry *entry, struct da_dc_object *object,
                         const struct da_dc_attids *attids, struct da_error *err)
{
    struct da_strv fragments = {0};
    unsigned char *blob = NULL;
    size_t length = 0;
    int rc = da_entry_strings(entry, "msDS-ReplAttributeMetaData", &fragments, err);

    for (size_t i = 0; rc == 0 && i < fragments.count; i++) {
        struct da_attribute_metadata parsed;

        if (!da_repl_parse_xml(fragments.items[i], strlen(fragments.items[i]), &parsed)) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "a msDS-ReplAttributeMetaData value of \"%s\" is not valid "
                              "metadata XML", object->dn);
            break;
        }
        if (strcasecmp(parsed.attribute, "msDS-AllowedToDelegateTo") == 0) {
            object->delegation = parsed;
            object->delegation_known = true;
        } else if (strcasecmp(parsed.attribute, "userAccountControl") == 0) {
            object->uac = parsed;
            object->uac_known = true;
        } else if (strcasecmp(parsed.attribute, "unicodePwd") == 0) {
            object->password = parsed;
            object->password_known = true;
        }
    }
    da_strv_clear(&fragments);
    if (rc != 0)
        return rc;

    rc = da_entry_binary(entry, "replPropertyMetaData", &blob, &length, err);
    if (rc != 0 || blob == NULL)
        return rc;

    struct {
        uint32_t attid;
        bool *known;
        struct da_attribute_metadata *metadata;
        const char *name;
    } wanted[] = {
        {attids->allowed_to_delegate_to, &object->delegation_known, &object->delegation,
         "msDS-AllowedToDelegateTo"},
        {attids->user_account_control, &object->uac_known, &object->uac, "userAccountControl"},
        {attids->unicode_pwd, &object->password_known, &object->password, "unicodePwd"},
    };
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        int found;

        if (*wanted[i].known)
            continue;
        found = da_repl_find_binary(blob, length, wanted[i].attid, wanted[i].metadata);
        if (found < 0) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the replPropertyMetaData of \"%s\" (%zu bytes) is malformed; "
                              "its replication state cannot be checked on this DC",
                              object->dn, length);
            break;
        }
        if (found == 1) {
            *wanted[i].known = true;
            snprintf(wanted[i].metadata->attribute, sizeof(wanted[i].metadata->attribute), "%s",
                     wanted[i].name);
        }
    }
    free(blob);
    return rc;
}

static int read_object_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    struct read_context *read = context;
    struct da_dc_object object = {0};
    unsigned char *data = NULL;
    size_t length = 0;
    char *number = NULL;
    uint64_t value = 0;
    int rc;

    object.dn = da_entry_dn(entry);
    if (object.dn == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");

    rc = da_entry_binary(entry, "objectGUID", &data, &length, err);
    if (rc == 0) {
        object.guid = data != NULL ? da_ad_guid_to_string(data, length) : NULL;
        free(data);
        data = NULL;
        if (object.guid == NULL)
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "\"%s\" has no valid objectGUID; the bind account may lack read "
                              "access to it", object.dn);
    }
    if (rc == 0)
        rc = da_entry_binary(entry, "objectSid", &data, &length, err);
    if (rc == 0 && data != NULL) {
        object.sid = da_ad_sid_to_string(data, length);
        free(data);
        data = NULL;
    }
    if (rc == 0)
        rc = first_string(entry, "sAMAccountName", &object.sam_account_name, err);
    if (rc == 0)
        rc = first_string(entry, "userAccountControl", &number, err);
    if (rc == 0 && number != NULL) {
        if (parse_number(number, true, &value) != 0)
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the userAccountControl of \"%s\" is not a number", object.dn);
        object.user_account_control = (uint32_t)value;
    }
    free(number);
    number = NULL;
    if (rc == 0)
        rc = first_string(entry, "pwdLastSet", &number, err);
    if (rc == 0 && number != NULL && parse_number(number, true, &value) == 0)
        object.pwd_last_set = value;
    free(number);
    if (rc == 0)
        rc = da_entry_strings(entry, "msDS-AllowedToDelegateTo", &object.allowed_to_delegate_to,
                              err);
    if (rc == 0 && read->attids != NULL)
        rc = read_metadata(entry, &object, read->attids, err);
    if (rc == 0)
        rc = read->on_object(&object, read->context, err);
    da_dc_object_clear(&object);
    return rc;
}

int da_dc_read_objects(struct da_conn *conn, const char *base, const char *filter,
                       const struct da_dc_attids *attids, int page_size,
                       unsigned long range_size, da_dc_object_fn on_object, void *context,
                       struct da_error *err)
{
    char *ranged = da_search_attribute_request("msDS-AllowedToDelegateTo", range_size);
    char *ranged_metadata = da_search_attribute_request("msDS-ReplAttributeMetaData",
                                                        range_size);
    /* The metadata attributes come last: without attids the list ends
     * before them. */
    const char *attributes[] = {
        "objectGUID", "objectSid", "sAMAccountName", "userAccountControl", "pwdLastSet",
        ranged, attids != NULL ? ranged_metadata : NULL, "replPropertyMetaData", NULL,
    };
    struct read_context read = {attids, on_object, context};
    int rc;

    if (ranged == NULL || ranged_metadata == NULL) {
        free(ranged);
        free(ranged_metadata);
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }

    struct da_search search = {
        .base = base,
        .scope = DA_SCOPE_SUBTREE,
        .filter = filter,
        .attributes = attributes,
        .page_size = page_size,
        .range_size = range_size,
        .on_entry = read_object_entry,
        .context = &read,
    };
    rc = da_search_run(conn, &search, NULL, err);
    free(ranged);
    free(ranged_metadata);
    return rc;
}

/* Parses a GUID in 8-4-4-4-12 text into the 16 bytes of objectGUID. */
static int guid_from_string(const char *text, unsigned char bytes[16])
{
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    unsigned char plain[16];
    size_t used = 0;

    if (strlen(text) != 36)
        return -1;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return -1;
            continue;
        }
        char digit = text[i];
        int nibble = digit >= '0' && digit <= '9'   ? digit - '0'
                     : digit >= 'a' && digit <= 'f' ? digit - 'a' + 10
                     : digit >= 'A' && digit <= 'F' ? digit - 'A' + 10
                                                    : -1;
        if (nibble < 0)
            return -1;
        if (used % 2 == 0)
            plain[used / 2] = (unsigned char)(nibble << 4);
        else
            plain[used / 2] |= (unsigned char)nibble;
        used++;
    }
    for (int i = 0; i < 16; i++)
        bytes[i] = plain[order[i]];
    return 0;
}

char *da_dc_guid_filter(const char *const *guids, size_t count)
{
    char *filter = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&filter, &length);
    bool ok = out != NULL;

    if (ok)
        fputs("(|", out);
    for (size_t i = 0; ok && i < count; i++) {
        unsigned char bytes[16];

        if (guid_from_string(guids[i], bytes) != 0) {
            ok = false;
            break;
        }
        fputs("(objectGUID=", out);
        for (int j = 0; j < 16; j++)
            fprintf(out, "\\%02x", bytes[j]);
        fputc(')', out);
    }
    if (ok)
        fputc(')', out);
    if (out != NULL && fclose(out) != 0)
        ok = false;
    if (!ok) {
        free(filter);
        return NULL;
    }
    return filter;
}

char *da_dc_account_filter(const char *name)
{
    const char *attr = "sAMAccountName";
    char *escaped = NULL;
    char *filter = NULL;

    if (strncasecmp(name, "S-1-", 4) == 0) {
        unsigned char sid[68];
        size_t length = 0;

        if (da_ad_sid_from_string(name, sid, &length) != 0)
            return NULL;
        escaped = da_filter_escape((const char *)sid, length);
        attr = "objectSid";
    } else {
        escaped = da_filter_escape(name, strlen(name));
        if (strchr(name, '=') != NULL)
            attr = "distinguishedName";
    }
    if (escaped == NULL)
        return NULL;
    if (asprintf(&filter, "(%s=%s)", attr, escaped) < 0)
        filter = NULL;
    free(escaped);
    return filter;
}
