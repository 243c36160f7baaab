/* Active Directory binary formats: objectGUID, objectSid, the security
 * descriptor of msDS-AllowedToActOnBehalfOfOtherIdentity, and the account
 * kind from objectClass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ldap/ad.h"
#include "ldap/search.h"

static void guid_mixed_endian(void **state)
{
    /* {00112233-4455-6677-8899-aabbccddeeff} as AD stores it. */
    static const unsigned char bytes[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                                            0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    char *text = da_ad_guid_to_string(bytes, sizeof(bytes));

    assert_non_null(text);
    assert_string_equal(text, "00112233-4455-6677-8899-aabbccddeeff");
    free(text);

    assert_null(da_ad_guid_to_string(bytes, 15));
    assert_null(da_ad_guid_to_string(bytes, 17));
    assert_null(da_ad_guid_to_string(NULL, 16));
}

static void sid_round_trip(void **state)
{
    static const char *const sids[] = {
        "S-1-5-21-2054037452-565826954-2338248134-502",
        "S-1-5-18",
        "S-1-1-0",
        "S-1-5-21-4294967295-0-1-1000",
    };

    for (size_t i = 0; i < sizeof(sids) / sizeof(sids[0]); i++) {
        unsigned char bytes[68];
        size_t length = 0;
        char *text;

        if (da_ad_sid_from_string(sids[i], bytes, &length) != 0)
            fail_msg("\"%s\" was not encoded", sids[i]);
        text = da_ad_sid_to_string(bytes, length);
        assert_non_null(text);
        assert_string_equal(text, sids[i]);
        free(text);
    }
}

static void sid_rejects_invalid(void **state)
{
    static const char *const invalid[] = {
        "", "S-1-", "S-1-5", "S-2-5-18", "S-1-5-", "S-1-5-18-", "S-1-5--18",
        "S-1-5-4294967296", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "X-1-5-18",
        "S-1-5-18 ",
    };
    /* Revision 1, two sub-authorities announced, one present. */
    static const unsigned char short_blob[] = {1, 2, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
    static const unsigned char revision_2[] = {2, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};

    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        unsigned char bytes[68];
        size_t length = 0;

        if (da_ad_sid_from_string(invalid[i], bytes, &length) == 0)
            fail_msg("\"%s\" was accepted as a SID", invalid[i]);
    }
    assert_null(da_ad_sid_to_string(short_blob, sizeof(short_blob)));
    assert_null(da_ad_sid_to_string(revision_2, sizeof(revision_2)));
    assert_null(da_ad_sid_to_string(short_blob, 7));
}

/* Builds a self-relative security descriptor with one DACL. */
struct blob {
    unsigned char bytes[512];
    size_t length;
};

static void put16(unsigned char *at, unsigned value)
{
    at[0] = (unsigned char)value;
    at[1] = (unsigned char)(value >> 8);
}

static void put32(unsigned char *at, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        at[i] = (unsigned char)(value >> (8 * i));
}

static size_t put_sid(unsigned char *at, const char *text)
{
    size_t length = 0;

    assert_int_equal(da_ad_sid_from_string(text, at, &length), 0);
    return length;
}

/* ACE types: 0x00 allowed, 0x01 denied, 0x05 allowed object (with flags). */
static size_t put_ace(unsigned char *at, unsigned type, uint32_t object_flags, const char *sid)
{
    size_t offset = 8;

    at[0] = (unsigned char)type;
    at[1] = 0;
    put32(at + 4, 0x000f01ff);
    if (type == 0x05) {
        put32(at + 8, object_flags);
        offset = 12;
        if (object_flags & 1)
            offset += 16;
        if (object_flags & 2)
            offset += 16;
    }
    offset += put_sid(at + offset, sid);
    put16(at + 2, (unsigned)offset);
    return offset;
}

static void build_descriptor(struct blob *blob)
{
    unsigned char *acl;
    size_t position;

    memset(blob, 0, sizeof(*blob));
    blob->bytes[0] = 1;
    put16(blob->bytes + 2, 0x8004); /* self-relative, DACL present */
    put32(blob->bytes + 4, 0);      /* no owner */
    put32(blob->bytes + 16, 20);    /* DACL right after the header */

    acl = blob->bytes + 20;
    acl[0] = 4;
    position = 8;
    position += put_ace(acl + position, 0x00, 0, "S-1-5-21-1-2-3-1105");
    position += put_ace(acl + position, 0x01, 0, "S-1-5-21-1-2-3-1106");
    position += put_ace(acl + position, 0x05, 3, "S-1-5-21-1-2-3-1107");
    put16(acl + 2, (unsigned)position);
    put16(acl + 4, 3);
    blob->length = 20 + position;
}

static void descriptor_trustees(void **state)
{
    struct blob blob;
    struct da_strv sids = {0};

    build_descriptor(&blob);
    assert_int_equal(da_ad_security_descriptor_trustees(blob.bytes, blob.length, &sids), 0);
    assert_int_equal(sids.count, 2);
    assert_string_equal(sids.items[0], "S-1-5-21-1-2-3-1105");
    assert_string_equal(sids.items[1], "S-1-5-21-1-2-3-1107");
    da_strv_clear(&sids);
}

