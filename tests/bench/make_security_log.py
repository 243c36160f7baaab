#!/usr/bin/env python3
"""Writes large synthetic Windows Security logs for the events benchmark
(tests/bench/events_vs_grep.sh), from the standard library only.

Usage:
    make_security_log.py ndjson SIZE OUT    Winlogbeat 8 NDJSON, one document a line
    make_security_log.py xml SIZE OUT       wevtutil qe /f:xml form: one <Event> a
                                            line, no root element
    make_security_log.py evtx SIZE OUT      a raw .evtx file, written with the
                                            record and chunk code of
                                            tests/data/events/make_evtx.py,
                                            values as template substitutions
    make_security_log.py snapshot OUT       the snapshot the change events target

SIZE is a byte count with an optional K, M or G suffix (powers of 1024). A
text file ends at the first event that reaches SIZE; an .evtx file has as
many whole 64 KiB chunks as fit in SIZE. Each command prints one line of
counts.

The log is the traffic of two domain controllers of contoso.test. Most
events are 4624, 4634, 4672 and 4688 with the field sets Windows Server
2016 and later writes (4624 and 4688 version 2). GROUPS (100) administrator
sessions are spread evenly through the file. Each is a 4624 logon, a 4648
and three delegation changes (4738 or 4742, and two 5136) on the same DC,
whose SubjectLogonId is the logon's TargetLogonId.

The changes target the 20 accounts of the snapshot. They add a
krbtgt/CONTOSO.TEST target to the five accounts that the snapshot reports
as findings, and to a few others, from which a later change or the
snapshot removes it again (a removed backdoor).

For speed, every background event is one of a few hundred prepared
variants per event id, as a %-template in which only the time, the record
id and the logon id change. Values are ASCII, so characters are bytes.
"""

import functools
import hashlib
import json
import os
import random
import sys
import uuid

DOMAIN_SID = "S-1-5-21-1004336348-1177238915-682003330"
DOMAIN = "CONTOSO"
REALM = "CONTOSO.TEST"
DNS_DOMAIN = "contoso.test"
BASE_DN = "DC=contoso,DC=test"
KRBTGT_TARGET = "krbtgt/CONTOSO.TEST"
DCS = ["DC1.contoso.test", "DC2.contoso.test"]
PROVIDER = "Microsoft-Windows-Security-Auditing"
PROVIDER_GUID = "{54849625-5478-4994-A5BA-3E3B0328C30D}"
NAMESPACE = "http://schemas.microsoft.com/win/2004/08/events/event"
GROUPS = 100
CHUNK_SLACK = 8
VARIANTS = 400

# Times are in 100 ns units from START_DAY's midnight, UTC. A background
# event comes 0.07 to 0.13 s after the one before, a session event 0.3 s.
START_YEAR_MONTH = "2026-12"
START_DAY = 1
SNAPSHOT_TIME = "2026-12-05T06:00:00Z"

# Markers that the templates replace by %(name)s.
MARK_TIME_MS = "QQTIMEMSQQ"
MARK_TIME_7 = "QQTIME7QQ"
MARK_RECORD = "QQRECORDQQ"
MARK_LOGON = "QQLOGONQQ"

ACTORS = [("Administrator", 500), ("adm-jdoe", 1150), ("adm-asmith", 1151), ("helpdesk07", 1160)]


def sid(rid):
    return "%s-%d" % (DOMAIN_SID, rid)


def stable_guid(text):
    return str(uuid.UUID(bytes=hashlib.md5(text.encode()).digest(), version=4))


def make_accounts():
    """Returns the 20 accounts of the snapshot: 12 service users and 8
    servers. Five have a krbtgt target (findings), and users 0 and 8 and
    server 5 of those also have protocol transition on."""
    accounts = []
    for n in range(12):
        name = "svc-sql%02d" % (n + 1)
        host = "sql%02d.%s" % (n + 1, DNS_DOMAIN)
        accounts.append({
            "name": name, "sam": name, "kind": "user", "rid": 1201 + n,
            "dn": "CN=%s,OU=Service Accounts,%s" % (name, BASE_DN),
            "benign": ["MSSQLSvc/%s:1433" % host, "cifs/fs%02d.%s" % (n % 4 + 1, DNS_DOMAIN)],
            "spns": ["MSSQLSvc/%s:1433" % host, "MSSQLSvc/%s" % host],
            "krbtgt": n in (0, 4, 8), "protocol_transition": n in (0, 8)})
    for n in range(8):
        name = "APP%02d" % (n + 1)
        host = "app%02d.%s" % (n + 1, DNS_DOMAIN)
        accounts.append({
            "name": name, "sam": name + "$", "kind": "computer", "rid": 1301 + n,
            "dn": "CN=%s,OU=Servers,%s" % (name, BASE_DN),
            "benign": ["HTTP/web%02d.%s" % (n + 1, DNS_DOMAIN), "ldap/dc1.%s" % DNS_DOMAIN],
            "spns": ["HOST/%s" % host, "HOST/%s" % name],
            "krbtgt": n in (1, 5), "protocol_transition": n == 5})
    for account in accounts:
        account["sid"] = sid(account["rid"])
        account["guid"] = stable_guid(account["dn"])
        account["targets"] = account["benign"] + ([KRBTGT_TARGET] if account["krbtgt"] else [])
    return accounts


ACCOUNTS = make_accounts()


