/* asprintf, which glibc declares only for GNU sources. */
#define _GNU_SOURCE

#include "ldap/ad.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char da_ad_delegation_filter[] =
    "(|(msDS-AllowedToDelegateTo=*)"
    "(userAccountControl:1.2.840.113556.1.4.803:=524288)"   /* TRUSTED_FOR_DELEGATION */
    "(userAccountControl:1.2.840.113556.1.4.803:=16777216)" /* TRUSTED_TO_AUTH_FOR_DELEGATION */
    "(msDS-AllowedToActOnBehalfOfOtherIdentity=*))";

const char *const da_ad_delegation_attributes[] = {
    "objectGUID",
    "objectSid",
    "sAMAccountName",
    "objectClass",
    "userAccountControl",
    "msDS-AllowedToDelegateTo",
    "servicePrincipalName",
    "msDS-AllowedToActOnBehalfOfOtherIdentity",
    "whenChanged",
    "uSNChanged",
    NULL,
};

static uint16_t read_le16(const unsigned char *bytes)
{
    return (uint16_t)(bytes[0] | bytes[1] << 8);
}

static uint32_t read_le32(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

char *da_ad_guid_to_string(const unsigned char *bytes, size_t length)
{
    char *text;

    if (bytes == NULL || length != 16)
        return NULL;
    text = malloc(37);
    if (text == NULL)
        return NULL;

    snprintf(text, 37,
             "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", read_le32(bytes),
             read_le16(bytes + 4), read_le16(bytes + 6), bytes[8], bytes[9], bytes[10],
             bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

#define SID_MAX_SUB_AUTHORITIES 15

/* Returns the size of the SID at bytes, or 0 when it does not fit in
 * available or is not a revision-1 SID. */
static size_t sid_size(const unsigned char *bytes, size_t available)
{
    size_t size;

    if (available < 8 || bytes[0] != 1 || bytes[1] > SID_MAX_SUB_AUTHORITIES)
        return 0;
    size = 8 + 4 * (size_t)bytes[1];
    return size <= available ? size : 0;
}

char *da_ad_sid_to_string(const unsigned char *bytes, size_t length)
{
    /* "S-1-" + a 48-bit authority + 15 sub-authorities of up to 10 digits. */
    char text[4 + 20 + SID_MAX_SUB_AUTHORITIES * 11 + 1];
    uint64_t authority = 0;
    size_t used;

    if (bytes == NULL || sid_size(bytes, length) != length)
        return NULL;

    for (int i = 2; i < 8; i++)
        authority = authority << 8 | bytes[i];

    /* Authorities of 2^32 and above are written in hex ([MS-DTYP] 2.4.2.1). */
    if (authority >= UINT64_C(0x100000000))
        used = (size_t)snprintf(text, sizeof(text), "S-%u-0x%012" PRIx64, bytes[0], authority);
    else
        used = (size_t)snprintf(text, sizeof(text), "S-%u-%" PRIu64, bytes[0], authority);

    for (unsigned i = 0; i < bytes[1]; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "-%" PRIu32,
                                 read_le32(bytes + 8 + 4 * i));
    return strdup(text);
}

int da_ad_sid_from_string(const char *text, unsigned char bytes[68], size_t *length)
{
    const char *cursor = text;
    char *end = NULL;
    unsigned long long value;
    unsigned count = 0;

    if (strncasecmp(cursor, "S-1-", 4) != 0)
        return -1;
    cursor += 4;

    errno = 0;
    value = strtoull(cursor, &end, 10);
    if (end == cursor || errno != 0 || value > UINT64_C(0xffffffffffff))
        return -1;
    bytes[0] = 1;
    for (int i = 7; i >= 2; i--) {
        bytes[i] = (unsigned char)(value & 0xff);
        value >>= 8;
    }
    cursor = end;

    while (*cursor == '-') {
        cursor++;
        if (count == SID_MAX_SUB_AUTHORITIES || *cursor < '0' || *cursor > '9')
            return -1;
        errno = 0;
        value = strtoull(cursor, &end, 10);
        if (errno != 0 || value > UINT32_MAX)
            return -1;
        for (int i = 0; i < 4; i++)
            bytes[8 + 4 * count + i] = (unsigned char)(value >> (8 * i));
        count++;
        cursor = end;
    }
    if (*cursor != '\0' || count == 0)
        return -1;

    bytes[1] = (unsigned char)count;
    *length = 8 + 4 * count;
    return 0;
}

#define SD_HEADER_SIZE 20
#define SD_CONTROL_DACL_PRESENT 0x0004
#define ACL_HEADER_SIZE 8
#define ACE_HEADER_SIZE 4
#define ACE_TYPE_ACCESS_ALLOWED 0x00
#define ACE_TYPE_ACCESS_ALLOWED_OBJECT 0x05
#define ACE_OBJECT_TYPE_PRESENT 0x1
#define ACE_INHERITED_OBJECT_TYPE_PRESENT 0x2

/* Returns the offset of the trustee SID inside an allow ACE of size
 * ace_size, or 0 when the ACE is of another type or malformed. */
static size_t ace_sid_offset(const unsigned char *ace, size_t ace_size)
{
    size_t offset = ACE_HEADER_SIZE + 4; /* header, access mask */

    if (ace[0] == ACE_TYPE_ACCESS_ALLOWED)
        return offset <= ace_size ? offset : 0;
    if (ace[0] != ACE_TYPE_ACCESS_ALLOWED_OBJECT)
        return 0;

    if (offset + 4 > ace_size)
        return 0;
    uint32_t flags = read_le32(ace + offset);
    offset += 4;
    if (flags & ACE_OBJECT_TYPE_PRESENT)
        offset += 16;
    if (flags & ACE_INHERITED_OBJECT_TYPE_PRESENT)
        offset += 16;
    return offset <= ace_size ? offset : 0;
}

int da_ad_security_descriptor_trustees(const unsigned char *bytes, size_t length,
                                       struct da_strv *sids)
{
    struct da_strv found = {0};
    size_t dacl_offset;
    size_t acl_size;
    size_t ace_count;
    size_t position;

    if (bytes == NULL || length < SD_HEADER_SIZE || bytes[0] != 1)
        return -1;
    if (!(read_le16(bytes + 2) & SD_CONTROL_DACL_PRESENT))
        return 0;
    dacl_offset = read_le32(bytes + 16);
    if (dacl_offset == 0)
        return 0;
    if (dacl_offset < SD_HEADER_SIZE || dacl_offset > length ||
        length - dacl_offset < ACL_HEADER_SIZE)
        return -1;

    acl_size = read_le16(bytes + dacl_offset + 2);
    ace_count = read_le16(bytes + dacl_offset + 4);
    if (acl_size < ACL_HEADER_SIZE || acl_size > length - dacl_offset)
        return -1;

    position = ACL_HEADER_SIZE;
    for (size_t i = 0; i < ace_count; i++) {
        const unsigned char *ace = bytes + dacl_offset + position;
        size_t ace_size;
        size_t sid_offset;
        size_t size;
        char *sid;

        if (acl_size - position < ACE_HEADER_SIZE)
            goto invalid;
        ace_size = read_le16(ace + 2);
        if (ace_size < ACE_HEADER_SIZE || ace_size > acl_size - position)
            goto invalid;

        sid_offset = ace_sid_offset(ace, ace_size);
        if (sid_offset != 0) {
            size = sid_size(ace + sid_offset, ace_size - sid_offset);
            if (size == 0)
                goto invalid;
            sid = da_ad_sid_to_string(ace + sid_offset, size);
            if (sid == NULL || da_strv_append_owned(&found, sid) != 0) {
                free(sid);
                goto invalid;
            }
        }
        position += ace_size;
    }

    for (size_t i = 0; i < found.count; i++) {
        if (da_strv_append(sids, found.items[i]) != 0)
            goto invalid;
    }
    da_strv_clear(&found);
    return 0;

invalid:
    da_strv_clear(&found);
    return -1;
}

enum da_account_kind da_ad_account_kind(const struct da_strv *object_classes)
{
    static const struct {
        const char *object_class;
        enum da_account_kind kind;
    } order[] = {
        /* Managed service accounts derive from computer: test them first. */
        {"msDS-GroupManagedServiceAccount", DA_KIND_GMSA},
        {"msDS-ManagedServiceAccount", DA_KIND_MSA},
        {"computer", DA_KIND_COMPUTER},
        {"inetOrgPerson", DA_KIND_INETORGPERSON},
        {"user", DA_KIND_USER},
    };

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        for (size_t j = 0; j < object_classes->count; j++) {
            if (strcasecmp(object_classes->items[j], order[i].object_class) == 0)
                return order[i].kind;
        }
    }
    return DA_KIND_OTHER;
}

void da_rootdse_clear(struct da_rootdse *rootdse)
{
    free(rootdse->default_naming_context);
    free(rootdse->configuration_naming_context);
    free(rootdse->schema_naming_context);
    free(rootdse->dns_host_name);
    free(rootdse->ds_service_name);
    free(rootdse->invocation_id);
    memset(rootdse, 0, sizeof(*rootdse));
}

/* Reads the first value of a single-valued string attribute. */
static int first_string(struct da_entry *entry, const char *attr, char **value,
                        struct da_error *err)
{
    unsigned char *data = NULL;
    size_t length = 0;
    int rc = da_entry_binary(entry, attr, &data, &length, err);

    if (rc != 0)
        return rc;
    if (data != NULL && memchr(data, '\0', length) != NULL) {
        free(data);
        return da_error_set(err, DA_ERR_DIRECTORY, "the value of %s contains a NUL byte", attr);
    }
    *value = (char *)data;
    return 0;
}

static int parse_u64(const char *text, uint64_t *value)
{
    char *end = NULL;
    unsigned long long parsed;

    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    parsed = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *value = parsed;
    return 0;
}

struct rootdse_context {
    struct da_rootdse *rootdse;
};

static int read_rootdse_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    struct da_rootdse *rootdse = ((struct rootdse_context *)context)->rootdse;
    struct da_strv controls = {0};
    char *usn = NULL;
    int rc;

    rc = first_string(entry, "defaultNamingContext", &rootdse->default_naming_context, err);
    if (rc == 0)
        rc = first_string(entry, "configurationNamingContext",
                          &rootdse->configuration_naming_context, err);
    if (rc == 0)
        rc = first_string(entry, "schemaNamingContext", &rootdse->schema_naming_context, err);
    if (rc == 0)
        rc = first_string(entry, "dnsHostName", &rootdse->dns_host_name, err);
    if (rc == 0)
        rc = first_string(entry, "dsServiceName", &rootdse->ds_service_name, err);
    if (rc == 0)
        rc = first_string(entry, "highestCommittedUSN", &usn, err);
    if (rc == 0)
        rc = da_entry_strings(entry, "supportedControl", &controls, err);
    if (rc != 0)
        goto out;

    if (usn != NULL && parse_u64(usn, &rootdse->highest_committed_usn) != 0) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the RootDSE returned an invalid highestCommittedUSN \"%s\"", usn);
        goto out;
    }
    rootdse->paged_results = da_strv_contains(&controls, DA_OID_PAGED_RESULTS);

