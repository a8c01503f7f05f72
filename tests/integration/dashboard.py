#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check a Grafana dashboard against a scrape of dpntpd's /metrics.

  dashboard.py DASHBOARD.json SCRAPE.txt

Every panel has a query; every metric a query names is in the scrape
with at least one sample; every label a query groups by or puts in its
legend is on one of that query's metrics ("instance" and "job" are
Prometheus's own). Prints "RESULT ok|FAIL what [-- why]" lines; exit 1 if
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
result(n_queries >= 20, "%d queries checked" % n_queries)
sys.exit(1 if fails else 0)
