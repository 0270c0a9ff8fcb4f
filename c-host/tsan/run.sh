#!/usr/bin/env bash
# make sanitize, part 2: our plugins through a ThreadSanitizer build of flb-host (GCC's libtsan;
# c-host/tsan/compat.c supplies the three entry points Rust's LLVM emits that it lacks), every
# plugin built with -Zsanitizer=thread. The pipelines:
#   - the SDK's worker test input into its test output, 4 and 2 output workers, with pause/resume;
#   - gdummy into gstdout with 4 output workers (gstdout's per-thread buffer pool, its write lock);
#   - gtail into gstdout while rotate_writer.py appends numbered lines and rotates the file by
#     rename 5 times (each file once gtail has opened it), with an offset db, short rotate_wait and
#     refresh_interval, and the input paused and resumed mid-way (gtail's worker thread and its
#     inotify watch, SQLite, the SDK's hand-over).
# Fails on any TSan report, on a lost or repeated record, or on a plugin summary that disagrees.
# Usage: c-host/tsan/run.sh <dir holding libin_sdkworker.so, libout_sdktest.so, libin_gdummy.so,
#        libout_gstdout.so and libin_gtail.so>
set -euo pipefail
cd "$(dirname "$0")/../.."
plugins=$1
out=target/tsan-host
mkdir -p "$out"
# sources and flags from the host's build definition (c-host/sources.mk, through host.mk)
def() { make -s --no-print-directory -f c-host/host.mk "flb-host-print-$1"; }
read -r -a srcs <<<"$(def FLB_HOST_SRCS)"
read -r -a cflags <<<"$(def FLB_HOST_CFLAGS) $(def FLB_HOST_TSAN_FLAGS)"
read -r -a libs <<<"$(def FLB_HOST_LIBS)"
read -r -a shim_flags <<<"$(def FLB_HOST_SHIM_FLAGS) -O1 -fsanitize=thread"
${CC:-cc} "${cflags[@]}" -o "$out/flb-host" "${srcs[@]}" c-host/tsan/compat.c "${libs[@]}"
for shim in $(def FLB_HOST_SHIM_NAMES); do
    ${CC:-cc} "${shim_flags[@]}" -o "$out/libflbhost_$shim.so" "c-host/shim/$shim.c"
done
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$PWD/plugins/sdk/tsan.supp"
# GCC 12's libtsan predates the kernel's larger mmap randomisation (vm.mmap_rnd_bits 32 on recent
# kernels) and dies at start, at random, with "unexpected memory mapping": run without address-space
# randomisation where the machine allows it, and start again once if the runtime still refused.
norand=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norand=(setarch "$(uname -m)" -R); fi
status=0
host_once() {
    local log=$1; shift
    timeout 300 "${norand[@]}" "$out/flb-host" "$@" >"$log.out" 2>"$log.err"
}
refused() {
    if grep -q "unexpected memory mapping" "$1.err"; then
        echo "note: libtsan refused this address-space layout; starting again"
        return 0
    fi
    return 1
}
host() {
    local log=$1 rc=0
    host_once "$@" || rc=$?
    if [ $rc != 0 ] && refused "$log"; then
        rc=0; host_once "$@" || rc=$?
    fi
    return $rc
}
fail_exit() {
    echo "FAIL tsan $1: flb-host exited non-zero (see $2.err); its last lines:"
    tail -n 60 "$2.err" | sed 's/^/    /'; status=1
}
run() {
    local name=$1 total=$2; shift 2
    local log=$out/$name
    if ! host "$log" -e "$plugins/libin_sdkworker.so" -e "$plugins/libout_sdktest.so" \
        -i sdkworker_in -p total="$total" "$@" --interval 0.1 --flush 0.2 --pause-after 0.3 \
        --resume-after 0.6 --max-records "$total" --duration 60; then
        fail_exit "$name" "$log"; return
    fi
    local got uniq
    got=$(grep -c ' n=' "$log.out" || true)
    uniq=$(grep ' n=' "$log.out" | sort -u | wc -l)
    if grep -q "WARNING: ThreadSanitizer" "$log.err"; then
        echo "FAIL tsan $name: ThreadSanitizer report in $log.err"; status=1
    elif [ "$got" != "$total" ] || [ "$uniq" != "$total" ]; then
        echo "FAIL tsan $name: $got records ($uniq distinct), expected $total"; status=1
    elif ! grep -q "mismatches=0 failed_sources=0 worker_joined=true" "$log.err"; then
        echo "FAIL tsan $name: the plugin's summary disagrees (see $log.err)"; status=1
    else
        echo "ok   tsan $name: $total records exactly once, no ThreadSanitizer report"
    fi
}
# gdummy's records are all alike: exactly once is the count, which --max-records cannot mask (a
# repeat would show as more lines than records gdummy made, a loss as a run that never reaches N).
run_gdummy() {
    local name=$1 total=$2; shift 2
    local log=$out/$name
    if ! host "$log" -e "$plugins/libin_gdummy.so" -e "$plugins/libout_gstdout.so" \
        -i gdummy -p samples="$total" -p rate=20000 -p 'dummy={"msg":"hello","n":7}' -t rs \
        -o gstdout -m rs -p format=json_lines "$@" --interval 0.02 --flush 0.05 \
        --max-records "$total" --duration 240; then
        fail_exit "$name" "$log"; return
    fi
    local got good
    got=$(wc -l <"$log.out")
    good=$(grep -c '^{"date":[0-9.]*,"msg":"hello","n":7}$' "$log.out" || true)
    if grep -q "WARNING: ThreadSanitizer" "$log.err"; then
        echo "FAIL tsan $name: ThreadSanitizer report in $log.err"; status=1
    elif [ "$got" != "$total" ] || [ "$good" != "$total" ]; then
        echo "FAIL tsan $name: $got lines ($good as expected), expected $total"; status=1
    elif ! grep -q "records=$total .*records_ok=$total retries=0 dropped=0 errors=0" "$log.err"; then
        echo "FAIL tsan $name: gstdout's summary disagrees (see $log.err)"; status=1
    else
        echo "ok   tsan $name: $total records printed once each, no ThreadSanitizer report"
    fi
}