out:
    free(usn);
    da_strv_clear(&controls);
    return rc;
}

static int read_invocation_id_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    struct da_rootdse *rootdse = context;
    unsigned char *data = NULL;
    size_t length = 0;
    int rc = da_entry_binary(entry, "invocationId", &data, &length, err);

    if (rc != 0)
        return rc;
    if (data != NULL) {
        rootdse->invocation_id = da_ad_guid_to_string(data, length);
        if (rootdse->invocation_id == NULL)
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the invocationId of \"%s\" is %zu bytes long instead of 16",
                              rootdse->ds_service_name, length);
    }
    free(data);
    return rc;
}

int da_ad_read_rootdse(struct da_conn *conn, struct da_rootdse *rootdse, struct da_error *err)
{
    static const char *const rootdse_attributes[] = {
        "defaultNamingContext", "configurationNamingContext", "schemaNamingContext",
        "dnsHostName", "dsServiceName", "highestCommittedUSN", "supportedControl", NULL,
    };
    static const char *const invocation_attributes[] = {"invocationId", NULL};
    struct da_rootdse result = {0};
    struct rootdse_context context = {&result};
    struct da_search search = {
        .base = "",
        .scope = DA_SCOPE_BASE,
        .filter = "(objectClass=*)",
        .attributes = rootdse_attributes,
        .on_entry = read_rootdse_entry,
        .context = &context,
    };
    struct da_search_stats stats = {0};
    int rc;

    rc = da_search_run(conn, &search, &stats, err);
    if (rc != 0)
        goto out;
    if (stats.entries != 1 || result.default_naming_context == NULL) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the RootDSE of %s has no defaultNamingContext: is this an Active "
                          "Directory domain controller?", da_conn_uri(conn));
        goto out;
    }

    /* The invocationId identifies this DC's database in replication
     * metadata; an unreadable one is left NULL rather than failing. */
    if (result.ds_service_name != NULL) {
        struct da_search invocation = {
            .base = result.ds_service_name,
            .scope = DA_SCOPE_BASE,
            .filter = "(objectClass=*)",
            .attributes = invocation_attributes,
            .on_entry = read_invocation_id_entry,
            .context = &result,
        };

        rc = da_search_run(conn, &invocation, NULL, err);
        if (rc != 0)
            goto out;
    }

    *rootdse = result;
    memset(&result, 0, sizeof(result));
    rc = 0;

