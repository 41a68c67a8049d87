#!/usr/bin/env python3
"""bench/prefetch_latency.py PORT PAGES DELAY: walk /api/messages page by page over one
keep-alive connection (DELAY seconds between pages, as a reader would) and print client-side
latency and the server's prefetch hit counter. Server-side durations: run folio with
--access-log and read the last field of each line."""
import http.client, json, sys, time, statistics
port = int(sys.argv[1]); pages = int(sys.argv[2]); delay = float(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
url = "/api/messages?per_page=20"
lat = []
for i in range(pages):
    t = time.perf_counter(); c.request("GET", url); r = c.getresponse(); d = json.loads(r.read()); lat.append((time.perf_counter() - t) * 1e6)
    url = d["links"]["next"]
    time.sleep(delay)  # the client reads the page before asking for the next
c.request("GET", "/metrics"); m = c.getresponse().read().decode()
hits = [l for l in m.splitlines() if l.startswith("folio_prefetch_hits_total")]
lat = lat[1:]
print(f"p50 {statistics.median(lat):.0f} us  p90 {sorted(lat)[int(len(lat)*0.9)]:.0f} us  mean {statistics.mean(lat):.0f} us  {hits[0] if hits else ''}")
