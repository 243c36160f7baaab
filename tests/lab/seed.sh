#!/usr/bin/env bash
# Seeds the lab DC with the accounts the integration tests rely on, under
# OU=delegaudit-lab, and writes their DNs to LAB_DIR/seeded.env. Run again,
# it deletes and re-creates these accounts (with new random passwords) and
# leaves the bulk accounts of seed-bulk.sh alone.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

# userAccountControl flags, [MS-ADTS] 2.2.16.
UF_NORMAL_ACCOUNT=$((0x200))
UF_WORKSTATION_TRUST_ACCOUNT=$((0x1000))
UF_TRUSTED_FOR_DELEGATION=$((0x80000))
UF_TRUSTED_TO_AUTH_FOR_DELEGATION=$((0x1000000))

# Rule ids of auditor/findings.h, written to seeded.env as the expected
# finding of each account.
RULE_PROTOCOL_TRANSITION=krbtgt-delegation-protocol-transition
RULE_CONSTRAINED=krbtgt-delegation

# One account a line: KEY|CLASS|CN|UAC|EXPECTED|SPN|TARGETS
#   KEY       names the account in seeded.env (LAB_SEED_<KEY>_DN and so on)
#   CLASS     user or computer; a computer's sAMAccountName is CN plus "$"
#   UAC       userAccountControl
#   EXPECTED  the finding delegaudit must report, or "none"
#   SPN       servicePrincipalName, needed for S4U to mean anything
#   TARGETS   msDS-AllowedToDelegateTo values, separated by spaces
# A user's sAMAccountName is its CN, except for JMUELLER (see account_sam).
# APP_RBCD gets its resource-based delegation in set_rbcd.
account_table() {
    cat <<EOF
SVC_WEB|user|svc-web|$((UF_NORMAL_ACCOUNT | UF_TRUSTED_TO_AUTH_FOR_DELEGATION))|none|http/svc-web.contoso.test|http/web.contoso.test cifs/fs1.contoso.test
SVC_BACKDOOR|user|svc-backdoor|$((UF_NORMAL_ACCOUNT | UF_TRUSTED_TO_AUTH_FOR_DELEGATION))|$RULE_PROTOCOL_TRANSITION|http/svc-backdoor.contoso.test|krbtgt/CONTOSO.TEST
WS_BACKDOOR|computer|WS-BACKDOOR|$UF_WORKSTATION_TRUST_ACCOUNT|$RULE_CONSTRAINED|HOST/ws-backdoor.contoso.test|krbtgt/CONTOSO
SVC_MIXEDCASE|user|svc-mixedcase|$UF_NORMAL_ACCOUNT|$RULE_CONSTRAINED|http/svc-mixedcase.contoso.test|KrbTgt/contoso.test
SVC_KADMIN|user|svc-kadmin|$UF_NORMAL_ACCOUNT|$RULE_CONSTRAINED|http/svc-kadmin.contoso.test|kadmin/changepw
JMUELLER|user|Müller, Jörg|$((UF_NORMAL_ACCOUNT | UF_TRUSTED_TO_AUTH_FOR_DELEGATION))|$RULE_PROTOCOL_TRANSITION|http/jmueller.contoso.test|krbtgt/CONTOSO.TEST
SVC_UNCONSTRAINED|user|svc-unconstrained|$((UF_NORMAL_ACCOUNT | UF_TRUSTED_FOR_DELEGATION))|none|http/svc-unconstrained.contoso.test|
APP_RBCD|computer|APP-RBCD|$UF_WORKSTATION_TRUST_ACCOUNT|none|HOST/app-rbcd.contoso.test|
PLAIN_USER|user|plain-user|$UF_NORMAL_ACCOUNT|none||
EOF
}

# Resource-based delegation: svc-web may act on behalf of any user towards
# APP-RBCD$.
RBCD_TARGET_KEY=APP_RBCD
RBCD_ALLOWED_SAM=svc-web

usage() {
    cat <<EOF
usage: $LAB_PROGRAM [LAB_DIR]

Creates (or re-creates) the test accounts under $LAB_OU_DN on the running
lab DC of LAB_DIR and writes LAB_DIR/seeded.env. LAB_DIR defaults to
\$LAB_DIR, else $LAB_DEFAULT_DIR.
EOF
}

