/* The Markdown and HTML remediation reports, rendered from a model built
 * by hand: a critical finding with its change, logon and explicit
 * credentials, a high finding without any event, and a removed backdoor.
 * Directory and event values carry what an attacker could write into them:
 * HTML, quotes, Markdown table and code syntax, newlines and an ESC byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/evidence_report.h"

#define GUID_BACKDOOR "11111111-2222-3333-4444-555555555555"
#define GUID_SCRIPT "66666666-7777-8888-9999-aaaaaaaaaaaa"
#define GUID_REMOVED "bbbbbbbb-cccc-dddd-eeee-ffffffffffff"
#define DOMAIN_SID "S-1-5-21-1004336348-1177238915-682003330"

#define SCRIPT "<script>alert(1)</script>"
/* A krbtgt value with a table separator, a backtick run of four, emphasis,
 * a newline and a terminal escape sequence. */
#define NASTY_VALUE "krbtgt/X|y````z*bold*\nsecond line\x1b[31m"
/* A logon id in hex as the report writes it. */
#define LOGON_ID 0x3e7a1u

struct fixture {
    struct da_snapshot *snapshot;
    struct da_findings findings;
    struct da_event change;       /* 4738: krbtgt added, protocol transition on */
    struct da_event logon;        /* 4624 of the change's session */
    struct da_event explicit_use; /* 4648 from that session */
    struct da_event scope_change; /* 4742 by the same actor, on another account */
    struct da_event scope_5136;   /* 5136 by the same actor */
    struct da_event old_added;    /* 5136: the removed backdoor's krbtgt value added */
    struct da_event old_removed;  /* 5136: and removed */
    struct da_evidence_step steps[2];
    struct da_evidence_step old_steps[2];
    struct da_session_evidence session;
    struct da_session_evidence old_session;
    const struct da_event *explicit_uses[1];
    const struct da_event *scope[2];
    struct da_account_evidence entries[3];
    const char *paths[2];
    struct da_evidence_report report;
};

static void add_account(struct da_snapshot *snapshot, const char *guid, const char *dn,
                        const char *sid, const char *sam, uint32_t uac, const char *target)
{
    struct da_account account = {0};

    account.guid = strdup(guid);
    account.dn = strdup(dn);
    account.sid = strdup(sid);
    account.sam_account_name = strdup(sam);
    account.kind = DA_KIND_USER;
    account.user_account_control = uac;
    account.when_changed = strdup("20261204195100.0Z");
    assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, target), 0);
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
}

static void build_snapshot(struct fixture *f)
{
    struct da_krbtgt krbtgt = {0};

    f->snapshot = da_snapshot_new();
    assert_non_null(f->snapshot);
    f->snapshot->poll.time = strdup("2026-12-04T19:51:00Z");
    f->snapshot->poll.dc_host = strdup("dc1.contoso.test");
    f->snapshot->poll.uri = strdup("ldaps://dc1.contoso.test");
    f->snapshot->poll.base_dn = strdup("DC=contoso,DC=test");
    f->snapshot->poll.domain_sid = strdup(DOMAIN_SID);
    f->snapshot->poll.complete = true;

    krbtgt.dn = strdup("CN=krbtgt,CN=Users,DC=contoso,DC=test");
    krbtgt.sid = strdup(DOMAIN_SID "-502");
    krbtgt.sam_account_name = strdup("krbtgt");
    assert_int_equal(da_strv_append(&krbtgt.service_principal_names, "kadmin/changepw"), 0);
    assert_int_equal(da_snapshot_add_krbtgt(f->snapshot, &krbtgt), 0);

    add_account(f->snapshot, GUID_BACKDOOR, "CN=svc-backdoor,OU=Lab,DC=contoso,DC=test",
                DOMAIN_SID "-1105", "svc-backdoor", 0x200 | DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
                "krbtgt/CONTOSO.TEST");
    add_account(f->snapshot, GUID_SCRIPT, "CN=" SCRIPT "\"',OU=Lab,DC=contoso,DC=test",
                DOMAIN_SID "-1106", SCRIPT "\"'", 0x200, NASTY_VALUE);
    assert_int_equal(da_snapshot_sort(f->snapshot), 0);
}

