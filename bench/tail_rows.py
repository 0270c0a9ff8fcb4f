"""gtail's rows of `make bench` (issue 13): the real in_gtail.so through `flb-host bench`.

Kept out of run.py (which calls `run`, `table`, `targets` and `criterion_units`) so other row sets
can be added beside it without touching the same lines.

- **read**: a pre-written file of 100-byte lines (1 GiB; `--quick`: 8 MiB), `read_from_head on`,
  collected back to back with Fluent Bit's copy of every appended buffer, until every line arrived
  (`--until-records`): lines/s, process CPU per line (getrusage: the worker thread counts), mallocs
  per collect on the collecting thread and in every thread, peak RSS. `file_cache_advise off` keeps
  the just-written file in the page cache, so the row measures gtail, not the disk.
- **pinned**: the same, flb-host pinned to one core (the worker and the collecting thread share it).
- **read, small batch cap**: the same with `batch_max_size 4M`: peak RSS follows the cap.
- **idle**: 1,000 quiet files watched with inotify, collected once a second as Fluent Bit's
  collector timer does, for 30 s (`--quick`: 2 s) after 3 s in which their first lines are read:
  CPU as a share of one core.

The files live in a temp dir under target/ and are deleted afterwards.
"""

import os
import re
import shutil
import subprocess
import tempfile

from fmt import fmt_rate

LINE = 100                    # bytes per line, newline included
READ_BYTES = 1 << 30          # the read rows' file
READ_BYTES_QUICK = 8 << 20
IDLE_FILES = 1000
IDLE_SECONDS = 30
IDLE_SECONDS_QUICK = 2
IDLE_WARMUP = 3               # collects (one a second) before the idle measurement starts
SMALL_CAP = "4M"              # batch_max_size of the second read row
SMALL_CAP_BYTES = 4 << 20
DEFAULT_CAP = 32 << 20        # gtail's batch_max_size default
# The RSS bound the memory target checks: a batch being filled and one with the host (two caps), plus
# the process without data (about 6 MiB: flb-host, the .so, the 256 KiB read buffer) and slack.
RSS_SLACK = 16 << 20
RUNS = 3                      # runs per read row in a full run; the table shows the median
# Seconds a full run of these rows takes on the 2-core VM (2026-11-30): writing the file, 3 rows
# x 3 runs of about 2 s, creating the quiet files, the idle period. run.py's estimate adds it.
SECONDS = 60
# Lines per iteration of bench/benches/tail.rs's line benches (its LINES).
CRIT_LINES = 1000


def criterion_units(name):
    """(records, bytes) one iteration of a criterion bench handles, for the tail benches; None for
    the others. tail_split|encode|lines|cri|docker|json/<size>: CRIT_LINES lines of <size> (100B,
    1KiB; for cri and docker, lines, not the fewer records their joins make); tail_db_commit/<n>:
    one commit covering n files (records = files)."""
    m = re.match(r"tail_(split|encode|lines|cri|docker|json)/(\d+)(B|KiB)$", name)
    if m:
        size = int(m.group(2)) * (1024 if m.group(3) == "KiB" else 1)
        return CRIT_LINES, CRIT_LINES * size
    m = re.match(r"tail_db_commit/(\d+)$", name)
    if m:
        return int(m.group(1)), 0
    return None


def write_lines(path, total):
    """`total` bytes of LINE-byte lines, each numbered so no two are alike."""
    n = total // LINE
    with open(path, "wb") as f:
        block = []
        for i in range(n):
            head = f"{i:012d} INFO gtail bench line "
            block.append(head + "x" * (LINE - 1 - len(head)) + "\n")
            if len(block) == 100_000:
                f.write("".join(block).encode())
                block = []
        f.write("".join(block).encode())
    return n


