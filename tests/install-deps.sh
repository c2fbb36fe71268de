#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install the Debian packages tcptimeline needs to build and test, if any are missing.
# Idempotent: with everything present it only asks dpkg.
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config libcmocka-dev \
libjansson-dev python3 iproute2 nftables procps libbpf-tools jq scdoc man-db bash-completion \
debhelper dpkg-dev fakeroot lintian shellcheck pyflakes3 clang-format libxml2-utils chromium fonts-dejavu-core \
libclang-rt-dev libmicrohttpd-dev prometheus systemd tcpdump tshark"
[ $# -gt 0 ] && PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tcptimeline: missing Debian packages:$missing: run 'sudo make ...' so they can be installed, or 'sudo apt-get install$missing'" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "tcptimeline: missing packages:$missing, and no apt-get: install them with your package manager" >&2
	exit 1
fi
echo "tcptimeline: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# an old or empty package list is the usual reason an install fails: refresh once, then retry
# shellcheck disable=SC2086 # $missing is a list of package names
apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing
}