static void build_findings(struct fixture *f)
{
    f->findings.items = calloc(2, sizeof(*f->findings.items));
    assert_non_null(f->findings.items);
    f->findings.count = 2;

    f->findings.items[0].rule_id = DA_RULE_KRBTGT_PROTOCOL_TRANSITION;
    f->findings.items[0].severity = DA_SEVERITY_CRITICAL;
    f->findings.items[0].account = da_snapshot_find(f->snapshot, GUID_BACKDOOR);
    assert_non_null(f->findings.items[0].account);
    assert_int_equal(da_strv_append(&f->findings.items[0].values, "krbtgt/CONTOSO.TEST"), 0);

    f->findings.items[1].rule_id = DA_RULE_KRBTGT_CONSTRAINED;
    f->findings.items[1].severity = DA_SEVERITY_HIGH;
    f->findings.items[1].account = da_snapshot_find(f->snapshot, GUID_SCRIPT);
    assert_non_null(f->findings.items[1].account);
    assert_int_equal(da_strv_append(&f->findings.items[1].values, NASTY_VALUE), 0);
}

/* The actor fields shared by the changes: CONTOSO\eve in session LOGON_ID. */
static void set_actor(struct da_event *event, unsigned long event_id, const char *time)
{
    event->event_id = event_id;
    event->time = (char *)time;
    event->computer = (char *)"dc1.contoso.test";
    event->source_file = (char *)"/evidence/security-dc1.xml";
    event->source_position = 42;
    event->subject_sid = (char *)DOMAIN_SID "-1107";
    event->subject_user_name = (char *)"eve";
    event->subject_domain_name = (char *)"CONTOSO";
    event->subject_logon_id = LOGON_ID;
    event->has_subject_logon_id = true;
}

static void build_events(struct fixture *f)
{
    set_actor(&f->change, 4738, "2026-12-01T02:10:00Z");
    f->change.target_sid = (char *)DOMAIN_SID "-1105";
    f->change.target_user_name = (char *)"svc-backdoor";
    f->change.delegate_list_state = DA_DELEGATE_LIST_SET;
    assert_int_equal(da_strv_append(&f->change.allowed_to_delegate_to, "krbtgt/CONTOSO.TEST"), 0);

    /* 4624 names the account that logged on in the subject fields. */
    set_actor(&f->logon, 4624, "2026-12-01T02:05:00Z");
    f->logon.has_subject_logon_id = false;
    f->logon.target_logon_id = LOGON_ID;
    f->logon.has_target_logon_id = true;
    f->logon.logon_type = 10;
    f->logon.ip_address = (char *)"10.0.0.5";
    f->logon.ip_port = (char *)"51234";
    f->logon.workstation_name = (char *)"WS01";
    f->logon.authentication_package = (char *)"Negotiate";
    f->logon.logon_process = (char *)"User32";

    set_actor(&f->explicit_use, 4648, "2026-12-01T02:07:00Z");
    f->explicit_use.explicit_user_name = (char *)"Administrator";
    f->explicit_use.explicit_domain_name = (char *)"CONTOSO";
    f->explicit_use.target_server_name = (char *)"dc2.contoso.test";
    f->explicit_use.ip_address = (char *)"10.0.0.6";

    set_actor(&f->scope_change, 4742, "2026-12-01T02:12:00Z");
    f->scope_change.target_user_name = (char *)"WS|02$\nfake row";
    f->scope_change.target_sid = (char *)DOMAIN_SID "-1108";
    assert_int_equal(da_strv_append(&f->scope_change.allowed_to_delegate_to, "cifs/``x``"), 0);

    set_actor(&f->scope_5136, 5136, "2026-12-01T02:13:00Z");
    f->scope_5136.object_dn = (char *)"CN=app,OU=Lab,DC=contoso,DC=test";
    f->scope_5136.attribute_name = (char *)"msDS-AllowedToDelegateTo";
    f->scope_5136.attribute_value = (char *)"http://evil.example/x";

    set_actor(&f->old_added, 5136, "2026-11-02T03:00:00Z");
    f->old_added.subject_logon_id = 0xabcdef;
    f->old_added.object_dn = (char *)"CN=svc-old,OU=Lab,DC=contoso,DC=test";
    f->old_added.object_guid = (char *)GUID_REMOVED;
    f->old_added.attribute_name = (char *)"msDS-AllowedToDelegateTo";
    f->old_added.attribute_value = (char *)"krbtgt/CONTOSO.TEST";
    f->old_added.operation = DA_OPERATION_VALUE_ADDED;
    f->old_removed = f->old_added;
    f->old_removed.time = (char *)"2026-11-20T03:00:00Z";
    f->old_removed.operation = DA_OPERATION_VALUE_DELETED;
}

