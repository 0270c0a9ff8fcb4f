#!/usr/bin/env python3
"""`make bench`: Rust plugins against Go plugins against C floor plugins, in one run.

Builds the Go baselines and C floor plugins, runs `flb-host bench` on every implementation (the real
.so files, called through the proxy ABI as Fluent Bit calls them), runs the criterion benches, and
prints one markdown table per plugin kind. Raw numbers go to bench/results/latest.json and a chart
(records/s against batch size) to bench/results/latest.svg. `--quick` is the CI smoke mode: tiny
counts, one run, no criterion; it checks the harness works, never a speed. gtail's rows (a 1 GiB file
read to its last line, the idle cost of 1,000 quiet files) come from bench/tail_rows.py.

A full run takes about 15 minutes on a 2-core machine (25 with FLUENT_BIT_BIN set: bench/fluent_bit.py's
real Fluent Bit rows), more the first time (see `estimate`); it says
so before it starts (`--estimate` prints only that) and, at the end, names the files it rewrote:
bench/results/latest.{json,svg,md} and README.md's section between the bench markers (the tables and
the targets list). `--readme-only` re-renders that section from bench/results/latest.json.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

import fluent_bit
import tail_rows
from fmt import fmt_rate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = os.path.join(ROOT, "target/flb-host/flb-host")
PLUGINS = os.path.join(ROOT, "target/plugins")
BENCH_PLUGINS = os.path.join(ROOT, "target/bench-plugins")
RESULTS = os.path.join(ROOT, "bench/results")
BATCHES = [1, 100, 10000]
RUNS = 5  # flb-host runs per row in a full run; the table shows the median

# Seconds each part of a full run took, measured on a 2-core AMD EPYC VM (2026-11-30): the estimate
# printed at the start adds these up for what is installed and built.
T_HOST_INPUT = 2          # Rust or C input, 5 runs per batch size, all three sizes
T_HOST_GO_INPUT = 35      # one Go gdummy (no sleep): 5 runs of 10^6 collects
T_HOST_OUTPUT = 10        # one output row (5 runs of 2 s, with warm-up)
T_HOST_GO_OUTPUT_10K = 42  # the Go gstdout's 10,000-record row: each chunk takes a quarter second
T_CRITERION = 420         # the criterion benches, once compiled (21 benches)
T_CRITERION_BUILD = 330   # compiling them with the bench profile (first run, or after a change)
T_CRITERION_TAIL = 160    # the gtail criterion benches (bench/benches/tail.rs, 14 benches)
T_GO_BUILD = 90           # building the Go baselines with an empty Go build cache
T_PLUGINS_BUILD = 240     # `make plugins host` from scratch


def shown(path):
    """`path` relative to the repository when inside it, for the lines naming files written."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def in_ci():
    """CI=true (GitHub Actions sets it) or CI=1: there a missing tool fails instead of being skipped."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def go_toolchains():
    """How many Go toolchains bench/go/build.sh will find (the same lookup, roughly)."""
    primary = (os.access("/usr/lib/go-1.23/bin/go", os.X_OK) or
               any(os.access(os.path.join(d, "go"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep) if d)
               or bool(os.environ.get("GO")))
    secondary = os.access("/usr/lib/go-1.19/bin/go", os.X_OK)
    return int(primary) + int(primary and secondary)


def fmt_minutes(seconds):
    m = seconds / 60
    return f"{m:.0f} minutes" if m >= 1.5 else "1 minute"


def estimate():
    """One line: how long a full run will take here, from the parts measured above."""
    gos = go_toolchains()
    inputs = 2 * T_HOST_INPUT + gos * T_HOST_GO_INPUT
    outputs = 3 * len(BATCHES) * T_HOST_OUTPUT + gos * (2 * T_HOST_OUTPUT + T_HOST_GO_OUTPUT_10K)
    base = inputs + outputs + tail_rows.SECONDS + T_CRITERION + T_CRITERION_TAIL
    extra = []
    if not (os.path.exists(HOST) and os.path.exists(os.path.join(PLUGINS, "in_gdummy.so"))):
        extra.append(f"{fmt_minutes(T_PLUGINS_BUILD)} to build the plugins and flb-host")
    if gos and not os.path.isdir(os.path.join(ROOT, "target/go-cache")):
        extra.append(f"{fmt_minutes(T_GO_BUILD)} to build the Go baselines")
    crit_built = os.path.isdir(os.path.join(ROOT, "target/release/deps")) and any(
        re.match(r"gstdout-[0-9a-f]+$", f) for f in os.listdir(os.path.join(ROOT, "target/release/deps")))
    extra.append(f"{'up to ' if crit_built else ''}{fmt_minutes(T_CRITERION_BUILD)} to compile the criterion benches"
                 f"{' after a change to the SDK or a plugin' if crit_built else ''}")
    go = f"{gos} Go toolchain{'s' if gos != 1 else ''}" if gos else "no Go toolchain: no Go rows"
    if fluent_bit.fluent_bit_bin():
        base += fluent_bit.T_FULL
        fb = f"{fmt_minutes(fluent_bit.T_FULL)} of real Fluent Bit rows"
    else:
        fb = "no FLUENT_BIT_BIN: no real Fluent Bit rows"
    return (f"make bench: about {fmt_minutes(base)} on a 2-core machine ({fmt_minutes(inputs + outputs)} of flb-host runs, "
            f"{RUNS} per row, {go}; {fmt_minutes(tail_rows.SECONDS)} of gtail runs, 1 GiB file and idle period "
            f"included; {fmt_minutes(T_CRITERION + T_CRITERION_TAIL)} of criterion benches; {fb}), "
            f"plus {', plus '.join(extra)}. "
            f"At the end it rewrites README.md's benchmark section and bench/results/latest.json and .svg. "
            f"`make bench-quick` is the smoke run (under a minute once built).")


def build_baselines():
    os.makedirs(BENCH_PLUGINS, exist_ok=True)
    # Only this run's Go build may say which Go baselines exist (a stale file would hide a failure).
    try:
        os.remove(os.path.join(BENCH_PLUGINS, "go-versions.json"))
    except FileNotFoundError:
        pass
    for script in ("bench/c-floor/build.sh", "bench/go/build.sh"):
        r = subprocess.run(["bash", os.path.join(ROOT, script), BENCH_PLUGINS], cwd=ROOT, capture_output=True, text=True)
        log(f"{script}: {'ok' if r.returncode == 0 else 'FAILED'} {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''}")
        if r.returncode != 0:
            log(r.stderr)
            if in_ci():
                sys.exit(f"bench: CI is set and {script} failed")
    versions = {}
    try:
        with open(os.path.join(BENCH_PLUGINS, "go-versions.json")) as f:
            versions = json.load(f)
    except (OSError, ValueError):
        pass
    return versions


def host_bench(so, kind, name, props, count=None, duration=None, records_per_chunk=None, extra=None):
    """One `flb-host bench` run; returns its JSON report, or None with a log line on failure."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    cmd = [HOST, "bench", "-e", so, "-i" if kind == "input" else "-o", name]
    for k, v in props:
        cmd += ["-p", f"{k}={v}"]
    if count:
        cmd += ["--count", str(count)]
    if duration:
        cmd += ["--duration", str(duration)]
    if records_per_chunk:
        cmd += ["--records-per-chunk", str(records_per_chunk)]
    cmd += (extra or []) + ["--json", out]
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        if r.returncode != 0:
            log(f"  failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
            return None
        with open(out) as f:
            return json.load(f)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        log(f"  failed: {' '.join(cmd)}: {e}")
        return None
    finally:
        if os.path.exists(out):
            os.unlink(out)


def median_run(runs, *args, **kwargs):
    reports = [r for r in (host_bench(*args, **kwargs) for _ in range(runs)) if r]
    if not reports:
        return None
    # The run with the median throughput, so every column comes from one real run.
    reports.sort(key=lambda r: r["records_per_sec"])
    best = dict(reports[len(reports) // 2])
    best["runs"] = len(reports)
    best["records_per_sec_all"] = [r["records_per_sec"] for r in reports]
    return best


def implementations(go_versions):
    """(kind, label, so, plugin name, props per batch size) for every implementation present."""
    impls = []
    rust_in = os.path.join(PLUGINS, "in_gdummy.so")
    rust_out = os.path.join(PLUGINS, "out_gstdout.so")
    impls.append(("input", "Rust gdummy", rust_in, "gdummy", lambda n: [("pace", "collect"), ("copies", n)]))
    impls.append(("input", "C floor", os.path.join(BENCH_PLUGINS, "in_cfloor.so"), "cfloor", lambda n: [("records", n)]))
    for so, ver in sorted(go_versions.items()):
        path = os.path.join(BENCH_PLUGINS, so)
        if so.startswith("in_gdummy") and "nosleep" in so:
            impls.append(("input", f"Go gdummy ({ver}, no sleep)", path, "gdummy", None))
        elif so.startswith("out_gstdout"):
            impls.append(("output", f"Go gstdout ({ver})", path, "gstdout", None))
    impls.append(("output", "Rust gstdout msgpack", rust_out, "gstdout", [("format", "msgpack")]))
    impls.append(("output", "Rust gstdout json_lines", rust_out, "gstdout", [("format", "json_lines")]))
    impls.append(("output", "C floor", os.path.join(BENCH_PLUGINS, "out_cfloor.so"), "cfloorout", [("write", "on")]))
    return impls


def run_host_benches(quick, go_versions):
    runs = 1 if quick else RUNS
    rows = []
    for kind, label, so, name, props in implementations(go_versions):
        if not os.path.exists(so):
            log(f"skip {label}: {so} not built")
            rows.append({"kind": kind, "label": label, "missing": True})
            continue
        for batch in BATCHES:
            if kind == "input":
                if props is None and batch != 1:
                    continue  # the Go gdummy emits one record per collect, as published
                p = props(batch) if props else []
                # 10M records for the batched rows: 100 collects of 10,000 took 30 ms, too short to
                # stand above the machine's noise (two runs of one build differed by 40%).
                calls = max(3, (2000 if quick else 1_000_000 if batch == 1 else 10_000_000) // batch)
                log(f"bench {label}, {batch} record(s) per collect, {calls} collects")
                rep = median_run(runs, so, kind, name, p, count=calls)
            else:
                chunks = 3 if quick else None
                log(f"bench {label}, {batch} record(s) per chunk")
                rep = median_run(runs, so, kind, name, props or [], count=chunks, duration=None if quick else 2,
                                 records_per_chunk=batch)
            if rep:
                rep.update({"kind": kind, "label": label, "batch": batch})
                rows.append(rep)
            else:
                rows.append({"kind": kind, "label": label, "batch": batch, "failed": True})
    return rows


def run_criterion(quick):
    if quick:
        return []
    log("criterion benches (cargo bench -p flb-bench)")
    r = subprocess.run(["cargo", "bench", "-p", "flb-bench", "--benches", "--", "--output-format", "bencher"], cwd=ROOT,
                       capture_output=True, text=True)
    results = []
    for line in r.stdout.splitlines():
        m = re.match(r"test (\S+) \.\.\. bench:\s+([\d,]+) ns/iter", line)
        if m:
            name, ns = m.group(1), int(m.group(2).replace(",", ""))
            batch = int(name.rsplit("/", 1)[-1]) if name.rsplit("/", 1)[-1].isdigit() else 1
            units = tail_rows.criterion_units(name)  # lines (and bytes) per iteration, from the size suffix
            batch = units[0] if units else batch
            results.append({"name": name, "ns_per_iter": ns, "records": batch,
                            "records_per_sec": batch * 1e9 / ns if ns else 0})
            if units and units[1]:
                results[-1]["bytes_per_sec"] = units[1] * 1e9 / ns if ns else 0
    if r.returncode != 0 or not results:
        log(f"criterion failed:\n{r.stderr[-3000:]}")
        sys.exit(1)
    return results


def table(rows, kind, batch):
    sel = [r for r in rows if r.get("kind") == kind and (r.get("batch") == batch or (r.get("missing") and batch == 1))]
    go = [r for r in sel if r["label"].startswith("Go") and r.get("records") and "1.23" in r["label"]]
    go_rate = go[0]["records_per_sec"] if go else None
    unit = "collect" if kind == "input" else "flush"
    head = (f"| {kind} ({batch} record{'s' if batch > 1 else ''} per {unit}) | records/s | ns/record | "
            f"mallocs/{unit} | malloc bytes/{unit} | writes/{unit} | RSS growth | vs Go 1.23 |")
    lines = [head, "|" + "---|" * 8]
    for r in sel:
        if r.get("missing") or r.get("failed"):
            lines.append(f"| {r['label']} | {'not built' if r.get('missing') else 'run failed'} | | | | | | |")
            continue
        ratio = f"{r['records_per_sec'] / go_rate:.1f}x" if go_rate and not r["label"].startswith("Go") else ""
        lines.append(
            f"| {r['label']} | {fmt_rate(r['records_per_sec'])} | {r['ns_per_record']:.1f} | "
            f"{r['mallocs_per_call']:.2f} | {r['malloc_bytes_per_call']:.0f} | {r.get('writes_per_call', 0):.2f} | "
            f"{r['rss_growth_kb']} KiB | {ratio} |")
    return "\n".join(lines)


def chart(rows, path):
    """A small SVG: records/s (log) against batch size (log), one line per implementation. Each
    panel's legend sits under its plot, outside the data area, so no label covers a point."""
    import math
    rows = [r for r in rows if r.get("records_per_sec") and r.get("batch") in BATCHES]
    panels = [("input", "inputs: records per collect"), ("output", "outputs: records per chunk")]
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    rates = [r["records_per_sec"] for r in rows]
    if not rates:
        return
    labels = {kind: sorted({r["label"] for r in rows if r.get("kind") == kind}) for kind, _ in panels}
    w, pad, top, plot_h, line_h = 900, 60, 30, 290, 15
    legend_y = top + plot_h + 40
    h = legend_y + line_h * max(len(v) for v in labels.values()) + 10
    lo, hi = math.log10(max(1, min(rates)) / 2), math.log10(max(rates) * 2)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    pw = (w - 3 * pad) / 2
    for i, (kind, title) in enumerate(panels):
        x0 = pad + i * (pw + pad)
        out.append(f'<text x="{x0}" y="20" font-size="13">{title} (records/s, log scale)</text>')
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{plot_h}" fill="none" stroke="#999"/>')
        ys = lambda v: top + plot_h * (1 - (math.log10(v) - lo) / (hi - lo))
        xs = lambda b: x0 + pw * (math.log10(b) / math.log10(BATCHES[-1]) * 0.9 + 0.05)
        for b in BATCHES:
            out.append(f'<text x="{xs(b) - 10}" y="{top + plot_h + 15}">{b}</text>')
        for e in range(int(math.ceil(lo)), int(hi) + 1):
            out.append(f'<text x="{x0 - 40}" y="{ys(10 ** e) + 4}">1e{e}</text>')
        for j, label in enumerate(labels[kind]):
            pts = sorted((r["batch"], r["records_per_sec"]) for r in rows if r.get("label") == label and r.get("kind") == kind)
            c = colors[j % len(colors)]
            path_d = " ".join(f"{'M' if k == 0 else 'L'}{xs(b):.1f},{ys(v):.1f}" for k, (b, v) in enumerate(pts))
            out.append(f'<path d="{path_d}" fill="none" stroke="{c}" stroke-width="2"/>')
            for b, v in pts:
                out.append(f'<circle cx="{xs(b):.1f}" cy="{ys(v):.1f}" r="3" fill="{c}"/>')
            y = legend_y + line_h * j
            out.append(f'<line x1="{x0}" y1="{y - 4}" x2="{x0 + 18}" y2="{y - 4}" stroke="{c}" stroke-width="2"/>')
            out.append(f'<text x="{x0 + 24}" y="{y}" fill="{c}">{label}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def row(rows, kind, label, batch):
    for r in rows:
        if r.get("kind") == kind and r.get("label") == label and r.get("batch") == batch and r.get("records"):
            return r
    return None


def go123(rows, kind):
    """The Go 1.23 row of `kind` for 1 record (inputs) or 10,000 (outputs), if it ran."""
    for r in rows:
        if (r.get("kind") == kind and r.get("label", "").startswith("Go") and "1.23" in r["label"] and r.get("records")
                and r.get("batch") == (1 if kind == "input" else BATCHES[-1])):
            return r
    return None


def verdict(ok):
    return "met" if ok else "**missed**"


def targets(rows, crit):
    """The issue 6 targets, each with this run's figure and whether it was met: written under the
    tables so that the README never states a figure the tables contradict."""
    out = ["Targets (issues 6 and 13; the real Fluent Bit ones are in its table), from the run above:"]
    g1, c1, gi = row(rows, "input", "Rust gdummy", 1), row(rows, "input", "C floor", 1), go123(rows, "input")
    if g1:
        parts = []
        if gi:
            x = g1["records_per_sec"] / gi["records_per_sec"]
            parts.append(f"{x:.1f}x the Go 1.23 gdummy (no sleep) in records/s (target 20x: {verdict(x >= 20)})")
        else:
            parts.append("no Go 1.23 gdummy row to compare with (target 20x its records/s: not measured)")
        if c1:
            x = g1["ns_per_record"] / c1["ns_per_record"]
            parts.append(f"{g1['ns_per_record']:.0f} ns per collect against the C floor's {c1['ns_per_record']:.0f} ns "
                         f"(target within 2x: {verdict(x <= 2)})")
        parts.append(f"{g1['mallocs_per_call']:.2f} mallocs per collect (target 0: {verdict(g1['mallocs_per_call'] == 0)})")
        growth = f"RSS growth {g1['rss_growth_kb']} KiB over {g1['calls']:,} collects"
        if gi:
            growth += f" (the Go gdummy: {gi['rss_growth_kb']} KiB; its cleanup frees nothing)"
        parts.append(growth)
        out.append("- gdummy, one record per collect: " + "; ".join(parts) + ".")
    g4, c4 = row(rows, "input", "Rust gdummy", BATCHES[-1]), row(rows, "input", "C floor", BATCHES[-1])
    enc = next((c for c in crit if c["name"] == f"gdummy_collect/{BATCHES[-1]}"), None)
    parts = []
    if enc:
        parts.append(f"{fmt_rate(enc['records_per_sec'])} records/s encoded (criterion `gdummy_collect/{BATCHES[-1]}`, "
                     f"target 100M: {verdict(enc['records_per_sec'] >= 100e6)})")
    if g4:
        floor = f"; the C floor: {fmt_rate(c4['records_per_sec'])}" if c4 else ""
        parts.append(f"{fmt_rate(g4['records_per_sec'])} records/s through flb-host with Fluent Bit's copy "
                     f"(target 50M: {verdict(g4['records_per_sec'] >= 50e6)}{floor})")
    if parts:
        out.append(f"- gdummy, {BATCHES[-1]:,} records per collect: " + "; ".join(parts) + ".")
    go = go123(rows, "output")
    parts = []
    for fmt, target in (("msgpack", 40), ("json_lines", 30)):
        r = row(rows, "output", f"Rust gstdout {fmt}", BATCHES[-1])
        if not r:
            continue
        if go:
            x = r["records_per_sec"] / go["records_per_sec"]
            parts.append(f"{fmt} {x:.1f}x the Go 1.23 gstdout ({r['ns_per_record']:.0f} against {go['ns_per_record']:.0f} ns "
                         f"per record; target {target}x: {verdict(x >= target)})")
        else:
            parts.append(f"{fmt} {fmt_rate(r['records_per_sec'])} records/s (no Go 1.23 row: target {target}x not measured)")
    if parts:
        r = row(rows, "output", "Rust gstdout msgpack", BATCHES[-1])
        writes = f"; {r.get('writes_per_call', 0):.0f} `write(2)` per chunk" if r else ""
        if r and go:
            writes += f" against the Go plugin's {go.get('writes_per_call', 0) / BATCHES[-1]:.0f} per record"
        out.append(f"- gstdout, {BATCHES[-1]:,}-record chunks to /dev/null: " + "; ".join(parts) + writes + ".")
    return "\n".join(out)


def render(info, go_versions, rows, crit, tail=(), fb=None):
    """The README section and console report: machine line, one table per kind and batch size, the
    criterion table, the targets list, the real Fluent Bit table."""
    report = [f"Machine: {info['cores']} cores, {info['cpu']}, kernel {info['kernel']}, {info['date']}; "
              f"Go: {', '.join(sorted(set(go_versions.values()))) or 'not installed'}\n"]
    for kind in ("input", "output"):
        for batch in BATCHES:
            report.append(table(rows, kind, batch) + "\n")
    if crit:
        report.append("| criterion bench (in-process, no host) | records/s | ns/iter |\n|---|---|---|")
        report.extend(f"| {c['name']} | {fmt_rate(c['records_per_sec'])} | {c['ns_per_iter']} |" for c in crit)
        report.append("")
        report.append(targets(rows, crit))
    if tail:
        report.append("")
        report.append(tail_rows.table(tail, crit) + "\n")
        report.append(tail_rows.targets(tail, crit))
    report.append("")
    report.append(fluent_bit.table(fb))
    return "\n".join(report)


def update_readme(text):
    """Puts the latest full run between the bench markers of the README; returns the path rewritten."""
    path = os.path.join(ROOT, "README.md")
    try:
        with open(path) as f:
            readme = f.read()
    except OSError:
        return None
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in readme or end not in readme:
        log("README has no bench markers: table not pasted")
        return None
    head, rest = readme.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(f"{head}{start}\n{text}\n{end}{tail}")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: tiny counts, one run, no criterion")
    ap.add_argument("--out", default=os.path.join(RESULTS, "latest.json"))
    ap.add_argument("--estimate", action="store_true", help="print how long a full run will take here, and exit")
    ap.add_argument("--no-estimate", action="store_true", help="do not print the estimate first (make bench did)")
    ap.add_argument("--readme-only", action="store_true",
                    help="rewrite README.md's benchmark section from --out (a saved run), running nothing")
    args = ap.parse_args()
    if args.estimate:
        print(estimate(), flush=True)
        return
    if args.readme_only:
        with open(args.out) as f:
            saved = json.load(f)
        text = render(saved["machine"], saved["go_versions"], saved["host"], saved["criterion"], saved.get("tail", []),
                      saved.get("fluent_bit"))
        path = update_readme(text)
        log(f"rewrote {shown(path)} (benchmark section, from {shown(args.out)})"
            if path else "README.md not rewritten")
        return
    if not args.quick and not args.no_estimate:
        log(estimate())
    if not os.path.exists(HOST):
        sys.exit(f"bench: {HOST} missing: run `make host plugins` first")
    go_versions = build_baselines()
    if not go_versions:
        # Outside CI the Go rows say so; in CI (CI=true) a missing Go is a failure, not a skip.
        if in_ci():
            sys.exit("bench: CI is set and no Go baseline was built (Go missing or its build failed, see "
                     "bench/go/build.sh above; bench/scripts/install-go.sh installs Go 1.23)")
        log("skipped: Go not installed, the Go rows say so (a failure when CI=true)")
    rows = run_host_benches(args.quick, go_versions)
    tail = tail_rows.run(lambda so, kind, name, props, extra: host_bench(so, kind, name, props, extra=extra),
                         PLUGINS, args.quick, log)
    crit = run_criterion(args.quick)
    fb = fluent_bit.run(args.quick)
    info = machine()
    written = []
    if not args.quick or args.out != os.path.join(RESULTS, "latest.json"):
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({"machine": info, "go_versions": go_versions, "host": rows, "criterion": crit, "tail": tail,
                       "fluent_bit": fb}, f, indent=1)
        svg = os.path.splitext(args.out)[0] + ".svg"
        chart(rows, svg)
        written += [shown(args.out), shown(svg)]
    text = render(info, go_versions, rows, crit, tail, fb)
    print(text)
    if written:
        # The tables as the README shows them, the real Fluent Bit ratios included, beside the data.
        md = os.path.splitext(args.out)[0] + ".md"
        with open(md, "w") as f:
            f.write(text + "\n")
        written.append(shown(md))
    if not args.quick:
        path = update_readme(text)
        if path:
            log(f"rewrote {shown(path)}: the benchmark tables and the targets list between "
                "<!-- bench:start --> and <!-- bench:end --> now show this run (review it before committing)")
    if written:
        log(f"wrote {' and '.join(written)}")
    # Sanity, not speed: every implementation that was built ran and produced records. A Go baseline
    # that fails is reported, not fatal: it is someone else's runtime.
    # An idle tail row has no records by design (its files were read in the warm-up): it only fails.
    broken = sorted({r["label"] for r in rows + tail if not r.get("missing")
                     and (r.get("failed") or (not r.get("records") and r.get("row") != "idle"))})
    ours = [b for b in broken if not b.startswith("Go")]
    if broken:
        log(f"bench: no records from {', '.join(broken)}")
    if fluent_bit.failed(fb):
        log(f"bench: real Fluent Bit rows failed: {', '.join(fluent_bit.failed(fb))}")
    if ours or fluent_bit.failed(fb):
        sys.exit(1)
    if not any(r.get("records") for r in rows):
        sys.exit("bench: no implementation produced records")


if __name__ == "__main__":
    main()
