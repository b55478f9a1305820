#!/bin/sh
# virtual_clock_repeat.sh - a whole scenario under the virtual clock, run
# twice, must give byte-identical transcripts: with --clock virtual and
# --random-seed, the ids, secrets, trace ids, message ids and timestamps of
# the REST answers and of the MQTT messages between the emulator and the
# device repeat from run to run (docs/protocol.md: the clock). The
# scenario: a product and a device made through the API (generated key and
# secret), a seeded app version, a group and a task; a simulated Core2
# (haas-device) upgrades; the clock is moved 2 minutes; a second task to an
# offline device; a package URL expires. The transcript is every REST
# answer and the message log (the broker's lifecycle notices aside: they
# carry the broker's own wall-clock time and client port).
#
# Needs: curl, jq, python3 (to pick free ports), build/haas-emu and
# build/haas-device (HAAS_EMU, HAAS_DEVICE name other builds).
set -eu
cd "$(dirname "$0")/../.."
EMU=${HAAS_EMU:-build/haas-emu}
DEVICE=${HAAS_DEVICE:-build/haas-device}
WORK=$(mktemp -d)
KEEP=tests/out/virtual-clock-repeat
EMU_PID='' DEV_PID=''
stop() {
    [ -n "$DEV_PID" ] && kill "$DEV_PID" 2>/dev/null && wait "$DEV_PID" 2>/dev/null
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
    DEV_PID='' EMU_PID=''
}
finish() {
    rc=$?
    set +e
    stop
    if [ "$rc" -ne 0 ]; then
        rm -rf "$KEEP" && mkdir -p "$KEEP" && cp -R "$WORK/." "$KEEP/"
        echo "virtual_clock_repeat: FAILED (everything kept in $KEEP/)" >&2
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap finish EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_until() {  # SECONDS WHAT COMMAND...
    secs=$1 what=$2; shift 2; deadline=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "virtual_clock_repeat: timed out: $what" >&2; return 1; }
        sleep 0.1
    done
}
preload() {  # the sanitizer build loads its plugin too
    if ldd "$EMU" 2>/dev/null | grep -q libasan; then echo "LD_PRELOAD=$(ldd "$EMU" | awk '/libasan/ {print $3}')"; fi
}

mkdir -p "$WORK/pkg"
echo 'print("new version upgrade success.")' > "$WORK/pkg/main.py"
echo '{"appName":"python9000","version":"0.0.2","appid":"8800100099990000"}' > "$WORK/pkg/manifest.json"
(cd "$WORK/pkg" && tar czf ../python9000-8800100099990000-0.0.2.tar.gz main.py manifest.json)
cat > "$WORK/seed.json" <<JSON
{"apps": [{"appName": "python9000", "appId": "8800100099990000",
           "versions": [{"file": "python9000-8800100099990000-0.0.2.tar.gz"}]}]}
JSON

# run N: the scenario, its transcript into $WORK/transcript-N
run() {
    out=$WORK/transcript-$1 flash=$WORK/flash-$1
    API=http://127.0.0.1:$HTTP/api/v1
    env $(preload) "$EMU" --ephemeral --seed "$WORK/seed.json" --clock virtual --random-seed 42 \
        --http-port "$HTTP" --mqtt-port "$MQTT" --mqtts-port 0 --https-port 0 --url-ttl 60 \
        > "$WORK/emu-$1.log" 2>&1 &
    EMU_PID=$!
    wait_until 30 "haas-emu ready" curl -fs "http://127.0.0.1:$HTTP/healthz"
    say() { printf '== %s\n' "$1" >> "$out"; shift; "$@" | jq -S . | tee "$WORK/last.json" >> "$out"; }
    post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$API$1"; }
    say product post /products '{"name":"repeat"}'
    PK=$(jq -r .productKey < "$WORK/last.json")
    say device post "/products/$PK/devices" '{"deviceName":"core2-01"}'
    say device-2 post "/products/$PK/devices" '{"deviceName":"core2-02"}'
    DS=$(curl -fs "$API/products/$PK/devices/core2-01" | jq -r .deviceSecret)
    say group post /groups '{"name":"repeat"}'
    GID=$(jq -r .groupId < "$WORK/last.json")
    say members post "/groups/$GID/devices" "{\"devices\":[{\"productKey\":\"$PK\",\"deviceName\":\"core2-01\"}]}"
    say task post /tasks "{\"appId\":\"8800100099990000\",\"version\":\"0.0.2\",\"groupId\":\"$GID\",\"timeoutSeconds\":30}"
    TID=$(jq -r .taskId < "$WORK/last.json")
    mkdir -p "$flash/data/pyamp"
    echo '{"appName":"python9000","version":"0.0.1","appid":"8800100099990000"}' > "$flash/data/pyamp/manifest.json"
    echo 'print("v1")' > "$flash/data/pyamp/main.py"
    "$DEVICE" --product-key "$PK" --device-name core2-01 --device-secret "$DS" --broker "127.0.0.1:$MQTT" \
        --root "$flash" --no-python --exit-after-result > "$WORK/device-$1.log" 2>&1 &
    DEV_PID=$!
    online() { [ "$(curl -fs "$API/products/$PK/devices/core2-01" | jq -r .status)" = online ]; }
    wait_until 30 "device online" online
    queried() { curl -fs "$API/products/$PK/devices/core2-01" | jq -e '.apps | length == 1'; }
    wait_until 30 "device reported its app" queried
    say push post "/tasks/$TID/push" ''
    done_() { curl -fs "$API/tasks/$TID" | jq -e '.devices[0].state == "succeeded"'; }
    wait_until 60 "task succeeded" done_
    wait "$DEV_PID"; DEV_PID=''
    say clock post /clock '{"advanceSeconds":120}'
    say task-2 post /tasks "{\"appId\":\"8800100099990000\",\"version\":\"0.0.2\",\"groupId\":\"$GID\"}"
    say version curl -fsS "$API/apps/8800100099990000/versions/0.0.2"
    URL=$(curl -fs "$API/apps/8800100099990000/versions/0.0.2" | jq -r .url)
    say clock-2 post /clock '{"advanceSeconds":61}'
    printf '== expired\n%s\n' "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" >> "$out"
    say task-final curl -fsS "$API/tasks/$TID"
    say device-final curl -fsS "$API/products/$PK/devices/core2-01"
    # the message log; the broker's lifecycle notices carry its own wall clock
    curl -fsS "$API/messages?limit=500" | jq -S '[.items[] | select(.kind != "status")]' >> "$out"
    stop
}

# the same ports both times: they are in the package URLs
HTTP=$(free_port); MQTT=$(free_port)
run 1
run 2
if ! diff -u "$WORK/transcript-1" "$WORK/transcript-2" > "$WORK/transcript.diff"; then
    head -n 60 "$WORK/transcript.diff" >&2
    echo "virtual_clock_repeat: the two runs differ" >&2
    exit 1
fi
grep -q '"now": "2026-01-01T00:03:01Z"' "$WORK/transcript-1" || { echo "virtual_clock_repeat: the clock did not move as asked" >&2; exit 1; }
grep -qx 403 "$WORK/transcript-1" || { echo "virtual_clock_repeat: the URL did not expire" >&2; exit 1; }
echo "virtual_clock_repeat: two runs, $(wc -l < "$WORK/transcript-1") identical transcript lines"