def snapshot_document():
    """Returns the snapshot of ACCOUNTS in the format of auditor/snapshot.h."""
    accounts = {}
    for account in ACCOUNTS:
        if account["kind"] == "user":
            uac = 0x10200  # NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
        else:
            uac = 0x1000  # WORKSTATION_TRUST_ACCOUNT
        if account["protocol_transition"]:
            uac |= 0x1000000  # TRUSTED_TO_AUTH_FOR_DELEGATION
        accounts[account["guid"]] = {
            "dn": account["dn"], "sid": account["sid"], "sam_account_name": account["sam"],
            "kind": account["kind"], "user_account_control": uac,
            "allowed_to_delegate_to": account["targets"],
            "service_principal_names": account["spns"], "allowed_to_act": [],
            "has_allowed_to_act": False, "when_changed": "20261204120000.0Z",
            "usn_changed": 200000 + account["rid"]}
    return {
        "format": "delegaudit-snapshot", "format_version": 1,
        "poll": {"time": SNAPSHOT_TIME, "dc_host": "dc1." + DNS_DOMAIN,
                 "uri": "ldaps://dc1." + DNS_DOMAIN,
                 "invocation_id": "3c9d1e2f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
                 "highest_committed_usn": 250000, "base_dn": BASE_DN,
                 "domain_sid": DOMAIN_SID, "complete": True},
        "krbtgt_accounts": [{"dn": "CN=krbtgt,CN=Users," + BASE_DN, "sid": sid(502),
                             "sam_account_name": "krbtgt", "read_only_dc": False,
                             "service_principal_names": ["kadmin/changepw"]}],
        "accounts": accounts}


class Event:
    """One event: id, DC, the System values that differ between ids, the
    EventData pairs, and what Winlogbeat adds (ECS fields, message)."""

    def __init__(self, event_id, computer, pairs, version=0, task=12544, activity=None,
                 thread=1200, ecs=None, message=""):
        self.event_id = event_id
        self.computer = computer
        self.pairs = pairs
        self.version = version
        self.task = task
        self.activity = activity
        self.thread = thread
        self.ecs = ecs or {}
        self.message = message


TASK_NAMES = {12544: "Logon", 12545: "Logoff", 12548: "Special Logon",
              13312: "Process Creation", 13824: "User Account Management",
              13825: "Computer Account Management", 14081: "Directory Service Changes"}
LOGON_TYPE_NAMES = {2: "Interactive", 3: "Network", 5: "Service", 10: "RemoteInteractive"}
ALL_PRIVILEGES = ["SeSecurityPrivilege", "SeBackupPrivilege", "SeRestorePrivilege",
                  "SeTakeOwnershipPrivilege", "SeDebugPrivilege", "SeSystemEnvironmentPrivilege",
                  "SeLoadDriverPrivilege", "SeImpersonatePrivilege",
                  "SeDelegateSessionUserImpersonatePrivilege", "SeEnableDelegationPrivilege"]


def message_text(title, sections, footer=""):
    """Renders a message: a title, then sections of "label: value" lines."""
    lines = [title, ""]
    for heading, rows in sections:
        if heading:
            lines.append(heading + ":")
        for label, value in rows:
            lines.append("\t%s:\t\t%s" % (label, value))
        lines.append("")
    if footer:
        lines.append(footer)
    return "\n".join(lines).rstrip("\n")


def random_guid(rnd):
    """Returns a random GUID in braces, upper case, as Windows writes it."""
    return "{%s}" % str(uuid.UUID(int=rnd.getrandbits(128), version=4)).upper()