static void build_entries(struct fixture *f)
{
    struct da_account_evidence *found = &f->entries[0];
    struct da_account_evidence *missing = &f->entries[1];
    struct da_account_evidence *removed = &f->entries[2];
    const struct da_account *account;

    f->steps[0].kind = DA_STEP_KRBTGT_ADDED;
    f->steps[0].event = &f->change;
    assert_int_equal(da_strv_append(&f->steps[0].values, "krbtgt/CONTOSO.TEST"), 0);
    f->steps[1].kind = DA_STEP_PROTOCOL_TRANSITION_ON;
    f->steps[1].event = &f->change;
    f->explicit_uses[0] = &f->explicit_use;
    f->session.change = &f->change;
    f->session.logon = &f->logon;
    f->session.explicit_credentials = f->explicit_uses;
    f->session.explicit_credential_count = 1;
    f->scope[0] = &f->scope_change;
    f->scope[1] = &f->scope_5136;

    account = f->findings.items[0].account;
    found->finding = &f->findings.items[0];
    found->guid = account->guid;
    found->sid = account->sid;
    found->dn = account->dn;
    found->sam_account_name = account->sam_account_name;
    found->status = DA_EVIDENCE_FOUND;
    found->steps = f->steps;
    found->step_count = 2;
    found->sessions = &f->session;
    found->session_count = 1;
    found->actor_scope = f->scope;
    found->actor_scope_count = 2;
    found->protocol_transition_turned_on = true;

    account = f->findings.items[1].account;
    missing->finding = &f->findings.items[1];
    missing->guid = account->guid;
    missing->sid = account->sid;
    missing->dn = account->dn;
    missing->sam_account_name = account->sam_account_name;
    missing->status = DA_EVIDENCE_MISSING;

    /* Only the events know the removed backdoor: no SID, no snapshot entry. */
    f->old_steps[0].kind = DA_STEP_KRBTGT_ADDED;
    f->old_steps[0].event = &f->old_added;
    assert_int_equal(da_strv_append(&f->old_steps[0].values, "krbtgt/CONTOSO.TEST"), 0);
    f->old_steps[1].kind = DA_STEP_KRBTGT_REMOVED;
    f->old_steps[1].event = &f->old_removed;
    assert_int_equal(da_strv_append(&f->old_steps[1].values, NASTY_VALUE), 0);
    f->old_session.change = &f->old_added;
    removed->guid = (char *)GUID_REMOVED;
    removed->dn = f->old_added.object_dn;
    removed->sam_account_name = (char *)"svc-old";
    removed->status = DA_EVIDENCE_FOUND;
    removed->steps = f->old_steps;
    removed->step_count = 2;
    removed->sessions = &f->old_session;
    removed->session_count = 1;
    removed->removed_since = true;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    build_snapshot(f);
    build_findings(f);
    build_events(f);
    build_entries(f);

    f->paths[0] = "/evidence/security-dc1.xml";
    f->paths[1] = "/evidence/security-dc2.evtx";
    f->report.snapshot = f->snapshot;
    f->report.snapshot_path = "/var/lib/delegaudit/snapshot-20261204T195100Z.json";
    f->report.findings = &f->findings;
    f->report.entries = f->entries;
    f->report.entry_count = 3;
    f->report.event_paths = f->paths;
    f->report.event_path_count = 2;
    f->report.totals = (struct da_event_totals){2, 120000, 6, 1};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < 2; i++) {
        da_strv_clear(&f->steps[i].values);
        da_strv_clear(&f->old_steps[i].values);
    }
    da_strv_clear(&f->change.allowed_to_delegate_to);
    da_strv_clear(&f->scope_change.allowed_to_delegate_to);
    da_findings_clear(&f->findings);
    da_snapshot_free(f->snapshot);
    free(f);
    return 0;
}

/* Renders the report into a heap string. */
static char *render(const struct da_evidence_report *report, enum da_report_format format)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);

    assert_non_null(stream);
    assert_int_equal(da_evidence_report_write(stream, format, report), 0);
    assert_int_equal(fclose(stream), 0);
    assert_int_equal(strlen(text), size);
    return text;
}

static size_t count(const char *haystack, const char *needle)
{
    size_t found = 0;

    for (const char *at = strstr(haystack, needle); at != NULL; at = strstr(at + 1, needle))
        found++;
    return found;
}