out:
    da_rootdse_clear(&result);
    return rc;
}

static int read_sid_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    char **sid = context;
    unsigned char *data = NULL;
    size_t length = 0;
    int rc = da_entry_binary(entry, "objectSid", &data, &length, err);

    if (rc == 0 && data != NULL) {
        *sid = da_ad_sid_to_string(data, length);
        if (*sid == NULL)
            rc = da_error_set(err, DA_ERR_DIRECTORY, "the objectSid of the naming context is "
                              "not a valid SID (%zu bytes)", length);
    }
    free(data);
    return rc;
}

int da_ad_read_domain_sid(struct da_conn *conn, const char *naming_context, char **sid,
                          struct da_error *err)
{
    static const char *const attributes[] = {"objectSid", NULL};
    char *result = NULL;
    struct da_search search = {
        .base = naming_context,
        .scope = DA_SCOPE_BASE,
        .filter = "(objectClass=*)",
        .attributes = attributes,
        .on_entry = read_sid_entry,
        .context = &result,
    };
    int rc = da_search_run(conn, &search, NULL, err);

    if (rc != 0) {
        free(result);
        return rc;
    }
    if (result == NULL)
        return da_error_set(err, DA_ERR_DIRECTORY,
                            "the naming context \"%s\" has no objectSid: it is not a domain "
                            "partition", naming_context);
    *sid = result;
    return 0;
}