class Population:
    """Users, computers and addresses the background events draw from."""

    FIRST = ["anna", "ben", "carla", "dev", "emil", "fatima", "george", "hana", "ivan", "julia",
             "kofi", "lena", "marco", "nina", "omar", "petra", "quinn", "rosa", "sven", "tara"]
    LAST = ["mueller", "smith", "garcia", "nguyen", "kowalski", "okafor", "rossi", "tanaka",
            "johansson", "dubois", "silva", "novak", "brown", "ali", "weber"]

    def __init__(self, rnd):
        self.users = []
        for n in range(300):
            name = "%s.%s" % (rnd.choice(self.FIRST), rnd.choice(self.LAST))
            self.users.append((name, sid(2000 + n)))
        self.computers = []
        for n in range(400):
            name = "WS%04d$" % (n + 1) if n < 340 else "SRV%03d$" % (n - 339)
            ip = "10.%d.%d.%d" % (10 + n // 200, (n // 50) % 4 + 1, n % 250 + 2)
            self.computers.append((name, sid(5000 + n), ip))


def logon_event(rnd, pop, computer, logon_id, logon_type=None, user=None, ip=None):
    """Builds a 4624 (version 2). user is (name, sid), logon_id the
    TargetLogonId. Without logon_type or user, both are drawn at random."""
    if logon_type is None:
        logon_type = rnd.choices([3, 2, 10, 5], [80, 5, 3, 12])[0]
    workstation, _, workstation_ip = rnd.choice(pop.computers)
    workstation = workstation.rstrip("$")

    if logon_type == 5:
        user = user or ("SYSTEM", "S-1-5-18")
        domain = "NT AUTHORITY"
        process, process_id, ip, port = "C:\\Windows\\System32\\services.exe", "0x2d4", "-", "-"
        subject = ("S-1-5-18", computer.split(".")[0] + "$", DOMAIN, "0x3e7")
        package, process_name, elevated = "Negotiate", "Advapi  ", "%%1842"
    else:
        if user is None:
            if rnd.random() < 0.6:
                name, user_sid, _ = rnd.choice(pop.computers)
                user = (name, user_sid)
            else:
                user = rnd.choice(pop.users)
        domain = REALM if logon_type == 3 else DOMAIN
        ip = ip or workstation_ip
        port = str(rnd.randint(49152, 65535))
        if logon_type == 3:
            subject = ("S-1-0-0", "-", "-", "0x0")
            process, process_id = "-", "0x0"
            package, process_name = rnd.choice([("Kerberos", "Kerberos"),
                                                ("Kerberos", "Kerberos"),
                                                ("NTLM", "NtLmSsp ")])
        else:
            subject = ("S-1-5-18", computer.split(".")[0] + "$", DOMAIN, "0x3e7")
            process, process_id = "C:\\Windows\\System32\\svchost.exe", "0x%x" % rnd.randint(0x300, 0x2000)
            package, process_name = "Negotiate", "User32 "
        elevated = rnd.choice(["%%1842", "%%1843"])

    logon_guid = random_guid(rnd) if package == "Kerberos" else "{00000000-0000-0000-0000-000000000000}"
    ntlm = "NTLM V2" if package == "NTLM" else "-"
    key_length = "128" if package == "NTLM" else "0"
    pairs = [("SubjectUserSid", subject[0]), ("SubjectUserName", subject[1]),
             ("SubjectDomainName", subject[2]), ("SubjectLogonId", subject[3]),
             ("TargetUserSid", user[1]), ("TargetUserName", user[0]),
             ("TargetDomainName", domain), ("TargetLogonId", logon_id),
             ("LogonType", str(logon_type)), ("LogonProcessName", process_name),
             ("AuthenticationPackageName", package), ("WorkstationName", workstation if package == "NTLM" else "-"),
             ("LogonGuid", logon_guid), ("TransmittedServices", "-"), ("LmPackageName", ntlm),
             ("KeyLength", key_length), ("ProcessId", process_id), ("ProcessName", process),
             ("IpAddress", ip), ("IpPort", port), ("ImpersonationLevel", "%%1833"),
             ("RestrictedAdminMode", "-"), ("TargetOutboundUserName", "-"),
             ("TargetOutboundDomainName", "-"), ("VirtualAccount", "%%1843"),
             ("TargetLinkedLogonId", "0x0"), ("ElevatedToken", elevated)]
    fields = dict(pairs)

    message = message_text("An account was successfully logged on.", [
        ("Subject", [("Security ID", subject[0]), ("Account Name", subject[1]),
                     ("Account Domain", subject[2]), ("Logon ID", subject[3])]),
        ("Logon Information", [("Logon Type", logon_type), ("Restricted Admin Mode", "-"),
                               ("Virtual Account", "No"),
                               ("Elevated Token", "Yes" if elevated == "%%1842" else "No")]),
        ("", [("Impersonation Level", "Impersonation")]),
        ("New Logon", [("Security ID", user[1]), ("Account Name", user[0]),
                       ("Account Domain", domain), ("Logon ID", logon_id),
                       ("Linked Logon ID", "0x0"), ("Network Account Name", "-"),
                       ("Network Account Domain", "-"), ("Logon GUID", logon_guid)]),
        ("Process Information", [("Process ID", process_id), ("Process Name", process)]),
        ("Network Information", [("Workstation Name", fields["WorkstationName"]),
                                 ("Source Network Address", ip), ("Source Port", port)]),
        ("Detailed Authentication Information", [
            ("Logon Process", process_name), ("Authentication Package", package),
            ("Transited Services", "-"), ("Package Name (NTLM only)", ntlm),
            ("Key Length", key_length)])])

    ecs = {"action": "logged-in", "category": ["authentication"], "type": ["start"],
           "outcome": "success", "logon": {"id": logon_id, "type": LOGON_TYPE_NAMES[logon_type]},
           "user": {"domain": domain, "id": user[1], "name": user[0]},
           "source": {"domain": workstation, "ip": ip, "port": int(port)} if ip != "-" else None,
           "related": {"ip": [ip] if ip != "-" else [], "user": [user[0]]}}
    return Event(4624, computer, pairs, version=2, task=12544, activity=random_guid(rnd),
                 thread=rnd.randint(700, 9000), ecs=ecs, message=message)


def logoff_event(rnd, pop, computer, logon_id):
    """Builds a 4634 of a computer or user account."""
    if rnd.random() < 0.6:
        name, user_sid, _ = rnd.choice(pop.computers)
    else:
        name, user_sid = rnd.choice(pop.users)
    logon_type = rnd.choices([3, 2, 10], [90, 6, 4])[0]
    pairs = [("TargetUserSid", user_sid), ("TargetUserName", name), ("TargetDomainName", DOMAIN),
             ("TargetLogonId", logon_id), ("LogonType", str(logon_type))]
    message = message_text("An account was logged off.", [
        ("Subject", [("Security ID", user_sid), ("Account Name", name),
                     ("Account Domain", DOMAIN), ("Logon ID", logon_id)]),
        ("", [("Logon Type", logon_type)])],
        "This event is generated when a logon session is destroyed. It may be positively "
        "correlated with a logon event using the Logon ID value. Logon IDs are only unique "
        "between reboots on the same computer.")
    ecs = {"action": "logged-out", "category": ["authentication"], "type": ["end"],
           "outcome": "success", "logon": {"id": logon_id, "type": LOGON_TYPE_NAMES[logon_type]},
           "user": {"domain": DOMAIN, "id": user_sid, "name": name},
           "related": {"user": [name]}}
    return Event(4634, computer, pairs, task=12545, thread=rnd.randint(700, 9000), ecs=ecs,
                 message=message)


def privileges_event(rnd, pop, computer, logon_id):
    """Builds a 4672 of a computer account or an administrator."""
    if rnd.random() < 0.7:
        name, user_sid, _ = rnd.choice(pop.computers)
        privileges = ALL_PRIVILEGES[:8]
    else:
        name, user_rid = rnd.choice(ACTORS)
        user_sid = sid(user_rid)
        privileges = ALL_PRIVILEGES
    listed = "\r\n\t\t\t".join(privileges)
    pairs = [("SubjectUserSid", user_sid), ("SubjectUserName", name),
             ("SubjectDomainName", DOMAIN), ("SubjectLogonId", logon_id),
             ("PrivilegeList", listed)]
    message = message_text("Special privileges assigned to new logon.", [
        ("Subject", [("Security ID", user_sid), ("Account Name", name),
                     ("Account Domain", DOMAIN), ("Logon ID", logon_id)]),
        ("", [("Privileges", "\n\t\t\t".join(privileges))])])
    ecs = {"action": "logged-in-special", "category": ["iam"], "type": ["admin"],
           "outcome": "success", "logon": {"id": logon_id},
           "user": {"domain": DOMAIN, "id": user_sid, "name": name},
           "related": {"user": [name]}}
    return Event(4672, computer, pairs, task=12548, thread=rnd.randint(700, 9000), ecs=ecs,
                 message=message)


PROCESSES = [
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
     "C:\\Windows\\System32\\services.exe"),
    ("C:\\Windows\\System32\\conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
     "C:\\Windows\\System32\\cmd.exe"),
    ("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
     "C:\\Windows\\System32\\svchost.exe"),
    ("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\Export-Inventory.ps1",
     "C:\\Windows\\System32\\svchost.exe"),
    ("C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\system32\\cmd.exe /c \"repadmin /showrepl * /csv > C:\\Temp\\repl.csv\"",
     "C:\\Windows\\explorer.exe"),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe Install $(Arg0)",
     "C:\\Windows\\System32\\svchost.exe"),
    ("C:\\Program Files\\Windows Defender Advanced Threat Protection\\MsSense.exe",
     "\"C:\\Program Files\\Windows Defender Advanced Threat Protection\\MsSense.exe\"",
     "C:\\Windows\\System32\\services.exe"),
    ("C:\\Windows\\System32\\dsregcmd.exe", "dsregcmd.exe /status",
     "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"),
]


