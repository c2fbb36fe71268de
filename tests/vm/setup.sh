#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Install what the VM tests need: qemu, virtme-ng (Debian trixie's .deb,
# which installs on bookworm) and the kernel matrix (Debian kernels for
# 5.10, 6.1, 6.12 and the newest 7.x). Idempotent; fast when done already.
#
#   tests/vm/setup.sh [KERNEL...]        KERNEL: 5.10 6.1 6.12 7 (default all)
#   KERNELS="6.1 6.12" tests/vm/setup.sh
#   REFRESH=1 tests/vm/setup.sh          re-resolve the newest kernel packages
#
# Other suites' packages come through a private apt config under
# tests/vm/.cache/apt; the machine's own apt sources are never touched.
# Kernels land in /lib/modules/VER (modules, vmlinuz, config) + depmod.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KSEL=$(select_kernels "$@")
EXTRACT_TMP=
trap '[ -z "$EXTRACT_TMP" ] || rm -rf "$EXTRACT_TMP"' EXIT
APTDIR=$CACHE/apt
DEBDIR=$CACHE/debs

[ "$(id -u)" = 0 ] || die "setup.sh must run as root (it installs packages and writes $MODDIR)"

# --- host tools -----------------------------------------------------------
HOST_PKGS="qemu-system-x86 python3-argcomplete python3-requests python3-pkg-resources
file kmod busybox-static udev iproute2 nftables"

host_tools_ok() {
	command -v qemu-system-x86_64 >/dev/null && command -v busybox >/dev/null && command -v udevadm >/dev/null &&
		command -v depmod >/dev/null && command -v ip >/dev/null &&
		command -v nft >/dev/null && command -v file >/dev/null &&
		/usr/bin/python3 -c 'import argcomplete, requests, pkg_resources' 2>/dev/null
}

mkdir -p "$CACHE"
if ! host_tools_ok; then
	note "installing host packages: ${HOST_PKGS//$'\n'/ }"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! apt-get -qq install -y --no-install-recommends $HOST_PKGS >"$CACHE/apt-install.log" 2>&1; then
		apt-get -qq update >/dev/null 2>&1 || die "apt-get update failed"
		# shellcheck disable=SC2086
		apt-get -qq install -y --no-install-recommends $HOST_PKGS >"$CACHE/apt-install.log" 2>&1 ||
			die "apt-get install of host packages failed (see $CACHE/apt-install.log)"
	fi
	rm -f "$CACHE/apt-install.log"
	host_tools_ok || die "host packages installed but tools still missing"
fi

