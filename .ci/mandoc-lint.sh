#!/usr/bin/env bash
# mandoc -T lint -W all on lagghook's manual pages: every message fails,
# except two that come from the host, not from the pages. mandoc looks each
# Xr up in the host's own manual (/usr/share/man), so on a host that is not
# FreeBSD it reports the FreeBSD pages that host lacks ("referenced manual
# not found"): a page named in .ci/freebsd-manpages or installed from man/
# is no fault; any other is (a typo, or a page FreeBSD does not have). And
# a host whose mandoc.db is older than its pages says so ("outdated
# mandoc.db"), which is about that database.
set -euo pipefail
cd "$(dirname "$0")/.."

pages=(man/lagghook.8 man/lagghook.toml.5)
known() {
	[ -f "man/$1" ] || awk -v p="$1" '!/^#/ && $1 == p { found = 1 } END { exit !found }' \
		.ci/freebsd-manpages
}
out=$(mandoc -T lint -W all "${pages[@]}" 2>&1) || true
failed=0
while IFS= read -r line; do
	case $line in
	'') continue ;;
	*": outdated mandoc.db lacks "*) continue ;;
	*": STYLE: referenced manual not found: Xr "*)
		page=$(printf '%s\n' "$line" | sed 's/.*: Xr \([^ ]*\) \([^ ]*\).*/\1.\2/')
		if known "$page"; then
			continue
		fi
		;;
	esac
	printf '%s\n' "$line"
	failed=1
done <<<"$out"
exit "$failed"
