#!/bin/sh
# Build the Go baseline plugins (bench/go/README.md) as c-shared objects.
#
#   bench/go/build.sh [OUTDIR]        (default: <repo>/target/bench-plugins)
#
# Toolchains: Go 1.23 from /usr/lib/go-1.23/bin/go (Debian bookworm-backports,
# see bench/scripts/install-go.sh), else $GO, else `go` on PATH; plus Go 1.19
# from /usr/lib/go-1.19/bin/go when installed (secondary row only).
# Outputs, per toolchain X.Y:
#   in_gdummy_goX.Y.so                faithful gdummy (1 s sleep, leaking cleanup)
#   in_gdummy_goX.Y_nosleep.so        same without the sleep (per-call cost)
#   in_gdummy_goX.Y_fixed.so          no sleep, cleanup frees the buffer
#   out_gstdout_goX.Y.so              faithful gstdout
#   go-versions.json                  { "<file>": "goX.Y.Z", ... }
#
# Offline by default: GOPATH mode (GO111MODULE=off) against Debian's
# golang-github-ugorji-go-codec-dev in /usr/share/gocode. If that package is
# missing, module mode is tried instead (needs a Go module proxy), or force it
# with FLB_GO_MODE=module. Without any Go, prints a message and exits 0.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/target/bench-plugins}
mkdir -p "$out"
out=$(cd "$out" && pwd)
versions_json=$out/go-versions.json

say() { echo "bench/go/build.sh: $*"; }

# Files of ours from an earlier build (possibly with another toolchain).
rm -f "$out"/in_gdummy_go*.so "$out"/out_gstdout_go*.so "$out"/in_gdummy_go*.h "$out"/out_gstdout_go*.h

# ---- toolchains -------------------------------------------------------------
primary=
if [ -x /usr/lib/go-1.23/bin/go ]; then
    primary=/usr/lib/go-1.23/bin/go
elif [ -n "${GO:-}" ] && command -v "$GO" >/dev/null 2>&1; then
    primary=$(command -v "$GO")
elif command -v go >/dev/null 2>&1; then
    primary=$(command -v go)
fi
if [ -z "$primary" ]; then
    say "Go not installed: skipping Go baselines (run bench/scripts/install-go.sh as root)"
    echo '{}' >"$versions_json"
    exit 0
fi
toolchains=$primary
secondary=/usr/lib/go-1.19/bin/go
if [ -x "$secondary" ] && [ "$(readlink -f "$secondary")" != "$(readlink -f "$primary")" ]; then
    toolchains="$primary $secondary"
fi

codec_dir=/usr/share/gocode/src/github.com/ugorji/go/codec
mode=${FLB_GO_MODE:-auto}
if [ "$mode" = auto ]; then
    if [ -d "$codec_dir" ]; then mode=gopath; else mode=module auto_module=1; fi
fi
case $mode in
gopath)
    # Private GOPATH holding our own packages under the import path flbbench/.
    gopath=$repo/target/go-gopath
    mkdir -p "$gopath/src"
    ln -sfn "$here" "$gopath/src/flbbench"
    ;;
module)
    say "ugorji codec not found in /usr/share/gocode (or FLB_GO_MODE=module): using module mode, needs a Go module proxy"
    ;;
*)
    say "FLB_GO_MODE must be auto, gopath or module (got '$mode')" >&2
    exit 2
    ;;
esac

export CGO_ENABLED=1
export GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$repo/target/go-cache}
mkdir -p "$GOCACHE"

# flbgo/proxy compiles against include/flb_plugin.h (#cgo CFLAGS: -I${SRCDIR}/...).
# Go's build cache does not hash headers from outside a package's directory: after a
# change of the header it would reuse the package compiled against the old one (its
# constants and struct offsets). The header's hash in the cgo flags is part of every
# cgo package's cache key, so a new header rebuilds them.
header=$repo/include/flb_plugin.h
if [ ! -f "$header" ]; then
    say "ERROR: $header missing (the Go glue includes it; \`make headers\` writes it)" >&2
    exit 1
fi
header_sum=$(sha256sum "$header" | cut -c1-16)
export CGO_CPPFLAGS="${CGO_CPPFLAGS:+$CGO_CPPFLAGS }-DFLB_PLUGIN_H_SHA256_16=$header_sum"

# go_build GO OUTFILE TAGS PACKAGE
go_build() {
    rc=0
    rm -f "$2"
    if [ "$mode" = gopath ]; then
        (cd "$out" && GO111MODULE=off GOFLAGS= GOPATH="$gopath:/usr/share/gocode" \
            "$1" build -trimpath -buildmode=c-shared -tags "$3" -o "$2" "flbbench/$4") || rc=$?
    else
        (cd "$here" && GO111MODULE=on "$1" build -trimpath -buildmode=c-shared -tags "$3" -o "$2" "./$4") || rc=$?
    fi
    rm -f "${2%.so}.h"
    [ "$rc" -eq 0 ] && [ -s "$2" ]
}

json_entries=
status=0
for go in $toolchains; do
    full=$("$go" env GOVERSION 2>/dev/null || "$go" version | awk '{print $3}')
    label=$(echo "$full" | sed -E 's/^go([0-9]+)\.([0-9]+).*/\1.\2/')
    say "building with $("$go" version) ($go), $mode mode"
    case $label in
    1.19 | 1.2[0-2]) [ "$go" = "$primary" ] &&
        say "WARNING: only Go $label found; its cgo calls cost several times Go 1.23's, label rows accordingly" ;;
    esac
    built=
    for spec in "in_gdummy::in_gdummy_go$label.so" \
        "in_gdummy:nosleep:in_gdummy_go${label}_nosleep.so" \
        "in_gdummy:nosleep,fixed:in_gdummy_go${label}_fixed.so" \
        "out_gstdout::out_gstdout_go$label.so"; do
        pkg=${spec%%:*}
        rest=${spec#*:}
        tags=${rest%%:*}
        file=${rest#*:}
        if go_build "$go" "$out/$file" "$tags" "$pkg"; then
            built="$built $file"
            json_entries="$json_entries${json_entries:+,
}  \"$file\": \"$full\""
        else
            say "ERROR: building $file with $full failed"
            [ "$go" = "$primary" ] && status=1
        fi
    done
    say "built with $full:$built"
done

printf '{\n%s\n}\n' "$json_entries" >"$versions_json"
say "wrote $versions_json"
if [ "$status" -ne 0 ] && [ -n "${auto_module:-}" ] && [ -z "$json_entries" ]; then
    # An environment problem (no codec package, no module proxy), not a bug.
    say "Go msgpack codec unavailable (install golang-github-ugorji-go-codec-dev): skipping Go baselines"
    exit 0
fi
exit $status