# --- private apt config for other suites ----------------------------------
mirror_url() { # $1: debian | debian-security
	local u
	u=$(grep -rhoE 'https?://[^[:space:]]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		sed 's:/*$::' | grep -E "/$1\$" | head -n1 || true)
	if [ -z "$u" ]; then
		u=$(mirror_url_fallback "$1")
	fi
	echo "$u"
}
mirror_url_fallback() { [ "$1" = debian ] && echo http://deb.debian.org/debian || echo "$(mirror_url debian)-security"; }

APT_OPTS=(-o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
	-o "Dir::Cache::archives=$APTDIR/archives" -o APT::Sandbox::User=root
	-o APT::Get::List-Cleanup=0 -q)
APT_UPDATED=0

apt_private_update() {
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache" "$APTDIR/archives/partial"
	local m s kr=/usr/share/keyrings/debian-archive-keyring.gpg
	m=$(mirror_url debian)
	s=$(mirror_url debian-security)
	[ -r "$kr" ] || die "missing $kr (install debian-archive-keyring)"
	{
		for suite in bullseye bullseye-updates bookworm bookworm-updates trixie sid; do
			echo "deb [signed-by=$kr] $m $suite main"
		done
		for suite in bullseye-security bookworm-security; do
			echo "deb [signed-by=$kr] $s $suite main"
		done
	} >"$APTDIR/sources.list"
	note "updating private apt lists ($m)"
	apt-get "${APT_OPTS[@]}" update >"$APTDIR/update.log" 2>&1 ||
		die "private apt-get update failed (see $APTDIR/update.log)"
	APT_UPDATED=1
}

apt_lists_ready() { compgen -G "$APTDIR/lists/*_Packages*" >/dev/null; }

# Newest package with a candidate version whose name matches ERE $2 ($1: prefix).
newest_pkg() {
	local p
	for p in $(apt-cache "${APT_OPTS[@]}" pkgnames "$1" 2>/dev/null | grep -E "$2" | sort -rV); do
		if apt-cache "${APT_OPTS[@]}" policy "$p" 2>/dev/null | grep "Candidate: [0-9]" >/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

ensure_lists() {
	if [ "${REFRESH:-0}" = 1 ] && [ $APT_UPDATED = 0 ]; then apt_private_update; fi
	apt_lists_ready || apt_private_update
}

apt_download() { # into $DEBDIR; reuses already downloaded files
	mkdir -p "$DEBDIR"
	(cd "$DEBDIR" && apt-get "${APT_OPTS[@]}" download "$@" >"$APTDIR/download.log" 2>&1) ||
		die "apt-get download $* failed (see $APTDIR/download.log)"
}

# --- virtme-ng ------------------------------------------------------------
if ! vng --version >/dev/null 2>&1; then
	ensure_lists
	apt-cache "${APT_OPTS[@]}" policy virtme-ng 2>/dev/null | grep trixie >/dev/null || apt_private_update
	apt_download virtme-ng/trixie
	# shellcheck disable=SC2012 # the newest by time; .deb names are plain
	deb=$(ls -t "$DEBDIR"/virtme-ng_*_all.deb | head -n1)
	note "installing $(basename "$deb")"
	dpkg -i "$deb" >"$CACHE/dpkg-virtme-ng.log" 2>&1 ||
		die "dpkg -i $(basename "$deb") failed (see $CACHE/dpkg-virtme-ng.log)"
	vng --version >/dev/null 2>&1 || die "vng installed but does not run"
fi

# --- kernels --------------------------------------------------------------
# Package list for a slot, newest first in the private lists. Prints
# "RELEASE PKG..." or fails.
resolve_kernel() {
	local p v
	case $1 in
	5.10 | 6.1 | 6.12)
		local pre=linux-image-$1
		p=$(newest_pkg "$pre" "^linux-image-${1//./\\.}[.-][^-]*(-[0-9]+)?-amd64-unsigned\$") || return 1
		v=${p#linux-image-}
		v=${v%-unsigned}
		[[ $v =~ $(release_re "$1") ]] || return 1
		echo "$v $p"
		;;
	7)
		# 7.x is split: linux-binary (vmlinuz) + linux-modules (+ linux-base).
		if p=$(newest_pkg linux-binary-7 '^linux-binary-7\.[0-9]+\.[0-9]+(\+deb[0-9]+)?-amd64$'); then
			v=${p#linux-binary-}
			local extra="" v_re=${v//./\\.}
			v_re=${v_re//+/\\+}
			newest_pkg "linux-base-$v" "^linux-base-$v_re\$" >/dev/null && extra=linux-base-$v
			echo "$v $p linux-modules-$v $extra"
		else
			p=$(newest_pkg linux-image-7 '^linux-image-7\.[0-9]+\.[0-9]+(\+deb[0-9]+)?-amd64-unsigned$') || return 1
			v=${p#linux-image-}
			echo "${v%-unsigned} $p"
		fi
		;;
	esac
}

install_kernel() { # $1 slot, $2 release, rest: packages
	local slot=$1 ver=$2
	shift 2
	local tmp dst=$MODDIR/$ver src
	note "kernel $slot: fetching $ver ($*)"
	apt_download "$@"
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/extract.XXXXXX")
	EXTRACT_TMP=$tmp
	local pkg f
	for pkg in "$@"; do
		# shellcheck disable=SC2012 # the newest by time; .deb names are plain
		f=$(ls -t "$DEBDIR/${pkg}_"*.deb 2>/dev/null | head -n1)
		[ -n "$f" ] || die "kernel $slot: downloaded $pkg not found in $DEBDIR"
		dpkg-deb -x "$f" "$tmp" || die "kernel $slot: cannot extract $f"
	done
	src=""
	for d in "$tmp/usr/lib/modules/$ver" "$tmp/lib/modules/$ver"; do [ -d "$d" ] && src=$d; done
	[ -n "$src" ] || die "kernel $slot: no modules directory for $ver in the packages"
	for f in "$tmp/boot/vmlinuz-$ver" "$tmp/boot/config-$ver" "$tmp/boot/System.map-$ver"; do
		[ -e "$f" ] || continue
		b=${f##*/}
		cp "$f" "$src/${b%-"$ver"}"
	done
	[ -s "$src/vmlinuz" ] || die "kernel $slot: no vmlinuz for $ver in the packages"
	mkdir -p "$MODDIR"
	rm -rf "$dst"
	mv "$src" "$dst"
	depmod "$ver" || die "kernel $slot: depmod $ver failed"
	# The guest needs these for 9p/virtiofs root and the netns tests.
	local missing="" m
	for m in 9p 9pnet_virtio virtiofs overlay veth nf_tables; do
		modinfo -k "$ver" -F filename "$m" >/dev/null 2>&1 || missing="$missing $m"
	done
	[ -z "$missing" ] || note "kernel $slot ($ver): warning: modules not found:$missing"
	echo "$slot" >"$dst/$MARKER"
	rm -rf "$tmp"
	note "kernel $slot: installed $ver in $dst"
}

for k in $KSEL; do
	[ "$k" = host ] && continue
	if [ "${REFRESH:-0}" != 1 ] && [ -n "$(installed_release "$k")" ]; then
		continue
	fi
	ensure_lists
	if ! r=$(resolve_kernel "$k"); then
		[ $APT_UPDATED = 1 ] || { apt_private_update; r=$(resolve_kernel "$k") || true; }
		[ -n "${r:-}" ] || die "kernel $k: no matching Debian kernel package found"
	fi
	read -r ver pkgs <<<"$r"
	if [ "$(installed_release "$k")" = "$ver" ]; then continue; fi
	# shellcheck disable=SC2086
	install_kernel "$k" "$ver" $pkgs
done

for k in $KSEL; do
	[ "$k" = host ] && continue
	echo "vm-setup: $k -> $(installed_release "$k") ($MODDIR/$(installed_release "$k")/vmlinuz)"
done
