#!/usr/bin/env python3
"""bench/report.py: turn one bench/run.sh results directory into a markdown report.

usage: report.py RESULTS_DIR   (bench/results/<timestamp>/; the report goes to stdout)

Reads meta.env, scenarios.tsv, raw.tsv (one line per measured wrk run), dbceiling.txt,
cold.tsv, anomalies.txt and the callgrind annotations. Every number in the report is
derived here from those files, so a report can be regenerated from them.
"""
import os
import re
import statistics
import sys

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else None


def parse_wrk(path):
    """requests, req/s, p50 and p99 in ms, the walk script's line (or None)."""
    with open(path) as f:
        text = f.read()
    r = {"requests": 0, "rps": 0.0, "p50": None, "p99": None, "walk": None}
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M)
    if m:
        r["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s*{pct}%\s+(\S+)", text, re.M)
        if m:
            r["p" + pct] = ms(m.group(1))
    m = re.search(r"^walk: (.*)$", text, re.M)
    if m:
        r["walk"] = m.group(1)
    return r


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=0):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def pct(x):
    return "n/a" if x is None else f"{100 * x:.0f}%"


def ratio(a, b, digits=2):
    return "n/a" if a is None or not b else f"{a / b:.{digits}f}"


def load_runs(d, tick_us):
    """(scenario, server, mode) -> list of runs."""
    runs = {}
    with open(os.path.join(d, "raw.tsv")) as f:
        for line in f:
            (rnd, scen, server, mode, ticks, user, busy, total, steal,
             out) = line.rstrip("\n").split("\t")
            ticks, user, busy, total, steal = map(int, (ticks, user, busy, total, steal))
            w = parse_wrk(out)
            w["round"] = int(rnd)
            w["cpu_us"] = ticks * tick_us / w["requests"] if w["requests"] else None
            w["sys"] = 1 - user / ticks if ticks else None
            # Time on the servers' CPU that was neither this server nor idle: other
            # processes of the machine (and interrupts), plus hypervisor steal.
            w["other"] = max(0, busy - ticks) / total if total else None
            w["steal"] = steal / total if total else None
            runs.setdefault((scen, server, mode), []).append(w)
    return runs


def summary(runs, key):
    rs = runs.get(key, [])
    if not rs:
        return None
    rps = [r["rps"] for r in rs]
    return {
        "rps_min": min(rps), "rps_med": med(rps), "rps_max": max(rps),
        "p50": med([r["p50"] for r in rs]), "p99": med([r["p99"] for r in rs]),
        "cpu": med([r["cpu_us"] for r in rs]),
        "cpu_min": min((r["cpu_us"] for r in rs if r["cpu_us"]), default=None),
        "cpu_max": max((r["cpu_us"] for r in rs if r["cpu_us"]), default=None),
        "sys": med([r["sys"] for r in rs]),
        "other": med([r["other"] for r in rs]),
        "steal": med([r["steal"] for r in rs]),
        "walk": [r["walk"] for r in rs if r["walk"]],
    }


def read_db(d, name="dbceiling.txt"):
    db = {}
    path = os.path.join(d, name)
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                kv = dict(p.split("=", 1) for p in line.split())
                kv.pop("backend", None)
                db[int(kv["after"])] = {k: float(v) for k, v in kv.items()}
    return db


