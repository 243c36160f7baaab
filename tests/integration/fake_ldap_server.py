#!/usr/bin/env python3
"""Scripted LDAPS responder for the server-fault tests of delegaudit.

This is no LDAP server. It decodes just enough LDAPv3 BER over TLS to carry
one delegaudit poll against a directory shaped like Active Directory, and
then fails in the way the chosen scenario describes. These are faults that
a real AD DC can produce but the Samba lab DC cannot produce on demand.
server_faults.sh starts one process per scenario.

Usage:
    fake_ldap_server.py --scenario NAME --port-file FILE --cert CERT --key KEY
                        [--log FILE]

The server listens on 127.0.0.1 on an ephemeral port and writes the port
number to the port file once it accepts connections. It exits by itself
after 60 seconds. --log appends one line per request it receives, so a
test can count requests. Simple binds succeed for any DN with the password
"secret" and fail with invalidCredentials (49) otherwise. Searches are
routed by base, scope and filter. The filter is not evaluated.
"""

import argparse
import os
import socket
import ssl
import sys
import threading
import time
import uuid

LIFETIME_SECONDS = 60

# Scenario names. server_faults.sh states what delegaudit must do with each.
SCENARIOS = (
    "ok",                    # two pages of 3 accounts, one with a krbtgt target
    "missing-page-control",  # the first page ends without the paged-results control
    "size-limit",            # the delegation search ends in sizeLimitExceeded (4)
    "time-limit",            # the delegation search ends in timeLimitExceeded (3)
    "ranges-windows",        # msDS-AllowedToDelegateTo in ranges of 3 values
    "ranges-no-progress",    # every follow-up range has no values
    "silent-after-bind",     # the bind succeeds, then no search gets a response
    "cookie-loop",           # every page returns the same cookie and entries
    "cookie-cycle",          # pages alternate between two cookies forever
)

# BER tags used here (RFC 4511 section 4 and X.690).
TAG_BOOLEAN = 0x01
TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_ENUMERATED = 0x0A
TAG_SEQUENCE = 0x30
TAG_SET = 0x31
TAG_CONTROLS = 0xA0
TAG_SIMPLE_AUTH = 0x80
TAG_BIND_REQUEST = 0x60
TAG_BIND_RESPONSE = 0x61
TAG_UNBIND_REQUEST = 0x42
TAG_SEARCH_REQUEST = 0x63
TAG_SEARCH_ENTRY = 0x64
TAG_SEARCH_DONE = 0x65
TAG_ABANDON_REQUEST = 0x50

SUCCESS = 0
TIME_LIMIT_EXCEEDED = 3
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_OBJECT = 32
INVALID_CREDENTIALS = 49

OID_PAGED_RESULTS = "1.2.840.113556.1.4.319"

SCOPE_BASE = 0
MAX_MESSAGE_SIZE = 1 << 20
PAGE_SIZE = 3     # accounts per page at most, whatever the client requests
RANGE_WINDOW = 3  # values per range of msDS-AllowedToDelegateTo


# --- BER encoding ---------------------------------------------------------

def encode_length(length):
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def tlv(tag, content):
    return bytes([tag]) + encode_length(len(content)) + content


def integer(value, tag=TAG_INTEGER):
    return tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def octets(value, tag=TAG_OCTET_STRING):
    return tlv(tag, value.encode() if isinstance(value, str) else value)


def sequence(*parts, tag=TAG_SEQUENCE):
    return tlv(tag, b"".join(parts))


# --- BER decoding ---------------------------------------------------------

def decode_tlv(data, position):
    """Decode the TLV at position and return (tag, content, next position)."""
    if position + 2 > len(data):
        raise ValueError("truncated BER element")
    tag = data[position]
    first = data[position + 1]
    position += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or position + count > len(data):
            raise ValueError("unsupported BER length")
        length = int.from_bytes(data[position:position + count], "big")
        position += count
    if position + length > len(data):
        raise ValueError("truncated BER element")
    return tag, data[position:position + length], position + length


def decode_all(data):
    """Decode the concatenated TLVs in data into [(tag, content)]."""
    elements = []
    position = 0
    while position < len(data):
        tag, content, position = decode_tlv(data, position)
        elements.append((tag, content))
    return elements


def decode_integer(content):
    return int.from_bytes(content, "big", signed=True)


def decode_controls(content):
    """Return {oid: value bytes or None} of a Controls element."""
    controls = {}
    for _, control in decode_all(content):
        parts = decode_all(control)
        oid = parts[0][1].decode()
        value = None
        for tag, part in parts[1:]:
            if tag == TAG_OCTET_STRING:
                value = part
        controls[oid] = value
    return controls


