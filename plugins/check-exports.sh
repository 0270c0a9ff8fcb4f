#!/usr/bin/env bash
# Checks every plugin .so exports exactly the proxy ABI symbols of its kind (nothing more, nothing
# missing) and that each is declared in the generated header include/flb_plugin.h.
# Usage: plugins/check-exports.sh file.so...
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
header="$here/include/flb_plugin.h"
common="FLBPluginExit FLBPluginInit FLBPluginPreRegister FLBPluginRegister FLBPluginUnregister"
input="$common FLBPluginInputCallback FLBPluginInputCallbackCtx FLBPluginInputCleanupCallback FLBPluginInputCleanupCallbackCtx FLBPluginInputPause FLBPluginInputPreExit FLBPluginInputPreRun FLBPluginInputResume"
output="$common FLBPluginExitCtx FLBPluginFlush FLBPluginFlushCtx FLBPluginOutputPreExit FLBPluginOutputPreRun"
status=0
for so in "$@"; do
    got=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ' | sed 's/ $//')
    if grep -qw FLBPluginFlushCtx <<<"$got"; then kind=output; want=$output; else kind=input; want=$input; fi
    want=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" != "$want" ]; then
        echo "FAIL $so ($kind): exports [$got], expected [$want]"
        status=1
        continue
    fi
    for sym in $got; do
        if ! grep -Eq "^[a-z ]+\**$sym\(" "$header"; then
            echo "FAIL $so: $sym is not declared in include/flb_plugin.h"
            status=1
        fi
    done
    echo "ok   $so ($kind): $(wc -w <<<"$got") ABI symbols, nothing else"
done
exit $status
