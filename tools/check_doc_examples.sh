#!/usr/bin/env bash
# CTest `docs.examples`: every ```c block in docs/api/*.md and README.md is a complete
# program; each is compiled alone with -Wall -Wextra -Werror -pedantic as C17, linked with
# libfolio and run, and must exit 0, so the examples cannot rot. Also: every exported
# function (src/lib/libfolio.sym) has its signature on a docs/api page.
# Usage: tools/check_doc_examples.sh C_COMPILER LIBFOLIO_A "EXTRA_FLAGS"
set -uo pipefail
cc=${1:?usage: check_doc_examples.sh CC LIBFOLIO_A [FLAGS]}
lib=${2:?}
extra=${3:-}
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for md in "$root"/docs/api/*.md "$root"/README.md; do
    rel=${md#"$root"/}
    # Write block k of this file to $tmp/<name>_<k>.c, with the line it starts on.
    awk -v dir="$tmp" -v base="$(echo "$rel" | tr '/.' '__')" '
        /^```c[[:space:]]*$/ { k++; f = dir "/" base "_" k ".c"; printf "" > f;
                               print FNR > (f ".line"); inblock = 1; next }
        /^```/ && inblock { inblock = 0; close(f); next }
        inblock { print > f }
    ' "$md"
    for src in "$tmp/$(echo "$rel" | tr '/.' '__')"_*.c; do
        [ -e "$src" ] || continue
        n=$((n + 1))
        where="$rel:$(cat "$src.line")"
        # shellcheck disable=SC2086
        if ! "$cc" -std=c17 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes $extra \
             -I"$root/include" "$src" "$lib" $(pkg-config --libs libsodium) -lm \
             -o "$src.bin" 2>"$src.err"; then
            echo "docs: example at $where does not compile:"; cat "$src.err"; fail=1; continue
        fi
        if ! (cd "$tmp" && timeout 60 "$src.bin" >"$src.out" 2>&1); then
            echo "docs: example at $where exits non-zero:"; cat "$src.out"; fail=1
        fi
    done
done
[ $n -gt 0 ] || { echo "docs: no examples found"; fail=1; }
while read -r fn; do
    grep -qE "(^|[ *])$fn\(" "$root"/docs/api/*.md || { echo "docs: $fn has no signature in docs/api"; fail=1; }
done <"$root/src/lib/libfolio.sym"
[ $fail -eq 0 ] && echo "docs: ok, $n examples compiled and run; every exported function documented"
exit $fail
