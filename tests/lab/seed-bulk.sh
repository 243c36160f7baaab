#!/usr/bin/env bash
# Fills OU=bulk,OU=delegaudit-lab with COUNT plain user accounts for the
# integration tests and the benchmark. Accounts bulk-000001 to bulk-<COUNT>
# exist afterwards, and the first DELEGATING of them carry one ordinary
# constrained delegation target each (cifs/fileserver-N.contoso.test). A
# second run with the same arguments adds nothing; one with other numbers
# adds, fixes or deletes accounts until the OU matches them.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

MAX_COUNT=999999
ACCOUNT_PREFIX=bulk-

usage() {
    cat <<EOF
usage: $LAB_PROGRAM [LAB_DIR] COUNT [DELEGATING]

Makes OU=bulk,$LAB_OU_DN hold exactly COUNT user accounts
(1 to $MAX_COUNT), of which the first DELEGATING (default 0) have one
msDS-AllowedToDelegateTo target. LAB_DIR defaults to \$LAB_DIR, else
$LAB_DEFAULT_DIR; write a LAB_DIR made only of digits as ./NAME.
The accounts have no password and are disabled (userAccountControl 546):
setting a password makes the DC derive Kerberos keys, which slows the seed.
Writes LAB_DIR/bulk.env and prints the accounts added per second.
EOF
}

# Returns 0 for a decimal integer of at most six digits, so that the
# arithmetic that follows cannot overflow.
is_count() {
    [[ $1 =~ ^[0-9]{1,6}$ ]]
}

