#!/usr/bin/env python3
"""The real-Fluent-Bit rows of `make bench`: our plugins against the native ones (and the Go ones
where built), each inside a Fluent Bit process, measured as that process's whole CPU time.

Users choose between `Name gtail` and `Name tail`, `Name gstdout` and `Name stdout`, inside Fluent
Bit, so this is the comparison that matters to them: everything Fluent Bit does around the plugin
(chunks, routing, the engine's timers) is in the figures, for both. Each configuration runs N times
and the run with the least CPU counts (best of N: noise on a shared machine only ever adds). CPU is
user + system time from wait4(2) of the Fluent Bit process, so it includes every thread (the tail's
worker, output workers) and nothing of this script.

The workloads, all with one pre-written file of ~100-byte lines read from its head:
- tail -> null with `exit_on_eof`: ours (`gtail`) against native (`tail`).
- the same with `multiline.parser cri` over a file of CRI lines (containerd's format, every tenth
  line a `P` part joined with the `F` after it): issue 15's container logs. A first run of each
  prints its records through a pipe (`stdout`, `json_lines`) and must print one line per message
  (a run that lost or split records fails); the timed runs go to `null`.
- native tail -> gstdout against native tail -> stdout, json_lines and msgpack formats. A first run
  prints through a pipe this script reads and counts the lines (a run that lost a record is a
  failed row, not a fast one); the timed runs print to /dev/null. The output's own cost is the
  run's CPU minus the same tail -> null run's.
- gdummy against dummy at `rate 200000` (and at rate 1, the idle cost) for a fixed time, then
  SIGTERM; the Go gdummy (as published, one record per collect) beside them at rate 1, since
  Fluent Bit collects a proxy input once per second.
- the Go gstdout, fed by native tail, per record above the input, beside gstdout and stdout.

Without FLUENT_BIT_BIN nothing runs and the rows say how to get them. `python3 bench/fluent_bit.py`
runs these rows alone and prints their table.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGINS = os.path.join(ROOT, "target/plugins")
BENCH_PLUGINS = os.path.join(ROOT, "target/bench-plugins")

# (lines in the tail file, runs per configuration, seconds per dummy run, lines for the Go gstdout)
# 5M lines for the output rows: the output's own cost is a difference of two runs, and with 2M lines
# gstdout's (0.4 CPU-s) was within the spread of the input run it is taken from (0.77-1.17 CPU-s).
FULL = {"lines": 1_000_000, "out_lines": 5_000_000, "runs": 5, "dummy_s": 10, "go_lines": 100_000}
QUICK = {"lines": 10_000, "out_lines": 10_000, "runs": 1, "dummy_s": 2, "go_lines": 2_000}
RATE_HIGH = 200_000
LINE_BYTES = 100  # with the newline

HOW_TO = ("set FLUENT_BIT_BIN to a Fluent Bit 5.1.1 binary to get these rows, e.g. "
          "`FLUENT_BIT_BIN=/usr/local/bin/fluent-bit make bench` (the fluent/fluent-bit:5.1.1-debug image "
          "has one at /fluent-bit/bin/fluent-bit; or build v5.1.1 from Fluent Bit's source with its cmake build)")

# Seconds the full set takes here (2-core VM, 2026-11-30), for bench/run.py's estimate; the
# multiline.parser cri rows take 100 of them (a counted and 5 timed runs each, native's 9 s apiece).
T_FULL = 600


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fluent_bit_bin():
    path = os.environ.get("FLUENT_BIT_BIN", "")
    return path if path and os.access(path, os.X_OK) else None


def fluent_bit_version(binary):
    try:
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
        first = (r.stdout or r.stderr).strip().splitlines()
        return first[0].strip() if first else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def write_lines(path, n):
    """n lines of exactly LINE_BYTES bytes (newline included), each different."""
    pad = "x" * LINE_BYTES
    with open(path, "w") as f:
        chunk = []
        for i in range(n):
            head = f"2026-11-30T05:00:00.000Z level=info seq={i:09d} msg="
            chunk.append(head + pad[: LINE_BYTES - 1 - len(head)] + "\n")
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))


def cri_stream(i):
    """Line i's stream: a quarter of the messages on stderr, both parts of a split one on the same."""
    msg = i - 1 if i > 0 and cri_split(i - 1) else i
    return "stderr" if msg % 4 == 3 else "stdout"


def cri_split(i):
    """Line i is the `P` part of a message split in two (its `F` is line i + 1): every tenth line."""
    return i % 10 == 8