static char *lower_copy(const char *text)
{
    char *copy = strdup(text);

    assert_non_null(copy);
    for (char *cursor = copy; *cursor != '\0'; cursor++)
        *cursor = (char)tolower((unsigned char)*cursor);
    return copy;
}

/* Returns true when text contains an attribute such as " onload=" or " onerror=". */
static bool has_event_handler(const char *text)
{
    for (const char *at = strstr(text, " on"); at != NULL; at = strstr(at + 1, " on")) {
        size_t letters = strspn(at + 3, "abcdefghijklmnopqrstuvwxyz");

        if (letters > 0 && at[3 + letters] == '=')
            return true;
    }
    return false;
}

/* Asserts that a appears in text, and before b. */
static void assert_before(const char *text, const char *a, const char *b)
{
    const char *at_a = strstr(text, a);
    const char *at_b = strstr(text, b);

    assert_non_null(at_a);
    assert_non_null(at_b);
    assert_true(at_a < at_b);
}

static void html_has_every_section(void **state)
{
    struct fixture *f = *state;
    char *html = render(&f->report, DA_REPORT_HTML);

    assert_int_equal(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32), 0);
    assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(html, "</body>\n</html>\n"));
    assert_non_null(strstr(html, "<code>dc1.contoso.test</code>"));
    assert_non_null(strstr(html, "snapshot-20261204T195100Z.json"));
    assert_non_null(strstr(html, "/evidence/security-dc2.evtx"));
    assert_non_null(strstr(html, "2 files, 120000 records read, 6 kept, 1 malformed"));

    /* Summary. */
    assert_non_null(strstr(html, "<tr><th>findings, critical</th><td class=\"number\">1</td>"));
    assert_non_null(strstr(html, "<tr><th>evidence missing</th><td class=\"number\">1</td>"));
    assert_non_null(strstr(html, "(historical)</th><td class=\"number\">1</td>"));

    /* Findings first, then the removed backdoor. */
    assert_int_equal(count(html, "<section class=\"entry "), 3);
    assert_before(html, "<section class=\"entry critical\">", "<section class=\"entry high\">");
    assert_before(html, "<section class=\"entry high\">", "<section class=\"entry historical\">");

    /* The critical finding: account, timeline, session, scope, remediation. */
    assert_non_null(strstr(html, "<code>" DOMAIN_SID "-1105</code>"));
    assert_non_null(strstr(html, "<dt>Protocol transition</dt><dd>on</dd>"));
    assert_non_null(strstr(html, "<h3>Evidence: found</h3>"));
    assert_non_null(strstr(html, "<td>krbtgt target added</td>"));
    assert_non_null(strstr(html, "<td>protocol transition turned on</td>"));
    assert_non_null(strstr(html, "<code>CONTOSO\\eve</code>"));
    assert_non_null(strstr(html, "<code>0x3e7a1</code>"));
    assert_non_null(strstr(html, "<code>/evidence/security-dc1.xml:42</code>"));
    assert_non_null(strstr(html, "type 10 (remote interactive (RDP))"));
    assert_non_null(strstr(html, "<code>10.0.0.5</code> port <code>51234</code>"));
    assert_non_null(strstr(html, "logon process <code>User32</code>"));
    assert_non_null(strstr(html, "target user <code>CONTOSO\\Administrator</code>, target "
                                 "server <code>dc2.contoso.test</code>"));
    assert_non_null(strstr(html, "<td>4742</td>"));
    assert_non_null(strstr(html, "<code>CN=app,OU=Lab,DC=contoso,DC=test</code>"));
    assert_non_null(strstr(html, "changetype: modify\ndelete: msDS-AllowedToDelegateTo\n"));
    assert_non_null(strstr(html, "replace: userAccountControl\nuserAccountControl: 512\n"));
    assert_non_null(strstr(html, "Set-ADAccountControl -Identity &#39;" GUID_BACKDOOR "&#39;"));
    assert_non_null(strstr(html, "winlog.event_data.SubjectLogonId:(&quot;0x3e7a1&quot;"));
    assert_non_null(strstr(html, "winlog.event_data.TargetSid:&quot;" DOMAIN_SID "-1105"));

    /* The finding without events states that the evidence is missing, and no
     * section is left empty. */
    assert_non_null(strstr(html, "<h3>Evidence: missing</h3>\n<p class=\"open\">No event in the "
                                 "exports explains this change: the evidence is missing and "
                                 "the question stays open.</p>\n<h3>Timeline</h3>\n<p>None.</p>"));

    /* The removed backdoor: no LDIF, but the reset advice and the queries. */
    assert_non_null(strstr(html, "nothing to remove, so no LDIF"));
    assert_non_null(strstr(html, "no matching logon event (4624) in the exports"));
    assert_non_null(strstr(html, "<code>0xabcdef</code>"));
    assert_int_equal(count(html, "changetype: modify"), 2);
    assert_int_equal(count(html, "Reset the krbtgt password twice"), 3);
    assert_int_equal(count(html, "<code>delegaudit verify</code>"), 3);
    assert_int_equal(count(html, "winlog.event_id:(4738 or 4742 or 5136)"), 3);
    free(html);
}

