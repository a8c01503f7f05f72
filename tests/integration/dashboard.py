#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check a Grafana dashboard against a scrape of dpntpd's /metrics.

  dashboard.py DASHBOARD.json SCRAPE.txt

Every panel has a query; every metric a query names is in the scrape
with at least one sample; every label a query groups by or puts in its
legend is on one of that query's metrics ("instance" and "job" are
Prometheus's own); what issue 16 asks the dashboard to show is in
some query (COVER below), and the health panel's seven checks are all
in the scrape. Prints "RESULT ok|FAIL what [-- why]" lines; exit 1 if
any failed.
"""

import json
import re
import sys

dash_path, scrape_path = sys.argv[1:3]
labels = {}          # metric name -> label names seen on its samples
for line in open(scrape_path):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
    if not m:
        continue
    names = labels.setdefault(m.group(1), set())
    for pair in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""):
        names.add(pair)

fails = 0


def result(ok, what, why=""):
    global fails
    fails += not ok
    print("RESULT %s %s%s" % ("ok" if ok else "FAIL", what,
                              " -- " + why if why and not ok else ""))


def panels_of(d):
    for p in d.get("panels", []):
        yield p
        yield from panels_of(p)


dash = json.load(open(dash_path))
result(dash.get("uid") == "dpntp" and dash.get("title") == "dpntp",
       "the dashboard is uid/title dpntp")
n_queries = 0
for p in panels_of(dash):
    if p.get("type") == "row":
        continue
    targets = p.get("targets", [])
    result(len(targets) > 0, "panel '%s' has a query" % p.get("title"))
    for t in targets:
        n_queries += 1
        expr = t.get("expr", "")
        metrics = sorted(set(re.findall(r"\bdpntp_[a-z0-9_]+", expr)))
        missing = [m for m in metrics if m not in labels]
        result(metrics and not missing,
               "panel '%s': %s exported" % (p.get("title"), ", ".join(metrics)),
               "not in the scrape: " + ", ".join(missing))
        used = set()
        for grp in re.findall(r"\bby\s*\(([^)]*)\)", expr):
            used |= {x.strip() for x in grp.split(",") if x.strip()}
        used |= set(re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}",
                               t.get("legendFormat", "")))
        used -= {"instance", "job"}
        have = set().union(*(labels.get(m, set()) for m in metrics)) \
            if metrics else set()
        result(used <= have,
               "panel '%s': labels %s on its metrics" %
               (p.get("title"), ", ".join(sorted(used)) or "(none)"),
               "missing: " + ", ".join(sorted(used - have)))
result(n_queries >= 22, "%d queries checked" % n_queries)

# What the dashboard must show: (what, metric, labels its query groups or
# labels by). Each must be in some query that also names those labels.
COVER = [
    ("requests by mode and version", "dpntp_requests_total", {"mode", "version"}),
    ("replies by mode", "dpntp_replies_total", {"mode"}),
    ("drops by reason", "dpntp_drops_total", {"reason"}),
    ("KoDs", "dpntp_kod_sent_total", set()),
    ("per-lcore busy", "dpntp_worker_busy_seconds_total", {"lcore"}),
    ("port rx_missed", "dpntp_port_rx_missed_packets_total", {"port"}),
    ("offset", "dpntp_clock_offset_seconds", set()),
    ("frequency", "dpntp_clock_frequency_ppm", set()),
    ("root distance (delay)", "dpntp_clock_root_delay_seconds", set()),
    ("root distance (dispersion)", "dpntp_clock_root_dispersion_seconds", set()),
    ("stratum", "dpntp_clock_stratum", set()),
    ("leap", "dpntp_clock_leap", set()),
    ("per-source offset", "dpntp_source_offset_seconds", {"source"}),
    ("per-source delay", "dpntp_source_delay_seconds", {"source"}),
    ("per-source reach", "dpntp_source_reach", {"source"}),
    ("health verdict", "dpntp_healthy", set()),
    ("failing health checks", "dpntp_health_failing", {"check"}),
]
queries = []
for p in panels_of(dash):
    for t in p.get("targets", []):
        expr = t.get("expr", "")
        used = set(re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}",
                              t.get("legendFormat", "")))
        for grp in re.findall(r"\bby\s*\(([^)]*)\)", expr):
            used |= {x.strip() for x in grp.split(",") if x.strip()}
        queries.append((set(re.findall(r"\bdpntp_[a-z0-9_]+", expr)), used))
for what, metric, want in COVER:
    result(any(metric in ms and want <= used for ms, used in queries),
           "the dashboard shows %s (%s%s)" %
           (what, metric, " by " + ", ".join(sorted(want)) if want else ""),
           "no query")

# The health panel has a lane per check: all seven are exported.
CHECKS = {"unsynchronized", "offset", "root_distance", "reference_lost",
          "worker_stalled", "link_down", "drain"}
seen = set()
for line in open(scrape_path):
    m = re.match(r'dpntp_health_failing\{[^}]*check="([^"]*)"', line)
    if m:
        seen.add(m.group(1))
result(CHECKS <= seen, "dpntp_health_failing has every check (%s)" %
       ", ".join(sorted(CHECKS)), "missing: " + ", ".join(sorted(CHECKS - seen)))
sys.exit(1 if fails else 0)