def process_event(rnd, pop, computer, logon_id):
    """Builds a 4688 (version 2) of SYSTEM or an administrator."""
    executable, command_line, parent = rnd.choice(PROCESSES)
    if rnd.random() < 0.5:
        name, user_sid = computer.split(".")[0] + "$", "S-1-5-18"
    else:
        name, user_rid = rnd.choice(ACTORS)
        user_sid = sid(user_rid)
    pid = "0x%x" % rnd.randint(0x400, 0x3fff)
    parent_pid = "0x%x" % rnd.randint(0x200, 0x3fff)
    pairs = [("SubjectUserSid", user_sid), ("SubjectUserName", name),
             ("SubjectDomainName", DOMAIN), ("SubjectLogonId", logon_id),
             ("NewProcessId", pid), ("NewProcessName", executable),
             ("TokenElevationType", "%%1936"), ("ProcessId", parent_pid),
             ("CommandLine", command_line), ("TargetUserSid", "S-1-0-0"),
             ("TargetUserName", "-"), ("TargetDomainName", "-"), ("TargetLogonId", "0x0"),
             ("ParentProcessName", parent), ("MandatoryLabel", "S-1-16-16384")]
    message = message_text("A new process has been created.", [
        ("Creator Subject", [("Security ID", user_sid), ("Account Name", name),
                             ("Account Domain", DOMAIN), ("Logon ID", logon_id)]),
        ("Target Subject", [("Security ID", "S-1-0-0"), ("Account Name", "-"),
                            ("Account Domain", "-"), ("Logon ID", "0x0")]),
        ("Process Information", [("New Process ID", pid), ("New Process Name", executable),
                                 ("Token Elevation Type", "%%1936"),
                                 ("Mandatory Label", "S-1-16-16384"),
                                 ("Creator Process ID", parent_pid),
                                 ("Creator Process Name", parent),
                                 ("Process Command Line", command_line)])],
        "Token Elevation Type indicates the type of token that was assigned to the new process "
        "in accordance with User Account Control policy.")
    short = executable.rsplit("\\", 1)[1]
    ecs = {"action": "created-process", "category": ["process"], "type": ["start"],
           "outcome": "success", "logon": {"id": logon_id},
           "user": {"domain": DOMAIN, "id": user_sid, "name": name},
           "process": {"command_line": command_line, "executable": executable, "name": short,
                       "pid": int(pid, 16),
                       "parent": {"executable": parent, "name": parent.rsplit("\\", 1)[1],
                                  "pid": int(parent_pid, 16)}},
           "related": {"user": [name]}}
    return Event(4688, computer, pairs, version=2, task=13312, thread=rnd.randint(700, 9000),
                 ecs=ecs, message=message)