def _median(reports, key):
    reports = sorted(reports, key=lambda r: r[key])
    best = dict(reports[len(reports) // 2])
    best["runs"] = len(reports)
    best[f"{key}_all"] = [r[key] for r in reports]
    return best


def run(host_bench, plugins, quick, log):
    """Every tail row; `host_bench(so, kind, name, props, extra_args)` runs flb-host bench and
    returns its JSON report or None."""
    so = os.path.join(plugins, "in_gtail.so")
    if not os.path.exists(so):
        log(f"skip gtail: {so} not built")
        return [{"kind": "tail", "label": "gtail", "missing": True}]
    root = os.path.dirname(plugins)
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tail-bench-", dir=root)
    rows = []
    try:
        path = os.path.join(work, "lines.log")
        size = READ_BYTES_QUICK if quick else READ_BYTES
        log(f"gtail: writing {size >> 20} MiB of {LINE}-byte lines to {path}")
        lines = write_lines(path, size)
        base = [("path", path), ("read_from_head", "on"), ("file_cache_advise", "off")]
        cpus = sorted(os.sched_getaffinity(0))
        for label, props, pin in ((f"gtail, {size >> 20} MiB of {LINE}-byte lines", base, None),
                                  ("gtail, same file, pinned to one core", base, cpus[-1]),
                                  (f"gtail, same file, batch_max_size {SMALL_CAP}",
                                   base + [("batch_max_size", SMALL_CAP)], None)):
            reports = []
            for _ in range(1 if quick else RUNS):
                log(f"bench {label}")
                # Pinned: the worker thread and the collecting thread share one core (flb-host
                # inherits this process's affinity).
                if pin is not None:
                    os.sched_setaffinity(0, {pin})
                try:
                    rep = host_bench(so, "input", "gtail", props,
                                     ["--until-records", str(lines), "--duration", "300", "--warmup", "0"])
                finally:
                    os.sched_setaffinity(0, cpus)
                if rep and rep.get("records") == lines:
                    reports.append(rep)
                elif rep:
                    log(f"  {label}: {rep.get('records')} of {lines} lines arrived")
            if reports:
                rep = _median(reports, "records_per_sec")
                small = "batch_max_size" in dict(props)
                rep.update({"kind": "tail", "row": "read" if pin is None else "pinned", "label": label, "lines": lines,
                            "line_bytes": LINE,
                            "batch_max_size": SMALL_CAP if small else str(DEFAULT_CAP),
                            "batch_max_bytes": SMALL_CAP_BYTES if small else DEFAULT_CAP})
                rows.append(rep)
            else:
                rows.append({"kind": "tail", "row": "read" if pin is None else "pinned", "label": label, "failed": True})
        os.unlink(path)

        quiet = os.path.join(work, "quiet")
        os.makedirs(quiet)
        for i in range(IDLE_FILES):
            with open(os.path.join(quiet, f"f{i}.log"), "w") as f:
                f.write(f"line {i}\n")
        secs = IDLE_SECONDS_QUICK if quick else IDLE_SECONDS
        label = f"gtail idle, {IDLE_FILES} quiet files (inotify)"
        log(f"bench {label}, {secs} s")
        rep = host_bench(so, "input", "gtail", [("path", os.path.join(quiet, "*.log")), ("read_from_head", "on")],
                         ["--interval", "1", "--warmup", str(IDLE_WARMUP), "--duration", str(secs)])
        if rep:
            rep.update({"kind": "tail", "row": "idle", "label": label, "files": IDLE_FILES,
                        "cpu_percent": 100.0 * rep["cpu_seconds"] / rep["seconds"] if rep["seconds"] else 0.0})
            rows.append(rep)
        else:
            rows.append({"kind": "tail", "row": "idle", "label": label, "failed": True})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def table(rows, crit):
    """The tail tables: flb-host rows, then the criterion rows in lines/s and bytes/s."""
    out = ["| gtail through flb-host | lines/s | MB/s | CPU ns/line | mallocs/collect (collecting thread, every "
           "thread) | peak RSS |", "|" + "---|" * 6]
    for r in (r for r in rows if r.get("kind") == "tail" and r.get("row") != "idle"):
        if r.get("missing") or r.get("failed"):
            out.append(f"| {r['label']} | {'not built' if r.get('missing') else 'run failed'} | | | | |")
            continue
        mb = r["records_per_sec"] * r["line_bytes"] / 1e6
        out.append(f"| {r['label']} | {fmt_rate(r['records_per_sec'])} | {mb:.0f} | {r['cpu_ns_per_record']:.0f} | "
                   f"{r['mallocs_per_call']:.2f}, {r.get('all_mallocs_per_call', 0):.2f} | "
                   f"{r['peak_rss_kb'] / 1024:.0f} MiB |")
    for r in (r for r in rows if r.get("kind") == "tail" and r.get("row") == "idle"):
        if r.get("failed"):
            out.append(f"| {r['label']} | run failed | | | | |")
            continue
        out.append(f"| {r['label']}, {r['seconds']:.0f} s | CPU {r['cpu_percent']:.2f}% of a core | | | "
                   f"{r['mallocs_per_call']:.2f}, {r.get('all_mallocs_per_call', 0):.2f} | "
                   f"{r['peak_rss_kb'] / 1024:.0f} MiB |")
    tc = [c for c in crit if criterion_units(c["name"])]
    if tc:
        out += ["", "| criterion bench (gtail, in-process) | lines/s (db: files/s) | bytes/s | ns/iter |",
                "|---|---|---|---|"]
        for c in tc:
            recs, nbytes = criterion_units(c["name"])
            bps = f"{fmt_rate(nbytes * 1e9 / c['ns_per_iter'])}B/s" if nbytes and c["ns_per_iter"] else ""
            out.append(f"| {c['name']} | {fmt_rate(recs * 1e9 / c['ns_per_iter']) if c['ns_per_iter'] else ''} | {bps} | "
                       f"{c['ns_per_iter']} |")
    return "\n".join(out)


def _verdict(ok):
    return "met" if ok else "**missed**"


def targets(rows, crit):
    """The issue 13 targets with this run's figures; empty when no tail row ran."""
    out = []
    split = [c for c in crit if c["name"].startswith("tail_split/")]
    if split:
        rates = ", ".join(f"{c['name']} {criterion_units(c['name'])[1] / c['ns_per_iter']:.1f} GB/s" for c in split)
        worst = min(criterion_units(c["name"])[1] / c["ns_per_iter"] for c in split)
        out.append(f"- gtail line splitting: {rates} (target 2 GB/s: {_verdict(worst >= 2)}).")
    read = next((r for r in rows if r.get("kind") == "tail" and r.get("row") == "read" and r.get("records")
                 and "batch_max_size" in r and r["batch_max_size"] == str(DEFAULT_CAP)), None)
    small = next((r for r in rows if r.get("kind") == "tail" and r.get("row") == "read" and r.get("records")
                  and r.get("batch_max_size") == SMALL_CAP), None)
    pinned = next((r for r in rows if r.get("kind") == "tail" and r.get("row") == "pinned" and r.get("records")), None)
    if any(r.get("lines", READ_BYTES // LINE) < READ_BYTES // LINE for r in (read, pinned, small) if r):
        # --quick: start-up dominates an 8 MiB file, so its figures say nothing about the targets.
        out.append(f"- gtail: quick run ({READ_BYTES_QUICK >> 20} MiB file, {IDLE_SECONDS_QUICK} s idle): the rows show "
                   f"the harness works; the targets are judged on a full run only.")
        return "\n".join(out)
    if read:
        per_core = 1e9 / read["cpu_ns_per_record"] if read["cpu_ns_per_record"] else 0
        one = pinned["records_per_sec"] if pinned else per_core
        how = (f"{fmt_rate(one)} lines/s with both threads pinned to one core" if pinned
               else f"{fmt_rate(per_core)} lines per CPU-second")
        out.append(
            f"- gtail end to end through flb-host, {read['line_bytes']}-byte lines with Fluent Bit's copy: "
            f"{fmt_rate(read['records_per_sec'])} lines/s on the machine, {read['cpu_ns_per_record']:.0f} ns of process CPU "
            f"per line (host thread and copy included); {how} (target 5M lines/s on one core: {_verdict(one >= 5e6)}); "
            f"{read['mallocs_per_call']:.2f} mallocs per collect on the collecting thread (target 0: "
            f"{_verdict(read['mallocs_per_call'] == 0)}), {read.get('all_mallocs_per_call', 0):.2f} in every thread "
            f"(the batches' first growth included).")
    mem = [r for r in (read, small) if r]
    if mem:
        parts = [f"{r['peak_rss_kb'] / 1024:.0f} MiB with batch_max_size {r['batch_max_size'] if r is small else '32M'} "
                 f"(bound {(2 * r['batch_max_bytes'] + RSS_SLACK) >> 20} MiB)" for r in mem]
        ok = all(r["peak_rss_kb"] * 1024 <= 2 * r["batch_max_bytes"] + RSS_SLACK for r in mem)
        out.append(f"- gtail memory, peak RSS: {', '.join(parts)}; the bound is two caps (a batch being filled and "
                   f"one with the host) plus {RSS_SLACK >> 20} MiB for the process (target bounded by the cap: "
                   f"{_verdict(ok)}).")
    idle = next((r for r in rows if r.get("kind") == "tail" and r.get("row") == "idle" and "cpu_percent" in r), None)
    if idle:
        out.append(f"- gtail idle: {idle['files']:,} quiet files over {idle['seconds']:.0f} s cost "
                   f"{idle['cpu_percent']:.2f}% of a core with inotify (target under 1%: "
                   f"{_verdict(idle['cpu_percent'] < 1)}).")
    return "\n".join(out)