int da_ad_missing_krbtgt(const char *krbtgt_sid, const char *base, struct da_error *err)
{
    return da_error_set(err, DA_ERR_DIRECTORY,
                        "the krbtgt account (%s) was not found under \"%s\": the bind "
                        "account may lack read access to it, and findings for targets that "
                        "equal its SPNs would be missed; bind with an account that can read "
                        "it", krbtgt_sid, base);
}

struct krbtgt_context {
    struct da_snapshot *snapshot;
    const char *domain_krbtgt_sid;
    bool domain_krbtgt_found;
};

int da_ad_entry_add_krbtgt(struct da_entry *entry, const char *domain_krbtgt_sid,
                           struct da_snapshot *snapshot, bool *is_krbtgt, bool *domain_krbtgt,
                           struct da_error *err)
{
    struct da_krbtgt krbtgt = {0};
    struct da_strv links = {0};
    unsigned char *sid = NULL;
    size_t sid_length = 0;
    bool domain = false;
    int rc;

    *is_krbtgt = false;
    rc = da_entry_binary(entry, "objectSid", &sid, &sid_length, err);
    if (rc == 0 && sid != NULL)
        krbtgt.sid = da_ad_sid_to_string(sid, sid_length);
    if (rc == 0)
        rc = da_entry_strings(entry, "msDS-KrbTgtLinkBl", &links, err);
    if (rc != 0)
        goto out;
    domain = krbtgt.sid != NULL && strcasecmp(krbtgt.sid, domain_krbtgt_sid) == 0;
    if (!domain && links.count == 0)
        goto out;

