#!/usr/bin/env bash
# make sanitize, part 2: the SDK's worker test input and test output through a ThreadSanitizer build
# of flb-host (GCC's libtsan; c-host/tsan/compat.c supplies the three entry points Rust's LLVM emits
# that it lacks), both plugins built with -Zsanitizer=thread. Fails on any TSan report, on a lost or
# repeated record, or on acks that disagree with what the worker wrote.
# Usage: c-host/tsan/run.sh <dir holding libin_sdkworker.so and libout_sdktest.so>
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
host() {
    local log=$1; shift
    local rc=0
    timeout 300 "${norand[@]}" "$out/flb-host" "$@" >"$log.out" 2>"$log.err" || rc=$?
    if [ $rc != 0 ] && grep -q "unexpected memory mapping" "$log.err"; then
        echo "note: libtsan refused this address-space layout; starting again"
        rc=0; timeout 300 "${norand[@]}" "$out/flb-host" "$@" >"$log.out" 2>"$log.err" || rc=$?
    fi
    return $rc
}
run() {
    local name=$1 total=$2; shift 2
    local log=$out/$name
    if ! host "$log" -e "$plugins/libin_sdkworker.so" -e "$plugins/libout_sdktest.so" \
        -i sdkworker_in -p total="$total" "$@" --interval 0.1 --flush 0.2 --pause-after 0.3 \
        --resume-after 0.6 --max-records "$total" --duration 60; then
        echo "FAIL tsan $name: flb-host exited non-zero (see $log.err); its last lines:"
        tail -n 60 "$log.err" | sed 's/^/    /'; status=1; return
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
run direct-append-workers4 200000 -o sdktest_out -m 'worker.*' -p workers=4
run instance-tag 100000 -p direct=off -o sdktest_out -m '*' -p workers=2 --no-direct-append
exit $status
