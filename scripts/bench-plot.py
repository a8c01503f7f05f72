#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Plots (and, with --rst, tables) from the results.json that
# scripts/bench-compare.sh writes: every run of dpntp-gen against dpntpd,
# chronyd, ntpsec's ntpd and dpntpd over memif, each a list of rate steps.
# Passes of the same server are combined step by step with the median.
#
#   scripts/bench-plot.py [--rst FILE] results.json OUTDIR
#
# OUTDIR gets loss-vs-rate.png (loss % against offered rate, one line per
# server) and response-vs-rate.png (p99 response time and p99 RTT against
# offered rate); they need matplotlib (Debian: python3-matplotlib). The
# tables (--rst) need nothing beyond Python.

import argparse
import json
import os
import statistics
import sys

# a step "answers" when lost + invalid + KoD stay under this (percent)
GOOD_PCT = 0.1
ORDER = ["dpntpd", "chronyd", "ntpd", "memif"]


def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def pct(step, key):
    return num(step.get(key)) or 0.0


def bad_pct(step):
    return pct(step, "lost_pct") + pct(step, "invalid_pct") + pct(step, "kod_pct")


def per_s(step, key):
    d = num(step.get("duration_s"))
    n = num(step.get(key))
    if not d or n is None:
        return None
    return n / d


def quantile(step, group, q):
    g = step.get(group)
    return num(g.get(q)) if isinstance(g, dict) else None


class Server:
    """All passes of one named run (dpntpd, chronyd, ntpd or memif)."""

    def __init__(self, name):
        self.name = name
        self.runs = []

    def label(self):
        r0 = self.runs[0]
        server = r0.get("server", self.name)
        ver = r0.get("server_version") or ""
        ports = []
        for r in self.runs:
            p = r.get("server_port")
            if p and p not in ports:
                ports.append(p)
        how = "/".join(ports)
        if how == "kernel":
            how = "kernel UDP"
        if r0.get("link") == "veth" and how:
            how += ", veth"
        name = server + (" " + ver if ver and server != "dpntpd" else "")
        return "%s (%s)" % (name, how) if how else name

    def steps_by_rate(self):
        by = {}
        for r in self.runs:
            for s in r.get("steps") or []:
                rate = num(s.get("rate"))
                if rate is not None:
                    by.setdefault(rate, []).append(s)
        return dict(sorted(by.items()))

    def rows(self):
        """One row per offered rate, each value the median over passes."""
        out = []
        for rate, steps in self.steps_by_rate().items():
            out.append({
                "rate": rate,
                "n": len(steps),
                "sent_s": med(per_s(s, "sent") for s in steps),
                "recv_s": med(per_s(s, "received") for s in steps),
                "lost": med(pct(s, "lost_pct") for s in steps),
                "bad": med(pct(s, "invalid_pct") + pct(s, "kod_pct") for s in steps),
                "resp50": med(quantile(s, "response_ns", "p50") for s in steps),
                "resp99": med(quantile(s, "response_ns", "p99") for s in steps),
                "rtt99": med(quantile(s, "rtt_ns", "p99") for s in steps),
            })
        return out

    def best_per_pass(self):
        """Per pass: (answered req/s at the highest offered rate whose
        loss stays under GOOD_PCT, offered rate, whether a higher step
        failed i.e. the limit was found)."""
        res = []
        for r in self.runs:
            steps = sorted((s for s in r.get("steps") or [] if num(s.get("rate"))),
                           key=lambda s: s["rate"])
            if not steps:
                continue
            good = [s for s in steps if bad_pct(s) < GOOD_PCT and per_s(s, "received")]
            if not good:
                res.append((0.0, None, True))
                continue
            top = good[-1]
            found = any(s["rate"] > top["rate"] for s in steps)
            res.append((per_s(top, "received"), top["rate"], found))
        return res

    def best(self):
        """(median answered req/s, min, max, limit found in every pass)."""
        b = self.best_per_pass()
        if not b:
            return None
        vals = [x[0] for x in b]
        return statistics.median(vals), min(vals), max(vals), all(x[2] for x in b)