    *is_krbtgt = true;
    krbtgt.read_only_dc = !domain;
    krbtgt.dn = da_entry_dn(entry);
    if (krbtgt.dn == NULL) {
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }
    rc = first_string(entry, "sAMAccountName", &krbtgt.sam_account_name, err);
    if (rc == 0)
        rc = da_entry_strings(entry, "servicePrincipalName", &krbtgt.service_principal_names, err);
    if (rc != 0)
        goto out;
    if (domain)
        *domain_krbtgt = true;
    if (da_snapshot_add_krbtgt(snapshot, &krbtgt) != 0)
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");

out:
    da_krbtgt_clear(&krbtgt);
    da_strv_clear(&links);
    free(sid);
    return rc;
}

static int read_krbtgt_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    struct krbtgt_context *krbtgt_context = context;
    bool is_krbtgt = false;

    return da_ad_entry_add_krbtgt(entry, krbtgt_context->domain_krbtgt_sid,
                                  krbtgt_context->snapshot, &is_krbtgt,
                                  &krbtgt_context->domain_krbtgt_found, err);
}

/* Collects the msDS-KrbTgtLink values of an RODC's computer account, and
 * stores the domain's krbtgt account when the entry is that one. */
struct krbtgt_search {
    struct da_snapshot *snapshot;
    const char *domain_krbtgt_sid;
    bool domain_krbtgt_found;
    struct da_strv links;
};

static int read_krbtgt_or_rodc(struct da_entry *entry, void *context, struct da_error *err)
{
    struct krbtgt_search *search = context;
    bool is_krbtgt = false;
    int rc = da_ad_entry_add_krbtgt(entry, search->domain_krbtgt_sid, search->snapshot,
                                    &is_krbtgt, &search->domain_krbtgt_found, err);

    if (rc == 0 && !is_krbtgt)
        rc = da_entry_strings(entry, "msDS-KrbTgtLink", &search->links, err);
    return rc;
}

int da_ad_read_krbtgts(struct da_conn *conn, const char *base, const char *domain_sid,
                       struct da_snapshot *snapshot, struct da_error *err)
{
    static const char *const attributes[] = {
        "objectSid", "sAMAccountName", "servicePrincipalName", "msDS-KrbTgtLinkBl",
        "msDS-KrbTgtLink", NULL,
    };
    unsigned char sid[68];
    size_t sid_length = 0;
    char sid_text[128];
    char *escaped = NULL;
    char *filter = NULL;
    struct krbtgt_search context = {.snapshot = snapshot, .domain_krbtgt_sid = sid_text};
    struct da_search search = {
        .scope = DA_SCOPE_SUBTREE,
        .attributes = attributes,
        .page_size = 0,
        .on_entry = read_krbtgt_or_rodc,
        .context = &context,
    };
    int rc;

    snprintf(sid_text, sizeof(sid_text), "%s-502", domain_sid);
    if (da_ad_sid_from_string(sid_text, sid, &sid_length) != 0) {
        rc = da_error_set(err, DA_ERR_DIRECTORY, "the domain SID \"%s\" is invalid", domain_sid);
        goto out;
    }
    /* The binary form of the SID works on every AD and Samba version. */
    escaped = da_filter_escape((const char *)sid, sid_length);
    /* An RODC's computer account has the primary group Read-only Domain
     * Controllers (RID 521) and names its krbtgt_N account in
     * msDS-KrbTgtLink. Both terms are indexed, where a presence test on
     * msDS-KrbTgtLinkBl made Samba visit every object: 13 ms for 10,000. */
    if (escaped == NULL || asprintf(&filter, "(|(objectSid=%s)(primaryGroupID=521))", escaped) < 0) {
        filter = NULL;
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }
    search.base = base;
    search.filter = filter;
    rc = da_search_run(conn, &search, NULL, err);
    if (rc != 0)
        goto out;
    if (!context.domain_krbtgt_found) {
        rc = da_ad_missing_krbtgt(sid_text, base, err);
        goto out;
    }

