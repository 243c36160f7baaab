/* Replication metadata of an attribute, as a domain controller reports it.
 *
 * Windows DCs serve msDS-ReplAttributeMetaData: one XML fragment per
 * attribute (<DS_REPL_ATTR_META_DATA> with pszAttributeName, dwVersion,
 * ftimeLastOriginatingChange, uuidLastOriginatingDsaInvocationID,
 * usnOriginatingChange, usnLocalChange, pszLastOriginatingDsaDN). Real
 * ones can contain a raw '&' inside a DN and end with a NUL byte.
 * Samba DCs serve only the binary replPropertyMetaData: a version-1 blob
 * (version, reserved, count, reserved, then per attribute 48 bytes:
 * attid, version, originating time in seconds since 1601, originating
 * invocationId, originating USN, local USN; little-endian). */
#ifndef DELEGAUDIT_LDAP_REPLICATION_H
#define DELEGAUDIT_LDAP_REPLICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* attid of msDS-AllowedToDelegateTo (OID 1.2.840.113556.1.4.1787) in the
 * base schema's prefix table, as the lab DC reports it. */
#define DA_ATTID_ALLOWED_TO_DELEGATE_TO 0x000906fbu

struct da_attribute_metadata {
    char attribute[64];        /* lDAPDisplayName, or "" when only attid is known */
    uint32_t attid;            /* 0 when parsed from XML */
    uint32_t version;
    char originating_time[32]; /* UTC "YYYY-MM-DDTHH:MM:SSZ" */
    char originating_invocation_id[37]; /* lower-case GUID */
    uint64_t originating_usn;
    uint64_t local_usn;
    char originating_dsa_dn[512]; /* XML only; "" otherwise */
};

/* Parses one msDS-ReplAttributeMetaData value (length bytes, possibly with
 * a trailing NUL and unescaped '&'). Returns false when a required element
 * is missing or invalid. */
bool da_repl_parse_xml(const char *value, size_t length, struct da_attribute_metadata *out);

/* Finds the entry for attid in a replPropertyMetaData blob. Returns 1 and
 * fills *out when found, 0 when the blob has no such attid, -1 when the
 * blob is invalid: a version other than 1, a count larger than the blob,
 * a length that is not 16 + 48 * count, or a matching entry whose time is
 * negative or after the year 9999. Every length is checked before it is
 * read. */
int da_repl_find_binary(const unsigned char *blob, size_t length, uint32_t attid,
                        struct da_attribute_metadata *out);

/* Writes seconds since 1601-01-01 UTC, the origin of AD times, as
 * "YYYY-MM-DDTHH:MM:SSZ". Returns false after the year 9999 or when field is
 * too small. */
bool da_repl_format_seconds_since_1601(uint64_t seconds, char *field, size_t size);

#endif