def postgresql_section(d, meta, runs, p):
    """folio over PostgreSQL (server "folio-pg") next to the libpq ceiling and the same
    pages over SQLite, from the same run."""
    pg_db = read_db(d, "dbceiling_pg.txt")
    pg_names = ("pg_keyset_shallow", "pg_keyset_deep", "pg_offset_p1", "pg_offset_deep_warm")
    if not any((n, "folio-pg", "uncached") in runs for n in pg_names) and not pg_db:
        return
    p("## PostgreSQL")
    p("")
    p(f"A PostgreSQL 15 server started for the run (tests/support/folio_pg.py: temp dir, "
      f"fsync off, not pinned), the same 1M-row demo loaded by `folio demo "
      f"postgresql://...` ({meta.get('pg_demo', 'n/a')}). folio serves it with "
      f"`{meta.get('nocache')} --threads 1`, pinned like the SQLite server. The PostgreSQL "
      "server does the query work in its own processes, so folio's CPU/req is not "
      "comparable with SQLite's; compare throughput and latency.")
    p("")
    p("| scenario | req/s min / med / max | p50 ms | p99 ms | same page over SQLite req/s | "
      "PostgreSQL ÷ SQLite |")
    p("|---|---|--:|--:|--:|--:|")
    for name in pg_names:
        f = summary(runs, (name, "folio-pg", "uncached"))
        if f is None:
            continue
        lite = summary(runs, (name[3:], "folio", "uncached"))
        lrps = lite["rps_med"] if lite else None
        p(f"| {name} | {fmt(f['rps_min'])} / {fmt(f['rps_med'])} / {fmt(f['rps_max'])} | "
          f"{fmt(f['p50'], 2)} | {fmt(f['p99'], 2)} | {fmt(lrps)} | {ratio(f['rps_med'], lrps)} |")
    p("")
    if pg_db:
        p("Database ceiling (bench/dbceiling_pg.c: the same keyset page query as one libpq "
          "prepared statement on one connection, LIMIT 21, every value read, one query after "
          "another, wall-clock rate):")
        p("")
        for after, v in sorted(pg_db.items()):
            name = "pg_keyset_shallow" if after == 20 else "pg_keyset_deep"
            f = summary(runs, (name, "folio-pg", "uncached"))
            vs = (f" — folio `{name}` {fmt(f['rps_med'])} req/s = {ratio(f['rps_med'], v['qps'])} "
                  "× the ceiling" if f else "")
            p(f"- after id {after}: {fmt(v['qps'])} queries/s, {v['wall_us_per_query']:.1f} µs "
              f"per query (has_prev probe alone: {v['probe_us']:.1f} µs client CPU){vs}")
        p("")
    p("| deep ÷ shallow | PostgreSQL req/s ratio | SQLite req/s ratio |")
    p("|---|--:|--:|")
    for label, a, b in (("keyset: after row 900,000 ÷ after row 20", "keyset_deep", "keyset_shallow"),
                        ("hybrid jump: page=45000 ÷ page=1", "offset_deep_warm", "offset_p1")):
        pa = summary(runs, ("pg_" + a, "folio-pg", "uncached"))
        pb = summary(runs, ("pg_" + b, "folio-pg", "uncached"))
        la = summary(runs, (a, "folio", "uncached"))
        lb = summary(runs, (b, "folio", "uncached"))
        p(f"| {label} | {ratio(pa['rps_med'], pb['rps_med']) if pa and pb else 'n/a'} | "
          f"{ratio(la['rps_med'], lb['rps_med']) if la and lb else 'n/a'} |")
    p("")


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return None


# "  1,234 ( 5.41%)  ./string/memset.S:__memset_avx2 [/usr/lib/x86_64-linux-gnu/libc.so.6]"
FN_LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*?)(?:\s+\[([^\]]*)\])?\s*$")


def callgrind_functions(path):
    """'function (object)' -> Ir, from a callgrind_annotate listing."""
    fns, started = {}, False
    with open(path) as f:
        for line in f:
            if "file:function" in line:
                started = True
                continue
            if not started or line.startswith("-"):
                continue
            m = FN_LINE.match(line)
            if m:
                fn = m.group(2).rsplit(":", 1)[-1]
                obj = os.path.basename(m.group(3) or "")
                name = fn if obj in ("", "folio") else f"{fn} ({obj})"
                fns[name] = fns.get(name, 0) + int(m.group(1).replace(",", ""))
    return fns


def verdict(ok):
    return "**met**" if ok else "**not met**"