static void html_escapes_values(void **state)
{
    struct fixture *f = *state;
    char *html = render(&f->report, DA_REPORT_HTML);
    char *lower = lower_copy(html);

    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"));
    assert_null(strstr(lower, "<script"));
    assert_null(strstr(lower, "</script"));
    /* The ESC byte and the newline of the value show as escapes. */
    assert_null(strchr(html, '\x1b'));
    assert_non_null(strstr(html, "krbtgt/X|y````z*bold*\\x0asecond line\\x1b[31m"));
    assert_non_null(strstr(html, "WS|02$\\x0afake row"));
    free(lower);
    free(html);
}

static void html_is_self_contained(void **state)
{
    struct fixture *f = *state;
    char *html = render(&f->report, DA_REPORT_HTML);
    char *lower = lower_copy(html);

    /* A 5136 value is "http://evil.example/x": it must stay text. */
    assert_non_null(strstr(html, "<code>http://evil.example/x</code>"));
    assert_int_equal(count(lower, "http://"), 1);
    assert_null(strstr(lower, "https://"));
    assert_null(strstr(lower, "src="));
    assert_null(strstr(lower, "href="));
    assert_null(strstr(lower, "@import"));
    assert_null(strstr(lower, "url("));
    assert_null(strstr(lower, "<link"));
    assert_null(strstr(lower, "<img"));
    assert_null(strstr(lower, "<iframe"));
    assert_false(has_event_handler(lower));
    assert_non_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" "
                                 "content=\"default-src 'none'; style-src 'unsafe-inline';"));

    /* Printing: no background needed, a finding stays on one page if it
     * fits, and monospace blocks wrap. */
    assert_non_null(strstr(html, "@media print{"));
    assert_non_null(strstr(html, "pre{background:none}"));
    assert_non_null(strstr(html, "section.entry{page-break-inside:avoid"));
    assert_non_null(strstr(html, "white-space:pre-wrap"));
    free(lower);
    free(html);
}

/* Returns the content of the first fenced code block whose opening line
 * ends with info: everything up to the first line of at least as many
 * backticks and nothing else, as CommonMark closes a fence. */
static char *fenced_block(const char *markdown, const char *info, size_t *fence_length)
{
    const char *line = markdown;

    while (line != NULL && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t ticks = strspn(line, "`");
        size_t rest = end != NULL ? (size_t)(end - line) - ticks : strlen(line + ticks);

        if (ticks >= 3 && rest == strlen(info) && strncmp(line + ticks, info, rest) == 0) {
            const char *content = end + 1;

            for (const char *close = content; close != NULL && *close != '\0';) {
                const char *close_end = strchr(close, '\n');
                size_t run = strspn(close, "`");

                if (run >= ticks && (close[run] == '\n' || close[run] == '\0')) {
                    *fence_length = ticks;
                    return strndup(content, (size_t)(close - content));
                }
                close = close_end != NULL ? close_end + 1 : NULL;
            }
            fail_msg("fence opened by %s is never closed", info);
        }
        line = end != NULL ? end + 1 : NULL;
    }
    fail_msg("no fenced block %s", info);
    return NULL;
}

