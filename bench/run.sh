#!/usr/bin/env bash
# bench/run.sh: folio's throughput, latency and CPU-per-request benchmark (make bench).
#
# Builds a release binary, caches a 1M-row demo database, then measures a set of page
# scenarios with wrk against folio (one worker thread, pinned to one CPU; wrk pinned to
# another), each next to two ceilings: nginx serving the same response bytes as a static
# file (the HTTP ceiling) and bench/dbceiling.c running folio's page query alone (the
# database ceiling). The scenarios run against `folio serve --no-prefetch` (no page cache:
# every request makes its page), and a few again against folio with its defaults (page
# cache and next-page prefetch on). Adds a cold-ish deep-offset measurement and a callgrind
# count of instructions per request. Prints a markdown report and keeps it, with every raw
# output, under bench/results/ (git-ignored). See bench/README.md.
#
# Knobs (environment): BENCH_DURATION (s per run, 5), BENCH_WARMUP (s, 1), BENCH_ROUNDS (3),
# BENCH_CONNECTIONS (16), BENCH_CALLGRIND_REQUESTS (2000), BENCH_SKIP_CALLGRIND (0),
# BENCH_SCENARIOS (space-separated subset of scenario names), BENCH_SKIP_PG (0; 1 skips the
# PostgreSQL rows: a PostgreSQL 15 server started by bench/pg.py, the demo loaded into it by
# `folio demo postgresql://...`, folio's pages over it, and bench/dbceiling_pg.c).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-16}
CG_REQUESTS=${BENCH_CALLGRIND_REQUESTS:-2000}
CG_BASE=10
ROWS=1000000
RESULTS=bench/results
DB=$RESULTS/demo-1m.db
SECRET=$RESULTS/bench.secret
TUTORIAL_CONFIG=examples/tutorial/folio.toml
TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/$TS
REPORT=$RESULTS/$TS.md
HOST=127.0.0.1

mkdir -p "$OUT"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
note() { printf '%s\n' "$*" >>"$OUT/anomalies.txt"; log "ANOMALY: $*"; }
meta() { printf '%s=%s\n' "$1" "$2" >>"$OUT/meta.env"; }
: >"$OUT/anomalies.txt"
: >"$OUT/meta.env"

# --- processes we start, and their cleanup ------------------------------------------------
PIDS=()
NGINX_DIR=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$NGINX_DIR" ]; then rm -rf "$NGINX_DIR"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # stop tracking a pid we stopped ourselves
    local p=$1 keep=() q
    for q in "${PIDS[@]+"${PIDS[@]}"}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

stop_pid() { # TERM, wait up to 10 s (callgrind needs time to write), then KILL
    local p=$1
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    forget_pid "$p"
}

# --- CPUs: servers on one, the load generator on another -----------------------------------
read -r -a CPUS <<<"$(python3 bench/check.py cpus)"
if [ "${#CPUS[@]}" -ge 2 ]; then
    SRV_CPU=${CPUS[0]}
    CLI_CPU=${CPUS[1]}
    PIN_SRV=(taskset -c "$SRV_CPU")
    PIN_CLI=(taskset -c "$CLI_CPU")
    STAT_CPU=cpu$SRV_CPU
    PINNING="servers on CPU $SRV_CPU, wrk on CPU $CLI_CPU (taskset)"
else
    PIN_SRV=()
    PIN_CLI=()
    STAT_CPU=cpu
    PINNING="unpinned: only one CPU is available, so servers and wrk share it"
    log "only one CPU available: running servers and wrk unpinned on the same CPU"
fi
for tool in wrk nginx valgrind callgrind_annotate taskset gcc curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found (make bench installs it via tools/deps.sh)"
done

# --- build --------------------------------------------------------------------------------
log "building the release binary (build/release)"
FOLIO=build/release/folio
BUILD_NOTE="build/release (CMAKE_BUILD_TYPE=Release)"
if ! { cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF &&
       cmake --build build/release -j; } >"$OUT/build.log" 2>&1; then
    # A -O2/-O3 build can raise warnings (-Werror) that the Debug test build does not see.
    # Rather than benchmark nothing, build the same Release configuration with warnings
    # not fatal, in its own directory so build/release's cache is left as it is, and say
    # so loudly in the report.
    grep -m3 'error:' "$OUT/build.log" >&2 || tail -5 "$OUT/build.log" >&2
    log "the release build FAILED; falling back to build/bench-release (Release, warnings not errors)"
    { cmake -S . -B build/bench-release -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF \
          -DCMAKE_C_FLAGS=-Wno-error && cmake --build build/bench-release -j; } \
        >>"$OUT/build.log" 2>&1 || die "the fallback release build failed too; see $OUT/build.log"
    FOLIO=build/bench-release/folio
    BUILD_NOTE="build/bench-release (Release with -Wno-error, because build/release failed: $(grep -m1 'error:' "$OUT/build.log" | sed 's|^.*/src/|src/|' | cut -c1-160))"
    note "release build failed with -Werror; numbers are from $FOLIO (same flags, warnings not fatal)"
