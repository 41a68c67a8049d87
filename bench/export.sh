#!/usr/bin/env bash
# bench/export.sh: streaming export throughput and memory, and the CPU cost of gzip
# (make bench runs it after bench/run.sh; see bench/README.md "Export").
#
# On the 1M-row demo database (bench/results/demo-1m.db, made by `folio demo --rows 1000000`
# once and shared with bench/run.sh), for the messages and events tables:
#   - HTTP: GET /api/{table}/export?format=F read by curl into /dev/null, one fresh
#     `folio serve` per run; rows/s from curl's total time; the server's peak RSS (VmHWM);
#   - CLI: `folio export DB TABLE --format F -o /dev/null` under /usr/bin/time -v;
#   - the reference: `sqlite3 -csv` (and `sqlite3 -json`) printing the same rows in the same
#     order to /dev/null, under /usr/bin/time -v.
# Then the server CPU time (utime + stime from /proc) per request for a 100-row page with
# and without Accept-Encoding: gzip (page cache off, so that every request makes its page).
# Knobs: BENCH_EXPORT_ROUNDS (3; the best round is reported), BENCH_GZIP_REQUESTS (5000),
# BENCH_EXPORT_SKIP_EXPORTS (0; 1 = only the gzip measurement).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_EXPORT_ROUNDS:-3}
GZ_REQ=${BENCH_GZIP_REQUESTS:-5000}
RESULTS=bench/results
DB=$RESULTS/demo-1m.db
SECRET=$RESULTS/bench.secret
TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/export-$TS
REPORT=$RESULTS/export-$TS.md
HOST=127.0.0.1
mkdir -p "$OUT"
log() { printf '[bench-export %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

PID=""
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

log "building the release binary (build/release)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF >"$OUT/build.log"
cmake --build build/release -j >>"$OUT/build.log" 2>&1
FOLIO=build/release/folio
if [ ! -f "$DB" ]; then
    log "creating the 1000000-row demo database $DB (once; it is kept)"
    "$FOLIO" demo "$DB.tmp" --rows 1000000 >&2
    mv "$DB.tmp" "$DB"
fi
[ -f "$SECRET" ] || (umask 077 && head -c 32 /dev/urandom >"$SECRET")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # start_server ARGS...: sets PID and PORT
    PORT=$(free_port)
    "$FOLIO" serve "$DB" --listen "$HOST:$PORT" --secret-file "$SECRET" "$@" \
        >>"$OUT/serve.log" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://$HOST:$PORT/healthz" && return 0
        sleep 0.05
    done
    log "folio serve did not start"; exit 1
}
stop_server() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }
hwm_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# time_v CMD...: runs CMD with stdout to /dev/null; prints "seconds maxrss_mb"
time_v() {
    /usr/bin/time -v -o "$OUT/time.txt" "$@" >/dev/null 2>>"$OUT/cmd.log"
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=(n==3)?a[1]*3600+a[2]*60+a[3]:a[1]*60+a[2]}
                /Maximum resident set size/ {r=$2/1024}
                END {printf "%.3f %.1f\n", s, r}' "$OUT/time.txt"
}
best() { sort -n | head -1; }

printf '| table | format | path | rows | best s | rows/s | peak RSS MB |\n|---|---|---|---:|---:|---:|---:|\n' >"$OUT/export.md"
row() { # row TABLE FORMAT PATH ROWS SECONDS RSS
    awk -v t="$1" -v f="$2" -v p="$3" -v n="$4" -v s="$5" -v r="$6" \
        'BEGIN {printf "| %s | %s | %s | %d | %.3f | %.0f | %s |\n", t, f, p, n, s, n / s, r}' \
        >>"$OUT/export.md"
}

tables="messages events"
[ "${BENCH_EXPORT_SKIP_EXPORTS:-0}" = 1 ] && tables=""
for table in $tables; do
    rows=$(sqlite3 "$DB" "SELECT count(*) FROM $table")
    for fmt in ndjson csv; do
        times=()
        rss=0
        for _ in $(seq "$ROUNDS"); do
            start_server --threads 2
            bytes_time=$(curl -s -o /dev/null -w '%{size_download} %{time_total}' \
                "http://$HOST:$PORT/api/$table/export?format=$fmt")
            times+=("${bytes_time#* }")
            r=$(hwm_mb "$PID")
            rss=$(awk -v a="$rss" -v b="$r" 'BEGIN {print (b > a) ? b : a}')
            stop_server
        done
        log "HTTP $table $fmt: ${times[*]} s, peak RSS $rss MB, ${bytes_time% *} bytes"
        row "$table" "$fmt" "HTTP (folio serve)" "$rows" "$(printf '%s\n' "${times[@]}" | best)" "$rss"
        times=()
        for _ in $(seq "$ROUNDS"); do
            read -r s r < <(time_v "$FOLIO" export "$DB" "$table" --format "$fmt" \
                --secret-file "$SECRET" -o /dev/null)
            times+=("$s")
        done
        log "CLI $table $fmt: ${times[*]} s, max RSS $r MB"
        row "$table" "$fmt" "CLI (folio export)" "$rows" "$(printf '%s\n' "${times[@]}" | best)" "$r"
    done
    for mode in csv json; do
        times=()
        for _ in $(seq "$ROUNDS"); do
            read -r s r < <(time_v sqlite3 "-$mode" "$DB" "SELECT * FROM $table ORDER BY id")
            times+=("$s")
        done
        log "sqlite3 -$mode $table: ${times[*]} s, max RSS $r MB"
        row "$table" "$mode" "sqlite3 -$mode (reference)" "$rows" "$(printf '%s\n' "${times[@]}" | best)" "$r"
    done