def decode_search(content):
    parts = decode_all(content)
    # baseObject, scope, derefAliases, sizeLimit, timeLimit, typesOnly,
    # filter (kept as opaque bytes), attributes.
    return {
        "base": parts[0][1].decode(),
        "scope": decode_integer(parts[1][1]),
        "filter": parts[6][1],
        "attributes": [value.decode() for _, value in decode_all(parts[7][1])],
    }


# --- LDAP messages --------------------------------------------------------

def message(message_id, operation, controls=b""):
    if controls:
        return sequence(integer(message_id), operation, tlv(TAG_CONTROLS, controls))
    return sequence(integer(message_id), operation)


def ldap_result(tag, code, diagnostic=""):
    return sequence(integer(code, TAG_ENUMERATED), octets(""), octets(diagnostic), tag=tag)


def search_entry(dn, attributes):
    """Encode a SearchResultEntry from [(description, [values])]."""
    encoded = [
        sequence(octets(description), sequence(*(octets(v) for v in values), tag=TAG_SET))
        for description, values in attributes
    ]
    return sequence(octets(dn), sequence(*encoded), tag=TAG_SEARCH_ENTRY)


def paged_results_control(cookie):
    value = sequence(integer(0), octets(cookie))
    return sequence(octets(OID_PAGED_RESULTS), octets(value))


# --- The directory --------------------------------------------------------

BASE_DN = "DC=fake,DC=test"
DOMAIN_SID = (1, 2, 3)  # S-1-5-21-1-2-3
NTDS_SETTINGS_DN = ("CN=NTDS Settings,CN=FAKEDC,CN=Servers,CN=Default-First-Site-Name,"
                    "CN=Sites,CN=Configuration," + BASE_DN)
USER_CLASSES = ["top", "person", "organizationalPerson", "user"]


def sid(*sub_authorities):
    """Encode S-1-5-21-... in the binary form of [MS-DTYP] 2.4.2.2."""
    sub_authorities = (21,) + sub_authorities
    return (bytes([1, len(sub_authorities)]) + (5).to_bytes(6, "big")
            + b"".join(value.to_bytes(4, "little") for value in sub_authorities))


def guid(number):
    """Return objectGUID bytes; delegaudit prints them as the UUID below."""
    return uuid.UUID(f"00000000-0000-4000-8000-{number:012d}").bytes_le


def account(number, name, uac, targets):
    return (f"CN={name},CN=Users,{BASE_DN}", {
        "objectGUID": [guid(number)],
        "objectSid": [sid(*DOMAIN_SID, 1100 + number)],
        "sAMAccountName": [name],
        "objectClass": USER_CLASSES,
        "userAccountControl": [str(uac)],
        "msDS-AllowedToDelegateTo": targets,
    })


ROOT_DSE = {
    "defaultNamingContext": [BASE_DN],
    "dnsHostName": ["fakedc.fake.test"],
    "dsServiceName": [NTDS_SETTINGS_DN],
    "highestCommittedUSN": ["4242"],
    "supportedControl": [OID_PAGED_RESULTS, "1.2.840.113556.1.4.801"],
}

KRBTGT = (f"CN=krbtgt,CN=Users,{BASE_DN}", {
    "objectSid": [sid(*DOMAIN_SID, 502)],
    "sAMAccountName": ["krbtgt"],
    "servicePrincipalName": ["kadmin/changepw"],
})

# 0x200 NORMAL_ACCOUNT, 0x1000000 TRUSTED_TO_AUTH_FOR_DELEGATION.
ACCOUNTS = [
    account(1, "svc-web", 16777728, ["http/web.fake.test", "http/web"]),
    account(2, "svc-sql", 512, ["MSSQLSvc/sql.fake.test:1433"]),
    account(3, "svc-files", 512, ["cifs/files.fake.test"]),
    account(4, "svc-print", 512, ["cifs/print.fake.test"]),
    account(5, "svc-backdoor", 16777728, ["krbtgt/FAKE.TEST"]),
    account(6, "svc-report", 16777728, ["http/report.fake.test"]),
]

# The account of the ranges-* scenarios, with seven targets in this order.
RANGED_ACCOUNT = account(7, "svc-many", 512,
                         [f"cifs/fs{number}.fake.test" for number in range(1, 8)])
RANGED_ATTRIBUTE = "msDS-AllowedToDelegateTo"

DIRECTORY = {dn.lower(): (dn, attributes) for dn, attributes in [
    (NTDS_SETTINGS_DN, {"invocationId": [guid(999)]}),
    (BASE_DN, {"objectSid": [sid(*DOMAIN_SID)]}),
    KRBTGT,
    RANGED_ACCOUNT,
    *ACCOUNTS,
]}