def explicit_event(rnd, computer, actor, logon_id):
    """Builds a 4648: actor, in session logon_id, uses svc-deploy's credentials."""
    name, rid = actor
    pairs = [("SubjectUserSid", sid(rid)), ("SubjectUserName", name),
             ("SubjectDomainName", DOMAIN), ("SubjectLogonId", logon_id),
             ("LogonGuid", random_guid(rnd)), ("TargetUserName", "svc-deploy"),
             ("TargetDomainName", REALM), ("TargetLogonGuid", "{00000000-0000-0000-0000-000000000000}"),
             ("TargetServerName", computer.lower()), ("TargetInfo", computer.lower()),
             ("ProcessId", "0x1c4"), ("ProcessName", "C:\\Windows\\System32\\dsac.exe"),
             ("IpAddress", "-"), ("IpPort", "-")]
    message = message_text("A logon was attempted using explicit credentials.", [
        ("Subject", [("Security ID", sid(rid)), ("Account Name", name),
                     ("Account Domain", DOMAIN), ("Logon ID", logon_id)]),
        ("Account Whose Credentials Were Used", [("Account Name", "svc-deploy"),
                                                 ("Account Domain", REALM)]),
        ("Target Server", [("Target Server Name", computer.lower())])])
    ecs = {"action": "logged-in-explicit", "category": ["authentication"], "type": ["start"],
           "outcome": "success", "logon": {"id": logon_id},
           "user": {"domain": DOMAIN, "id": sid(rid), "name": name},
           "related": {"user": [name, "svc-deploy"]}}
    return Event(4648, computer, pairs, task=12544, thread=rnd.randint(700, 9000), ecs=ecs,
                 message=message)


def account_changed_event(computer, actor, logon_id, account, targets, uac_change):
    """Builds a 4738 for a user or a 4742 for a computer. targets is the
    new AllowedToDelegateTo list, or None for "-" (unchanged), and
    uac_change (OldUacValue, NewUacValue) or None."""
    name, rid = actor
    is_user = account["kind"] == "user"
    listed = "\r\n\t\t".join(targets) if targets else "-"
    old_uac, new_uac = uac_change or ("-", "-")

    pairs = [("Dummy" if is_user else "ComputerAccountChange", "-"),
             ("TargetUserName", account["sam"]), ("TargetDomainName", DOMAIN),
             ("TargetSid", account["sid"]), ("SubjectUserSid", sid(rid)),
             ("SubjectUserName", name), ("SubjectDomainName", DOMAIN),
             ("SubjectLogonId", logon_id), ("PrivilegeList", "-"), ("SamAccountName", "-"),
             ("DisplayName", "-"), ("UserPrincipalName", "-"), ("HomeDirectory", "-"),
             ("HomePath", "-"), ("ScriptPath", "-"), ("ProfilePath", "-"),
             ("UserWorkstations", "-"), ("PasswordLastSet", "-"), ("AccountExpires", "-"),
             ("PrimaryGroupId", "-"), ("AllowedToDelegateTo", listed),
             ("OldUacValue", old_uac), ("NewUacValue", new_uac),
             ("UserAccountControl", "\r\n\t\t%%2098" if uac_change else "-"),
             ("UserParameters", "-"), ("SidHistory", "-"), ("LogonHours", "-")]
    if not is_user:
        pairs += [("DnsHostName", "-"), ("ServicePrincipalNames", "-")]

    title = "A user account was changed." if is_user else "A computer account was changed."
    message = message_text(title, [
        ("Subject", [("Security ID", sid(rid)), ("Account Name", name),
                     ("Account Domain", DOMAIN), ("Logon ID", logon_id)]),
        ("Target Account", [("Security ID", account["sid"]), ("Account Name", account["sam"]),
                            ("Account Domain", DOMAIN)]),
        ("Changed Attributes", [("Allowed To Delegate To", listed.replace("\r\n", "\n")),
                                ("Old UAC Value", old_uac), ("New UAC Value", new_uac)])])

    ecs = {"action": "modified-user-account" if is_user else "modified-computer-account",
           "category": ["iam"], "type": ["user", "change"], "outcome": "success",
           "user": {"domain": DOMAIN, "id": sid(rid), "name": name},
           "related": {"user": [name, account["sam"]]}}
    return Event(4738 if is_user else 4742, computer, pairs,
                 task=13824 if is_user else 13825, thread=1200, ecs=ecs, message=message)


def object_modified_event(rnd, computer, actor, logon_id, account, attribute, value, added,
                          correlation):
    """Builds a 5136 that adds (added) or deletes value of attribute."""
    name, rid = actor
    pairs = [("OpCorrelationID", correlation), ("AppCorrelationID", "-"),
             ("SubjectUserSid", sid(rid)), ("SubjectUserName", name),
             ("SubjectDomainName", DOMAIN), ("SubjectLogonId", logon_id),
             ("DSName", DNS_DOMAIN), ("DSType", "%%14676"), ("ObjectDN", account["dn"]),
             ("ObjectGUID", "{%s}" % account["guid"].upper()),
             ("ObjectClass", "user" if account["kind"] == "user" else "computer"),
             ("AttributeLDAPDisplayName", attribute), ("AttributeSyntaxOID", "2.5.5.12"),
             ("AttributeValue", value), ("OperationType", "%%14674" if added else "%%14675")]
    message = message_text("A directory service object was modified.", [
        ("Subject", [("Security ID", sid(rid)), ("Account Name", name),
                     ("Account Domain", DOMAIN), ("Logon ID", logon_id)]),
        ("Object", [("DN", account["dn"]), ("GUID", pairs[9][1]),
                    ("Class", pairs[10][1])]),
        ("Attribute", [("LDAP Display Name", attribute), ("Syntax (OID)", "2.5.5.12"),
                       ("Value", value)]),
        ("Operation", [("Type", "Value Added" if added else "Value Deleted"),
                       ("Correlation ID", correlation)])])
    ecs = {"action": "changed-directory-service-object", "category": ["iam"],
           "type": ["change"], "outcome": "success",
           "user": {"domain": DOMAIN, "id": sid(rid), "name": name},
           "related": {"user": [name]}}
    return Event(5136, computer, pairs, task=14081, thread=rnd.randint(700, 9000), ecs=ecs,
                 message=message)


