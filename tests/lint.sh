#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make lint: shellcheck on every shell script, pyflakes on every Python
# file and clang-format (.clang-format) on every C file of the tree, found by name (*.sh, *.py), by their #! line or (sourced
# scripts) by a `# shellcheck shell=` line near the top, so a new
# script is checked without being listed anywhere. One line per tool:
# `PASS lint_shellcheck (N files)` or `FAIL lint_shellcheck: ...` (its
# findings above it); exit status 1 if either failed. make check runs it.
# Its settings are in .shellcheckrc at the top of the tree (sourced files are
# followed from the script's own directory).
set -u
cd "$(dirname "$0")/.." || exit 1

# the tree's files: git's list in a checkout (what is committed or added;
# nothing built, cached or scratch),
# otherwise everything but the build and cache directories
files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files
	else
		find . \( -name .git -o -name .output -o -name .cache -o -name vmlinux \) -prune \
			-o -type f -print | sed 's|^\./||'
	fi
}

# kind FILE: sh, py or nothing
kind() {
	case $1 in vmlinux/*) return ;; esac
	case ${1##*/} in
	*.sh) echo sh; return ;;
	*.py) echo py; return ;;
	*.c | *.h) echo c; return ;;
	*.*) return ;; # another language's file (.c, .mk, .scd, ...)
	esac
	case $(head -n 1 "$1" 2>/dev/null) in
	'#!'*python*) echo py; return ;;
	'#!'*/sh | '#!'*/sh\ * | '#!'*' sh' | '#!'*bash*) echo sh; return ;;
	esac
	# a sourced script (bash completion, a library) names its shell for shellcheck
	head -n 5 "$1" 2>/dev/null | grep -q '^# shellcheck shell=' && echo sh
}

sh_files=$(mktemp)
py_files=$(mktemp)
c_files=$(mktemp)
trap 'rm -f "$sh_files" "$py_files" "$c_files"' EXIT
files | while IFS= read -r f; do
	[ -f "$f" ] || continue
	case $(kind "$f") in
	sh) printf '%s\n' "$f" >>"$sh_files" ;;
	py) printf '%s\n' "$f" >>"$py_files" ;;
	c) printf '%s\n' "$f" >>"$c_files" ;;
	esac
done

failed=0
# run NAME TOOL FILELIST [OPTIONS...]: TOOL on every file of FILELIST
run() {
	name=$1 tool=$2 list=$3
	shift 3
	n=$(wc -l <"$list")
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "FAIL $name: $tool not found: install it (sudo make deps)"
		failed=1
		return
	fi
	# file names from git ls-files: no newlines; xargs -d keeps spaces
	if xargs -r -d '\n' "$tool" "$@" <"$list"; then
		echo "PASS $name ($n files)"
	else
		echo "FAIL $name: $tool found problems (above) in the $n files checked"
		failed=1
	fi
}

run lint_shellcheck shellcheck "$sh_files" --external-sources
run lint_pyflakes pyflakes3 "$py_files"
# the C code against .clang-format (kernel style); `make format` fixes it
run lint_clang_format clang-format "$c_files" --dry-run -Werror
exit "$failed"
