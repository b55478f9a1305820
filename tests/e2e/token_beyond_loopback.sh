#!/bin/sh
# token_beyond_loopback.sh - bound beyond loopback, haas-emu protects its
# management API with a token it prints at start, while device-facing paths
# stay open. Runs in a network namespace of its own (unshare -n) where a
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
    env $EMU_ENV "$EMU" --bind 10.231.0.1 --http-port 8080 --mqtt-port 1883 --ephemeral > "$WORK/emu.log" 2>&1 &
    pid=$!
    n=0
    until curl -fs http://10.231.0.1:8080/healthz >/dev/null; do
        n=$((n + 1)); [ $n -ge 300 ] && { cat "$WORK/emu.log"; exit 1; }; sleep 0.1
    done
    token=$(sed -n "s/.*need this token (beyond loopback): \([A-Za-z0-9]*\).*/\1/p" "$WORK/emu.log")
    [ -n "$token" ] || { echo "no token printed"; cat "$WORK/emu.log"; exit 1; }
    code=$(curl -s -o /dev/null -w "%{http_code}" http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 401 ] || { echo "without the token: $code"; exit 1; }
    code=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $token" http://10.231.0.1:8080/api/v1/products)
    [ "$code" = 200 ] || { echo "with the token: $code"; exit 1; }
    code=$(curl -s -o /dev/null -w "%{http_code}" http://10.231.0.1:8080/healthz)
    [ "$code" = 200 ] || { echo "healthz: $code"; exit 1; }
    kill $pid; wait $pid
    if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/emu.log"; then exit 1; fi
'
echo "token_beyond_loopback: 401 without the printed token, 200 with it"
