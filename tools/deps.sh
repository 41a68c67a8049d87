#!/usr/bin/env bash
# Install the Debian packages folio needs, only those missing. `apt-get update` runs
# only when something must be installed. Usage: tools/deps.sh [build|test|bench]...
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev libsodium-dev
            libjansson-dev libjwt-dev zlib1g-dev libpq-dev
            libhiredis-dev)
test_pkgs=(libcmocka-dev python3 python3-pytest python3-hypothesis nginx-light python3-jwt
           python3-cryptography openssl curl postgresql-15 python3-psycopg2
           redis-server pgbouncer
           chromium
           nodejs)  # tests/e2e: node >= 20 with npm (NodeSource's nodejs ships npm)
bench_pkgs=(wrk nginx-light valgrind util-linux sqlite3 time)

want=("${build_pkgs[@]}")
for set in "$@"; do
    case "$set" in
    build) ;;
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${want[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
