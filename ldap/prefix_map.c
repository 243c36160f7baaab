#include "ldap/prefix_map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* "BDSD" read as a little-endian 32-bit number: Samba's prefixMapBlob. */
#define SAMBA_PREFIX_MAP_MAGIC 0x44534442u

/* Samba and Windows start every table with these prefixes; a DC whose
 * prefixMap cannot be read is assumed to use them. */
static const struct {
    uint32_t index;
    const char *oid;
} default_prefixes[] = {
    {0, "2.5.4"},
    {1, "2.5.6"},
    {2, "1.2.840.113556.1.2"},
    {3, "1.2.840.113556.1.3"},
    {4, "2.16.840.1.101.2.2.1"},
    {5, "2.16.840.1.101.2.2.3"},
    {6, "2.16.840.1.101.2.1.5"},
    {7, "2.16.840.1.101.2.1.4"},
    {8, "2.5.5"},
    {9, "1.2.840.113556.1.4"},
    {10, "1.2.840.113556.1.5"},
};

static uint32_t read_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t read_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Splits a dotted OID into arcs. Returns the number of arcs, or -1 when
 * the text is no OID (empty arcs, signs, an arc over 32 bits, a first arc
 * over 2). */
static int split_oid(const char *oid, uint32_t *arcs, int max)
{
    int count = 0;
    const char *p = oid;

    while (*p != '\0') {
        char *end = NULL;
        unsigned long value;

        if (*p < '0' || *p > '9' || count == max)
            return -1;
        errno = 0;
        value = strtoul(p, &end, 10);
        if (errno != 0 || value > UINT32_MAX || (*end != '.' && *end != '\0'))
            return -1;
        arcs[count++] = (uint32_t)value;
        p = end;
        if (*p == '.') {
            p++;
            if (*p == '\0')
                return -1;
        }
    }
    if (count < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
        return -1;
    return count;
}

/* Appends the base-128 form of value. Returns the new length, or 0 when it
 * does not fit. */
static size_t encode_arc(uint64_t value, unsigned char *out, size_t used, size_t size)
{
    unsigned char digits[10];
    size_t count = 0;

    do {
        digits[count++] = value & 0x7f;
        value >>= 7;
    } while (value != 0);
    if (used + count > size)
        return 0;
    while (count > 0) {
        count--;
        out[used++] = digits[count] | (count > 0 ? 0x80 : 0);
    }
    return used;
}

/* BER-encodes the arcs of an OID (without tag and length). Returns the
 * length, or 0 when it does not fit. */
static size_t encode_oid(const uint32_t *arcs, int count, unsigned char *out, size_t size)
{
    size_t used = encode_arc((uint64_t)arcs[0] * 40 + arcs[1], out, 0, size);

    for (int i = 2; i < count && used > 0; i++)
        used = encode_arc(arcs[i], out, used, size);
    return used;
}

static int append_entry(struct da_prefix_map *map, uint32_t index, const unsigned char *prefix,
                        size_t length)
{
    struct da_prefix_entry *grown;

    if (length > DA_PREFIX_MAX)
        return -1;
    grown = realloc(map->entries, (map->count + 1) * sizeof(*map->entries));
    if (grown == NULL)
        return -1;
    map->entries = grown;
    map->entries[map->count].index = index;
    map->entries[map->count].length = length;
    memcpy(map->entries[map->count].prefix, prefix, length);
    map->count++;
    return 0;
}

int da_prefix_map_default(struct da_prefix_map *map)
{
    memset(map, 0, sizeof(*map));
    for (size_t i = 0; i < sizeof(default_prefixes) / sizeof(default_prefixes[0]); i++) {
        uint32_t arcs[32];
        unsigned char prefix[DA_PREFIX_MAX];
        int count = split_oid(default_prefixes[i].oid, arcs, 32);
        size_t length = count > 0 ? encode_oid(arcs, count, prefix, sizeof(prefix)) : 0;

        if (length == 0 || append_entry(map, default_prefixes[i].index, prefix, length) != 0) {
            da_prefix_map_clear(map);
            return -1;
        }
    }
    return 0;
}

/* Samba: magic, reserved, count, referent, then the conformant array
 * (count again, then per entry id_prefix, length, referent), then each
 * prefix as a conformant byte array (count, bytes) at a 4-byte boundary. */
static int parse_samba(const unsigned char *blob, size_t length, struct da_prefix_map *map)
{
    uint32_t count;
    size_t offset;
    size_t data;

    if (length < 16)
        return -1;
    count = read_u32(blob + 8);
    if (count == 0)
        return 0;
    if (read_u32(blob + 12) == 0 || length < 20 || read_u32(blob + 16) != count ||
        count > (length - 20) / 12)
        return -1;

    data = 20 + (size_t)count * 12;
    for (uint32_t i = 0; i < count; i++) {
        offset = 20 + (size_t)i * 12;
        uint32_t index = read_u32(blob + offset);
        uint32_t prefix_length = read_u32(blob + offset + 4);

        if (read_u32(blob + offset + 8) == 0)
            return -1;
        data = (data + 3) & ~(size_t)3;
        if (data > length || length - data < 4 || read_u32(blob + data) != prefix_length)
            return -1;
        data += 4;
        if (prefix_length > length - data ||
            append_entry(map, index, blob + data, prefix_length) != 0)
            return -1;
        data += prefix_length;
    }
    return 0;
}

/* Windows: count, total size, then per entry index, length and bytes. */
static int parse_windows(const unsigned char *blob, size_t length, struct da_prefix_map *map)
{
    uint32_t count;
    uint32_t total;
    size_t offset = 8;

    if (length < 8)
        return -1;
    count = read_u32(blob);
    total = read_u32(blob + 4);
    if (total < 8 || total > length)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint16_t index;
        uint16_t prefix_length;

        if (total - offset < 4)
            return -1;
        index = read_u16(blob + offset);
        prefix_length = read_u16(blob + offset + 2);
        offset += 4;
        if (prefix_length > total - offset ||
            append_entry(map, index, blob + offset, prefix_length) != 0)
            return -1;
        offset += prefix_length;
    }
    return offset == total ? 0 : -1;
}