static void markdown_has_every_section(void **state)
{
    struct fixture *f = *state;
    char *markdown = render(&f->report, DA_REPORT_MARKDOWN);

    assert_int_equal(strncmp(markdown, "# delegaudit remediation report\n", 32), 0);
    assert_non_null(strstr(markdown, "- Poll: domain controller `dc1.contoso.test`"));
    assert_non_null(strstr(markdown, "2 files, 120000 records read, 6 kept, 1 malformed"));
    assert_non_null(strstr(markdown, "  - `/evidence/security-dc2.evtx`\n"));
    assert_non_null(strstr(markdown, "| findings, critical | 1 |\n"));
    assert_non_null(strstr(markdown, "| evidence missing | 1 |\n"));
    assert_before(markdown, "## 1. CRITICAL, svc-backdoor\n", "## 2. HIGH, ");
    assert_before(markdown, "## 2. HIGH, ", "## 3. HISTORICAL, removed backdoor, svc-old\n");

    assert_non_null(strstr(markdown,
                           "| 2026-12-01T02:10:00Z | dc1.contoso.test | 4738 | krbtgt "
                           "target added | krbtgt/CONTOSO.TEST | CONTOSO\\\\eve " DOMAIN_SID
                           "-1107 | 0x3e7a1 | "
                           "/evidence/security-dc1.xml:42 |\n"));
    assert_non_null(strstr(markdown, "type 10 (remote interactive (RDP))"));
    assert_non_null(strstr(markdown, "target server `dc2.contoso.test`"));
    assert_non_null(strstr(markdown, "### Evidence: missing\n\nNo event in the exports explains "
                                     "this change: the evidence is missing and the question "
                                     "stays open.\n\n### Timeline\n\nNone.\n"));
    assert_non_null(strstr(markdown, "nothing to remove, so no LDIF"));
    assert_non_null(strstr(markdown, "no matching logon event (4624) in the exports"));
    assert_int_equal(count(markdown, "**Reset the krbtgt password twice**"), 3);
    assert_int_equal(count(markdown, "```kql\nwinlog.event_id:(4738 or 4742 or 5136)"), 3);
    assert_non_null(strstr(markdown, "```ldif\n"));
    assert_non_null(strstr(markdown, "`delegaudit verify`"));
    free(markdown);
}

static void markdown_escapes_table_cells(void **state)
{
    struct fixture *f = *state;
    char *markdown = render(&f->report, DA_REPORT_MARKDOWN);

    /* The pipe and the newline of the account name stay in their cell,
     * the backticks of the value cannot open a code span. */
    assert_non_null(strstr(markdown,
                           "| 2026-12-01T02:12:00Z | 4742 | WS\\|02\\$\\\\x0afake row " DOMAIN_SID
                           "-1108 | cifs/\\`\\`x\\`\\` |\n"));
    /* A URL in a value is no autolink. */
    assert_non_null(strstr(markdown, "msDS-AllowedToDelegateTo: http\\://evil.example/x |\n"));
    /* The removed value of the historical entry: one row, every special
     * character escaped. */
    assert_non_null(strstr(markdown, "| krbtgt target removed | krbtgt/X\\|y\\`\\`\\`\\`z\\*bold\\*"
                                     "\\\\x0asecond line\\\\x1b\\[31m | "));
    /* The heading of the script account contains no HTML. */
    assert_non_null(strstr(markdown, "## 2. HIGH, \\<script\\>alert(1)\\</script\\>\"'\n"));
    assert_null(strchr(markdown, '\x1b'));
    free(markdown);
}

static void markdown_code_cannot_be_closed_by_values(void **state)
{
    struct fixture *f = *state;
    char *markdown = render(&f->report, DA_REPORT_MARKDOWN);
    size_t fence = 0;
    char *block;

    /* The offending value contains a run of four backticks, so its code span
     * needs five. */
    assert_non_null(strstr(markdown, "- Offending values: `````krbtgt/X|y````z*bold*\\x0asecond "
                                     "line\\x1b[31m`````\n"));
    assert_non_null(strstr(markdown, "- DN: `CN=" SCRIPT "\"',OU=Lab,DC=contoso,DC=test`\n"));

    /* A value that starts and ends with a backtick is padded. */
    f->explicit_use.target_server_name = (char *)"`dc2` ";
    free(markdown);
    markdown = render(&f->report, DA_REPORT_MARKDOWN);
    assert_non_null(strstr(markdown, "target server `` `dc2`  ``,"));

    /* The PowerShell block of that finding quotes the value with its
     * backticks, so its fence must be longer; control bytes become [char]
     * so that the command stays exact. */
    block = fenced_block(strstr(markdown, "## 2. HIGH"), "powershell", &fence);
    assert_int_equal(fence, 5);
    assert_non_null(strstr(block, "Set-ADObject -Identity '" GUID_SCRIPT "' -Remove "
                                  "@{'msDS-AllowedToDelegateTo'=@(('' + 'krbtgt/X|y````z*bold*' "
                                  "+ [char]0x0a + 'second line' + [char]0x1b + '[31m'))}\n"));
    free(block);

    /* Blocks without backticks keep the usual fence of three. */
    block = fenced_block(markdown, "ldif", &fence);
    assert_int_equal(fence, 3);
    assert_non_null(strstr(block, "dn: CN=svc-backdoor,OU=Lab,DC=contoso,DC=test\n"));
    free(block);
    free(markdown);
}

