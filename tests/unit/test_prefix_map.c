/* The schema prefix table: Samba's prefixMap as recorded from the lab DC,
 * a Windows-layout table written here byte by byte, damaged tables cut at
 * every length, and the OID-to-attid rule of [MS-DRSR] MakeAttid. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap/prefix_map.h"

static unsigned char *read_file(const char *name, size_t *length)
{
    char path[1024];
    unsigned char *data = malloc(4096);
    FILE *file;

    snprintf(path, sizeof(path), "%s/schema/%s", DA_TEST_DATA_DIR, name);
    file = fopen(path, "rb");
    assert_non_null(file);
    assert_non_null(data);
    *length = fread(data, 1, 4096, file);
    fclose(file);
    return data;
}

static void samba_table_maps_the_three_attributes(void **state)
{
    struct da_prefix_map map;
    size_t length = 0;
    unsigned char *blob = read_file("samba-4.17-prefixmap.bin", &length);
    uint32_t attid = 0;

    assert_int_equal(length, 1061);
    assert_int_equal(da_prefix_map_parse(blob, length, &map), 0);
    assert_int_equal(map.count, 41);
    assert_int_equal(da_prefix_map_attid(&map, DA_OID_ALLOWED_TO_DELEGATE_TO, &attid), 0);
    assert_int_equal(attid, 0x000906fb);
    assert_int_equal(da_prefix_map_attid(&map, DA_OID_USER_ACCOUNT_CONTROL, &attid), 0);
    assert_int_equal(attid, 0x00090008);
    assert_int_equal(da_prefix_map_attid(&map, DA_OID_UNICODE_PWD, &attid), 0);
    assert_int_equal(attid, 0x0009005a);
    /* objectClass, 2.5.4.0, through index 0. */
    assert_int_equal(da_prefix_map_attid(&map, "2.5.4.0", &attid), 0);
    assert_int_equal(attid, 0);
    da_prefix_map_clear(&map);
    free(blob);
}

/* Every prefix of the recorded table is rejected, never read past. */
static void samba_table_cut_anywhere_is_invalid(void **state)
{
    size_t length = 0;
    unsigned char *blob = read_file("samba-4.17-prefixmap.bin", &length);

    for (size_t cut = 4; cut < length; cut++) {
        struct da_prefix_map map;
        unsigned char *copy = malloc(cut);

        memcpy(copy, blob, cut);
        assert_int_equal(da_prefix_map_parse(copy, cut, &map), -1);
        assert_int_equal(map.count, 0);
        free(copy);
    }
    free(blob);
}

static void samba_table_with_huge_count_is_invalid(void **state)
{
    size_t length = 0;
    unsigned char *blob = read_file("samba-4.17-prefixmap.bin", &length);
    struct da_prefix_map map;

    blob[8] = 0xff;
    blob[9] = 0xff;
    blob[10] = 0xff;
    blob[11] = 0x7f;
    assert_int_equal(da_prefix_map_parse(blob, length, &map), -1);
    free(blob);
}

/* A Windows table that puts 1.2.840.113556.1.4 at index 0x1234. */
static size_t windows_table(unsigned char *out, uint16_t index)
{
    static const unsigned char prefix_4[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x14, 0x01, 0x04};
    static const unsigned char prefix_2_5_4[] = {0x55, 0x04};
    size_t used = 8;

    out[used++] = 0;
    out[used++] = 0;
    out[used++] = sizeof(prefix_2_5_4);
    out[used++] = 0;
    memcpy(out + used, prefix_2_5_4, sizeof(prefix_2_5_4));
    used += sizeof(prefix_2_5_4);
    out[used++] = index & 0xff;
    out[used++] = index >> 8;
    out[used++] = sizeof(prefix_4);
    out[used++] = 0;
    memcpy(out + used, prefix_4, sizeof(prefix_4));
    used += sizeof(prefix_4);
    out[0] = 2;
    out[1] = out[2] = out[3] = 0;
    out[4] = (unsigned char)used;
    out[5] = out[6] = out[7] = 0;
    return used;
}

