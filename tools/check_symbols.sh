#!/usr/bin/env bash
# The ABI check (CTest `abi.symbols`): libfolio.so exports exactly the functions listed in
# src/lib/libfolio.sym, and that list is exactly the functions include/folio/*.h marks
# FOLIO_EXTERN. A change to the ABI is deliberate: edit the header and the list together.
# Usage: tools/check_symbols.sh path/to/libfolio.so
set -uo pipefail
export LC_ALL=C
lib=${1:?usage: check_symbols.sh LIBFOLIO_SO}
root="$(cd "$(dirname "$0")/.." && pwd)"
list="$root/src/lib/libfolio.sym"
fail=0

exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort)
if ! d=$(diff -u "$list" <(echo "$exported")); then
    echo "abi: libfolio.so exports differ from src/lib/libfolio.sym (- listed, + exported):"
    echo "$d" | tail -n +3 | grep '^[-+]'
    fail=1
fi

declared=$(awk '
    $0 == "FOLIO_EXTERN" { getline; print; next }
    /^FOLIO_EXTERN / { print }
' "$root"/include/folio/*.h | grep -o 'folio_[a-z0-9_]*(' | tr -d '(' | sort)
if ! d=$(diff -u "$list" <(echo "$declared")); then
    echo "abi: FOLIO_EXTERN declarations differ from src/lib/libfolio.sym (- listed, + declared):"
    echo "$d" | tail -n +3 | grep '^[-+]'
    fail=1
fi
n=$(wc -l < "$list")
[ $fail -eq 0 ] && echo "abi: ok, $n exported functions, all declared FOLIO_EXTERN"
exit $fail
