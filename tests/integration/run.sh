#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The integration suite (root): PASS/FAIL/SKIP per test, then `N passed, N failed, N skipped`.
exec python3 "$(dirname "$0")/run.py" "$@"