static void escaped_values_are_flagged(void **state)
{
    struct fixture *f = *state;
    struct da_strv *values = &f->findings.items[1].values;
    char *markdown = render(&f->report, DA_REPORT_MARKDOWN);
    char *html = render(&f->report, DA_REPORT_HTML);

    /* Control bytes are written exactly: base64 in the LDIF, [char] in
     * PowerShell, so no warning is needed. */
    assert_int_equal(count(markdown, "contains control or invisible characters"), 0);
    assert_int_equal(count(html, "contains control or invisible characters"), 0);
    free(markdown);
    free(html);

    /* An invisible character (U+200B) stays in the PowerShell string, which
     * the report shows escaped: the report advises the LDIF instead. */
    da_strv_clear(values);
    assert_int_equal(da_strv_append(values, "krbtgt/X\xe2\x80\x8b"), 0);
    markdown = render(&f->report, DA_REPORT_MARKDOWN);
    html = render(&f->report, DA_REPORT_HTML);
    assert_int_equal(count(markdown, "**An offending value contains control or invisible "
                                     "characters**"),
                     1);
    assert_int_equal(count(html, "An offending value contains control or invisible characters"), 1);
    free(markdown);
    free(html);
}

static void empty_report_writes_none(void **state)
{
    struct fixture *f = *state;
    struct da_evidence_report report = f->report;
    char *markdown;
    char *html;

    report.entry_count = 0;
    report.event_path_count = 0;
    report.snapshot_path = NULL;
    markdown = render(&report, DA_REPORT_MARKDOWN);
    html = render(&report, DA_REPORT_HTML);
    assert_non_null(strstr(markdown, "- Snapshot: not saved\n"));
    assert_non_null(strstr(markdown, "  - None.\n"));
    assert_non_null(strstr(markdown, "## Findings\n\nNone: no krbtgt delegation finding"));
    assert_non_null(strstr(html, "<dt>Export files</dt><dd>None.</dd>"));
    assert_non_null(strstr(html, "<h2>Findings</h2>\n<p>None: no krbtgt delegation finding"));
    free(markdown);
    free(html);
}

static void verify_command_is_shown(void **state)
{
    struct fixture *f = *state;
    struct da_evidence_report report = f->report;
    char *markdown;
    char *html;

    report.verify_command = "delegaudit poll -H ldaps://dc1.contoso.test --state /var/lib/x";
    markdown = render(&report, DA_REPORT_MARKDOWN);
    html = render(&report, DA_REPORT_HTML);
    assert_int_equal(count(markdown, "```sh\ndelegaudit poll -H ldaps://dc1.contoso.test"), 3);
    assert_int_equal(count(html, "<pre class=\"command\">delegaudit poll -H ldaps://"), 3);
    free(markdown);
    free(html);
}

static void write_errors_are_reported(void **state)
{
    struct fixture *f = *state;
    FILE *full = fopen("/dev/full", "w");

    assert_non_null(full);
    assert_int_equal(da_evidence_report_write_markdown(full, &f->report), -1);
    clearerr(full);
    assert_int_equal(da_evidence_report_write_html(full, &f->report), -1);
    fclose(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(html_has_every_section, setup, teardown),
        cmocka_unit_test_setup_teardown(html_escapes_values, setup, teardown),
        cmocka_unit_test_setup_teardown(html_is_self_contained, setup, teardown),
        cmocka_unit_test_setup_teardown(markdown_has_every_section, setup, teardown),
        cmocka_unit_test_setup_teardown(markdown_escapes_table_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(markdown_code_cannot_be_closed_by_values, setup, teardown),
        cmocka_unit_test_setup_teardown(escaped_values_are_flagged, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_report_writes_none, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_command_is_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(write_errors_are_reported, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