def target_checks(runs, p):
    """Issue 16's targets 2-5, from the same rounds (reported, not asserted)."""
    f = summary(runs, ("keyset_shallow", "folio", "cached"))
    n = summary(runs, ("keyset_shallow", "nginx", "static"))
    if f and n and f["cpu"] and n["cpu"]:
        rr, cr = f["rps_med"] / n["rps_med"], f["cpu"] / n["cpu"]
        p(f"- cached page (`keyset_shallow`, defaults): req/s {rr:.2f} × nginx (target ≥ 0.9), "
          f"CPU/req {cr:.2f} × nginx (target ≤ 1.1) → {verdict(rr >= 0.9 and cr <= 1.1)}")
    for name, off, on in (("rand_page", "uncached", "cached"),
                          ("tut_rand_after", "tutorial", "tutorial_pf")):
        a = summary(runs, (name, "folio", on))
        b = summary(runs, (name, "folio", off))
        if a and b and a["cpu"] and b["cpu"]:
            r = a["cpu"] / b["cpu"]
            p(f"- random positions (`{name}`): CPU/req with prefetch {a['cpu']:.1f} µs ÷ "
              f"without {b['cpu']:.1f} µs = {r:.3f} (target ≤ 1.05; per-round "
              f"{a['cpu_min']:.1f}–{a['cpu_max']:.1f} vs {b['cpu_min']:.1f}–{b['cpu_max']:.1f}) "
              f"→ {verdict(r <= 1.05)}")
    for deep, shallow in (("users_desc_deep", "users_desc_p1"), ("keyset_deep", "keyset_shallow"),
                          ("events_deep", "events_shallow"), ("offset_deep_warm", "offset_p1")):
        a = summary(runs, (deep, "folio", "uncached"))
        b = summary(runs, (shallow, "folio", "uncached"))
        if a and b and a["cpu"] and b["cpu"]:
            r = a["rps_med"] / b["rps_med"]
            c = b["cpu"] / a["cpu"]
            p(f"- deep ÷ shallow (`{deep}` ÷ `{shallow}`): req/s {r:.2f}, inverse CPU/req "
              f"{c:.2f} (target ≥ 0.95) → {verdict(min(r, c) >= 0.95)}")
    for mode in ("uncached", "cached"):
        a = summary(runs, ("keyset_shallow_c64", "folio", mode))
        if a and a["p50"]:
            r = a["p99"] / a["p50"]
            p(f"- tail latency, 64 connections (`keyset_shallow_c64`, {mode}): p50 "
              f"{a['p50']:.2f} ms, p99 {a['p99']:.2f} ms, p99 ÷ p50 = {r:.2f} (target ≤ 5) "
              f"→ {verdict(r <= 5)}")
    p("")


