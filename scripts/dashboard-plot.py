#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# The Grafana dashboard (config/grafana/dpntp.json) drawn with matplotlib
# from a run that scripts/dashboard-record.sh recorded (Grafana is not a
# Debian package). Every panel's PromQL is evaluated over the recorded
# scrapes by a small evaluator of the subset the dashboard uses
# (selectors, rate/irate/increase, sum/max/min/avg by, + - * / with
# numbers or between series of the same labels), so the picture shows
# what the dashboard's queries compute.
#
#   scripts/dashboard-plot.py [--dashboard FILE] [--window S] RUN.json[.gz] OUT.png
#
# rate() windows: the dashboard's [1m] is replaced by --window seconds
# (default 15) so that a run of a few minutes scraped every second shows
# its changes; Grafana's $__rate_interval does the same for short ranges.
# Panels are drawn in the dashboard's order, three to a row; the stat
# panels of a row share one plot, and those next to a state-timeline
# become lanes of it. A recording without a panel's series (a dpntpd
# without the health verdict, say) gets the panel with a note saying so.

import argparse
import gzip
import json
import math
import os
import re
import sys

DEFAULT_DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "..", "config", "grafana", "dpntp.json")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
NAN = float("nan")


def parse_key(key):
    i = key.find("{")
    if i < 0:
        return key, {}
    labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
              for k, v in LABEL_RE.findall(key[i:])}
    return key[:i], labels


class Run:
    def __init__(self, path):
        op = gzip.open if path.endswith(".gz") else open
        with op(path, "rt") as f:
            self.doc = json.load(f)
        self.t = self.doc["t"]
        self.by_name = {}
        for key, values in self.doc["series"].items():
            name, labels = parse_key(key)
            vals = [NAN if v is None else v for v in values]
            self.by_name.setdefault(name, []).append((labels, vals))


# ------------------------------------------------------------ PromQL subset