def parse_range(description):
    """Split "name;range=LOW-HIGH" or "name;range=LOW-*" into (name, low, high).

    Return (description, 0, None) for a description without a range and
    None for a malformed range."""
    name, _, option = description.partition(";")
    if not option:
        return name, 0, None
    if not option.lower().startswith("range="):
        return None
    low, _, high = option[len("range="):].partition("-")
    if not low.isdigit() or not (high == "*" or high.isdigit()):
        return None
    return name, int(low), None if high == "*" else int(high)


class Connection:
    """One client connection, served according to the scenario."""

    def __init__(self, server, sock):
        self.server = server
        self.scenario = server.scenario
        self.sock = sock
        self.buffer = b""

    def log(self, line):
        self.server.log(line)

    def send(self, data):
        self.sock.sendall(data)

    def read_exact(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_message(self):
        header = self.read_exact(2)
        if header[0] != TAG_SEQUENCE:
            raise ValueError(f"expected an LDAPMessage, got tag 0x{header[0]:02x}")
        length_octets = b""
        length = header[1]
        if length >= 0x80:
            length_octets = self.read_exact(length & 0x7F)
            length = int.from_bytes(length_octets, "big")
        if length > MAX_MESSAGE_SIZE:
            raise ValueError(f"message of {length} bytes")
        data = header + length_octets + self.read_exact(length)
        _, content, _ = decode_tlv(data, 0)
        return decode_all(content)

    def serve(self):
        while True:
            parts = self.read_message()
            message_id = decode_integer(parts[0][1])
            tag, operation = parts[1]
            controls = {}
            if len(parts) > 2 and parts[2][0] == TAG_CONTROLS:
                controls = decode_controls(parts[2][1])

            if tag == TAG_BIND_REQUEST:
                self.bind(message_id, operation)
            elif tag == TAG_SEARCH_REQUEST:
                self.search(message_id, decode_search(operation), controls)
            elif tag == TAG_ABANDON_REQUEST:
                self.log(f"abandon {decode_integer(operation)}")
            elif tag == TAG_UNBIND_REQUEST:
                self.log("unbind")
                return
            else:
                self.log(f"unsupported operation 0x{tag:02x}; closing the connection")
                return

    def bind(self, message_id, operation):
        parts = decode_all(operation)
        name = parts[1][1].decode()
        auth_tag, password = parts[2]
        ok = auth_tag == TAG_SIMPLE_AUTH and password == b"secret"
        self.log(f"bind {name!r} {'accepted' if ok else 'rejected'}")
        code = SUCCESS if ok else INVALID_CREDENTIALS
        diagnostic = "" if ok else "80090308: LdapErr: DSID-0C09041C, data 52e"
        self.send(message(message_id, ldap_result(TAG_BIND_RESPONSE, code, diagnostic)))

    def search(self, message_id, request, controls):
        base, scope, attributes = request["base"], request["scope"], request["attributes"]
        paged = ""
        if OID_PAGED_RESULTS in controls:
            size, cookie = self.paged_request(controls[OID_PAGED_RESULTS])
            paged = f" paged size={size} cookie={cookie.decode(errors='replace')!r}"
        self.log(f"search base={base!r} scope={'base' if scope == SCOPE_BASE else 'subtree'} "
                 f"attributes={','.join(attributes)}{paged}")

        if self.scenario == "silent-after-bind":
            return
        if base.startswith("<GUID="):
            self.done(message_id, NO_SUCH_OBJECT, "0000208D: NameErr: DSID-03100241, problem "
                      "2001 (NO_OBJECT)")
        elif base == "" and scope == SCOPE_BASE:
            self.entry(message_id, "", ROOT_DSE, attributes)
            self.done(message_id)
        elif scope == SCOPE_BASE:
            self.base_search(message_id, base, attributes)
        elif b"objectsid" in request["filter"].lower():
            self.entry(message_id, *KRBTGT, attributes)
            self.done(message_id)
        else:
            self.delegation_search(message_id, attributes, controls)

    @staticmethod
    def paged_request(value):
        parts = decode_all(decode_tlv(value, 0)[1])
        return decode_integer(parts[0][1]), parts[1][1]

    def done(self, message_id, code=SUCCESS, diagnostic="", controls=b""):
        self.send(message(message_id, ldap_result(TAG_SEARCH_DONE, code, diagnostic), controls))

    def entry(self, message_id, dn, attributes, requested):
        self.send(message(message_id, search_entry(dn, self.select(attributes, requested))))

    def select(self, attributes, requested):
        """Return [(description, values)] of the requested attributes.

        In the ranges-* scenarios msDS-AllowedToDelegateTo is served in
        windows of RANGE_WINDOW values, as AD does above its MaxValRange."""
        requested_ranges = {}
        for description in requested:
            parsed = parse_range(description)
            if parsed is not None:
                requested_ranges[parsed[0].lower()] = parsed
        everything = not requested or "*" in requested
        selected = []
        for name, values in attributes.items():
            if not everything and name.lower() not in requested_ranges:
                continue
            if self.scenario.startswith("ranges-") and name == RANGED_ATTRIBUTE:
                _, low, high = requested_ranges.get(name.lower(), (name, 0, None))
                selected.append(self.range_window(name, values, low, high))
            else:
                selected.append((name, values))
        return selected

    def range_window(self, name, values, low, high):
        if self.scenario == "ranges-no-progress" and low > 0:
            return f"{name};range={low}-{low + RANGE_WINDOW - 1}", []
        end = low + RANGE_WINDOW if high is None else min(low + RANGE_WINDOW, high + 1)
        if end >= len(values):
            return f"{name};range={low}-*", values[low:]
        return f"{name};range={low}-{end - 1}", values[low:end]

    def base_search(self, message_id, base, attributes):
        found = DIRECTORY.get(base.lower())
        if found is None:
            self.done(message_id, NO_SUCH_OBJECT, f"no entry {base!r} in the fake directory")
            return
        self.entry(message_id, *found, attributes)
        self.done(message_id)

    def delegation_search(self, message_id, attributes, controls):
        """Serve the paged search for accounts with delegation settings."""
        if self.scenario.startswith("ranges-"):
            accounts = [RANGED_ACCOUNT]
        else:
            accounts = ACCOUNTS
        size, cookie = PAGE_SIZE, b""
        if OID_PAGED_RESULTS in controls:
            requested_size, cookie = self.paged_request(controls[OID_PAGED_RESULTS])
            if requested_size > 0:
                size = min(size, requested_size)

        if self.scenario == "size-limit" or self.scenario == "time-limit":
            for dn, entry in accounts[:2]:
                self.entry(message_id, dn, entry, attributes)
            if self.scenario == "size-limit":
                self.done(message_id, SIZE_LIMIT_EXCEEDED, "Size limit exceeded")
            else:
                self.done(message_id, TIME_LIMIT_EXCEEDED, "Time limit exceeded")
            return

        if self.scenario == "cookie-loop":
            start, next_cookie = 0, b"same-cookie"
        elif self.scenario == "cookie-cycle":
            start, next_cookie = 0, b"cookie-B" if cookie == b"cookie-A" else b"cookie-A"
        else:
            start = int(cookie.decode()) if cookie else 0
            end = min(start + size, len(accounts))
            next_cookie = str(end).encode() if end < len(accounts) else b""

        for dn, entry in accounts[start:start + size]:
            self.entry(message_id, dn, entry, attributes)
        if self.scenario == "missing-page-control":
            self.done(message_id)
        else:
            self.done(message_id, controls=paged_results_control(next_cookie))


class Server:
    def __init__(self, scenario, log_path):
        self.scenario = scenario
        self.log_path = log_path
        self.log_lock = threading.Lock()

    def log(self, line):
        if self.log_path is None:
            return
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as log_file:
            log_file.write(line + "\n")

    def handle(self, context, sock):
        client_port = sock.getpeername()[1]
        try:
            with context.wrap_socket(sock, server_side=True) as tls:
                Connection(self, tls).serve()
        except EOFError:
            self.log(f"connection from port {client_port} closed by the client")
        except (OSError, ValueError, IndexError) as error:
            self.log(f"connection from port {client_port} failed: {error!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--log", help="append one line per request to this file")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = Server(args.scenario, args.log)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    # Write the port atomically: the test polls for a non-empty file.
    temporary = args.port_file + ".tmp"
    with open(temporary, "w", encoding="ascii") as port_file:
        port_file.write(f"{listener.getsockname()[1]}\n")
    os.replace(temporary, args.port_file)

    deadline = time.monotonic() + LIFETIME_SECONDS
    while (remaining := deadline - time.monotonic()) > 0:
        listener.settimeout(remaining)
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            break
        sock.settimeout(remaining)
        # Each response message is its own small write. Without this, Nagle's
        # algorithm and the client's delayed ACK added about 40 ms per page
        # (measured on Linux with loopback).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=server.handle, args=(context, sock), daemon=True).start()
    server.log(f"lifetime of {LIFETIME_SECONDS} s is over; exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