parse_args() {
    case ${1:-} in
        -h | --help)
            usage
            exit 0
            ;;
        -*) lab_die "unknown option '$1'; run $LAB_PROGRAM --help" ;;
    esac

    local dir_argument=""
    case $# in
        1) ;;
        2) is_count "$1" || { dir_argument=$1 && shift; } ;;
        3) dir_argument=$1 && shift ;;
        *) lab_die "expected [LAB_DIR] COUNT [DELEGATING], got $# arguments; run $LAB_PROGRAM --help" ;;
    esac
    COUNT=$1
    DELEGATING=${2:-0}

    if ! is_count "$COUNT" || ((10#$COUNT < 1 || 10#$COUNT > MAX_COUNT)); then
        lab_die "COUNT '$COUNT' is invalid; expected an integer from 1 to $MAX_COUNT"
    fi
    if ! is_count "$DELEGATING" || ((10#$DELEGATING > 10#$COUNT)); then
        lab_die "DELEGATING '$DELEGATING' is invalid; expected an integer from 0 to COUNT ($COUNT)"
    fi
    COUNT=$((10#$COUNT))
    DELEGATING=$((10#$DELEGATING))

    lab_resolve_dir "$dir_argument"
    lab_set_paths
    BULK_OU_DN=OU=bulk,$LAB_OU_DN
    BULK_ENV_FILE=$LAB_DIR/bulk.env
}

# Adds the organizational unit DN when it does not exist yet.
ensure_ou() {
    local dn=$1 rc=0
    lab_ldap ldapsearch -LLL -b "$dn" -s base dn >/dev/null 2>&1 || rc=$?
    case $rc in
        0) return 0 ;;
        32) ;;
        *) lab_die "searching for $dn failed with LDAP result $rc; read $LAB_SAMBA_LOG" ;;
    esac
    printf 'dn: %s\nobjectClass: organizationalUnit\n' "$dn" | lab_ldap ldapadd >/dev/null ||
        lab_die "adding $dn failed; read $LAB_SAMBA_LOG"
}

# Prints "sAMAccountName<TAB>targets" for each user in the bulk OU, the
# targets joined by spaces. Pages the search, 1000 entries a page (the AD
# default of MaxPageSize), so the server's size limit does not matter.
list_existing() {
    lab_ldap ldapsearch -LLL -o ldif-wrap=no -E pr=1000/noprompt -b "$BULK_OU_DN" -s one \
        '(objectClass=user)' sAMAccountName msDS-AllowedToDelegateTo |
        awk 'function flush() { if (name != "") print name "\t" targets; name = ""; targets = "" }
             /^dn:/ { flush() }
             $1 == "sAMAccountName:" { name = $2 }
             $1 == "msDS-AllowedToDelegateTo:" { targets = (targets == "" ? $2 : targets " " $2) }
             END { flush() }'
}

# Prints the LDIF change records that turn the existing accounts (read from
# the associative array EXISTING: name -> targets) into the requested set,
# and sets ADD_COUNT, FIX_COUNT and DELETE_COUNT.
changes_ldif() {
    local index name wanted dn
    ADD_COUNT=0 FIX_COUNT=0 DELETE_COUNT=0

    # printf -v, not $(...), because a subshell per account costs seconds
    # at 10,000 accounts.
    for ((index = 1; index <= COUNT; index++)); do
        printf -v name '%s%06d' "$ACCOUNT_PREFIX" "$index"
        wanted=""
        ((index > DELEGATING)) || printf -v wanted 'cifs/fileserver-%d.%s' "$index" "$LAB_DNS_DOMAIN"
        dn="CN=$name,$BULK_OU_DN"

        if [[ ! -v EXISTING[$name] ]]; then
            printf 'dn: %s\nchangetype: add\nobjectClass: user\nsAMAccountName: %s\n' "$dn" "$name"
            [[ -z $wanted ]] || printf 'msDS-AllowedToDelegateTo: %s\n' "$wanted"
            printf '\n'
            ADD_COUNT=$((ADD_COUNT + 1))
        elif [[ ${EXISTING[$name]} != "$wanted" ]]; then
            if [[ -n $wanted ]]; then
                printf 'dn: %s\nchangetype: modify\nreplace: msDS-AllowedToDelegateTo\nmsDS-AllowedToDelegateTo: %s\n-\n\n' "$dn" "$wanted"
            else
                printf 'dn: %s\nchangetype: modify\ndelete: msDS-AllowedToDelegateTo\n-\n\n' "$dn"
            fi
            FIX_COUNT=$((FIX_COUNT + 1))
        fi
        unset 'EXISTING[$name]'
    done

    # Whatever is left is beyond COUNT or not named by this script.
    for name in "${!EXISTING[@]}"; do
        printf 'dn: CN=%s,%s\nchangetype: delete\n\n' "$name" "$BULK_OU_DN"
        DELETE_COUNT=$((DELETE_COUNT + 1))
    done
}

# Prints the number of accounts in the bulk OU, then the number of those
# with a delegation target.
count_accounts() {
    list_existing | awk -F'\t' '{ total++ } $2 != "" { delegating++ } END { print total + 0; print delegating + 0 }'
}

# Prints what ldapmodify changed between START and END (EPOCHREALTIME values)
# and the rate in entries per second.
change_summary() {
    awk -v start="$1" -v end="$2" -v added="$ADD_COUNT" -v fixed="$FIX_COUNT" -v deleted="$DELETE_COUNT" 'BEGIN {
        changes = added + fixed + deleted
        printf "added %d, fixed %d, deleted %d", added, fixed, deleted
        if (changes > 0 && end > start)
            printf " in %.1fs (%.0f entries/s)", end - start, changes / (end - start)
    }'
}

write_bulk_env() {
    local total=$1 delegating=$2
    {
        printf '# Bulk accounts written by tests/lab/seed-bulk.sh, as counted on the DC after the run.\n'
        printf "LAB_BULK_OU_DN='%s'\n" "$BULK_OU_DN"
        printf "LAB_BULK_COUNT='%s'\n" "$total"
        printf "LAB_BULK_DELEGATING='%s'\n" "$delegating"
    } >"$BULK_ENV_FILE"
}

main() {
    local start=$EPOCHREALTIME
    parse_args "$@"
    lab_load_env
    lab_require_running
    lab_require_commands ldapsearch ldapadd ldapmodify

    ensure_ou "$LAB_OU_DN"
    ensure_ou "$BULK_OU_DN"

    declare -gA EXISTING=()
    local name targets
    while IFS=$'\t' read -r name targets; do
        EXISTING[$name]=$targets
    done < <(list_existing)
    lab_log "found ${#EXISTING[@]} accounts in $BULK_OU_DN"

    local ldif_file=$LAB_DIR/bulk-changes.ldif
    changes_ldif >"$ldif_file"
    lab_log "applying $ADD_COUNT additions, $FIX_COUNT delegation fixes and $DELETE_COUNT deletions"

    local apply_start=$EPOCHREALTIME apply_end
    if ((ADD_COUNT + FIX_COUNT + DELETE_COUNT > 0)); then
        lab_ldap ldapmodify -f "$ldif_file" >/dev/null ||
            lab_die "ldapmodify failed on $ldif_file (the entry is named above); read $LAB_SAMBA_LOG"
    fi
    apply_end=$EPOCHREALTIME

    local counts
    mapfile -t counts < <(count_accounts)
    ((counts[0] == COUNT && counts[1] == DELEGATING)) ||
        lab_die "$BULK_OU_DN contains ${counts[0]} accounts, ${counts[1]} delegating, after the run; expected $COUNT and $DELEGATING"
    write_bulk_env "${counts[0]}" "${counts[1]}"

    printf '%s: %s contains %s accounts (%s delegating); %s; total %ss; see %s\n' \
        "$LAB_PROGRAM" "$BULK_OU_DN" "$COUNT" "$DELEGATING" \
        "$(change_summary "$apply_start" "$apply_end")" "$(lab_elapsed "$start")" "$BULK_ENV_FILE"
}

main "$@"