fi
if ldd "$FOLIO" | grep -q -e libasan -e libubsan; then
    die "$FOLIO is built with sanitizers; the benchmark needs a plain release build"
fi
# The tree is shared and moves: record what the binary was built from, now.
meta commit "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include CMakeLists.txt || echo ' + uncommitted changes in src/include')"
gcc -O2 -std=c17 -Wall -Wextra -o "$OUT/dbceiling" bench/dbceiling.c -lsqlite3 ||
    die "cannot compile bench/dbceiling.c"

# --- data ---------------------------------------------------------------------------------
if [ ! -f "$DB" ]; then
    log "creating the $ROWS-row demo database $DB (once; it is kept)"
    rm -f "$DB.tmp" "$DB.tmp-wal" "$DB.tmp-shm"
    "$FOLIO" demo "$DB.tmp" --rows "$ROWS" >&2
    mv "$DB.tmp" "$DB"
fi
# The tutorial config serves /files from var/files, as `make run` sets it up.
if [ ! -d var/files ] || [ -z "$(ls -A var/files)" ]; then
    mkdir -p var/files
    for i in $(seq -w 1 120); do echo "file $i" >"var/files/report-$i.txt"; done
fi
if [ ! -f "$SECRET" ]; then
    (umask 077 && head -c 32 /dev/urandom >"$SECRET")
fi

# --- helpers ------------------------------------------------------------------------------
cpu_ticks() { # "utime+stime utime" of the given pids (all their threads), in clock ticks
    local sum=0 user=0 p stat f
    for p in "$@"; do
        stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        read -r -a f <<<"${stat##*) }"
        sum=$((sum + f[11] + f[12]))
        user=$((user + f[11]))
    done
    echo "$sum $user"
}

cpu_line() { # "busy total steal" of the servers' CPU from /proc/stat, in clock ticks
    awk -v c="$STAT_CPU" '$1 == c {
        total = 0; for (i = 2; i <= 9; i++) total += $i
        print total - $5 - $6, total, $9 }' /proc/stat
}

