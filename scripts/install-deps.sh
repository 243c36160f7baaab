#!/usr/bin/env bash
# Installs what delegaudit needs from Debian 12 packages. Run as root.
#
#   install-deps.sh          build and run delegaudit (for a host that audits)
#   install-deps.sh --lab    also the Samba AD DC, Kerberos and LDAP clients and
#                            tools that the tests, the demo and the benchmarks use;
#                            meant for a throwaway test machine
set -euo pipefail

build_packages=(
    build-essential cmake pkg-config
    libldap-dev libsasl2-dev libsasl2-modules-gssapi-mit libcjson-dev libkrb5-dev
    libxml2-dev libevtx-dev
)
# samba-ad-dc pulls its recommended packages (samba-ad-provision is needed to
# provision), which include winbind's NSS and PAM modules: hence a test machine.
lab_packages=(
    libcmocka-dev
    samba-ad-dc samba krb5-user ldap-utils libresolv-wrapper iproute2
    jq python3 openssl time libevtx-utils python3-evtx
)

usage() {
    echo "usage: install-deps.sh [--lab]" >&2
    exit 2
}

with_lab=no
case "${1:-}" in
    "") ;;
    --lab) with_lab=yes ;;
    *) usage ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root, because apt-get installs system packages" >&2
    exit 2
fi

packages=("${build_packages[@]}")
if [ "$with_lab" = yes ]; then
    packages+=("${lab_packages[@]}")
fi

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null) || status=
    if [ "$status" != "install ok installed" ]; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps.sh: all ${#packages[@]} packages are installed"
    exit 0
fi

# Installing samba would start the distribution's smbd, nmbd and samba-ad-dc
# services on every interface. The lab runs its own DC on a loopback address,
# so service starts are denied during the install, unless the administrator
# already has a policy-rc.d of their own.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    created_policy=yes
fi
remove_policy() {
    if [ "$created_policy" = yes ]; then
        rm -f "$policy"
    fi
}
trap remove_policy EXIT

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
