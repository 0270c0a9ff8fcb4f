#!/bin/sh
# Build the C floor plugins (bench/c-floor/README.md).
#
#   bench/c-floor/build.sh [OUTDIR]     (default: <repo>/target/bench-plugins)
#
# Outputs OUTDIR/in_cfloor.so (input "cfloor") and OUTDIR/out_cfloor.so
# (output "cfloorout"). CC and CFLAGS may be overridden from the environment.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/target/bench-plugins}
mkdir -p "$out"

cc=${CC:-cc}
cflags=${CFLAGS:--O2}
for p in in_cfloor out_cfloor; do
    # shellcheck disable=SC2086 # CFLAGS is a list of flags
    "$cc" $cflags -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror -I"$repo/include" \
        -o "$out/$p.so" "$here/$p.c"
    echo "bench/c-floor/build.sh: built $out/$p.so"
done