parse_args() {
    case ${1:-} in
        -h | --help)
            usage
            exit 0
            ;;
        -*) lab_die "unknown option '$1'; run $LAB_PROGRAM --help" ;;
    esac
    (($# <= 1)) || lab_die "expected at most one argument, LAB_DIR, got $#; run $LAB_PROGRAM --help"
    lab_resolve_dir "${1:-}"
    lab_set_paths
}

account_sam() {
    local key=$1 class=$2 cn=$3
    if [[ $key == JMUELLER ]]; then
        printf 'jmueller'
    elif [[ $class == computer ]]; then
        printf '%s$' "$cn"
    else
        printf '%s' "$cn"
    fi
}

# Escapes an attribute value for use in a DN string, RFC 4514 section 2.4.
dn_escape() {
    local value=$1 special
    value=${value//\\/\\\\}
    for special in ',' '+' '"' '<' '>' ';' '='; do
        value=${value//"$special"/\\$special}
    done
    [[ $value == [\ \#]* ]] && value=\\$value
    [[ $value == *' ' ]] && value="${value% }\\ "
    printf '%s' "$value"
}

account_dn() {
    printf 'CN=%s,%s' "$(dn_escape "$1")" "$LAB_OU_DN"
}

# Prints one LDIF line. A value that is not a SAFE-STRING of RFC 2849 (for
# example one with non-ASCII letters) is written base64-encoded after "::".
ldif_line() {
    local name=$1 value=$2
    # In the C locale [[:print:]] matches printable ASCII only.
    local LC_ALL=C
    if [[ $value =~ ^[[:print:]]*$ && $value != [\ :\<]* && $value != *" " ]]; then
        printf '%s: %s\n' "$name" "$value"
    else
        printf '%s:: %s\n' "$name" "$(printf '%s' "$value" | base64 -w 0)"
    fi
}

# Prints the unicodePwd value AD expects: the password in double quotes,
# encoded as UTF-16LE, base64-encoded for LDIF.
unicode_pwd_line() {
    printf 'unicodePwd:: %s\n' "$(printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w 0)"
}

# Prints the LDIF add record of one account of the table.
account_ldif() {
    local key=$1 class=$2 cn=$3 uac=$4 spn=$5 targets=$6
    local sam target host
    sam=$(account_sam "$key" "$class" "$cn")

    ldif_line dn "$(account_dn "$cn")"
    ldif_line objectClass "$class"
    ldif_line cn "$cn"
    ldif_line sAMAccountName "$sam"
    if [[ $class == computer ]]; then
        host=${cn,,}.$LAB_DNS_DOMAIN
        ldif_line dNSHostName "$host"
        ldif_line servicePrincipalName "HOST/$cn"
    else
        ldif_line displayName "$cn"
        ldif_line userPrincipalName "$sam@$LAB_DNS_DOMAIN"
    fi
    [[ -z $spn ]] || ldif_line servicePrincipalName "$spn"
    ldif_line userAccountControl "$uac"
    for target in $targets; do
        ldif_line msDS-AllowedToDelegateTo "$target"
    done
    unicode_pwd_line "$(lab_random_password)"
    printf '\n'
}

ensure_ou() {
    local rc=0
    lab_ldap ldapsearch -LLL -b "$LAB_OU_DN" -s base dn >/dev/null 2>&1 || rc=$?
    case $rc in
        0) return 0 ;;
        32) ;;
        *) lab_die "searching for $LAB_OU_DN failed with LDAP result $rc; read $LAB_SAMBA_LOG" ;;
    esac
    printf 'dn: %s\nobjectClass: organizationalUnit\ndescription: delegaudit test accounts\n' "$LAB_OU_DN" |
        lab_ldap ldapadd >/dev/null ||
        lab_die "adding $LAB_OU_DN failed; read $LAB_SAMBA_LOG"
}

# Deletes the table's accounts that a previous run created. LDAP result 32
# (noSuchObject) means there is nothing to delete.
delete_previous_accounts() {
    local key class cn uac expected spn targets dn rc
    while IFS='|' read -r key class cn uac expected spn targets; do
        dn=$(account_dn "$cn")
        rc=0
        lab_ldap ldapdelete "$dn" >/dev/null 2>&1 || rc=$?
        [[ $rc == 0 || $rc == 32 ]] ||
            lab_die "deleting '$dn' failed with LDAP result $rc; read $LAB_SAMBA_LOG"
    done < <(account_table)
}

add_accounts() {
    local key class cn uac expected spn targets
    while IFS='|' read -r key class cn uac expected spn targets; do
        account_ldif "$key" "$class" "$cn" "$uac" "$spn" "$targets"
    done < <(account_table) |
        lab_ldap ldapadd >/dev/null ||
        lab_die "adding the seed accounts under $LAB_OU_DN failed (ldapadd names the entry above); read $LAB_SAMBA_LOG"
}

# Prints the base64 value of one single-valued binary attribute of the
# account with the sAMAccountName given.
binary_attribute() {
    local sam=$1 attribute=$2
    lab_ldap ldapsearch -LLL -o ldif-wrap=no -b "$LAB_OU_DN" "(sAMAccountName=$sam)" "$attribute" |
        awk -v name="$attribute" 'tolower($1) == tolower(name) "::" { print $2 }'
}

# Prints, base64-encoded, a self-relative security descriptor whose DACL lets
# the SID (given base64-encoded as LDAP returns objectSid) act on behalf of
# other users. The SDDL matches what Set-ADComputer
# -PrincipalsAllowedToDelegateToAccount writes. Samba's Python bindings
# build it, so only /usr/bin/python3 with python3-samba will do.
rbcd_descriptor() {
    /usr/bin/python3 - "$1" <<'EOF'
import base64
import sys

from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack

sid = str(ndr_unpack(security.dom_sid, base64.b64decode(sys.argv[1])))
domain_sid = security.dom_sid(sid.rsplit("-", 1)[0])
sddl = "O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;%s)" % sid
descriptor = security.descriptor.from_sddl(sddl, domain_sid)
print(base64.b64encode(ndr_pack(descriptor)).decode())
EOF
}

# Writes msDS-AllowedToActOnBehalfOfOtherIdentity (base64 DESCRIPTOR) of DN
# straight into sam.ldb with Samba's system session. samba-tool edits a DC's
# database the same way while samba runs.
write_rbcd_locally() {
    /usr/bin/python3 - "$LAB_SMB_CONF" "$LAB_DIR/private/sam.ldb" "$1" "$2" <<'EOF'
import base64
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

smb_conf, sam_ldb, dn, descriptor = sys.argv[1:]
lp = LoadParm()
lp.load(smb_conf)
samdb = SamDB(url=sam_ldb, session_info=system_session(), lp=lp)
message = ldb.Message(ldb.Dn(samdb, dn))
name = "msDS-AllowedToActOnBehalfOfOtherIdentity"
message[name] = ldb.MessageElement(base64.b64decode(descriptor), ldb.FLAG_MOD_REPLACE, name)
samdb.modify(message)
EOF
}

# Sets resource-based delegation on the RBCD target over LDAP. Samba 4.17
# rejects that with constraintViolation (LDAP result 19, "can only be
# modified as system"), because it treats the attribute as system-only; the
# value is then written to sam.ldb directly.
set_rbcd() {
    local target_cn target_dn sid descriptor rc=0
    target_cn=$(account_table | awk -F'|' -v key="$RBCD_TARGET_KEY" '$1 == key { print $3 }')
    target_dn=$(account_dn "$target_cn")

    sid=$(binary_attribute "$RBCD_ALLOWED_SAM" objectSid)
    [[ -n $sid ]] || lab_die "no objectSid found for $RBCD_ALLOWED_SAM under $LAB_OU_DN"
    descriptor=$(rbcd_descriptor "$sid") ||
        lab_die "building the security descriptor failed; /usr/bin/python3 needs the samba module (package python3-samba)"

    printf 'dn: %s\nchangetype: modify\nreplace: msDS-AllowedToActOnBehalfOfOtherIdentity\nmsDS-AllowedToActOnBehalfOfOtherIdentity:: %s\n' \
        "$target_dn" "$descriptor" |
        lab_ldap ldapmodify >/dev/null 2>&1 || rc=$?
    case $rc in
        0) ;;
        19)
            lab_log "the DC rejected msDS-AllowedToActOnBehalfOfOtherIdentity over LDAP as system-only; writing it to sam.ldb directly"
            write_rbcd_locally "$target_dn" "$descriptor" ||
                lab_die "writing msDS-AllowedToActOnBehalfOfOtherIdentity of '$target_dn' to $LAB_DIR/private/sam.ldb failed"
            ;;
        *) lab_die "setting msDS-AllowedToActOnBehalfOfOtherIdentity on '$target_dn' failed with LDAP result $rc; read $LAB_SAMBA_LOG" ;;
    esac
}