TOKEN_RE = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<dur>\[\s*[0-9a-zA-Z_$]+\s*\])
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|=~|!~|[-+*/(){},=])
  | (?P<id>[a-zA-Z_:][a-zA-Z0-9_:]*)
)""", re.X)


def tokenize(s):
    out, pos = [], 0
    s = s.strip()
    while pos < len(s):
        m = TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            raise ValueError("cannot parse %r at %d" % (s, pos))
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Evaluator:
    """Evaluates an expression to {labels tuple: [value per scrape]}."""

    AGGS = {"sum", "max", "min", "avg", "count"}
    FUNCS = {"rate", "irate", "increase", "abs"}

    def __init__(self, run, window):
        self.run = run
        self.window = window

    def evaluate(self, expr):
        self.toks = tokenize(expr)
        self.i = 0
        v = self.expr()
        if self.i != len(self.toks):
            raise ValueError("trailing %r in %r" % (self.toks[self.i:], expr))
        return v

    # recursive descent
    def peek(self, value=None):
        if self.i >= len(self.toks):
            return None
        k, v = self.toks[self.i]
        return v if value is None or v == value else None

    def take(self, value=None):
        if value is not None and self.peek() != value:
            raise ValueError("expected %r, got %r" % (value, self.peek()))
        self.i += 1
        return self.toks[self.i - 1]

    def expr(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            v = self.binop(v, op, self.term())
        return v

    def term(self):
        v = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            v = self.binop(v, op, self.factor())
        return v

    def labels_list(self):
        self.take("(")
        names = []
        while self.peek() != ")":
            names.append(self.take()[1])
            if self.peek() == ",":
                self.take()
        self.take(")")
        return names

    def factor(self):
        kind, val = self.toks[self.i]
        if kind == "num":
            self.i += 1
            return float(val)
        if val == "(":
            self.take()
            v = self.expr()
            self.take(")")
            return v
        if kind == "id" and val in self.AGGS:
            self.take()
            by = without = None
            if self.peek() in ("by", "without"):
                w = self.take()[1]
                names = self.labels_list()
                by, without = (names, None) if w == "by" else (None, names)
            self.take("(")
            inner = self.expr()
            self.take(")")
            if self.peek() in ("by", "without"):
                w = self.take()[1]
                names = self.labels_list()
                by, without = (names, None) if w == "by" else (None, names)
            return self.aggregate(val, inner, by, without)
        if kind == "id" and val in self.FUNCS and self.i + 1 < len(self.toks) \
                and self.toks[self.i + 1][1] == "(":
            self.take()
            self.take("(")
            if val == "abs":
                inner = self.expr()
                self.take(")")
                return self.apply(inner, abs)
            sel, rng = self.selector()
            self.take(")")
            if rng is None:
                raise ValueError("%s() needs a range" % val)
            return self.ranged(val, sel)
        if kind == "id":
            sel, rng = self.selector()
            if rng is not None:
                raise ValueError("a range vector outside a function")
            return sel
        raise ValueError("unexpected %r" % val)

    def selector(self):
        name = self.take()[1]
        matchers = []
        if self.peek() == "{":
            self.take()
            while self.peek() != "}":
                label = self.take()[1]
                op = self.take()[1]
                value = json.loads(self.take()[1])
                matchers.append((label, op, value))
                if self.peek() == ",":
                    self.take()
            self.take("}")
        rng = None
        if self.i < len(self.toks) and self.toks[self.i][0] == "dur":
            rng = self.take()[1]
        out = {}
        for labels, vals in self.run.by_name.get(name, []):
            if all(self.match(labels, m) for m in matchers):
                out[tuple(sorted(labels.items()))] = vals
        return out, rng

    @staticmethod
    def match(labels, m):
        label, op, value = m
        if "$" in value:        # a dashboard variable ($instance): all
            return True
        have = labels.get(label, "")
        if op == "=":
            return have == value
        if op == "!=":
            return have != value
        ok = re.fullmatch(value, have) is not None
        return ok if op == "=~" else not ok

    def ranged(self, func, sel):
        t = self.run.t
        out = {}
        for key, vals in sel.items():
            res = []
            lo = 0
            for j in range(len(t)):
                while t[lo] <= t[j] - self.window:
                    lo += 1
                pts = [(t[k], vals[k]) for k in range(lo, j + 1)
                       if not math.isnan(vals[k])]
                if func == "irate":
                    pts = pts[-2:]
                if len(pts) < 2:
                    res.append(NAN)
                    continue
                inc = 0.0
                for (_, a), (_, b) in zip(pts, pts[1:]):
                    inc += b - a if b >= a else b      # a counter reset
                span = pts[-1][0] - pts[0][0]
                if func == "increase":
                    res.append(inc * self.window / span)
                else:
                    res.append(inc / span)
            out[key] = res
        return out

    def aggregate(self, how, vec, by, without):
        groups = {}
        for key, vals in vec.items():
            d = dict(key)
            if by is not None:
                g = tuple(sorted((k, v) for k, v in d.items() if k in by))
            else:
                g = tuple(sorted((k, v) for k, v in d.items()
                                 if k not in (without or d.keys())))
            groups.setdefault(g, []).append(vals)
        out = {}
        for g, members in groups.items():
            res = []
            for col in zip(*members):
                v = [x for x in col if not math.isnan(x)]
                if not v:
                    res.append(NAN)
                elif how == "sum":
                    res.append(sum(v))
                elif how == "max":
                    res.append(max(v))
                elif how == "min":
                    res.append(min(v))
                elif how == "avg":
                    res.append(sum(v) / len(v))
                else:
                    res.append(float(len(v)))
            out[g] = res
        return out

    @staticmethod
    def apply(vec, f):
        return {k: [f(x) for x in v] for k, v in vec.items()}

    def binop(self, a, op, b):
        f = {"+": lambda x, y: x + y, "-": lambda x, y: x - y,
             "*": lambda x, y: x * y,
             "/": lambda x, y: x / y if y else NAN}[op]
        if isinstance(a, float) and isinstance(b, float):
            return f(a, b)
        if isinstance(b, float):
            return self.apply(a, lambda x: f(x, b))
        if isinstance(a, float):
            return self.apply(b, lambda y: f(a, y))
        return {k: [f(x, y) for x, y in zip(a[k], b[k])] for k in a if k in b}


def legend(fmt, key):
    d = dict(key)
    if not fmt:
        return ",".join("%s=%s" % kv for kv in key) or "value"
    return re.sub(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}",
                  lambda m: d.get(m.group(1), ""), fmt)


# ------------------------------------------------------------------ drawing

def panels_by_row(dash):
    """[(row title, [panel, ...]), ...] in the dashboard's order."""
    rows = [("", [])]
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            rows.append((p.get("title", ""), []))
            rows[-1][1].extend(p.get("panels", []))
        else:
            rows[-1][1].append(p)
    return [r for r in rows if r[1]]