static void windows_table_uses_its_own_index(void **state)
{
    unsigned char blob[64];
    size_t length = windows_table(blob, 0x1234);
    struct da_prefix_map map;
    uint32_t attid = 0;

    assert_int_equal(da_prefix_map_parse(blob, length, &map), 0);
    assert_int_equal(map.count, 2);
    assert_int_equal(da_prefix_map_attid(&map, DA_OID_ALLOWED_TO_DELEGATE_TO, &attid), 0);
    assert_int_equal(attid, 0x123406fb);
    da_prefix_map_clear(&map);
}

static void windows_table_cut_or_padded_is_invalid(void **state)
{
    unsigned char blob[64];
    size_t length = windows_table(blob, 9);
    struct da_prefix_map map;

    for (size_t cut = 0; cut < length; cut++) {
        unsigned char *copy = malloc(cut > 0 ? cut : 1);

        memcpy(copy, blob, cut);
        assert_int_equal(da_prefix_map_parse(copy, cut, &map), -1);
        free(copy);
    }
    /* A total size beyond the entries. */
    blob[4] = (unsigned char)(length + 4);
    memset(blob + length, 0, 4);
    assert_int_equal(da_prefix_map_parse(blob, length + 4, &map), -1);
}

static void default_table_maps_base_schema(void **state)
{
    struct da_prefix_map map;
    uint32_t attid = 0;

    assert_int_equal(da_prefix_map_default(&map), 0);
    assert_int_equal(da_prefix_map_attid(&map, DA_OID_ALLOWED_TO_DELEGATE_TO, &attid), 0);
    assert_int_equal(attid, 0x000906fb);
    /* An arc of 16384 or more sets bit 15 of the low word. */
    assert_int_equal(da_prefix_map_attid(&map, "1.2.840.113556.1.4.20000", &attid), -1);
    /* Not in the default table. */
    assert_int_equal(da_prefix_map_attid(&map, "1.3.6.1.4.1.7165.4.1.1", &attid), -1);
    da_prefix_map_clear(&map);
}

static void large_last_arc_sets_high_bit(void **state)
{
    /* 1.2.840.113556.1.4.20000 encodes its last arc in 3 bytes; MakeAttid
     * drops 2, so the prefix keeps the first byte (0x81). */
    static const unsigned char prefix[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x14, 0x01, 0x04, 0x81};
    struct da_prefix_map map = {0};
    struct da_prefix_entry entry = {.index = 30, .length = sizeof(prefix)};
    uint32_t attid = 0;

    memcpy(entry.prefix, prefix, sizeof(prefix));
    map.entries = &entry;
    map.count = 1;
    assert_int_equal(da_prefix_map_attid(&map, "1.2.840.113556.1.4.20000", &attid), 0);
    assert_int_equal(attid, (30u << 16) | (20000 % 16384) | 0x8000);
}

static void malformed_oids_are_rejected(void **state)
{
    static const char *const bad[] = {
        "", "1", "1.", ".1.2", "1..2", "1.2.x", "-1.2.3", "3.1.2", "1.40.3", "1.2.99999999999",
        "1.2.840.113556.1.4.+5",
    };
    struct da_prefix_map map;
    uint32_t attid = 0;

    assert_int_equal(da_prefix_map_default(&map), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(da_prefix_map_attid(&map, bad[i], &attid), -1);
    da_prefix_map_clear(&map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samba_table_maps_the_three_attributes),
        cmocka_unit_test(samba_table_cut_anywhere_is_invalid),
        cmocka_unit_test(samba_table_with_huge_count_is_invalid),
        cmocka_unit_test(windows_table_uses_its_own_index),
        cmocka_unit_test(windows_table_cut_or_padded_is_invalid),
        cmocka_unit_test(default_table_maps_base_schema),
        cmocka_unit_test(large_last_arc_sets_high_bit),
        cmocka_unit_test(malformed_oids_are_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