int da_prefix_map_parse(const unsigned char *blob, size_t length, struct da_prefix_map *map)
{
    int rc;

    memset(map, 0, sizeof(*map));
    if (blob == NULL)
        return -1;
    if (length >= 4 && read_u32(blob) == SAMBA_PREFIX_MAP_MAGIC)
        rc = parse_samba(blob, length, map);
    else
        rc = parse_windows(blob, length, map);
    if (rc != 0)
        da_prefix_map_clear(map);
    return rc;
}

void da_prefix_map_clear(struct da_prefix_map *map)
{
    free(map->entries);
    memset(map, 0, sizeof(*map));
}

int da_prefix_map_attid(const struct da_prefix_map *map, const char *oid, uint32_t *attid)
{
    uint32_t arcs[32];
    unsigned char encoded[DA_PREFIX_MAX + 8];
    int count = split_oid(oid, arcs, 32);
    size_t length;
    size_t prefix_length;
    uint32_t last;
    uint32_t low;

    if (count < 3)
        return -1;
    length = encode_oid(arcs, count, encoded, sizeof(encoded));
    if (length == 0)
        return -1;
    last = arcs[count - 1];
    /* [MS-DRSR] MakeAttid: the prefix is the encoding without the last
     * byte, or without the last two when the last arc needs more than one. */
    prefix_length = length - (last < 128 ? 1 : 2);
    low = last % 16384;
    if (last >= 16384)
        low += 32768;

    for (size_t i = 0; i < map->count; i++) {
        const struct da_prefix_entry *entry = &map->entries[i];

        if (entry->length == prefix_length && memcmp(entry->prefix, encoded, prefix_length) == 0) {
            if (entry->index > 0xffff)
                return -1;
            *attid = entry->index << 16 | low;
            return 0;
        }
    }
    return -1;
}