def write_cri_lines(path, n):
    """n CRI lines of exactly LINE_BYTES bytes (newline included), as containerd writes a container's
    log: `<time> <stream> <P|F> <log>`, every tenth line a `P` part whose `F` follows it. Returns the
    records a `multiline.parser cri` tail makes of them: one per message."""
    pad = "x" * LINE_BYTES
    records = 0
    with open(path, "w") as f:
        chunk = []
        for i in range(n):
            part = "P" if cri_split(i) and i + 1 < n else "F"
            records += part == "F"
            head = (f"2026-11-30T{i // 3_600_000 % 24:02d}:{i // 60_000 % 60:02d}:{i // 1000 % 60:02d}."
                    f"{i % 1000:03d}456789Z {cri_stream(i)} {part} level=info seq={i:09d} msg=")
            chunk.append(head + pad[: LINE_BYTES - 1 - len(head)] + "\n")
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    return records


class Run:
    """One Fluent Bit process: its CPU seconds, wall seconds, peak RSS, exit, the lines it printed."""

    def __init__(self, cpu, wall, rss_kb, status, lines, log_tail, error):
        self.cpu, self.wall, self.rss_kb, self.status = cpu, wall, rss_kb, status
        self.lines, self.log_tail, self.error = lines, log_tail, error


