/* The schema prefix table: how a DC turns an attribute's OID into the
 * 32-bit attid that its binary replication metadata uses.
 *
 * An attid is (index << 16) | low word, where index names an OID prefix
 * in the table ([MS-DRSR] 5.16.4). The table is stored in prefixMap on the
 * schema naming context. Samba stores it as an NDR prefixMapBlob that
 * starts with "BDSD"; Windows stores a count, a total size and then per
 * entry a 16-bit index, a 16-bit length and the BER bytes of the prefix.
 * Every length is checked before it is read. */
#ifndef DELEGAUDIT_LDAP_PREFIX_MAP_H
#define DELEGAUDIT_LDAP_PREFIX_MAP_H

#include <stddef.h>
#include <stdint.h>

/* OIDs of the attributes that verify reads metadata for. */
#define DA_OID_ALLOWED_TO_DELEGATE_TO "1.2.840.113556.1.4.1787"
#define DA_OID_USER_ACCOUNT_CONTROL "1.2.840.113556.1.4.8"
#define DA_OID_UNICODE_PWD "1.2.840.113556.1.4.90"

/* Longest OID prefix kept; real prefixes are under 16 bytes. */
#define DA_PREFIX_MAX 64

struct da_prefix_entry {
    uint32_t index;
    size_t length;
    unsigned char prefix[DA_PREFIX_MAX];
};

struct da_prefix_map {
    struct da_prefix_entry *entries;
    size_t count;
};

/* Fills map with the prefixes that every DC's table starts with
 * ([MS-DRSR] 5.16.4, indexes 0 to 10). Returns -1 when memory runs out. */
int da_prefix_map_default(struct da_prefix_map *map);

/* Parses a prefixMap value in either layout. Returns 0, or -1 when the
 * blob is in neither layout or a length runs past its end; map is then
 * empty. */
int da_prefix_map_parse(const unsigned char *blob, size_t length, struct da_prefix_map *map);

void da_prefix_map_clear(struct da_prefix_map *map);

/* Computes the attid of a dotted OID ("1.2.840.113556.1.4.1787") through
 * the table. Returns 0, or -1 when the OID is malformed or its prefix is
 * not in the table. */
int da_prefix_map_attid(const struct da_prefix_map *map, const char *oid, uint32_t *attid);

#endif
