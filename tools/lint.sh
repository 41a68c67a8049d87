#!/usr/bin/env bash
# folio's machine-checked habits (STYLE.md), run by CTest:
#  - libfolio (src/lib) allocates only through the folio_malloc seam;
#  - libfolio never prints and never exits;
#  - functions shared across files outside libfolio are named folio__, not folio_;
#  - no function in src/ is longer than 300 lines; the longest are reported, to split early.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0

raw=$(grep -nE '\b(malloc|calloc|realloc|strdup|strndup)\s*\(' src/lib/*.c | grep -v 'src/lib/alloc.c' | grep -vE '^\S+:\s*(/\*|\*)')
if [ -n "$raw" ]; then
    echo "lint: raw allocation in libfolio (use folio_malloc & co.):"; echo "$raw"; fail=1
fi
prints=$(grep -nE '\b(printf|fprintf|puts|perror|exit|abort)\s*\(' src/lib/*.c | grep -vE 'snprintf|vsnprintf')
if [ -n "$prints" ]; then
    echo "lint: libfolio must not print or exit:"; echo "$prints"; fail=1
fi

# Names: folio_ is public (declared in include/folio), folio__ is private but shared across
# files. A function the server, database, filesystem or CLI code defines for other files
# must not look public.
public=$(grep -ohE '\bfolio_[a-z0-9_]+\s*\(' include/folio/*.h | grep -oE 'folio_[a-z0-9_]+' | sort -u)
defined=$(grep -nE '^[a-z][^;(]*[ *]folio_[a-z0-9][a-z0-9_]*\(' src/server/*.c src/server/*/*.c src/db/*.c src/fs/*.c src/cli/*.c \
    | grep -vE '^[^:]+:[0-9]+:static ')
misnamed=$(echo "$defined" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    name=$(echo "$line" | grep -oE '[ *]folio_[a-z0-9][a-z0-9_]*\(' | head -1 | grep -oE 'folio_[a-z0-9_]+')
    echo "$public" | grep -qx "$name" || echo "$line"
done)
if [ -n "$misnamed" ]; then
    echo "lint: private functions named like public ones (use folio__):"; echo "$misnamed"; fail=1
fi

# Function lengths: a function starts at a line beginning with a name and '(' that is
# followed by a line '{' and ends at the next line '}'.
report=$(awk '
    FNR == 1 { name = ""; start = 0 }
    /^[a-z].*\(/ && !/;$/ { cand = $0; candline = FNR }
    /^\{$/ { name = cand; start = FNR }
    /^\}$/ && start { len = FNR - start; printf "%d %s:%d %s\n", len, FILENAME, candline, name; start = 0 }
' src/lib/*.c src/db/*.c src/server/*.c src/server/handler/*.c src/server/config/*.c src/fs/*.c src/cli/*.c | sort -rn)
echo "lint: longest functions:"; echo "$report" | head -8 | sed 's/^/  /'
long=$(echo "$report" | awk '$1 > 300')
if [ -n "$long" ]; then
    echo "lint: functions over 300 lines (split them):"; echo "$long"; fail=1
fi
[ $fail -eq 0 ] && echo "lint: ok"
exit $fail