proc_kb() { # proc_kb PID FIELD: a kB value from /proc/PID/status
    awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

wait_http() { # wait_http PORT PATH PID: until the server answers; fails if PID exits
    for _ in $(seq 300); do
        kill -0 "$3" 2>/dev/null || return 1
        curl -sf -o /dev/null "http://$HOST:$1$2" && return 0
        sleep 0.1
    done
    return 1
}

# start_folio VAR_PREFIX [extra serve args]: start a pinned folio; sets ${PREFIX}_PID/_PORT.
# Returns non-zero (after noting why) if it does not come up.
start_folio() {
    local prefix=$1 port pid
    shift
    port=$(python3 bench/check.py free-port)
    "${PIN_SRV[@]}" "$FOLIO" serve "$@" "${SERVE_DB:-$DB}" --listen "$HOST:$port" --threads 1 --max-offset 0 \
        --secret-file "$SECRET" --cursor-ttl 0 >>"$OUT/folio.$prefix.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    printf -v "${prefix}_PID" '%s' "$pid"
    printf -v "${prefix}_PORT" '%s' "$port"
    if ! wait_http "$port" / "$pid"; then
        note "folio ($prefix) did not start: $(tail -3 "$OUT/folio.$prefix.log" | tr '\n' ' ')"
        stop_pid "$pid"
        return 1
    fi
}

fetch() { # fetch PORT PATH FILE: GET into FILE; die unless 200
    local code
    code=$(curl -s -o "$3" -w '%{http_code}' "http://$HOST:$1$2") || code="curl failed"
    if [ "$code" != 200 ]; then
        note "GET $2 -> $code: $(head -c 300 "$3" 2>/dev/null)"
        die "GET $2 failed"
    fi
}

# --- scenarios ----------------------------------------------------------------------------
declare -A SPATH SROWS SFIRST STOTAL SDESC SSERVER
sc() { # name path rows first-id total description [server]
    SPATH[$1]=$2 SROWS[$1]=$3 SFIRST[$1]=$4 STOTAL[$1]=$5 SDESC[$1]=$6 SSERVER[$1]=${7:-MAIN}
}
# Uncached runs (folio --no-prefetch; an nginx ceiling each, except the walk), runs with
# folio's defaults (page cache), tutorial runs (uncached).
UNCACHED_SCENARIOS=(keyset_first keyset_shallow keyset_deep events_shallow events_deep
                    events_desc offset_p1 offset_deep_warm keyset_100 count_exact walk
                    users_desc_p1 users_desc_deep rand_page keyset_shallow_c64)
CACHED_SCENARIOS=(keyset_shallow keyset_100 walk rand_page keyset_shallow_c64)
TUT_SCENARIOS=(tut_users tut_messages_deep tut_items tut_rand_after)
# Scenarios at random positions (bench/random.lua: PREFIX LO HI; their checked response
# and nginx file are the page in SPATH), and the 64-connection latency runs (*_c64).
declare -A SRAND
if [ -n "${BENCH_SCENARIOS:-}" ]; then
    pick() { local s out=(); for s in "$@"; do [[ " $BENCH_SCENARIOS " == *" $s "* ]] && out+=("$s"); done; echo "${out[*]}"; }
    read -r -a UNCACHED_SCENARIOS <<<"$(pick "${UNCACHED_SCENARIOS[@]}")"
    read -r -a CACHED_SCENARIOS <<<"$(pick "${CACHED_SCENARIOS[@]}")"
    read -r -a TUT_SCENARIOS <<<"$(pick "${TUT_SCENARIOS[@]}")"
fi

# The main server runs without the page cache, so that a repeated URL still makes its page.
NOCACHE=(--no-prefetch)
if ! "$FOLIO" serve --help 2>&1 | grep -q -- --no-prefetch; then
    note "this folio has no --no-prefetch: the 'uncached' runs use its defaults"
    NOCACHE=()
fi
meta nocache "${NOCACHE[*]:-none}"
start_folio MAIN "${NOCACHE[@]+"${NOCACHE[@]}"}" || die "folio did not start"
log "folio (${NOCACHE[*]:-defaults}) pid $MAIN_PID on port $MAIN_PORT ($PINNING)"

# An offset page's links.next is another offset page, so the deep cursors come from a
# walk: 9,000 pages of 100 rows following links.next (cursors never expire with
# --cursor-ttl 0 and do not depend on per_page).
log "collecting cursors (deep ones by walking to row 900,000 in pages of 100)"
ev_sort="sort=-created_at%2Cid"
desc_sort="sort=-created_at%2C-id"
fetch "$MAIN_PORT" "/api/messages?per_page=20" "$OUT/c_m0.json"
fetch "$MAIN_PORT" "/api/events?per_page=20&$ev_sort" "$OUT/c_e0.json"
fetch "$MAIN_PORT" "/api/events?per_page=20&$desc_sort" "$OUT/c_d0.json"
T20=$(python3 bench/check.py token "$OUT/c_m0.json")
E20=$(python3 bench/check.py token "$OUT/c_e0.json")
D20=$(python3 bench/check.py token "$OUT/c_d0.json")
python3 bench/check.py walk-to "$HOST" "$MAIN_PORT" "/api/messages?per_page=100" 900000 \
    >"$OUT/c_m900k.token" & walk1=$!
python3 bench/check.py walk-to "$HOST" "$MAIN_PORT" "/api/events?per_page=100&$ev_sort" 900000 \
    >"$OUT/c_e900k.token" & walk2=$!
wait "$walk1" || die "cannot walk messages to row 900,000"
wait "$walk2" || die "cannot walk events to row 900,000"
T900K=$(cat "$OUT/c_m900k.token")
E900K=$(cat "$OUT/c_e900k.token")
# The row a keyset page must start with is the one the offset page at that position has.
fetch "$MAIN_PORT" "/api/events?per_page=20&$ev_sort&offset=20" "$OUT/c_e20_offset.json"
fetch "$MAIN_PORT" "/api/events?per_page=20&$ev_sort&offset=900000" "$OUT/c_e900k_offset.json"
fetch "$MAIN_PORT" "/api/events?per_page=20&$desc_sort&offset=20" "$OUT/c_d20_offset.json"
E20_FIRST=$(python3 bench/check.py first-id "$OUT/c_e20_offset.json")
E900K_FIRST=$(python3 bench/check.py first-id "$OUT/c_e900k_offset.json")
D20_FIRST=$(python3 bench/check.py first-id "$OUT/c_d20_offset.json")

sc keyset_first "/api/messages?per_page=20" 20 1 - \
    "messages by id, first page (row 0, no cursor)"
sc keyset_shallow "/api/messages?per_page=20&after=$T20" 20 21 - \
    "messages by id, signed cursor after row 20"
sc keyset_deep "/api/messages?per_page=20&after=$T900K" 20 900001 - \
    "messages by id, signed cursor after row 900,000"
sc events_shallow "/api/events?per_page=20&$ev_sort&after=$E20" 20 "$E20_FIRST" - \
    "events sort=-created_at,id, signed cursor after row 20"
sc events_deep "/api/events?per_page=20&$ev_sort&after=$E900K" 20 "$E900K_FIRST" - \
    "events sort=-created_at,id, signed cursor after row 900,000"
sc events_desc "/api/events?per_page=20&$desc_sort&after=$D20" 20 "$D20_FIRST" - \
    "events sort=-created_at,-id (both keys one way), signed cursor after row 20"
sc offset_p1 "/api/messages?per_page=20&page=1" 20 1 - \
    "messages page=1 (offset 0)"
sc offset_deep_warm "/api/messages?per_page=20&page=45000" 20 899981 - \
    "messages page=45000 (offset 899,980), hybrid index warm"
sc keyset_100 "/api/messages?per_page=100&after=$T20" 100 21 - \
    "messages by id, 100 rows, signed cursor after row 20"
sc count_exact "/api/messages?per_page=20&page=1&count=exact" 20 1 "$ROWS" \
    "messages page=1 with count=exact (cached total)"
sc walk "/api/messages?per_page=20" 20 1 - \
    "16 concurrent walks following links.next from page 1 (bench/walk.lua)"
sc users_desc_p1 "/api/users?per_page=20&sort=-created_at&page=1" 20 - - \
    "users sort=-created_at (implied tiebreaker), page 1"
sc users_desc_deep "/api/users?per_page=20&sort=-created_at&page=9995" 20 - - \
    "users sort=-created_at, page 9995 (offset 199,880: 80 rows into a hybrid stride), index warm"
sc rand_page "/api/messages?per_page=20&page=25000" 20 499981 - \
    "messages page=N, N random in 1..49,999 for every request (bench/random.lua)"
SRAND[rand_page]="/api/messages?per_page=20&page= 1 49999"
sc keyset_shallow_c64 "/api/messages?per_page=20&after=$T20" 20 21 - \
    "keyset_shallow under 64 connections (tail latency)"

# The tutorial endpoints, when the tutorial config exists: a second folio serving it
# (same database, options), started only now so it is idle while the first is measured.
TUT_PID=""
if [ ${#TUT_SCENARIOS[@]} -gt 0 ] && [ -f "$TUTORIAL_CONFIG" ]; then
    if start_folio TUT "${NOCACHE[@]+"${NOCACHE[@]}"}" --config "$TUTORIAL_CONFIG"; then
        fetch "$TUT_PORT" "/items?per_page=20" "$OUT/c_i0.json"
        ITEM_CURSOR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next_cursor"])' \
            "$OUT/c_i0.json")
        sc tut_users "/users?per_page=20&page=1" - - - \
            "tutorial offset endpoint, page 1 (examples/tutorial/folio.toml)" TUT
        sc tut_messages_deep "/messages?per_page=20&after=900000" - - - \
            "tutorial raw keyset endpoint, after id 900,000" TUT
        sc tut_items "/items?per_page=20&cursor=$ITEM_CURSOR" - - - \
            "tutorial signed-cursor endpoint, second page" TUT
        sc tut_rand_after "/messages?per_page=20&after=500000" - - - \
            "tutorial raw keyset endpoint, after=N, N random in 0..999,980 for every request" TUT
        SRAND[tut_rand_after]="/messages?per_page=20&after= 0 999980"
    else
        TUT_SCENARIOS=()
    fi
else
    TUT_SCENARIOS=()
fi
port_of() { if [ "${SSERVER[$1]}" = TUT ]; then echo "$TUT_PORT"; else echo "$MAIN_PORT"; fi; }

# Check every response once and keep the bodies for nginx.
mkdir -p "$OUT/www"
: >"$OUT/scenarios.tsv"
mapfile -t ALL < <(printf '%s\n' "${UNCACHED_SCENARIOS[@]}" "${CACHED_SCENARIOS[@]}" \
    "${TUT_SCENARIOS[@]+"${TUT_SCENARIOS[@]}"}" | awk 'NF && !seen[$0]++')
for s in "${ALL[@]}"; do
    fetch "$(port_of "$s")" "${SPATH[$s]}" "$OUT/www/$s.json"
    if [ "${SROWS[$s]}" != - ]; then
        msg=$(python3 bench/check.py validate "$OUT/www/$s.json" "${SROWS[$s]}" \
            "${SFIRST[$s]}" "${STOTAL[$s]}") || { note "GET ${SPATH[$s]}: $msg"; die "wrong response for $s"; }
    fi
    printf '%s\t%s\t%s\t%s\n' "$s" "${SPATH[$s]}" "${SDESC[$s]}" "$(stat -c %s "$OUT/www/$s.json")" \
        >>"$OUT/scenarios.tsv"
done

# folio with its defaults: page cache and next-page prefetch. Its pages must be the same
# bytes as the uncached server's, also when they come from the cache (second request).
CACHED_PID=""
if [ ${#CACHED_SCENARIOS[@]} -gt 0 ]; then
    start_folio CACHED || die "folio (defaults) did not start"
    for s in "${CACHED_SCENARIOS[@]}"; do
        for i in 1 2; do
            fetch "$CACHED_PORT" "${SPATH[$s]}" "$OUT/cached.$s.$i.json"
            cmp -s "$OUT/cached.$s.$i.json" "$OUT/www/$s.json" ||
                note "folio with its page cache answers GET ${SPATH[$s]} differently (request $i; see $OUT/cached.$s.$i.json)"
        done
    done
fi
# The tutorial config with its defaults (page cache, prefetch), for the random-position run.
TUTPF_PID=""
if [[ " ${TUT_SCENARIOS[*]+"${TUT_SCENARIOS[*]}"} " == *" tut_rand_after "* ]]; then
    start_folio TUTPF --config "$TUTORIAL_CONFIG" || TUTPF_PID=""
fi

# --- nginx, the HTTP ceiling --------------------------------------------------------------
NGINX_DIR=$(mktemp -d /tmp/folio-bench-nginx.XXXXXX)
mkdir -p "$NGINX_DIR/tmp" "$NGINX_DIR/www"
cp "$OUT"/www/*.json "$NGINX_DIR/www/"
NGINX_PORT=$(python3 bench/check.py free-port)
cat >"$NGINX_DIR/nginx.conf" <<EOF
# written by bench/run.sh: one worker serving folio's saved responses as static files
daemon off;
master_process on;
worker_processes 1;
user $(id -un);
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=64 inactive=60s;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    server {
        listen $HOST:$NGINX_PORT;
        root $NGINX_DIR/www;
    }
}
EOF
"${PIN_SRV[@]}" nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" >>"$OUT/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "$NGINX_PORT" "/${ALL[0]}.json" "$NGINX_PID" ||
    { cat "$NGINX_DIR/error.log" "$OUT/nginx.log" >&2; die "nginx did not start"; }
NGINX_PIDS=("$NGINX_PID")
read -r -a kids <<<"$(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
NGINX_PIDS+=("${kids[@]}")
for s in "${ALL[@]}"; do
    curl -s "http://$HOST:$NGINX_PORT/$s.json" | cmp -s - "$OUT/www/$s.json" ||
        die "nginx does not serve the same bytes as folio for $s"
done
log "nginx pids ${NGINX_PIDS[*]} on port $NGINX_PORT"

# --- the wrk runs -------------------------------------------------------------------------
# run_wrk WHICH MODE SCENARIO ROUND URL [SCRIPT [SCRIPT ARGS...]]: a warm-up, then the
# measured run with the server's CPU time and its CPU's /proc/stat read around it. WHICH
# is the server (MAIN, CACHED, TUT or NGINX), MODE the table it belongs to (uncached,
# cached, tutorial, static). Appends a line to raw.tsv: round, scenario, server, mode,
# server ticks, server user ticks, CPU busy ticks, CPU total ticks, CPU steal ticks, wrk
# output file.
run_wrk() {
    local which=$1 method=$2 s=$3 round=$4 url=$5 server=folio pid_var
    local out c0 c1 u0 u1 b0 b1 t0 t1 st0 st1 rps
    shift 5
    local pids target=("$url")
    if [ $# -gt 0 ]; then
        target=(-s "$1" "$url")
        shift
        if [ $# -gt 0 ]; then target+=(-- "$@"); fi
    fi
    if [ "$which" = NGINX ]; then
        server=nginx
        pids=("${NGINX_PIDS[@]}")
    elif [ "$which" = PG ]; then
        server=folio-pg
        pids=("$PG_PID")
    else
        pid_var=${which}_PID
        pids=("${!pid_var}")
    fi
    out="$OUT/wrk.$s.$server.$method.$round.txt"
    "${PIN_CLI[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${target[@]}" >/dev/null 2>&1 || true
    read -r c0 u0 <<<"$(cpu_ticks "${pids[@]}")"
    read -r b0 t0 st0 <<<"$(cpu_line)"
    "${PIN_CLI[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${target[@]}" >"$out" 2>&1 ||
        note "wrk exited non-zero for $s on $server (round $round): $(tail -2 "$out")"
    read -r b1 t1 st1 <<<"$(cpu_line)"
    read -r c1 u1 <<<"$(cpu_ticks "${pids[@]}")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$s" "$server" "$method" \
        "$((c1 - c0))" "$((u1 - u0))" "$((b1 - b0))" "$((t1 - t0))" "$((st1 - st0))" "$out" \
        >>"$OUT/raw.tsv"
    rps=$(awk '/^Requests\/sec/ {print $2}' "$out")
    log "round $round  $s  $server $method: ${rps:-?} req/s, $((c1 - c0)) ticks"
    if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
        note "$server $method $s round $round (${url#http://*/}): $(grep -e 'Non-2xx' -e 'Socket errors' "$out" | tr -s ' ' | tr '\n' ';')"
    fi
    if [ "$server" != nginx ] && ! kill -0 "${pids[0]}" 2>/dev/null; then
        note "folio ($which) died during $s round $round (${SPATH[$s]}); log: $(tail -3 "$OUT/folio.$which.log" | tr '\n' ' ')"
        die "folio crashed under load"
    fi
}

: >"$OUT/raw.tsv"
log "warming the hybrid index (one deep offset request) and the exact count"
fetch "$MAIN_PORT" "/api/messages?per_page=20&page=45000" /dev/null
fetch "$MAIN_PORT" "/api/messages?per_page=20&page=1&count=exact" /dev/null
fetch "$MAIN_PORT" "/api/users?per_page=20&sort=-created_at&page=9995" /dev/null
# The random-position runs with prefetch on: the prefetcher's worker has its own boundary
# index, warmed by a short walk (a first page and its next link) before the rounds.
if [ -n "$CACHED_PID" ]; then
    fetch "$CACHED_PORT" "/api/messages?per_page=20&page=45000" /dev/null
    fetch "$CACHED_PORT" "/api/messages?per_page=20&page=45001" /dev/null
    fetch "$CACHED_PORT" "/api/messages?per_page=20&page=45002" /dev/null
fi
meta loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    for s in "${UNCACHED_SCENARIOS[@]}"; do
        if [ "$s" = walk ]; then
            run_wrk MAIN uncached "$s" "$round" "http://$HOST:$MAIN_PORT" bench/walk.lua "${SPATH[$s]}"
        elif [ -n "${SRAND[$s]:-}" ]; then
            # shellcheck disable=SC2086 # PREFIX LO HI
            run_wrk MAIN uncached "$s" "$round" "http://$HOST:$MAIN_PORT" bench/random.lua ${SRAND[$s]}
        elif [[ $s == *_c64 ]]; then
            CONNS=64 run_wrk MAIN uncached "$s" "$round" "http://$HOST:$MAIN_PORT${SPATH[$s]}"
        else
            run_wrk MAIN uncached "$s" "$round" "http://$HOST:$MAIN_PORT${SPATH[$s]}"
            run_wrk NGINX static "$s" "$round" "http://$HOST:$NGINX_PORT/$s.json"
        fi
    done
    for s in "${CACHED_SCENARIOS[@]}"; do
        if [ "$s" = walk ]; then
            run_wrk CACHED cached "$s" "$round" "http://$HOST:$CACHED_PORT" bench/walk.lua "${SPATH[$s]}"
        elif [ -n "${SRAND[$s]:-}" ]; then
            # shellcheck disable=SC2086
            run_wrk CACHED cached "$s" "$round" "http://$HOST:$CACHED_PORT" bench/random.lua ${SRAND[$s]}
        elif [[ $s == *_c64 ]]; then
            CONNS=64 run_wrk CACHED cached "$s" "$round" "http://$HOST:$CACHED_PORT${SPATH[$s]}"
        else
            run_wrk CACHED cached "$s" "$round" "http://$HOST:$CACHED_PORT${SPATH[$s]}"
        fi
    done
    for s in "${TUT_SCENARIOS[@]+"${TUT_SCENARIOS[@]}"}"; do
        if [ -n "${SRAND[$s]:-}" ]; then
            # shellcheck disable=SC2086
            run_wrk TUT tutorial "$s" "$round" "http://$HOST:$TUT_PORT" bench/random.lua ${SRAND[$s]}
            [ -n "$TUTPF_PID" ] &&
                run_wrk TUTPF tutorial_pf "$s" "$round" "http://$HOST:$TUTPF_PORT" bench/random.lua ${SRAND[$s]}
        else
            run_wrk TUT tutorial "$s" "$round" "http://$HOST:$TUT_PORT${SPATH[$s]}"
        fi
        run_wrk NGINX static "$s" "$round" "http://$HOST:$NGINX_PORT/$s.json"
    done
done
meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# After the load: the same requests must still give the same bytes.
for s in "${ALL[@]}"; do
    [ "$s" = walk ] && continue
    fetch "$(port_of "$s")" "${SPATH[$s]}" "$OUT/after.$s.json"
    cmp -s "$OUT/after.$s.json" "$OUT/www/$s.json" ||
        note "GET ${SPATH[$s]} answered differently after the load than before (see $OUT/after.$s.json)"
done
for s in "${CACHED_SCENARIOS[@]}"; do
    [ "$s" = walk ] && continue
    fetch "$CACHED_PORT" "${SPATH[$s]}" "$OUT/after.cached.$s.json"
    cmp -s "$OUT/after.cached.$s.json" "$OUT/www/$s.json" ||
        note "folio with its page cache answered GET ${SPATH[$s]} differently after the load (see $OUT/after.cached.$s.json)"
done
meta folio_vmhwm_kb "$(proc_kb "$MAIN_PID" VmHWM)"
meta folio_vmrss_kb "$(proc_kb "$MAIN_PID" VmRSS)"
meta folio_threads "$(proc_kb "$MAIN_PID" Threads)"
if [ -n "$CACHED_PID" ]; then
    meta cached_vmhwm_kb "$(proc_kb "$CACHED_PID" VmHWM)"
    meta cached_threads "$(proc_kb "$CACHED_PID" Threads)"
fi
meta nginx_worker_vmhwm_kb "$(proc_kb "${NGINX_PIDS[-1]}" VmHWM)"
stop_pid "$NGINX_PID"
stop_pid "$MAIN_PID"
if [ -n "$CACHED_PID" ]; then stop_pid "$CACHED_PID"; fi
if [ -n "$TUT_PID" ]; then stop_pid "$TUT_PID"; fi

# --- the database ceiling -----------------------------------------------------------------
log "database ceiling (bench/dbceiling.c, ~2 s per depth)"
: >"$OUT/dbceiling.txt"
for after in 20 900000; do
    "${PIN_SRV[@]}" "$OUT/dbceiling" "$DB" "$after" 21 2 >>"$OUT/dbceiling.txt" ||
        note "dbceiling failed for after=$after"
done
cat "$OUT/dbceiling.txt" >&2

# --- cold-ish deep offset: the first page=45000 request after a start builds the index ----
log "cold-ish deep offset (3 fresh starts)"
: >"$OUT/cold.tsv"
deep="/api/messages?per_page=20&page=45000"
for i in $(seq 3); do
    start_folio COLD "${NOCACHE[@]+"${NOCACHE[@]}"}" || die "folio did not start"
    rss0=$(proc_kb "$COLD_PID" VmRSS)
    read -r c0 _ <<<"$(cpu_ticks "$COLD_PID")"
    t1=$(curl -s -o "$OUT/cold.$i.json" -w '%{http_code} %{time_total}' "http://$HOST:$COLD_PORT$deep")
    read -r c1 _ <<<"$(cpu_ticks "$COLD_PID")"
    t2=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://$HOST:$COLD_PORT$deep")
    t3=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' \
        "http://$HOST:$COLD_PORT/api/messages?per_page=20&page=1")
    rss1=$(proc_kb "$COLD_PID" VmRSS)
    python3 bench/check.py validate "$OUT/cold.$i.json" 20 899981 >/dev/null ||
        note "cold GET $deep (start $i): $(head -c 200 "$OUT/cold.$i.json")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$t1" "$t2" "$t3" "$((c1 - c0))" "$rss0" "$rss1" \
        >>"$OUT/cold.tsv"
    stop_pid "$COLD_PID"
done

# --- PostgreSQL: the same pages over a PostgreSQL 15 server -------------------------------
# bench/pg.py starts a throwaway server (tests/support/folio_pg.py: temp dir, own port, fsync
# off; not pinned) and loads the demo with `folio demo postgresql://...` (its time goes into
# the report). folio serves it like the SQLite file: --no-prefetch, one worker, pinned. Next
# to it: bench/dbceiling_pg.c, the same keyset query as one libpq prepared statement.
PG_SCENARIOS=(pg_keyset_shallow pg_keyset_deep pg_offset_p1 pg_offset_deep_warm)
if [ "${BENCH_SKIP_PG:-0}" != 1 ]; then
    log "PostgreSQL: starting a server and loading the $ROWS-row demo into it (bench/pg.py)"
    /usr/bin/python3 bench/pg.py "$FOLIO" "$ROWS" "$OUT" >>"$OUT/pg.log" 2>&1 &  # Debian python3-psycopg2
    PG_HELPER=$!
    PIDS+=("$PG_HELPER")
    for _ in $(seq 6000); do
        [ -f "$OUT/pg.url" ] && break
        kill -0 "$PG_HELPER" 2>/dev/null || break
        sleep 0.1
    done
    [ -f "$OUT/pg.url" ] || die "bench/pg.py did not bring PostgreSQL up: $(tail -3 "$OUT/pg.log")"
    PG_URL=$(cat "$OUT/pg.url")
    meta pg_demo "$(tr '\n' ' ' <"$OUT/pg_demo.txt" | sed 's/ *$//')"
    log "$(head -1 "$OUT/pg_demo.txt")"
    gcc -O2 -std=c17 -Wall -Wextra -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" \
        -o "$OUT/dbceiling_pg" bench/dbceiling_pg.c -lpq || die "cannot compile bench/dbceiling_pg.c"
    : >"$OUT/dbceiling_pg.txt"
    for after in 20 900000; do
        "$OUT/dbceiling_pg" "$PG_URL" "$after" 21 2 >>"$OUT/dbceiling_pg.txt" ||
            note "dbceiling_pg failed for after=$after"
    done
    cat "$OUT/dbceiling_pg.txt" >&2
    if SERVE_DB=$PG_URL start_folio PG "${NOCACHE[@]+"${NOCACHE[@]}"}"; then
        log "folio over PostgreSQL pid $PG_PID on port $PG_PORT"
        fetch "$PG_PORT" "/api/messages?per_page=20" "$OUT/pg_c_m0.json"
        PT20=$(python3 bench/check.py token "$OUT/pg_c_m0.json")
        python3 bench/check.py walk-to "$HOST" "$PG_PORT" "/api/messages?per_page=100" 900000 \
            >"$OUT/pg_c_m900k.token" || die "cannot walk messages to row 900,000 over PostgreSQL"
        PT900K=$(cat "$OUT/pg_c_m900k.token")
        sc pg_keyset_shallow "/api/messages?per_page=20&after=$PT20" 20 21 - \
            "PostgreSQL: messages by id, signed cursor after row 20" PG
        sc pg_keyset_deep "/api/messages?per_page=20&after=$PT900K" 20 900001 - \
            "PostgreSQL: messages by id, signed cursor after row 900,000" PG
        sc pg_offset_p1 "/api/messages?per_page=20&page=1" 20 1 - \
            "PostgreSQL: messages page=1 (offset 0)" PG
        sc pg_offset_deep_warm "/api/messages?per_page=20&page=45000" 20 899981 - \
            "PostgreSQL: messages page=45000 (offset 899,980), hybrid index warm" PG
        for s in "${PG_SCENARIOS[@]}"; do
            fetch "$PG_PORT" "${SPATH[$s]}" "$OUT/pg.$s.json"
            msg=$(python3 bench/check.py validate "$OUT/pg.$s.json" "${SROWS[$s]}" \
                "${SFIRST[$s]}" "${STOTAL[$s]}") || { note "GET ${SPATH[$s]} over PostgreSQL: $msg"; die "wrong response for $s"; }
            cmp -s "$OUT/pg.$s.json" "$OUT/www/${s#pg_}.json" 2>/dev/null ||
                note "$s: the page over PostgreSQL differs from the same page over SQLite"
            printf '%s\t%s\t%s\t%s\n' "$s" "${SPATH[$s]}" "${SDESC[$s]}" \
                "$(stat -c %s "$OUT/pg.$s.json")" >>"$OUT/scenarios.tsv"
        done
        for round in $(seq "$ROUNDS"); do
            for s in "${PG_SCENARIOS[@]}"; do
                run_wrk PG uncached "$s" "$round" "http://$HOST:$PG_PORT${SPATH[$s]}"
            done
        done
        stop_pid "$PG_PID"
    else
        note "folio did not serve PostgreSQL (is src/db/db_pg.c in this build?): no folio-over-PostgreSQL rows"
    fi
    stop_pid "$PG_HELPER"
fi

# --- callgrind: instructions per request for the keyset scenario --------------------------
# Two runs of the uncached server under callgrind: "base" answers CG_BASE requests of
# keyset_shallow, "main" CG_BASE + CG_REQUESTS. (Ir of main − Ir of base) ÷ CG_REQUESTS is
# the cost of one request, with start-up, first-request work (statement preparation, SQLite
# page cache fill) and shutdown cancelled out.
# Under valgrind a page takes tens of times longer: with the default inline_budget (1 ms)
# most pages would be stopped on the I/O thread and handed to the worker. A budget of 1 s
# counts the path pages take natively (answered on the I/O thread).
printf '[server]\ninline_budget = 1\n' >"$OUT/callgrind.toml"
callgrind_run() { # callgrind_run TAG PHASES...
    local tag=$1 port pid f=$OUT/callgrind.$1.out
    shift
    port=$(python3 bench/check.py free-port)
    valgrind --tool=callgrind --callgrind-out-file="$f" "$FOLIO" serve \
        "${NOCACHE[@]+"${NOCACHE[@]}"}" --config "$OUT/callgrind.toml" "$DB" \
        --listen "$HOST:$port" --threads 1 --secret-file "$SECRET" --cursor-ttl 0 \
        >>"$OUT/callgrind.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_http "$port" / "$pid" || { tail -5 "$OUT/callgrind.log" >&2; die "folio under callgrind did not start"; }
    python3 bench/reqloop.py "$HOST" "$port" "${SPATH[keyset_shallow]}" "$@" >>"$OUT/callgrind.log" ||
        note "callgrind run $tag: a request failed (see $OUT/callgrind.log)"
    stop_pid "$pid"
    [ -s "$f" ] || die "callgrind wrote no profile for run $tag"
    callgrind_annotate --inclusive=yes --threshold=100 "$f" >"$OUT/callgrind.$tag.incl.txt" 2>/dev/null
    callgrind_annotate --threshold=100 "$f" >"$OUT/callgrind.$tag.self.txt" 2>/dev/null
}
if [ "${BENCH_SKIP_CALLGRIND:-0}" != 1 ]; then
    log "callgrind: keyset_shallow, $CG_BASE and $((CG_BASE + CG_REQUESTS)) requests"
    callgrind_run base "GET:$CG_BASE"
    callgrind_run main "GET:$((CG_BASE + CG_REQUESTS))"
fi

# --- report -------------------------------------------------------------------------------
meta timestamp "$TS"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta nproc "$(nproc)"
meta cpu_model "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
meta kernel "$(uname -r)"
meta pinning "$PINNING"
meta binary "$BUILD_NOTE"
meta wrk "wrk -t1 -c$CONNS -d${DURATION}s --latency (after a ${WARMUP}s warm-up), $ROUNDS rounds interleaved"
meta nginx "$(nginx -v 2>&1 | sed 's/^nginx version: //')"
meta sqlite "$(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"
meta mhd "$(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null || echo '?')"
meta clk_tck "$(getconf CLK_TCK)"
meta cg_requests "$CG_REQUESTS"
meta cg_base "$CG_BASE"
python3 bench/report.py "$OUT" | tee "$REPORT"
log "report: $REPORT (raw outputs in $OUT/)"