# Prints WORDS one a line in byte order, without empty lines.
sorted_lines() {
    tr ' ' '\n' <<<"$1" | sed '/^$/d' | LC_ALL=C sort
}

# Prints userAccountControl, then the msDS-AllowedToDelegateTo values sorted,
# one a line, as stored on the DC for one account of the seed OU.
stored_state() {
    local sam=$1 entry
    entry=$(lab_ldap ldapsearch -LLL -o ldif-wrap=no -b "$LAB_OU_DN" -s one "(sAMAccountName=$sam)" \
        userAccountControl msDS-AllowedToDelegateTo)
    awk '$1 == "userAccountControl:" { print $2 }' <<<"$entry"
    sorted_lines "$(awk '$1 == "msDS-AllowedToDelegateTo:" { print $2 }' <<<"$entry")"
}

# Reads every account back and compares userAccountControl and
# msDS-AllowedToDelegateTo with the table, so a value the DC changed or
# dropped fails the seed, not a test much later.
verify_accounts() {
    local key class cn uac expected spn targets sam wanted stored rbcd_sam
    while IFS='|' read -r key class cn uac expected spn targets; do
        sam=$(account_sam "$key" "$class" "$cn")
        wanted=$(printf '%s\n' "$uac" && sorted_lines "$targets")
        stored=$(stored_state "$sam")
        [[ $stored == "$wanted" ]] ||
            lab_die "account $sam has userAccountControl and targets '$(tr '\n' ' ' <<<"$stored")', expected '$(tr '\n' ' ' <<<"$wanted")'"
    done < <(account_table)

    rbcd_sam=$(account_table | awk -F'|' -v key="$RBCD_TARGET_KEY" '$1 == key { print $3 "$" }')
    [[ -n $(binary_attribute "$rbcd_sam" msDS-AllowedToActOnBehalfOfOtherIdentity) ]] ||
        lab_die "$rbcd_sam has no msDS-AllowedToActOnBehalfOfOtherIdentity after the modify"
}

