#!/bin/sh
# token_beyond_loopback.sh - bound beyond loopback, haas-emu protects its
# management API with a token it prints at start and keeps in the data
# directory (the same after a restart, a new one with --rotate-api-token),
# while device-facing paths stay open. Runs in a network namespace of its own (unshare -n) where a
# non-loopback address (10.231.0.1) is added to that namespace's own lo: a
# real "beyond loopback" bind that no other machine can reach. Needs root
# (CI runs as root).
set -eu
cd "$(dirname "$0")/../.."
EMU=${HAAS_EMU:-build/haas-emu}
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
    echo "token_beyond_loopback: needs root, unshare and ip (iproute2)" >&2
    exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
EMU_ENV=
if ldd "$EMU" 2>/dev/null | grep -q libasan; then
    EMU_ENV="LD_PRELOAD=$(ldd "$EMU" | awk '/libasan/ {print $3}')"
fi
export EMU EMU_ENV WORK
unshare -n sh -eu -c '
    ip link set lo up
    ip addr add 10.231.0.1/32 dev lo
    # start [ARGS...]: haas-emu on 10.231.0.1 with its data in $WORK/data, until /healthz answers
    start() {
        env $EMU_ENV "$EMU" --bind 10.231.0.1 --http-port 8080 --mqtt-port 1883 --data-dir "$WORK/data" "$@" \
            > "$WORK/emu.log" 2>&1 &
        pid=$!
        n=0
        until curl -fs http://10.231.0.1:8080/healthz >/dev/null; do
            n=$((n + 1)); [ $n -ge 300 ] && { cat "$WORK/emu.log"; exit 1; }; sleep 0.1
        done
        token=$(sed -n "s/.*need this token .*: \([A-Za-z0-9]*\)$/\1/p" "$WORK/emu.log" | tail -1)
        [ -n "$token" ] || { echo "no token printed"; cat "$WORK/emu.log"; exit 1; }
    }
    stop() {
        kill $pid; wait $pid
        if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/emu.log"; then exit 1; fi
    }
    status() { curl -s -o /dev/null -w "%{http_code}" "$@"; }
    start
    first=$token
    code=$(status http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 401 ] || { echo "without the token: $code"; exit 1; }
    code=$(status -H "Authorization: Bearer $token" http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 200 ] || { echo "with the token: $code"; exit 1; }
    code=$(status http://10.231.0.1:8080/healthz)
    [ "$code" = 200 ] || { echo "healthz: $code"; exit 1; }
    stop
    # the token is kept: a restart prints and takes the same one
    start
    [ "$token" = "$first" ] || { echo "the token changed across a restart: $first -> $token"; exit 1; }
    code=$(status -H "Authorization: Bearer $first" http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 200 ] || { echo "the kept token after a restart: $code"; exit 1; }
    stop
    # rotated: a new one, and the old one no longer works
    start --rotate-api-token
    [ "$token" != "$first" ] || { echo "--rotate-api-token kept the old token"; exit 1; }
    code=$(status -H "Authorization: Bearer $first" http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 401 ] || { echo "the rotated-out token: $code"; exit 1; }
    code=$(status -H "Authorization: Bearer $token" http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 200 ] || { echo "the new token: $code"; exit 1; }
    stop
    # bound to every address (of this namespace only) with package URLs on
    # loopback: said at start, with the fix
    env $EMU_ENV "$EMU" --bind 0.0.0.0 --http-port 8080 --mqtt-port 1883 --data-dir "$WORK/data" > "$WORK/emu.log" 2>&1 &
    pid=$!
    n=0
    until grep -q "haas-emu ready" "$WORK/emu.log"; do
        n=$((n + 1)); [ $n -ge 300 ] && { cat "$WORK/emu.log"; exit 1; }; sleep 0.1
    done
    grep -q "which other machines cannot reach: pass --public-url" "$WORK/emu.log" || { cat "$WORK/emu.log"; exit 1; }
    stop
    # a compose tool that passed ${HAAS_API_TOKEN:-} unexpanded: refused, with the fix
    if HAAS_API_TOKEN="\${HAAS_API_TOKEN:-}" env $EMU_ENV "$EMU" --data-dir "$WORK/data" > "$WORK/literal.log" 2>&1; then
        echo "a literal \${...} token was accepted"; exit 1
    fi
    grep -q "passed the variable without expanding it" "$WORK/literal.log" || { cat "$WORK/literal.log"; exit 1; }
'
echo "token_beyond_loopback: 401 without the printed token, 200 with it; kept across restarts, rotated on request"
