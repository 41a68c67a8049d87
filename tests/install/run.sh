#!/usr/bin/env bash
# CTest `install.consumers`: install the build into a temporary prefix (DESTDIR + --prefix,
# as a distribution package would), check what landed there, build out-of-tree programs
# against the installed copy only (pkg-config and CMake find_package), run them, run the
# embedding example against a real SQLite file, then uninstall and check nothing is left.
# Usage: run.sh BUILD_DIR C_COMPILER CXX_COMPILER "EXTRA_FLAGS" (the build's sanitizer flags)
set -euo pipefail
build=$(cd "$1" && pwd)
cc=$2
cxx=$3
extra=${4:-}
src="$(cd "$(dirname "$0")/../.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
prefix=/opt/folio-test
root=$stage$prefix
fail() { echo "install: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
libdir=$(dirname "$(find "$root" -name folio.pc)")/..
libdir=$(cd "$libdir" && pwd)
version=$(sed -n 's/^Version: //p' "$libdir/pkgconfig/folio.pc")
major=${version%%.*}
for f in bin/folio include/folio/folio.h share/man/man1/folio.1 share/man/man3/libfolio.3; do
    [ -e "$root/$f" ] || fail "missing $f"
done
for f in libfolio.a libfolio.so "libfolio.so.$major" "libfolio.so.$version" \
         cmake/folio/folioConfig.cmake cmake/folio/folioConfigVersion.cmake; do
    [ -e "$libdir/$f" ] || fail "missing $libdir/$f"
done
[ -L "$libdir/libfolio.so" ] && [ -L "$libdir/libfolio.so.$major" ] || fail "libfolio.so links"
soname=$(readelf -d "$libdir/libfolio.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libfolio.so.$major" ] || fail "SONAME is '$soname', want libfolio.so.$major"
for h in "$src"/include/folio/*.h; do
    cmp -s "$h" "$root/include/folio/$(basename "$h")" || fail "header $(basename "$h") not installed"
done
"$src/tools/check_symbols.sh" "$libdir/libfolio.so.$version"
echo "install: $(wc -l <"$build/install_manifest.txt") files installed under $prefix, SONAME $soname"

# 1. pkg-config, with the shared library.
export PKG_CONFIG_PATH=$libdir/pkgconfig
flags=$(pkg-config --cflags --libs folio)
case "$flags" in *"$root"*|*"$libdir"*) ;; *) fail "pkg-config flags do not point into the prefix: $flags" ;; esac
# shellcheck disable=SC2086
"$cc" -std=c17 -Wall -Wextra -Werror -pedantic $extra "$src/tests/install/consumer/consumer.c" \
    $flags -o "$tmp/consumer_pc"
LD_LIBRARY_PATH=$libdir "$tmp/consumer_pc"
ldd_out=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer_pc")
echo "$ldd_out" | grep -q "libfolio.so.$major => $libdir" || fail "consumer not linked to the installed libfolio.so.$major"
# C++17 through the same flags: links only with the headers' extern "C".
# shellcheck disable=SC2086
"$cxx" -std=c++17 -Wall -Wextra -Werror -pedantic $extra "$src/tests/install/consumer/consumer_cxx.cpp" \
    $flags -o "$tmp/consumer_cxx"
LD_LIBRARY_PATH=$libdir "$tmp/consumer_cxx"

# 2. CMake find_package, shared and static targets.
cmake -S "$src/tests/install/consumer" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$root" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
    >"$tmp/cmake.log" || { cat "$tmp/cmake.log"; fail "find_package(folio) failed"; }
cmake --build "$tmp/cmake" >"$tmp/build.log" || { cat "$tmp/build.log"; fail "CMake consumer build failed"; }
"$tmp/cmake/consumer_shared"
"$tmp/cmake/consumer_static"

# 3. The embedding example: its own HTTP (sockets) and its own SQLite, libfolio in between.
# shellcheck disable=SC2086
"$cc" -std=c17 -Wall -Wextra -Werror -pedantic $extra "$src/examples/embed/embed.c" \
    $(pkg-config --cflags --libs folio sqlite3) -o "$tmp/embed"
LD_LIBRARY_PATH=$libdir /usr/bin/python3 "$src/tests/install/embed_walk.py" "$tmp/embed" "$tmp/items.db"

# 4. Uninstall removes exactly what was installed.
DESTDIR=$stage cmake -DMANIFEST="$build/install_manifest.txt" -P "$src/cmake/uninstall.cmake" >/dev/null
left=$(find "$stage" -type f -o -type l)
[ -z "$left" ] || fail "left after uninstall: $left"
[ ! -e "$root/include/folio" ] || fail "include/folio left after uninstall"
echo "install: ok (pkg-config C and C++, find_package shared and static, embed example, uninstall)"