def load(path):
    with open(path) as f:
        doc = json.load(f)
    servers = {}
    for r in doc.get("runs", []):
        name = r.get("name") or r.get("server") or "?"
        servers.setdefault(name, Server(name)).runs.append(r)
    names = sorted(servers, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return doc, [servers[n] for n in names]


def fmt_rate(x):
    if x is None:
        return "-"
    return "{:,.0f}".format(x)


def fmt_us(ns):
    if ns is None:
        return "-"
    us = ns / 1000.0
    return "%.0f" % us if us >= 100 else "%.1f" % us


def fmt_pct(x):
    if x is None:
        return "-"
    if x == 0:
        return "0"
    return "%.3f" % x if x < 1 else "%.1f" % x


def rst_table(header, rows, left=1):
    """A simple table; the first LEFT columns flush left, the rest right."""
    cols = list(zip(header, *rows))
    widths = [max(len(c) for c in col) for col in cols]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), rule]
    for r in rows:
        cells = [c.ljust(w) if i < left else c.rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.append(rule)
    return lines


def heading(text, ch):
    return [text, ch * len(text), ""]


def best_row(s):
    b = s.best()
    if b is None:
        return [s.label(), "-", "-", "no data"]
    m, lo, hi, found = b
    return [s.label(), ("" if found else ">= ") + fmt_rate(m),
            fmt_rate(lo) if lo == hi else "%s-%s" % (fmt_rate(lo), fmt_rate(hi)),
            "" if found else "no step lost more: a lower bound"]


def write_rst(doc, servers, path, outdir):
    settings = doc.get("settings", {})
    machine = doc.get("machine", {})
    L = [":orphan:", ""]
    L += heading("NTP throughput: dpntpd, chronyd and ntpsec compared", "=")
    L += [
        "Written by ``scripts/bench-plot.py`` from ``results.json``, which",
        "``scripts/bench-compare.sh`` measured with the load generator",
        "``dpntp-gen`` (simulated clients in %s, server %s)." % (
            settings.get("clients", "198.19.0.0/16"), settings.get("server", "198.18.0.1")),
        "",
        "::",
        "",
        "    " + machine.get("command", "scripts/bench-compare.sh"),
        "",
    ]
    facts = [("date", "date"), ("CPU", "cpu"), ("CPUs", "cpus"), ("kernel", "kernel"),
             ("DPDK", "dpdk"), ("dpntp", "dpntp"), ("chronyd", "chronyd"), ("ntpd", "ntpd"),
             ("pinning", "dpntpd lcores")]
    for title, key in facts:
        if machine.get(key):
            v = machine[key]
            if key == "dpntpd lcores":
                v = ("dpntpd --lcores %s, dpntp-gen --lcores %s; chronyd and ntpd on CPU %s"
                     % (v, machine.get("generator lcores", "?"),
                        machine.get("server cpu", "?").split()[0]))
                if machine.get("busy pollers nice"):
                    v += "; nice %s" % machine["busy pollers nice"]
            L.append("* %s: %s" % (title, v))
    L += ["* %s s per step, %s pass(es) over all servers, interleaved; each"
          " figure below is the median over the passes" % (
              settings.get("duration_s", "?"), settings.get("repeat", "?")), ""]

    L += heading("Highest rate answered without loss", "-")
    L += ["The highest offered rate at which lost, invalid and KoD replies",
          "together stay under %g %%; the figure is the answered rate there" % GOOD_PCT,
          "(replies per second), the median over the passes.", ""]
    rows = [best_row(s) for s in servers]
    L += (rst_table(["server", "answered/s", "range over passes", "note"], rows)
          if rows else ["(no runs)"])
    L.append("")
    by = {s.name: s for s in servers}
    chrony = by.get("chronyd")
    cb = chrony.best() if chrony else None
    ratios = []
    for name in ("dpntpd", "ntpd", "memif"):
        s = by.get(name)
        if not s or not cb or not cb[0]:
            continue
        b = s.best()
        if not b:
            continue
        bound = "" if b[3] else ">= "
        note = (" (no veth and no kernel in dpntpd's way: for scale only)"
                if name == "memif" else "")
        ratios.append("* %s / %s: %s%.1f%s" % (s.label(), chrony.label(), bound,
                                               b[0] / cb[0], note))
    if ratios:
        L += ["Ratios of these figures (same CPUs; dpntpd and ntpd on the same kind",
              "of veth link as chronyd):", ""] + ratios + [""]
        if not cb[3]:
            L += ["chronyd lost nothing at any step, so these ratios are upper bounds.", ""]

    for s in servers:
        L += heading(s.label(), "-")
        errs = [r.get("error") for r in s.runs if r.get("error")]
        gports = sorted({r.get("gen_port") for r in s.runs if r.get("gen_port")})
        L += ["Generator port: %s; passes: %d." % (", ".join(gports) or "?", len(s.runs)), ""]
        if errs:
            L += ["Runs without results: %d (%s)." % (len(errs), errs[0]), ""]
        busy = [r for r in s.runs if r.get("disturbed")]
        if busy:
            L += ["**%d of %d passes ran while other processes used the CPUs** (up to"
                  " %d %%); their figures may be low." % (
                      len(busy), len(s.runs),
                      max(max(r.get("others_cpu_pct_before", 0), r.get("others_cpu_pct_after", 0))
                          for r in busy)), ""]
        rows = []
        for r in s.rows():
            rows.append([fmt_rate(r["rate"]), fmt_rate(r["sent_s"]), fmt_rate(r["recv_s"]),
                         fmt_pct(r["lost"]), fmt_pct(r["bad"]), fmt_us(r["resp50"]),
                         fmt_us(r["resp99"]), fmt_us(r["rtt99"])])
        if rows:
            L += rst_table(["offered/s", "sent/s", "received/s", "loss %", "inv+KoD %",
                            "resp p50 us", "resp p99 us", "RTT p99 us"], rows)
        else:
            L.append("(no steps)")
        L.append("")
    L += ["*offered*: the rate asked of the generator; *sent* and *received*:",
          "what it sent and got back per second (sent below offered means the",
          "generator could not keep up); *resp* and *RTT*: the generator's",
          "response time and round-trip time percentiles, in microseconds.", ""]
    for png, what in (("loss-vs-rate.png", "Loss against offered rate"),
                      ("response-vs-rate.png", "p99 response time and RTT against offered rate")):
        if os.path.exists(os.path.join(outdir, png)):
            L += [".. figure:: %s" % png, "", "   " + what, ""]
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


def plot(servers, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig, ax = plt.subplots(figsize=(8, 5))
    for i, s in enumerate(servers):
        rows = [r for r in s.rows() if r["lost"] is not None]
        if not rows:
            continue
        ax.plot([r["rate"] for r in rows], [r["lost"] for r in rows], marker="o",
                color=colors[i % len(colors)], label=s.label())
    ax.axhline(GOOD_PCT, color="grey", linestyle=":", linewidth=1,
               label="%g %% loss" % GOOD_PCT)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(bottom=0, top=100)
    ax.set_xlabel("offered rate (requests/s)")
    ax.set_ylabel("loss (%)")
    ax.set_title("NTP requests lost against offered rate")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "loss-vs-rate.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    drawn = False
    for i, s in enumerate(servers):
        c = colors[i % len(colors)]
        rows = s.rows()
        for key, style, what in (("resp99", "-", "response p99"), ("rtt99", "--", "RTT p99")):
            pts = [(r["rate"], r[key] / 1000.0) for r in rows if r[key] is not None and r[key] > 0]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle=style, marker="o",
                        markersize=3, color=c, label="%s, %s" % (s.label(), what))
                drawn = True
    ax.set_xscale("log")
    if drawn:
        ax.set_yscale("log")
    ax.set_xlabel("offered rate (requests/s)")
    ax.set_ylabel("microseconds")
    ax.set_title("p99 response time and round-trip time against offered rate")
    ax.grid(True, which="both", alpha=0.3)
    if drawn:
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "response-vs-rate.png"), dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description="plots and tables from bench-compare.sh results")
    ap.add_argument("results", help="results.json from scripts/bench-compare.sh")
    ap.add_argument("outdir", help="folder for the PNG files")
    ap.add_argument("--rst", metavar="FILE", help="also write the tables as reStructuredText")
    a = ap.parse_args()
    try:
        doc, servers = load(a.results)
    except (OSError, ValueError) as e:
        print("bench-plot: cannot read %s: %s" % (a.results, e), file=sys.stderr)
        return 1
    os.makedirs(a.outdir, exist_ok=True)
    rc = 0
    try:
        plot(servers, a.outdir)
    except ImportError:
        print("bench-plot: no matplotlib (apt-get install python3-matplotlib): no plots",
              file=sys.stderr)
        rc = 1
    if a.rst:
        write_rst(doc, servers, a.rst, a.outdir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