def main():
    d = sys.argv[1]
    meta = read_meta(d)
    tick_us = 1e6 / int(meta.get("clk_tck", "100"))
    runs = load_runs(d, tick_us)
    scen, size = [], {}
    with open(os.path.join(d, "scenarios.tsv")) as f:
        for line in f:
            name, path, desc, nbytes = line.rstrip("\n").split("\t")
            scen.append((name, path, desc))
            size[name] = int(nbytes)
    db = read_db(d)
    out = []
    p = out.append
    all_runs = [r for rs in runs.values() for r in rs]

    p(f"# folio benchmark, {meta.get('date', '?')}")
    p("")
    p(f"- machine: {meta.get('nproc')} CPUs, {meta.get('cpu_model')}, Linux "
      f"{meta.get('kernel')}; load average {meta.get('loadavg_start', '?')} when the wrk "
      f"runs started, {meta.get('loadavg_end', '?')} when they ended; during the measured "
      f"runs other work took a median {pct(med([r['other'] for r in all_runs]))} "
      f"(max {pct(max((r['other'] or 0) for r in all_runs) if all_runs else None)}) of the "
      f"servers' CPU, steal {pct(med([r['steal'] for r in all_runs]))}")
    p(f"- folio {meta.get('commit')}, binary {meta.get('binary')}; `serve --threads 1 "
      f"--cursor-ttl 0`, with `{meta.get('nocache')}` unless stated; {meta.get('pinning')}")
    p(f"- load: {meta.get('wrk')}; nginx {meta.get('nginx')} (1 worker, same CPU as folio, "
      f"static file with folio's response bytes); SQLite {meta.get('sqlite')}; "
      f"libmicrohttpd {meta.get('mhd')}")
    p(f"- CPU/req = the server's utime+stime over the measured run (all threads; clock ticks "
      f"of {tick_us / 1000:g} ms) ÷ requests wrk completed; kernel % = the stime share; "
      f"other % = time on the servers' CPU used by other processes. Latency and CPU "
      f"columns are medians of the rounds.")
    p("")

    def table(title, intro, names, mode, nginx_of):
        rows = [n for n in names if (n, "folio", mode) in runs]
        if not rows:
            return
        p(f"## {title}")
        p("")
        p(intro)
        p("")
        p("| scenario | bytes | req/s min / med / max | p50 ms | p99 ms | CPU µs/req "
          "(kernel) | other | nginx req/s | nginx CPU µs/req (kernel) | req/s ÷ nginx | "
          "CPU ÷ nginx |")
        p("|---|--:|---|--:|--:|---|--:|--:|---|--:|--:|")
        for name in rows:
            f = summary(runs, (name, "folio", mode))
            nkey, mark = nginx_of(name)
            n = summary(runs, nkey) if nkey else None
            if n is None:
                mark = ""
            nrps, ncpu = (n["rps_med"], n["cpu"]) if n else (None, None)
            p(f"| {name} | {size.get(name, 0):,} | {fmt(f['rps_min'])} / {fmt(f['rps_med'])} / "
              f"{fmt(f['rps_max'])} | {fmt(f['p50'], 2)} | {fmt(f['p99'], 2)} | "
              f"{fmt(f['cpu'], 1)} ({pct(f['sys'])}) | {pct(f['other'])} | {fmt(nrps)}{mark} | "
              f"{fmt(ncpu, 1)} ({pct(n['sys'] if n else None)}){mark} | "
              f"{ratio(f['rps_med'], nrps)} | {ratio(f['cpu'], ncpu)} |")
        p("")

    names = [n for n, _, _ in scen]

    def nginx_of(name):
        if (name, "nginx", "static") in runs:
            return (name, "nginx", "static"), ""
        return ("keyset_shallow", "nginx", "static"), " ¹"

    walk_note = ("¹ the walk's responses change with every request; compared with nginx "
                 "serving the keyset_shallow page (the same shape and size).")
    table("Uncached: what a page costs to make",
          f"folio with `{meta.get('nocache')}`: no page cache, so every request runs the "
          "whole handler (cursor check, queries, JSON, links). nginx serves each "
          "scenario's response bytes as a static file, measured in the same rounds.",
          [n for n in names if not n.startswith("tut_")], "uncached", nginx_of)
    if ("walk", "folio", "uncached") in runs:
        p(walk_note)
        p("")
    table("Default configuration: page cache and next-page prefetch on",
          "A second folio with default settings. A repeated URL is answered from the page "
          "cache, so `keyset_*` rows here measure the cached path; in the `walk` every page "
          "is new to the client and was fetched ahead by the prefetcher (its thread's CPU "
          "is counted).",
          [n for n in names if not n.startswith("tut_")], "cached", nginx_of)
    if ("walk", "folio", "cached") in runs:
        p(walk_note)
        p("")
    table("Tutorial endpoints (examples/tutorial/folio.toml)",
          f"A third folio serving the tutorial config with `{meta.get('nocache')}` (same "
          "database and options).",
          [n for n in names if n.startswith("tut_")], "tutorial", nginx_of)

    p("Scenarios (20 rows a page unless stated; TOKEN is a signed cursor):")
    p("")
    for name, path, desc in scen:
        short = re.sub(r"(after=|cursor=)[A-Za-z0-9_-]{12,}", r"\1TOKEN", path)
        p(f"- `{name}`: {desc} — `{short}`")
    p("")

    p("## Deep vs shallow, and other pairs")
    p("")
    p("| pair | req/s ratio | CPU/req ratio |")
    p("|---|--:|--:|")
    pairs = (("keyset_deep", "keyset_shallow"), ("events_deep", "events_shallow"),
             ("offset_deep_warm", "offset_p1"), ("keyset_shallow", "keyset_first"),
             ("events_shallow", "keyset_shallow"), ("events_desc", "events_shallow"),
             ("keyset_100", "keyset_shallow"), ("count_exact", "offset_p1"),
             ("users_desc_deep", "users_desc_p1"))
    pairs = [((a, "uncached"), (b, "uncached")) for a, b in pairs]
    pairs += [(("keyset_shallow", "cached"), ("keyset_shallow", "uncached")),
              (("keyset_100", "cached"), ("keyset_100", "uncached")),
              (("walk", "cached"), ("walk", "uncached")),
              (("rand_page", "cached"), ("rand_page", "uncached"))]
    for (a_name, a_mode), (b_name, b_mode) in pairs:
        a = summary(runs, (a_name, "folio", a_mode))
        b = summary(runs, (b_name, "folio", b_mode))
        if a and b:
            label = (f"{a_name} ÷ {b_name}" if a_mode == b_mode
                     else f"{a_name}: {a_mode} ÷ {b_mode}")
            p(f"| {label} | {ratio(a['rps_med'], b['rps_med'])} | {ratio(a['cpu'], b['cpu'])} |")
    p("")

    postgresql_section(d, meta, runs, p)

    p("## Target check (reported, not asserted)")
    p("")
    if db:
        p("Database ceiling (bench/dbceiling.c: folio's keyset page query on messages alone, "
          "prepared once, LIMIT 21, every column read; CPU time, pinned like the server):")
        p("")
        for after, v in sorted(db.items()):
            p(f"- after id {after}: {fmt(v['qps'])} queries/s, {v['us_per_query']:.2f} µs/query "
              f"(folio also runs a has_prev probe per keyset page: {v['probe_us']:.2f} µs alone)")
        p("")
    p("Target: folio CPU/req ≤ 1.25 × (nginx CPU/req + db µs/query).")
    p("")
    for name, mode, after in (("keyset_shallow", "uncached", 20),
                              ("keyset_deep", "uncached", 900000),
                              ("keyset_shallow", "cached", 20)):
        f = summary(runs, (name, "folio", mode))
        n = summary(runs, (name, "nginx", "static"))
        if f is None or n is None or after not in db or None in (f["cpu"], n["cpu"]):
            continue
        budget = 1.25 * (n["cpu"] + db[after]["us_per_query"])
        verdict = "within" if f["cpu"] <= budget else "OVER"
        p(f"- `{name}` {mode}: folio {f['cpu']:.1f} µs/req vs 1.25 × (nginx {n['cpu']:.1f} + "
          f"db {db[after]['us_per_query']:.2f}) = {budget:.1f} µs → **{verdict}** "
          f"({f['cpu'] / budget:.2f} × the budget)")
    p("")
    target_checks(runs, p)

    p("## Memory")
    p("")
    kb = lambda k: int(meta.get(k, 0) or 0) / 1024  # noqa: E731
    p(f"- folio peak RSS (VmHWM after all wrk runs): {kb('folio_vmhwm_kb'):.1f} MiB "
      f"uncached (VmRSS {kb('folio_vmrss_kb'):.1f} MiB, {meta.get('folio_threads', '?')} "
      f"threads)" + (f"; {kb('cached_vmhwm_kb'):.1f} MiB with the defaults "
                     f"({meta.get('cached_threads', '?')} threads, the page cache holds up "
                     f"to 32 MiB)" if "cached_vmhwm_kb" in meta else "") +
      f"; nginx worker VmHWM {kb('nginx_worker_vmhwm_kb'):.1f} MiB")
    p("")

    cold = os.path.join(d, "cold.tsv")
    if os.path.exists(cold) and os.path.getsize(cold):
        p("## Cold-ish deep offset (fresh server, OS page cache warm)")
        p("")
        p("`GET /api/messages?per_page=20&page=45000` right after a start (it builds the "
          "worker thread's sparse boundary index), then again, then page 1:")
        p("")
        p("| start | 1st deep ms | 2nd deep ms | page 1 ms | server CPU ms, 1st | RSS before → after MiB |")
        p("|---|--:|--:|--:|--:|---|")

        def t(x):
            code, secs = x.split()
            return f"{float(secs) * 1000:.1f}" + ("" if code == "200" else f" ({code})")
        with open(cold) as f:
            for line in f:
                i, t1, t2, t3, ticks, r0, r1 = line.rstrip("\n").split("\t")
                p(f"| {i} | {t(t1)} | {t(t2)} | {t(t3)} | {int(ticks) * tick_us / 1000:.0f} | "
                  f"{int(r0) / 1024:.1f} → {int(r1) / 1024:.1f} |")
        p("")
        p("The index is per worker thread (and the prefetcher's threads have their own): with "
          "`--threads N` each thread builds its own on its first deep request.")
        p("")

    base, main_ = (os.path.join(d, f"callgrind.{t}.out") for t in ("base", "main"))
    if os.path.exists(base) and os.path.exists(main_):
        nreq = int(meta.get("cg_requests", "2000"))
        nbase = int(meta.get("cg_base", "10"))
        tb, tm = callgrind_total(base), callgrind_total(main_)
        per_req = (tm - tb) / nreq
        per_fn = {}
        for kind in ("self", "incl"):
            fb = callgrind_functions(os.path.join(d, f"callgrind.base.{kind}.txt"))
            fm = callgrind_functions(os.path.join(d, f"callgrind.main.{kind}.txt"))
            per_fn[kind] = {k: (v - fb.get(k, 0)) / nreq for k, v in fm.items()}
        fill = sum(v for k, v in per_fn["self"].items() if k.startswith("__memset"))
        p(f"## Instructions per request (callgrind, keyset_shallow, `{meta.get('nocache')}`)")
        p("")
        p(f"- {fmt(tm)} Ir for {nbase + nreq} requests, {fmt(tb)} Ir for {nbase} (start-up, "
          f"first requests, shutdown); the difference ÷ {nreq} = **{fmt(per_req)} "
          f"instructions/request** (all threads)")
        p(f"- of which memset: {fmt(fill)} ({100 * fill / per_req:.0f}%); without it "
          f"{fmt(per_req - fill)}. glibc clears large blocks with `rep stosb`, which "
          f"callgrind counts as one instruction per byte, so memset's share of instructions "
          f"is far larger than its share of time.")
        p("")
        for kind, label in (("self", "self (exclusive)"), ("incl", "inclusive")):
            items = per_fn[kind].items()
            if kind == "incl":  # the thread's outer frames say nothing: 100% each
                items = [kv for kv in items if kv[1] < 0.99 * per_req]
            top = sorted(items, key=lambda kv: -kv[1])[:15]
            p(f"Top 15 functions by {label} cost, instructions per request (library in "
              f"brackets; unnamed addresses are static functions of stripped libraries"
              f"{'; frames above 99% left out' if kind == 'incl' else ''}):")
            p("")
            p("| Ir/req | % | function |")
            p("|--:|--:|---|")
            for name, v in top:
                p(f"| {fmt(v)} | {100 * v / per_req:.1f} | `{name}` |")
            p("")

    walks = [(m, summary(runs, ("walk", "folio", m))) for m in ("uncached", "cached")]
    if any(w and w["walk"] for _, w in walks):
        p("## Walk check (bench/walk.lua, per round)")
        p("")
        for m, w in walks:
            for line in (w["walk"] if w else []):
                p(f"- {m}: {line}")
        p("")

    p("## Anomalies")
    p("")
    path = os.path.join(d, "anomalies.txt")
    anomalies = []
    if os.path.exists(path):
        with open(path) as f:
            anomalies = list(dict.fromkeys(line.strip() for line in f if line.strip()))
    for a in anomalies:
        p(f"- {a}")
    if not anomalies:
        p("- none: every checked response was 200 with the expected rows, wrk saw no errors "
          "or non-2xx answers, and every response was byte-identical before and after the "
          "load")
    p("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