def group_events(g):
    """Builds the events of administrator session g: logon, explicit
    credentials, three changes. Returns (events, number of krbtgt additions)."""
    rnd = random.Random(1000 + g)
    pop = Population(random.Random(7))
    actor = ACTORS[g % len(ACTORS)]
    computer = DCS[g % len(DCS)]
    logon_id = "0x%x" % (0x7a000000 + g * 0x1000 + 0x2b)
    correlation = random_guid(rnd)
    events = [logon_event(rnd, pop, computer, logon_id, logon_type=10 if g % 3 else 3,
                          user=(actor[0], sid(actor[1])),
                          ip="10.20.%d.%d" % (g % 4, 10 + g % 40)),
              explicit_event(rnd, computer, actor, logon_id)]
    krbtgt_added = 0

    account = ACCOUNTS[g % len(ACCOUNTS)]
    uac_change = None
    if account["krbtgt"] and g >= GROUPS // 2:
        targets = account["targets"]
        krbtgt_added += 1
        if account["protocol_transition"]:
            uac_change = ("0x210", "0x1000210") if account["kind"] == "user" else ("0x1080", "0x1001080")
    elif g % 25 == 7:
        targets = account["benign"] + [KRBTGT_TARGET]
        krbtgt_added += 1
    else:
        targets = account["benign"]
    events.append(account_changed_event(computer, actor, logon_id, account, targets, uac_change))

    other = ACCOUNTS[(g * 7 + 3) % len(ACCOUNTS)]
    if other["krbtgt"] and g >= GROUPS // 2 and g % 3 == 0:
        value = KRBTGT_TARGET
        krbtgt_added += 1
    else:
        value = other["benign"][g % 2]
    events.append(object_modified_event(rnd, computer, actor, logon_id, other,
                                        "msDS-AllowedToDelegateTo", value, True, correlation))
    if g % 2:
        events.append(object_modified_event(rnd, computer, actor, logon_id, other,
                                            "msDS-AllowedToDelegateTo",
                                            "cifs/old-fs.%s" % DNS_DOMAIN, False, correlation))
    else:
        events.append(object_modified_event(rnd, computer, actor, logon_id, other,
                                            "servicePrincipalName",
                                            "HTTP/%s-%d.%s" % (other["name"].lower(), g, DNS_DOMAIN),
                                            True, correlation))
    return events, krbtgt_added


# --- Rendering -------------------------------------------------------------