def peak_rss_kb(pid):
    """The process's peak RSS so far (VmHWM), 0 once it is gone. Not wait4's ru_maxrss: Linux
    carries the forking parent's RSS (this script's, 50 MiB and more) into the child across exec."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_fluent_bit(binary, conf, work, count_stdout=False, stop_after=None, deadline=300):
    """Starts `binary -c conf`; with `stop_after` sends SIGTERM after that many seconds, else waits
    for it to exit by itself (exit_on_eof). wait4(2) gives the process's own rusage."""
    err_path = os.path.join(work, "stderr.log")
    env = dict(os.environ, FLUENT_BIT_VERSION=os.environ.get("FLUENT_BIT_VERSION", "5.1.1"))
    with open(err_path, "wb") as err:
        p = subprocess.Popen([binary, "-c", conf], stdout=subprocess.PIPE if count_stdout else subprocess.DEVNULL,
                             stderr=err, env=env)
    counted = [0]

    def count():
        fd = p.stdout.fileno()
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            counted[0] += b.count(b"\n")

    reader = threading.Thread(target=count, daemon=True) if count_stdout else None
    if reader:
        reader.start()
    t0 = time.monotonic()
    error = None
    if stop_after is not None:
        time.sleep(stop_after)
        p.send_signal(signal.SIGTERM)
    hwm_kb = 0
    while True:
        hwm_kb = max(hwm_kb, peak_rss_kb(p.pid))
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - t0 > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            error = f"still running after {deadline} s: killed"
            break
        time.sleep(0.01)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if reader:
        reader.join(timeout=30)
        p.stdout.close()
    with open(err_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    errors = [ln for ln in text.splitlines() if "[error]" in ln]
    if error is None and p.returncode != 0:
        error = f"exit status {p.returncode}"
    if error is None and errors:
        error = errors[0]
    return Run(ru.ru_utime + ru.ru_stime, wall, hwm_kb, p.returncode, counted[0],
               "\n".join(text.splitlines()[-15:]), error)


def plugins_file(work, paths):
    path = os.path.join(work, "plugins.conf")
    with open(path, "w") as f:
        f.write("[PLUGINS]\n" + "".join(f"    Path {p}\n" for p in paths))
    return path


def config(work, name, inp, out, plugin_paths=()):
    """A classic config file: service, one input, one output (each a list of (key, value)).

    Grace 30: at exit (exit_on_eof, SIGTERM) Fluent Bit drops whatever tasks are still pending once
    Grace seconds have passed; with Grace 1 a proxy output flushing on the engine thread still had
    140,000 of 2M lines queued when tail reached EOF, and lost them. The engine stops as soon as no
    task is pending, so a longer grace costs nothing when the output keeps up."""
    lines = ["[SERVICE]", "    Flush 1", "    Grace 30", "    Log_Level info"]
    if plugin_paths:
        lines.append(f"    Plugins_File {plugins_file(work, plugin_paths)}")
    for section, props in (("INPUT", inp), ("OUTPUT", out)):
        lines.append(f"[{section}]")
        lines += [f"    {k} {v}" for k, v in props]
    path = os.path.join(work, f"{name}.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def best(binary, runs, conf, work, label, expect_lines=None, count_conf=None, **kw):
    """Best of `runs` runs by CPU; None (with the reason logged) when any run failed or lost lines.

    With `expect_lines`, one run first prints through a pipe this script reads, and must print
    exactly that many lines; it is not timed. The timed runs print to /dev/null, as the native
    figures the targets were set from were taken: a pipe adds the same kernel copy to ours and
    native (0.1-0.2 CPU-s for 2M lines), which would move the ratio towards 1. `count_conf` is the
    counted run's config when the timed one does not print (an output to `null`)."""
    results = []
    if expect_lines is not None:
        r = run_fluent_bit(binary, count_conf or conf, work, count_stdout=True, **kw)
        if r.error is None and r.lines != expect_lines:
            r.error = f"{r.lines} lines printed, {expect_lines} expected"
        if r.error:
            log(f"  {label}: the counted run failed: {r.error}\n{r.log_tail}")
            return None
    for i in range(runs):
        r = run_fluent_bit(binary, conf, work, **kw)
        if r.error:
            log(f"  {label}: run {i + 1} failed: {r.error}\n{r.log_tail}")
            return None
        results.append(r)
    b = min(results, key=lambda r: r.cpu)
    log(f"  {label}: {b.cpu:.2f} CPU-s (runs: {', '.join(f'{r.cpu:.2f}' for r in results)}), "
        f"wall {b.wall:.1f} s, peak RSS {b.rss_kb // 1024} MiB")
    return {"label": label, "cpu_s": b.cpu, "cpu_all": [r.cpu for r in results], "wall_s": b.wall,
            "rss_kb": b.rss_kb, "lines": b.lines}


def tail_input(name, path, cache_advise=True):
    """`cache_advise=False` for the output rows: with the default `File_Cache_Advise on`, tail drops
    the file's pages from the page cache, so every run reads it from disk again and the input's
    cost (subtracted from the output rows) moves with the disk; the tail -> null rows keep the
    default, which is what users run."""
    props = [("Name", name), ("Path", path), ("Read_From_Head", "on"), ("Exit_On_Eof", "on")]
    return props if cache_advise else props + [("File_Cache_Advise", "off")]


def run(quick=False):
    """Every real-Fluent-Bit row; a dict saved in latest.json under "fluent_bit"."""
    binary = fluent_bit_bin()
    if not binary:
        log(f"real Fluent Bit rows skipped: {HOW_TO}")
        return {"skipped": HOW_TO}
    p = QUICK if quick else FULL
    # The timed dummy runs take dummy_s each: fewer of them.
    timed_runs = max(1, p["runs"] - 3)
    gtail = os.path.join(PLUGINS, "in_gtail.so")
    gdummy = os.path.join(PLUGINS, "in_gdummy.so")
    gstdout = os.path.join(PLUGINS, "out_gstdout.so")
    for so in (gtail, gdummy, gstdout):
        if not os.path.exists(so):
            sys.exit(f"bench: {so} missing: run `make plugins` first")
    version = fluent_bit_version(binary)
    log(f"real Fluent Bit rows: {version} ({binary}), best of {p['runs']}")
    res = {"binary": binary, "version": version, "params": p, "timed_runs": timed_runs, "quick": quick, "rows": {}}
    rows = res["rows"]
    work = tempfile.mkdtemp(prefix="flb-bench-", dir=os.path.join(ROOT, "target"))
    try:
        files = {}
        for n in sorted({p["lines"], p["out_lines"], p["go_lines"], 1}):
            files[n] = os.path.join(work, f"lines-{n}.log")
            write_lines(files[n], n)
        null = [("Name", "null"), ("Match", "*")]

        # tail -> null: the input's cost, ours against native; the 1-line runs are start-up and exit.
        for n, key in ((1, "startup"), (p["lines"], "tail_null")):
            rows[f"{key}_native"] = best(binary, p["runs"], config(work, f"tail-null-{n}", tail_input("tail", files[n]), null),
                                         work, f"tail -> null, {n:,} lines")
            rows[f"{key}_ours"] = best(binary, p["runs"],
                                       config(work, f"gtail-null-{n}", tail_input("gtail", files[n]), null, [gtail]),
                                       work, f"gtail -> null, {n:,} lines")

        # tail -> null with multiline.parser cri: container logs, ours against native. The records
        # are counted first through stdout: a join that lost or split a message fails the row.
        cri_path = os.path.join(work, f"cri-{p['lines']}.log")
        cri_records = write_cri_lines(cri_path, p["lines"])
        lines_out = [("Name", "stdout"), ("Match", "*"), ("Format", "json_lines")]
        for key, name, paths in (("cri_null_native", "tail", []), ("cri_null_ours", "gtail", [gtail])):
            inp = tail_input(name, cri_path) + [("multiline.parser", "cri")]
            rows[key] = best(binary, p["runs"], config(work, f"{name}-cri-null", inp, null, paths), work,
                             f"{name} multiline.parser cri -> null, {p['lines']:,} lines ({cri_records:,} records)",
                             expect_lines=cri_records,
                             count_conf=config(work, f"{name}-cri-stdout", inp, lines_out, paths))
        os.unlink(cri_path)

        # native tail -> gstdout / stdout: the output's cost above native tail -> null of the same file.
        def output_rows(n, tag):
            rows[f"in_{tag}"] = best(binary, p["runs"],
                                     config(work, f"tail-null-cached-{n}", tail_input("tail", files[n], False), null),
                                     work, f"tail (page cache kept) -> null, {n:,} lines")
        output_rows(p["out_lines"], "out")
        for fmt in ("json_lines", "msgpack"):
            for label, name, paths in (("stdout", "stdout", []), ("gstdout", "gstdout", [gstdout])):
                out = [("Name", name), ("Match", "*"), ("Format", fmt)]
                rows[f"{label}_{fmt}"] = best(
                    binary, p["runs"], config(work, f"tail-{label}-{fmt}", tail_input("tail", files[p["out_lines"]], False),
                                              out, paths),
                    work, f"tail -> {label} {fmt}, {p['out_lines']:,} lines", expect_lines=p["out_lines"])

        # dummy and gdummy at a high rate and at rate 1, for a fixed time.
        for rate in (RATE_HIGH, 1):
            for label, name, paths in (("dummy", "dummy", []), ("gdummy", "gdummy", [gdummy])):
                inp = [("Name", name), ("Rate", str(rate))]
                rows[f"{label}_{rate}"] = best(binary, timed_runs,
                                               config(work, f"{label}-{rate}", inp, null, paths), work,
                                               f"{label} rate {rate} -> null, {p['dummy_s']} s", stop_after=p["dummy_s"])

        # Go plugins, where bench/go/build.sh built them.
        try:
            with open(os.path.join(BENCH_PLUGINS, "go-versions.json")) as f:
                go = json.load(f)
        except (OSError, ValueError):
            go = {}
        res["go"] = {}
        gl = p["go_lines"]
        if go:
            output_rows(gl, "go")
            for fmt, label, name, paths in (("msgpack", "stdout", "stdout", []), ("msgpack", "gstdout", "gstdout", [gstdout])):
                out = [("Name", name), ("Match", "*"), ("Format", fmt)]
                rows[f"go_base_{label}"] = best(binary, p["runs"],
                                                config(work, f"go-base-{label}", tail_input("tail", files[gl], False), out, paths),
                                                work, f"tail -> {label} {fmt}, {gl:,} lines", expect_lines=gl)
        for so, ver in sorted(go.items()):
            path = os.path.join(BENCH_PLUGINS, so)
            if so.startswith("out_gstdout"):
                # The Go gstdout prints one line per record (three write(2) calls).
                res["go"][f"gstdout {ver}"] = best(
                    binary, p["runs"], config(work, f"go-{so}", tail_input("tail", files[gl], False),
                                              [("Name", "gstdout"), ("Match", "*")], [path]),
                    work, f"tail -> Go gstdout ({ver}), {gl:,} lines", expect_lines=gl)
            elif so.startswith("in_gdummy") and "_" not in so[len("in_gdummy_go"):].replace(".so", ""):
                res["go"][f"gdummy {ver}"] = best(binary, timed_runs,
                                                  config(work, f"go-{so}", [("Name", "gdummy")], null, [path]), work,
                                                  f"Go gdummy ({ver}) -> null, {p['dummy_s']} s",
                                                  stop_after=p["dummy_s"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res


def cpu(r):
    return r["cpu_s"] if r else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_s(x):
    return "failed" if x is None else f"{x:.2f}"


def verdict(x, target):
    if x is None:
        return "not measured"
    return f"≤ {target}: {'met' if x <= target else '**missed**'}"


def table(res):
    """The markdown table of the real-Fluent-Bit rows (or the line saying how to get them)."""
    if not res or res.get("skipped"):
        return f"Real Fluent Bit rows: not run ({res.get('skipped', HOW_TO) if res else HOW_TO})."
    p, r = res["params"], res["rows"]
    head = (f"In a real Fluent Bit ({res['version']}): whole-process CPU seconds (user + system, every thread), "
            f"best of {p['runs']} ({res.get('timed_runs', 1)} for the timed dummy runs); lines of {LINE_BYTES} bytes.\n\n"
            "| workload | ours | native | ours/native | target |\n|---|---|---|---|---|")
    out = [head]

    def line(label, ours, native, target=None):
        x = ratio(ours, native)
        judged = "" if target is None else "smoke run: not judged" if res.get("quick") else verdict(x, target)
        out.append(f"| {label} | {fmt_s(ours)} | {fmt_s(native)} | {'' if x is None else f'{x:.2f}'} | {judged} |")

    n = p["lines"]
    line(f"tail → null, {n:,} lines (gtail vs tail)", cpu(r.get("tail_null_ours")), cpu(r.get("tail_null_native")), 0.5)
    su_o, su_n = cpu(r.get("startup_ours")), cpu(r.get("startup_native"))
    if None not in (su_o, su_n, cpu(r.get("tail_null_ours")), cpu(r.get("tail_null_native"))):
        line(f"  the same above start-up and exit (a 1-line file: {su_o:.2f} / {su_n:.2f})",
             cpu(r["tail_null_ours"]) - su_o, cpu(r["tail_null_native"]) - su_n)
    if "cri_null_ours" in r or "cri_null_native" in r:
        line(f"tail → null with `multiline.parser cri`, {n:,} CRI lines, 1 in 10 a P part (gtail vs tail)",
             cpu(r.get("cri_null_ours")), cpu(r.get("cri_null_native")), 0.5)
    base = cpu(r.get("in_out"))
    for fmt in ("json_lines", "msgpack"):
        g, s = cpu(r.get(f"gstdout_{fmt}")), cpu(r.get(f"stdout_{fmt}"))
        line(f"tail → gstdout vs stdout `{fmt}`, {p['out_lines']:,} lines (whole run)", g, s)
        line(f"  the output alone: minus tail → null of the same file ({fmt_s(base)})",
             None if g is None or base is None else g - base, None if s is None or base is None else s - base, 0.2)
    line(f"gdummy vs dummy, rate {RATE_HIGH:,}, {p['dummy_s']} s", cpu(r.get(f"gdummy_{RATE_HIGH}")),
         cpu(r.get(f"dummy_{RATE_HIGH}")), 0.1)
    line(f"gdummy vs dummy, rate 1, {p['dummy_s']} s (idle cost)", cpu(r.get("gdummy_1")), cpu(r.get("dummy_1")))
    rss = [f"{k} {v['rss_kb'] // 1024} MiB" for k, v in sorted(r.items()) if v and k in (
        "tail_null_ours", "tail_null_native", "cri_null_ours", "cri_null_native", "gstdout_json_lines",
        "stdout_json_lines")]
    if rss:
        out.append(f"\nPeak RSS: {', '.join(rss)}.")
    go = res.get("go") or {}
    if go:
        gl = p["go_lines"]
        gb = cpu(r.get("in_go"))
        per = []
        for label, row in [("native stdout msgpack", r.get("go_base_stdout")), ("gstdout msgpack", r.get("go_base_gstdout"))] + \
                [(f"Go {k}", v) for k, v in sorted(go.items()) if k.startswith("gstdout")]:
            if row and gb is not None:
                per.append(f"{label} {(row['cpu_s'] - gb) / gl * 1e6:.2f} µs")
        if per:
            out.append(f"\nGo plugins in the same Fluent Bit: output CPU per record above native tail → null "
                       f"({gl:,} lines): {', '.join(per)}.")
        idle = [f"Go {k} {v['cpu_s']:.2f} s" for k, v in sorted(go.items()) if k.startswith("gdummy") and v]
        if idle:
            out.append(f"One record per second for {p['dummy_s']} s (Fluent Bit collects a proxy input once a second): "
                       f"{', '.join(idle)}, gdummy {fmt_s(cpu(r.get('gdummy_1')))} s, "
                       f"native dummy {fmt_s(cpu(r.get('dummy_1')))} s CPU.")
    return "\n".join(out)


def failed(res):
    """Rows of ours or native that ran and failed (a lost record, a crash, an error line), for
    bench/run.py's exit code. A Go row that fails is logged, not fatal: it is someone else's runtime."""
    if not res or res.get("skipped"):
        return []
    return [k for k, v in res["rows"].items() if v is None]


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    result = run(quick)
    print(table(result))
    sys.exit(1 if failed(result) else 0)
