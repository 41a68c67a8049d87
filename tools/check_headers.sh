#!/usr/bin/env bash
# CTest `abi.headers`: every public header compiles alone, included first in its own
# translation unit, with -Wall -Wextra -Werror -pedantic as C17 and as C++17 (extern "C"
# guards), and folio/folio.h includes every public header.
# Usage: tools/check_headers.sh C_COMPILER CXX_COMPILER
set -uo pipefail
cc=${1:-cc}
cxx=${2:-c++}
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for h in "$root"/include/folio/*.h; do
    name=$(basename "$h")
    printf '#include "folio/%s"\nint folio_header_check_%s;\n' "$name" "${name%.h}" >"$tmp/tu.c"
    if ! "$cc" -std=c17 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes -I"$root/include" \
         -fsyntax-only "$tmp/tu.c"; then
        echo "headers: $name does not compile alone as C17"; fail=1
    fi
    cp "$tmp/tu.c" "$tmp/tu.cpp"
    if ! "$cxx" -std=c++17 -Wall -Wextra -Werror -pedantic -I"$root/include" \
         -fsyntax-only "$tmp/tu.cpp"; then
        echo "headers: $name does not compile alone as C++17"; fail=1
    fi
    if [ "$name" != folio.h ] && ! grep -q "^#include \"folio/$name\"" "$root/include/folio/folio.h"; then
        echo "headers: folio/folio.h does not include $name"; fail=1
    fi
    n=$((n + 1))
done
[ $fail -eq 0 ] && echo "headers: ok, $n headers alone as C17 and C++17"
exit $fail