def plot_items(dash):
    """What gets an axes: ("lines", title, [panels]) or ("lanes", title,
    [panels]); the stat panels of a row are merged."""
    items = []
    for _, panels in panels_by_row(dash):
        stats = [p for p in panels if p.get("type") == "stat"]
        lanes = [p for p in panels if p.get("type") == "state-timeline"]
        for p in panels:
            if p.get("type") == "timeseries":
                items.append(("lines", p["title"], [p]))
            elif p.get("type") == "state-timeline":
                items.append(("lanes", p["title"], stats + [p]))
        if stats and not lanes:
            items.append(("lines", ", ".join(p["title"] for p in stats), stats))
    return items


def scale_for(unit, values):
    """(factor, axis label) for the panel's Grafana unit."""
    if unit == "percentunit":
        return 100.0, "%"
    if unit == "s":
        m = max((abs(v) for v in values if not math.isnan(v)), default=0)
        if m < 2e-3:
            return 1e6, "µs"
        if m < 2:
            return 1e3, "ms"
        return 1.0, "s"
    return 1.0, {"reqps": "requests/s", "pps": "packets/s", "ppm": "ppm",
                 "none": ""}.get(unit, unit or "")


def value_colors(panel):
    """{value: (text, colour)} from the panel's value mappings."""
    out = {}
    for m in panel.get("fieldConfig", {}).get("defaults", {}).get("mappings", []):
        for v, o in (m.get("options") or {}).items():
            out[float(v)] = (o.get("text", v), {"red": "tab:red", "green": "tab:green"}
                             .get(o.get("color"), o.get("color", "grey")))
    return out