# Numbered lines: each of 0..total-1 must arrive exactly once, across 5 renames of the file and a
# pause of the input. --max-records ends the run once all arrived; a lost line runs into
# --duration and fails the count.
run_gtail() {
    local name=$1 total=$2 rotations=$3
    local log=$out/$name dir=$out/$name.files
    local rc wrc attempt
    # The writer starts again with the host: a second start must not find the first one's files.
    for attempt in 1 2; do
        rm -rf "$dir"; mkdir -p "$dir"; : >"$dir/app.log"
        python3 c-host/tsan/rotate_writer.py "$dir/app.log" "$total" "$rotations" "$dir/tail.db" \
            >"$log.writer" 2>&1 &
        local writer=$!
        rc=0
        host_once "$log" -e "$plugins/libin_gtail.so" -e "$plugins/libout_gstdout.so" \
            -i gtail -p path="$dir/app.log" -p db="$dir/tail.db" -p read_from_head=on -p rotate_wait=1 \
            -p refresh_interval=0.5 -t app -o gstdout -m '*' -p format=json_lines -p workers=2 \
            --interval 0.05 --flush 0.1 --pause-after 0.8 --resume-after 1.6 \
            --max-records "$total" --duration 240 || rc=$?
        wrc=0
        wait "$writer" || wrc=$?
        if [ $rc = 0 ] || [ $attempt = 2 ] || ! refused "$log"; then break; fi
    done
    if [ $rc != 0 ]; then fail_exit "$name" "$log"; return; fi
    local got uniq dups rotated
    got=$(grep -c '"log":"line [0-9]*"}$' "$log.out" || true)
    uniq=$(grep -o '"log":"line [0-9]*"}$' "$log.out" | sort -u | wc -l)
    dups=$(grep -o '"log":"line [0-9]*"}$' "$log.out" | sort | uniq -d | head -3 | tr '\n' ' ')
    rotated=$(grep -c ': rotated (now ' "$log.err" || true)
    if [ $wrc != 0 ]; then
        echo "FAIL tsan $name: the writer failed (exit $wrc): $(tail -n 3 "$log.writer")"; status=1
    elif grep -q "WARNING: ThreadSanitizer" "$log.err"; then
        echo "FAIL tsan $name: ThreadSanitizer report in $log.err"; status=1
    elif [ "$got" != "$total" ] || [ "$uniq" != "$total" ]; then
        echo "FAIL tsan $name: $got lines ($uniq distinct; repeated: ${dups:-none}), expected $total"
        status=1
    elif [ "$(wc -l <"$log.out")" != "$total" ]; then
        echo "FAIL tsan $name: records other than the writer's lines arrived (see $log.out)"; status=1
    elif [ ! -f "$dir/app.log.$rotations" ]; then
        echo "FAIL tsan $name: the writer did not rotate the file $rotations times"; status=1
    else
        echo "ok   tsan $name: $total lines exactly once across $rotations renames ($rotated seen by gtail)," \
            "no ThreadSanitizer report"
    fi
}

# Each run's wall time, for the cost of make sanitize (README "Sanitizers").
timed() {
    local t0=$SECONDS
    "$@"
    echo "     ($2: $((SECONDS - t0)) s)"
}
timed run direct-append-workers4 200000 -o sdktest_out -m 'worker.*' -p workers=4
timed run instance-tag 100000 -p direct=off -o sdktest_out -m '*' -p workers=2 --no-direct-append
timed run_gdummy gdummy-gstdout-workers4 50000 -p workers=4
timed run_gtail gtail-rotation-pause 30000 5
exit $status