    /* Each linked krbtgt_N account, read by its DN. */
    search.scope = DA_SCOPE_BASE;
    search.filter = "(objectClass=*)";
    search.on_entry = read_krbtgt_entry;
    for (size_t i = 0; i < context.links.count; i++) {
        struct krbtgt_context linked = {snapshot, sid_text, false};

        search.base = context.links.items[i];
        search.context = &linked;
        rc = da_search_run(conn, &search, NULL, err);
        if (rc != 0 && da_error_is_no_such_object(err)) {
            /* A link to a deleted account: nothing to match against. */
            da_error_clear(err);
            rc = 0;
        }
        if (rc != 0)
            goto out;
    }

out:
    da_strv_clear(&context.links);
    free(filter);
    free(escaped);
    return rc;
}

static int parse_user_account_control(const char *text, uint32_t *value)
{
    char *end = NULL;
    long long parsed;

    if (text == NULL || text[0] == '\0')
        return -1;
    errno = 0;
    parsed = strtoll(text, &end, 10);
    /* INTEGER syntax is signed 32-bit; accept both readings of bit 31. */
    if (errno != 0 || *end != '\0' || parsed < INT32_MIN || parsed > (long long)UINT32_MAX)
        return -1;
    *value = (uint32_t)parsed;
    return 0;
}

int da_ad_entry_to_account(struct da_entry *entry, struct da_account *account,
                           struct da_error *err)
{
    struct da_account result = {0};
    struct da_strv object_classes = {0};
    unsigned char *binary = NULL;
    size_t length = 0;
    char *text = NULL;
    int rc;

    result.dn = da_entry_dn(entry);
    if (result.dn == NULL) {
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }

    rc = da_entry_binary(entry, "objectGUID", &binary, &length, err);
    if (rc != 0)
        goto out;
    result.guid = da_ad_guid_to_string(binary, length);
    if (result.guid == NULL) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the entry \"%s\" has no valid objectGUID (%zu bytes); the bind "
                          "account may lack read access to it", result.dn, length);
        goto out;
    }
    free(binary);
    binary = NULL;

    rc = da_entry_binary(entry, "objectSid", &binary, &length, err);
    if (rc != 0)
        goto out;
    if (binary != NULL)
        result.sid = da_ad_sid_to_string(binary, length);
    free(binary);
    binary = NULL;

    rc = first_string(entry, "sAMAccountName", &result.sam_account_name, err);
    if (rc == 0)
        rc = da_entry_strings(entry, "objectClass", &object_classes, err);
    if (rc == 0)
        rc = first_string(entry, "userAccountControl", &text, err);
    if (rc != 0)
        goto out;
    result.kind = da_ad_account_kind(&object_classes);
    if (text != NULL && parse_user_account_control(text, &result.user_account_control) != 0) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the entry \"%s\" has an invalid userAccountControl \"%s\"", result.dn,
                          text);
        goto out;
    }
    free(text);
    text = NULL;

    rc = da_entry_strings(entry, "msDS-AllowedToDelegateTo", &result.allowed_to_delegate_to, err);
    if (rc == 0)
        rc = da_entry_strings(entry, "servicePrincipalName", &result.service_principal_names, err);
    if (rc != 0) {
        da_error_prefix(err, "reading \"%s\"", result.dn);
        goto out;
    }

    rc = da_entry_binary(entry, "msDS-AllowedToActOnBehalfOfOtherIdentity", &binary, &length,
                         err);
    if (rc != 0)
        goto out;
    if (binary != NULL) {
        result.has_allowed_to_act = true;
        /* NOTE: an unparsable descriptor keeps the flag with no trustees;
         * the findings then report it as unparsed instead of dropping it. */
        da_ad_security_descriptor_trustees(binary, length, &result.allowed_to_act);
    }

    rc = first_string(entry, "whenChanged", &result.when_changed, err);
    if (rc == 0)
        rc = first_string(entry, "uSNChanged", &text, err);
    if (rc != 0)
        goto out;
    if (text != NULL && parse_u64(text, &result.usn_changed) != 0) {
        rc = da_error_set(err, DA_ERR_DIRECTORY, "the entry \"%s\" has an invalid uSNChanged \"%s\"",
                          result.dn, text);
        goto out;
    }

    *account = result;
    memset(&result, 0, sizeof(result));
    rc = 0;

out:
    da_account_clear(&result);
    da_strv_clear(&object_classes);
    free(binary);
    free(text);
    return rc;
}