def main():
    ap = argparse.ArgumentParser(description="the dpntp dashboard from a recorded run")
    ap.add_argument("run", help="the series from scripts/dashboard-record.sh")
    ap.add_argument("out", help="the PNG to write")
    ap.add_argument("--dashboard", default=DEFAULT_DASHBOARD)
    ap.add_argument("--window", type=float, default=15.0,
                    help="rate() window in seconds (default 15)")
    a = ap.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Run(a.run)
    with open(a.dashboard) as f:
        dash = json.load(f)
    ev = Evaluator(run, a.window)
    t = run.t
    events = run.doc.get("events", [])
    drain = [e[0] for e in events if e[1].startswith("drain file")]
    restarts = [e[0] for e in events if e[1].startswith("upstream")]
    items = plot_items(dash)
    ncols = 3
    nrows = (len(items) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(16, 3.3 * nrows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    absent = []

    for n, (kind, title, panels) in enumerate(items):
        ax = axes[n // ncols][n % ncols]
        drawn = 0
        if kind == "lanes":
            lanes = []
            for p in panels:
                for tg in p.get("targets", []):
                    for key, vals in sorted(ev.evaluate(tg["expr"]).items()):
                        # "{{instance}}" of a single server: the panel's title
                        lanes.append((legend(tg.get("legendFormat"), key) or p["title"],
                                      vals, value_colors(p)))
            for i, (name, vals, cmap) in enumerate(lanes):
                y = len(lanes) - 1 - i
                j = 0
                while j < len(t):
                    k = j
                    while k + 1 < len(t) and (vals[k + 1] == vals[j] or
                                              (math.isnan(vals[k + 1]) and math.isnan(vals[j]))):
                        k += 1
                    end = t[k + 1] if k + 1 < len(t) else t[k] + (t[k] - t[k - 1] if k else 1)
                    c = "lightgrey" if math.isnan(vals[j]) else \
                        cmap.get(float(vals[j]), ("", "tab:blue"))[1]
                    ax.broken_barh([(t[j], end - t[j])], (y - 0.4, 0.8), color=c)
                    j = k + 1
            ax.set_yticks(range(len(lanes)))
            ax.set_yticklabels([ln[0] for ln in reversed(lanes)], fontsize="small")
            ax.set_ylim(-0.6, max(len(lanes), 1) - 0.4)
            drawn = len(lanes)
            ax.set_title("Health: %s (red: failing / not healthy)" % title
                         if lanes else "Health: %s" % title, fontsize="medium")
        else:
            unit = panels[0].get("fieldConfig", {}).get("defaults", {}).get("unit")
            curves = []
            for p in panels:
                for tg in p.get("targets", []):
                    for key, vals in sorted(ev.evaluate(tg["expr"]).items()):
                        curves.append((legend(tg.get("legendFormat"), key), vals))
            factor, ylabel = scale_for(unit, [v for _, vals in curves for v in vals])
            step = any(p.get("type") == "stat" for p in panels) or title == "Source reach"
            # Series that stay 0 (or absent) throughout are left out: the
            # many drop reasons that never moved would hide those that did.
            zero = [c for c in curves if all(math.isnan(v) or v == 0 for v in c[1])]
            if len(curves) > 3 and len(zero) < len(curves):
                curves = [c for c in curves if c not in zero]
                title += " (%d series always 0 left out)" % len(zero) if zero else ""
            for i, (name, vals) in enumerate(curves):
                ys = [v * factor for v in vals]
                if step:        # wide to narrow: equal values stay visible
                    ax.step(t, ys, where="post", color=colors[i % len(colors)], label=name,
                            linewidth=max(3.5 - 1.2 * i, 1.0))
                else:
                    ax.plot(t, ys, color=colors[i % len(colors)], linewidth=1.2, label=name)
                drawn += any(not math.isnan(v) for v in vals)
            # Rates that differ by orders of magnitude (1000 requests/s
            # and 5): a log scale, linear below 1.
            peaks = sorted(max((abs(v) for v in vals if not math.isnan(v)), default=0)
                           for _, vals in curves)
            peaks = [x for x in peaks if x > 0]
            if unit in ("reqps", "pps") and len(peaks) > 1 and peaks[-1] > 50 * peaks[0]:
                ax.set_yscale("symlog", linthresh=1)
                ax.set_ylim(bottom=0)
                ylabel += " (log)"
            else:
                ax.ticklabel_format(axis="y", useOffset=False, style="plain")
            if title == "Source reach":
                ax.set_yticks([0, 64, 128, 192, 255])
                ylabel = "register (255 = octal 377)"
            ax.set_ylabel(ylabel)
            if "rate(" in " ".join(tg["expr"] for p in panels for tg in p.get("targets", [])):
                title += " (rate over %g s)" % a.window
            ax.set_title(title, fontsize="medium")
            if drawn:
                ax.legend(fontsize="x-small", loc="best", ncol=2 if len(curves) > 4 else 1)
        if not drawn:
            names = sorted({m for p in panels for tg in p.get("targets", [])
                            for m in re.findall(r"\bdpntp_[a-z0-9_]+", tg["expr"])})
            absent.append("%s (%s)" % (title, ", ".join(names)))
            ax.text(0.5, 0.5, "not in this recording:\n" + "\n".join(names),
                    transform=ax.transAxes, ha="center", va="center", color="grey")
        if drain and kind != "lanes":
            ax.axvspan(drain[0], drain[1] if len(drain) > 1 else t[-1],
                       color="tab:orange", alpha=0.12, linewidth=0)
        if title.startswith("Source"):
            for r in restarts:
                ax.axvline(r, color="grey", linestyle=":", linewidth=1)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(t[0], t[-1])
        ax.set_xlabel("seconds since start")
    for n in range(len(items), nrows * ncols):
        axes[n // ncols][n % ncols].axis("off")

    d = run.doc.get("describe", {})
    sub = "recorded %s, %g min, a scrape every %g s; load: dpntp-gen %s req/s, a client at %s req/s, " \
          "rate-limited clients (KoDs), malformed packets" % (
              run.doc.get("start_utc", "?"), d.get("minutes", run.doc.get("minutes", 0)),
              run.doc.get("scrape_interval_s", 0), d.get("gen_rate", "?"),
              d.get("allowed_rate", "?"))
    if drain:
        sub += "; shaded: the drain file present"
    else:
        sub += "; no health drain in this run"
    fig.suptitle("dpntp dashboard (config/grafana/dpntp.json) over a recorded run\n" + sub,
                 fontsize="medium")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(a.out, dpi=90)
    plt.close(fig)
    print("wrote %s: %d panels from %d scrapes" % (a.out, len(items), len(t)))
    if absent:
        print("not in the recording: " + "; ".join(absent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