done

# --- gzip: server CPU per 100-row page ----------------------------------------------------
# The same first page of events (100 rows, about 11 KB of JSON) over one keep-alive
# connection, built anew every time (--no-prefetch: no page cache); identity and gzip runs
# alternate, three of each, and the least CPU of each is reported.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
printf '\n| Accept-Encoding | requests | server CPU µs/request (best of 3) | bytes/response |\n|---|---:|---:|---:|\n' >>"$OUT/export.md"
start_server --threads 1 --no-prefetch
declare -A best_us size_of
for round in 1 2 3; do
    for ae in identity gzip; do
        t0=$(cpu_ticks "$PID")
        size=$(python3 - "$HOST" "$PORT" "$ae" "$GZ_REQ" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))
n = 0
for i in range(int(sys.argv[4])):
    c.request("GET", "/api/events?per_page=100", headers={"Accept-Encoding": sys.argv[3]})
    n = len(c.getresponse().read())
print(n)
EOF
)
        t1=$(cpu_ticks "$PID")
        us=$(awk -v n="$GZ_REQ" -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
            'BEGIN {printf "%.1f", d * 1000000 / hz / n}')
        log "gzip cost, round $round, Accept-Encoding $ae: $us µs server CPU per request"
        if [ -z "${best_us[$ae]:-}" ] || awk -v a="$us" -v b="${best_us[$ae]}" 'BEGIN {exit !(a < b)}'; then
            best_us[$ae]=$us
        fi
        size_of[$ae]=$size
    done
done
for ae in identity gzip; do
    printf '| %s | %d | %s | %s |\n' "$ae" "$GZ_REQ" "${best_us[$ae]}" "${size_of[$ae]}" >>"$OUT/export.md"
done
stop_server

# The same with callgrind, which counts instructions instead of sampling time (the CPU-time
# figures above move with whatever else the machine runs): (Ir of BASE + N requests − Ir of
# BASE requests) ÷ N, per Accept-Encoding, for the whole server process.
CG_N=${BENCH_GZIP_CALLGRIND_REQUESTS:-300}
cg_run() { # cg_run ACCEPT COUNT: prints the total Ir of a server answering COUNT requests
    local f=$OUT/callgrind.$1.$2.out port
    port=$(free_port)
    valgrind --tool=callgrind --callgrind-out-file="$f" "$FOLIO" serve "$DB" --no-prefetch \
        --listen "$HOST:$port" --threads 1 --secret-file "$SECRET" >>"$OUT/callgrind.log" 2>&1 &
    PID=$!
    for _ in $(seq 600); do curl -s -o /dev/null "http://$HOST:$port/healthz" && break; sleep 0.1; done
    python3 - "$HOST" "$port" "$1" "$2" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=300)
for i in range(int(sys.argv[4])):
    c.request("GET", "/api/events?per_page=100", headers={"Accept-Encoding": sys.argv[3]})
    c.getresponse().read()
EOF
    stop_server
    awk '/^summary:/ {print $2}' "$f"
}
if command -v valgrind >/dev/null && [ "${BENCH_SKIP_CALLGRIND:-0}" != 1 ]; then
    printf '\n| Accept-Encoding | instructions (Ir) per request, callgrind |\n|---|---:|\n' >>"$OUT/export.md"
    for ae in identity gzip; do
        base=$(cg_run "$ae" 10)
        main=$(cg_run "$ae" $((10 + CG_N)))
        ir=$(( (main - base) / CG_N ))
        log "callgrind, Accept-Encoding $ae: $ir Ir per request"
        printf '| %s | %d |\n' "$ae" "$ir" >>"$OUT/export.md"
    done
fi

{
    echo "# folio export benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "$(nproc) CPUs ($(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)); binary $FOLIO;"
    echo "best of $ROUNDS rounds; sqlite3 $(sqlite3 --version | cut -d' ' -f1)."
    echo
    cat "$OUT/export.md"
} | tee "$REPORT"
log "report: $REPORT"
