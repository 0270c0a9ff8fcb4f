#!/bin/sh
# Install the Go toolchains and the msgpack codec the Go baseline plugins
# (bench/go/) are built with, from Debian only (no Go module proxy needed).
#
#   golang-1.23-go                      bookworm-backports, /usr/lib/go-1.23/bin/go
#   golang-github-ugorji-go-codec-dev   bookworm, sources in /usr/share/gocode/src
#   golang-1.19-go  (optional)          bookworm's default Go, for a secondary row;
#                                       skipped with INSTALL_GO119=0
#
# Idempotent; meant to run as root on a fresh Debian 12 (bookworm) machine.
# Never fails the caller: if anything goes wrong it prints a warning and exits
# 0, and the benchmarks then report "Go not installed" in the Go rows.
set -u

warn() { echo "install-go.sh: WARNING: $*" >&2; }
info() { echo "install-go.sh: $*"; }

GO123=/usr/lib/go-1.23/bin/go
GO119=/usr/lib/go-1.19/bin/go
CODEC=/usr/share/gocode/src/github.com/ugorji/go/codec
INSTALL_GO119=${INSTALL_GO119:-1}

have_all() {
    [ -x "$GO123" ] && [ -d "$CODEC" ] || return 1
    [ "$INSTALL_GO119" = 0 ] || [ -x "$GO119" ] || return 1
    return 0
}

if have_all; then
    info "already installed: $("$GO123" version)"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n env INSTALL_GO119="$INSTALL_GO119" sh "$0" "$@"
    fi
    warn "not root and no passwordless sudo: cannot install Go; Go baselines will be skipped"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    warn "apt-get not found (not Debian?): Go baselines will be skipped"
    exit 0
fi

codename=
if [ -r /etc/os-release ]; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
fi
if [ "$codename" != bookworm ]; then
    warn "this script targets Debian bookworm (found '${codename:-unknown}'); trying anyway"
    [ -n "$codename" ] || codename=bookworm
fi
BP="$codename-backports"

# ---- 1. make sure the backports suite is in the apt sources -----------------
backports_present() {
    grep -rqsE "(^|[[:space:]])$BP([[:space:]]|\$)" \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null
}

# edit_sources FILE AWK_PROGRAM: run the program over FILE (with cn=$codename
# and bp=$BP set); when it exits 0, back FILE up to /var/backups and replace
# its content with the program's output. Returns the program's status (3 when
# it found nothing to extend), FILE unchanged unless 0.
edit_sources() {
    f=$1
    tmp=$(mktemp) || return 1
    awk -v cn="$codename" -v bp="$BP" "$2" "$f" >"$tmp"
    rc=$?
    if [ $rc -eq 0 ]; then
        cp "$f" "/var/backups/$(basename "$f").install-go.bak" 2>/dev/null
        cat "$tmp" >"$f"
    fi
    rm -f "$tmp"
    return $rc
}

add_backports_deb822() {
    # Add $BP to the Suites: line of the first enabled stanza that points at
    # the main Debian archive (URIs ending in /debian) and lists $codename.
    edit_sources "$1" '
        function flush() {
            if (n == 0) return
            if (!done && isdeb && hascn && !disabled && suites_line > 0) {
                buf[suites_line] = buf[suites_line] " " bp
                done = 1
            }
            for (i = 1; i <= n; i++) print buf[i]
            n = 0; isdeb = 0; hascn = 0; disabled = 0; suites_line = 0
        }
        /^[[:space:]]*$/ { flush(); print; next }
        {
            buf[++n] = $0
            if ($0 ~ /^URIs:/ && $0 ~ /\/debian\/?([[:space:]]|$)/) isdeb = 1
            if ($0 ~ /^Enabled:[[:space:]]*no/) disabled = 1
            if ($0 ~ /^Suites:/) {
                for (i = 2; i <= NF; i++) if ($i == cn) hascn = 1
                suites_line = n
            }
        }
        END { flush(); if (!done) exit 3 }
    '
}

add_backports_list() {
    # Classic one-line format: copy the first "deb <debian mirror> $codename ..."
    # line with the suite replaced by $BP, right after it.
    edit_sources "$1" '
        {
            print
            if (!done && $1 == "deb") {
                # skip options in [...] to find URI and suite
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                uri = $(i); suite = $(i + 1)
                if (suite == cn && uri ~ /\/debian\/?$/) {
                    line = $0
                    sub("[[:space:]]" cn "([[:space:]]|$)", " " bp " ", line)
                    sub(/[[:space:]]+$/, "", line)
                    print line
                    done = 1
                }
            }
        }
        END { if (!done) exit 3 }
    '
}

if backports_present; then
    info "$BP already in apt sources"
else
    added=
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        if add_backports_deb822 "$f"; then added=$f; break; fi
    done
    if [ -z "$added" ]; then
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            if add_backports_list "$f"; then added=$f; break; fi
        done
    fi
    if [ -z "$added" ]; then
        # No Debian archive entry found to extend: add a stanza of our own.
        added=/etc/apt/sources.list.d/$BP.sources
        {
            echo "Types: deb"
            echo "URIs: http://deb.debian.org/debian"
            echo "Suites: $BP"
            echo "Components: main"
            echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
        } >"$added" || { warn "cannot write $added"; exit 0; }
    fi
    info "added $BP to $added"
fi

# ---- 2. install ------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q; then
    warn "apt-get update failed (continuing; the install may still work from cache)"
fi

if ! apt-get install -y -q --no-install-recommends golang-1.23-go golang-github-ugorji-go-codec-dev; then
    warn "could not install golang-1.23-go / golang-github-ugorji-go-codec-dev: Go baselines will be skipped"
    exit 0
fi

if [ "$INSTALL_GO119" != 0 ] && [ ! -x "$GO119" ]; then
    # Secondary row only (Debian 12's default Go); failure is not a problem.
    apt-get install -y -q --no-install-recommends golang-1.19-go ||
        warn "golang-1.19-go not installed: no Go 1.19 row"
fi

if [ -x "$GO123" ]; then
    info "installed: $("$GO123" version)"
else
    warn "$GO123 missing after install: Go baselines will be skipped"
fi
[ -x "$GO119" ] && info "installed: $("$GO119" version)"
exit 0