def xml_escape(text):
    """Escapes text for element content and for attributes in quotes (')."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace("\r", "&#13;").replace("\n", "&#10;")
            .replace("\t", "&#9;"))


def render_xml(event, time7, record):
    """Renders one line in the form wevtutil qe /f:xml writes. Line breaks
    and tabs inside values are character references, so every event is one
    line."""
    parts = ["<Event xmlns='%s'><System><Provider Name='%s' Guid='%s'/><EventID>%d</EventID>"
             "<Version>%d</Version><Level>0</Level><Task>%d</Task><Opcode>0</Opcode>"
             "<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='%s'/>"
             "<EventRecordID>%s</EventRecordID>%s<Execution ProcessID='668' ThreadID='%d'/>"
             "<Channel>Security</Channel><Computer>%s</Computer><Security/></System><EventData>"
             % (NAMESPACE, PROVIDER, PROVIDER_GUID, event.event_id, event.version, event.task,
                time7, record,
                "<Correlation ActivityID='%s'/>" % event.activity if event.activity else "<Correlation/>",
                event.thread, event.computer)]
    for name, value in event.pairs:
        parts.append("<Data Name='%s'>%s</Data>" % (name, xml_escape(value)))
    parts.append("</EventData></Event>\n")
    return "".join(parts)


AGENTS = {dc: {"ephemeral_id": stable_guid("ephemeral" + dc), "id": stable_guid("agent" + dc),
               "name": dc.split(".")[0], "type": "winlogbeat", "version": "8.11.3"} for dc in DCS}
HOSTS = {dc: {"architecture": "x86_64", "hostname": dc.split(".")[0].lower(),
              "id": stable_guid("host" + dc),
              "ip": ["10.0.0.%d" % (10 + n), "fe80::%x:%x:%x:%x" % (0x2d1 + n, 0x5eff, 0xfe12, 0x3400 + n)],
              "mac": ["00-15-5D-01-0%d-1%d" % (n, n)], "name": dc.lower(),
              "os": {"build": "20348.2113", "family": "windows",
                     "kernel": "10.0.20348.2113 (WinBuild.160101.0800)",
                     "name": "Windows Server 2022 Datacenter", "platform": "windows",
                     "type": "windows", "version": "10.0"}}
         for n, dc in enumerate(DCS)}


def render_ndjson(event, time_ms, time7, record):
    """Renders one Winlogbeat 8 document and a line end. Members are in
    alphabetical order at the top level and in winlog."""
    ecs = event.ecs
    category_event = {"action": ecs["action"], "category": ecs["category"],
                      "code": str(event.event_id), "created": time_ms, "kind": "event",
                      "module": "security", "outcome": ecs["outcome"], "provider": PROVIDER,
                      "type": ecs["type"]}
    document = {"@timestamp": time_ms, "agent": AGENTS[event.computer],
                "ecs": {"version": "8.0.0"}, "event": category_event,
                "host": HOSTS[event.computer], "log": {"level": "information"},
                "message": event.message}

    if "process" in ecs:
        document["process"] = ecs["process"]
    document["related"] = ecs["related"]
    if ecs.get("source"):
        document["source"] = ecs["source"]
    document["user"] = ecs["user"]

    winlog = {}
    if event.activity:
        winlog["activity_id"] = event.activity
    winlog.update({"api": "wineventlog", "channel": "Security",
                   "computer_name": event.computer, "event_data": dict(event.pairs),
                   "event_id": str(event.event_id), "keywords": ["Audit Success"]})
    if "logon" in ecs:
        winlog["logon"] = ecs["logon"]
    winlog.update({"opcode": "Info", "process": {"pid": 668, "thread": {"id": event.thread}},
                   "provider_guid": PROVIDER_GUID, "provider_name": PROVIDER,
                   "record_id": record, "task": TASK_NAMES[event.task],
                   "time_created": time7, "version": event.version})
    document["winlog"] = winlog
    return json.dumps(document, separators=(",", ":")) + "\n"


def template(text):
    """Turns text rendered with the markers into a %-template."""
    return (text.replace("%", "%%").replace(MARK_TIME_MS, "%(m)s").replace(MARK_TIME_7, "%(t)s")
            .replace(MARK_RECORD, "%(r)s").replace(MARK_LOGON, "%(l)s"))


# The background mix, per 20 events.
MIX = [4624] * 8 + [4634] * 6 + [4672] * 3 + [4688] * 3
BUILDERS = {4624: logon_event, 4634: logoff_event, 4672: privileges_event, 4688: process_event}


def background_variants(rnd):
    """Builds VARIANTS events per background id, with MARK_LOGON as logon id."""
    pop = Population(random.Random(7))
    variants = {}
    for event_id, builder in BUILDERS.items():
        variants[event_id] = [builder(rnd, pop, DCS[n % len(DCS)], MARK_LOGON)
                              for n in range(VARIANTS)]
    return variants


def time_texts(ticks):
    """Formats a time in 100 ns units: (milliseconds form, 7-digit form)."""
    seconds, fraction = divmod(ticks, 10_000_000)
    day, rest = divmod(seconds, 86400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    head = "%s-%02dT%02d:%02d:%02d." % (START_YEAR_MONTH, START_DAY + day, hour, minute, second)
    return head + "%03dZ" % (fraction // 10_000), head + "%07dZ" % fraction


def background_logon_id(n):
    """Returns a pseudo-random logon id below the 0x7a000000 of the sessions."""
    return "0x%x" % (0x100000 + (n * 2654435761) % 0x6f000000)


class TextWriter:
    """Writer of an NDJSON or XML file, in chunks of 8 MiB."""

    def __init__(self, path, size, kind, variants):
        self.out = open(path, "w", encoding="ascii", newline="")
        self.size = size
        self.kind = kind
        self.buffer = []
        self.buffered = 0
        self.written = 0
        self.templates = {}
        for event_id, events in variants.items():
            if kind == "xml":
                self.templates[event_id] = [template(render_xml(e, MARK_TIME_7, MARK_RECORD))
                                            for e in events]
            else:
                self.templates[event_id] = [template(render_ndjson(e, MARK_TIME_MS, MARK_TIME_7,
                                                                   MARK_RECORD)) for e in events]

    def capacity(self):
        return self.size

    def position(self):
        return self.written + self.buffered

    def full(self):
        return self.position() >= self.size

    def add(self, line):
        self.buffer.append(line)
        self.buffered += len(line)
        if self.buffered >= 8 << 20:
            self.flush()

    def background(self, event_id, variant, ticks, record, logon_id):
        time_ms, time7 = time_texts(ticks)
        self.add(self.templates[event_id][variant] %
                 {"m": time_ms, "t": time7, "r": record, "l": logon_id})

    def special(self, event, ticks, record):
        time_ms, time7 = time_texts(ticks)
        if self.kind == "xml":
            self.add(render_xml(event, time7, str(record)))
        else:
            self.add(render_ndjson(event, time_ms, time7, str(record)))

    def flush(self):
        self.out.write("".join(self.buffer))
        self.written += self.buffered
        self.buffer = []
        self.buffered = 0

    def close(self):
        self.flush()
        self.out.close()


class EvtxWriter:
    """Writer of an .evtx file: chunks as they fill, and the file header
    last, because it contains the chunk count. Records come from
    make_evtx.record_bytes with substitutions, as Windows writes them: the
    first record of each event shape in a chunk defines the template, the
    others refer to it and carry only their substitution values."""

    def __init__(self, path, size, variants):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "data", "events"))
        sys.dont_write_bytecode = True  # no __pycache__ among the fixtures
        import make_evtx  # pylint: disable=import-outside-toplevel
        # Names repeat in every record: remember their hashes.
        make_evtx.name_hash = functools.lru_cache(maxsize=None)(make_evtx.name_hash)
        self.evtx = make_evtx
        self.out = open(path, "wb")
        self.out.write(bytes(make_evtx.FILE_HEADER_SIZE))
        self.max_chunks = min(0xFFFF, (size - make_evtx.FILE_HEADER_SIZE) // make_evtx.CHUNK_SIZE)
        if self.max_chunks < 1:
            raise ValueError("an .evtx file needs at least %d bytes"
                             % (make_evtx.FILE_HEADER_SIZE + make_evtx.CHUNK_SIZE))
        self.chunks = 0
        self.records = []
        self.offset = make_evtx.CHUNK_HEADER_SIZE
        self.templates = {}  # of the chunk being filled: see make_evtx.record_bytes
        self.next_number = 1
        self.variants = {event_id: [(e.computer, e.pairs) for e in events]
                         for event_id, events in variants.items()}

    def capacity(self):
        return self.evtx.FILE_HEADER_SIZE + self.max_chunks * self.evtx.CHUNK_SIZE

    def position(self):
        return self.evtx.FILE_HEADER_SIZE + self.chunks * self.evtx.CHUNK_SIZE + self.offset

    def full(self):
        return self.chunks >= self.max_chunks

    def _add(self, description, record):
        data = self.evtx.record_bytes(description, record, self.offset, self.templates)
        # NOTE: libevtx (evtxexport and delegaudit) skips a chunk's last
        # record when it ends 1 to 3 bytes before the chunk's end, so every
        # chunk keeps at least CHUNK_SLACK bytes free.
        if self.offset + len(data) + CHUNK_SLACK > self.evtx.CHUNK_SIZE:
            self._end_chunk()
            if self.full():
                return False
            data = self.evtx.record_bytes(description, record, self.offset, self.templates)
        self.records.append((record, data))
        self.offset += len(data)
        return True

    def _end_chunk(self):
        self.out.write(self.evtx.chunk_bytes(self.records, self.next_number))
        self.next_number += len(self.records)
        self.chunks += 1
        self.records = []
        self.offset = self.evtx.CHUNK_HEADER_SIZE
        # The record that did not fit may have added its template here.
        self.templates = {}

    def background(self, event_id, variant, ticks, record, logon_id):
        computer, pairs = self.variants[event_id][variant]
        data = [(name, logon_id if value == MARK_LOGON else value) for name, value in pairs]
        return self._add({"event_id": event_id, "time": time_texts(ticks)[1],
                          "computer": computer, "data": data}, record)

    def special(self, event, ticks, record):
        return self._add({"event_id": event.event_id, "time": time_texts(ticks)[1],
                          "computer": event.computer, "data": event.pairs}, record)

    def close(self):
        if self.records and not self.full():
            self._end_chunk()
        self.out.seek(0)
        self.out.write(self.evtx.file_header(self.chunks, self.next_number))
        self.out.close()
        return self.next_number - 1


def generate(kind, size, path):
    """Writes a log of kind ndjson, xml or evtx and prints its counts."""
    rnd = random.Random(20261204)
    variants = background_variants(rnd)
    writer = EvtxWriter(path, size, variants) if kind == "evtx" else TextWriter(path, size, kind, variants)
    counts = {}
    groups = 0
    krbtgt_added = 0
    ticks = 0
    record = 1 if kind == "evtx" else 48_000_001
    n = 0

    # Sessions are spread over the first 95 % of the file, so that the last
    # one fits before the end.
    span = writer.capacity() * 95 // 100
    next_group_at = span // (2 * GROUPS)
    while not writer.full():
        if groups < GROUPS and writer.position() >= next_group_at:
            events, added = group_events(groups)
            written = 0
            for event in events:
                ticks += 3_000_000
                if writer.special(event, ticks, record) is False:
                    break
                counts[event.event_id] = counts.get(event.event_id, 0) + 1
                record += 1
                written += 1
            if written < len(events):
                break
            krbtgt_added += added
            groups += 1
            next_group_at = (2 * groups + 1) * span // (2 * GROUPS)
            continue
        event_id = MIX[n % len(MIX)]
        ticks += 700_000 + (n * 7919) % 600_000
        if writer.background(event_id, (n * 131) % VARIANTS, ticks, record,
                             background_logon_id(n)) is False:
            break
        counts[event_id] = counts.get(event_id, 0) + 1
        record += 1
        n += 1

    total = writer.close()
    if kind == "evtx":
        # A record made for a chunk that did not fit is not in the file, so
        # the count is the file's.
        counts["written"] = total
    events = sum(v for k, v in counts.items() if k != "written")
    print("%s: %d bytes, %d events (%s), %d sessions with %d delegation changes, "
          "%d krbtgt additions%s" % (
              path, os.path.getsize(path), counts.get("written", events),
              ", ".join("%d: %d" % (k, counts[k]) for k in sorted(c for c in counts if c != "written")),
              groups, groups * 3, krbtgt_added,
              "" if groups == GROUPS else " (only %d of %d sessions fitted)" % (groups, GROUPS)))


def parse_size(text):
    """Parses a byte count with an optional K, M or G suffix."""
    factors = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    factor = factors.get(text[-1:].upper(), 1)
    digits = text[:-1] if factor > 1 else text
    if not digits.isdigit() or int(digits) == 0:
        raise ValueError("SIZE must be a positive byte count with an optional K, M or G suffix")
    return int(digits) * factor


def main(argv):
    if len(argv) == 3 and argv[1] == "snapshot":
        with open(argv[2], "w", encoding="utf-8") as out:
            json.dump(snapshot_document(), out, indent="\t")
            out.write("\n")
        print("%s: %d accounts, %d with a krbtgt target" % (
            argv[2], len(ACCOUNTS), sum(1 for a in ACCOUNTS if a["krbtgt"])))
        return 0
    if len(argv) == 4 and argv[1] in ("ndjson", "xml", "evtx"):
        try:
            size = parse_size(argv[2])
        except ValueError as error:
            sys.stderr.write("make_security_log.py: %s\n" % error)
            return 2
        generate(argv[1], size, argv[3])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
