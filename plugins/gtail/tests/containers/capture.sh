#!/bin/sh
# Regenerates the goldens (*.golden) from a Fluent Bit binary built elsewhere:
#   FLUENT_BIT_BIN=/path/to/fluent-bit ./capture.sh [NAME]
# (NAME: only NAME.golden)
# Each sample goes through the native tail (read_from_head on, the sample's multiline.parser) into
# the native stdout output (msgpack print), which runs 8 s (twice the 4 s multiline flush timeout)
# and is then stopped with SIGTERM. The samples are copied to a fixed directory first, so the
# path_key values in cri-keys.golden do not depend on the checkout's location.
set -eu
: "${FLUENT_BIT_BIN:?set FLUENT_BIT_BIN to a fluent-bit binary}"
only=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
dir=/tmp/gtail-containers-golden
rm -rf "$dir"
mkdir -p "$dir"
cp "$here"/*.log "$dir"/

# run NAME FILE PARSER [more fluent-bit arguments]
run() {
    name=$1 file=$2 parser=$3
    shift 3
    if [ -n "$only" ] && [ "$only" != "$name" ]; then return; fi
    FLUENT_BIT_VERSION=5.1.1 "$FLUENT_BIT_BIN" -i tail -p "path=$dir/$file" -p read_from_head=on \
        -p "multiline.parser=$parser" "$@" -t "$name" -o stdout -m '*' -f 1 \
        >"$here/$name.golden" 2>"$dir/$name.stderr" &
    pid=$!
    sleep 8
    kill -TERM "$pid"
    wait "$pid" || true
}

run cri cri.log cri
run docker docker.log docker
run mixed mixed.log 'docker, cri'
run cri-keys cri.log cri -p path_key=file -p offset_key=off
run cri-bad-time cri-bad-time.log cri
run docker-bad-time docker-bad-time.log docker
run cri-unterminated cri-unterminated.log cri
run cri-times cri-times.log cri
run cri-edges cri-edges.log cri
run docker-times docker-times.log docker
run docker-json docker-json.log docker
run docker-unterminated docker-unterminated.log docker