write_env_line() {
    printf "%s='%s'\n" "$1" "$2"
}

# Writes seeded.env: NAME='VALUE' lines, sourceable by a shell. A DN keeps
# its RFC 4514 escapes (CN=Müller\, Jörg,...) and is UTF-8. No value
# contains a single quote, so a reader other than a shell may strip them.
write_seeded_env() {
    local key class cn uac expected spn targets keys=()
    {
        printf '# Accounts created by tests/lab/seed.sh. For each KEY: _DN, _SAM (sAMAccountName),\n'
        printf '# _EXPECTED (delegaudit rule id, or none), _UAC and _TARGETS (msDS-AllowedToDelegateTo).\n'
        write_env_line LAB_SEED_OU_DN "$LAB_OU_DN"
        while IFS='|' read -r key class cn uac expected spn targets; do
            keys+=("$key")
            write_env_line "LAB_SEED_${key}_DN" "$(account_dn "$cn")"
            write_env_line "LAB_SEED_${key}_SAM" "$(account_sam "$key" "$class" "$cn")"
            write_env_line "LAB_SEED_${key}_EXPECTED" "$expected"
            write_env_line "LAB_SEED_${key}_UAC" "$uac"
            write_env_line "LAB_SEED_${key}_TARGETS" "$targets"
        done < <(account_table)
        write_env_line LAB_SEED_RBCD_TARGET "$RBCD_TARGET_KEY"
        write_env_line LAB_SEED_RBCD_ALLOWED "$RBCD_ALLOWED_SAM"
        write_env_line LAB_SEED_KEYS "${keys[*]}"
    } >"$LAB_SEEDED_FILE"
}

main() {
    local start=$EPOCHREALTIME
    parse_args "$@"
    lab_load_env
    lab_require_running
    lab_require_commands ldapsearch ldapadd ldapmodify ldapdelete iconv base64 /usr/bin/python3

    ensure_ou
    delete_previous_accounts
    add_accounts
    set_rbcd
    verify_accounts
    write_seeded_env

    printf '%s: seeded %s accounts under %s in %ss; see %s\n' \
        "$LAB_PROGRAM" "$(account_table | wc -l)" "$LAB_OU_DN" "$(lab_elapsed "$start")" "$LAB_SEEDED_FILE"
}

main "$@"