static void descriptor_truncated(void **state)
{
    struct blob blob;
    struct da_strv sids = {0};

    build_descriptor(&blob);
    /* Every proper prefix must be rejected or yield no trustee, never read
     * past its end (AddressSanitizer checks the latter on a heap copy). */
    for (size_t length = 0; length < blob.length; length++) {
        unsigned char *copy = malloc(length ? length : 1);

        memcpy(copy, blob.bytes, length);
        if (da_ad_security_descriptor_trustees(copy, length, &sids) == 0 && sids.count > 0)
            fail_msg("a descriptor cut to %zu of %zu bytes was accepted with trustees", length,
                     blob.length);
        free(copy);
    }
    assert_int_equal(sids.count, 0);
}

static void descriptor_bad_counts(void **state)
{
    struct blob blob;
    struct da_strv sids = {0};

    build_descriptor(&blob);
    put16(blob.bytes + 20 + 4, 40); /* more ACEs than the ACL contains */
    assert_int_equal(da_ad_security_descriptor_trustees(blob.bytes, blob.length, &sids), -1);

    build_descriptor(&blob);
    put16(blob.bytes + 20 + 2, 400); /* ACL larger than the descriptor */
    assert_int_equal(da_ad_security_descriptor_trustees(blob.bytes, blob.length, &sids), -1);

    build_descriptor(&blob);
    put32(blob.bytes + 16, 4000); /* DACL offset past the end */
    assert_int_equal(da_ad_security_descriptor_trustees(blob.bytes, blob.length, &sids), -1);

    build_descriptor(&blob);
    put16(blob.bytes + 20 + 8 + 2, 2); /* ACE size below its header */
    assert_int_equal(da_ad_security_descriptor_trustees(blob.bytes, blob.length, &sids), -1);

    assert_int_equal(sids.count, 0);
}

static void descriptor_without_dacl(void **state)
{
    struct blob blob;
    struct da_strv sids = {0};

    build_descriptor(&blob);
    put16(blob.bytes + 2, 0x8000);
    assert_int_equal(da_ad_security_descriptor_trustees(blob.bytes, blob.length, &sids), 0);
    assert_int_equal(sids.count, 0);
}

static void kind_from_object_class(void **state)
{
    static const struct {
        const char *classes[6];
        enum da_account_kind kind;
    } cases[] = {
        {{"top", "person", "organizationalPerson", "user"}, DA_KIND_USER},
        {{"top", "person", "organizationalPerson", "user", "computer"}, DA_KIND_COMPUTER},
        {{"top", "person", "organizationalPerson", "user", "computer",
          "msDS-GroupManagedServiceAccount"}, DA_KIND_GMSA},
        {{"top", "user", "computer", "msDS-ManagedServiceAccount"}, DA_KIND_MSA},
        {{"top", "person", "organizationalPerson", "user", "inetOrgPerson"},
         DA_KIND_INETORGPERSON},
        {{"TOP", "USER"}, DA_KIND_USER},
        {{"top", "container"}, DA_KIND_OTHER},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct da_strv classes = {0};

        for (size_t j = 0; j < 6 && cases[i].classes[j] != NULL; j++)
            assert_int_equal(da_strv_append(&classes, cases[i].classes[j]), 0);
        if (da_ad_account_kind(&classes) != cases[i].kind)
            fail_msg("case %zu: kind %s instead of %s", i,
                     da_account_kind_name(da_ad_account_kind(&classes)),
                     da_account_kind_name(cases[i].kind));
        da_strv_clear(&classes);
    }
}

static void filter_escape_binary(void **state)
{
    static const char value[] = {'a', '*', '(', ')', '\\', '\0', (char)0xff, 0x1b, 0x7f, 'z'};
    char *escaped = da_filter_escape(value, sizeof(value));

    assert_non_null(escaped);
    assert_string_equal(escaped, "a\\2a\\28\\29\\5c\\00\\ff\\1b\\7fz");
    free(escaped);
}

static void range_request_names(void **state)
{
    char *plain = da_search_attribute_request("servicePrincipalName", 0);
    char *ranged = da_search_attribute_request("servicePrincipalName", 1000);

    assert_string_equal(plain, "servicePrincipalName");
    assert_string_equal(ranged, "servicePrincipalName;range=0-999");
    free(plain);
    free(ranged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guid_mixed_endian),
        cmocka_unit_test(sid_round_trip),
        cmocka_unit_test(sid_rejects_invalid),
        cmocka_unit_test(descriptor_trustees),
        cmocka_unit_test(descriptor_truncated),
        cmocka_unit_test(descriptor_bad_counts),
        cmocka_unit_test(descriptor_without_dacl),
        cmocka_unit_test(kind_from_object_class),
        cmocka_unit_test(filter_escape_binary),
        cmocka_unit_test(range_request_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
