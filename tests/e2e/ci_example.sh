#!/bin/sh
# ci_example.sh - what a CI job does with the emulator, end to end (the
# README's GitHub Actions example runs this file; `make test` too):
#   step 1/5: the app package under test, made the way the tutorial does;
#   step 2/5: haas-emu started seeded (product, device with a fixed secret,
#             group, app, the version, a task) on a throw-away data directory;
#   step 3/5: a simulated Core2 (haas-device) with the old app, online;
#   step 4/5: the task pushed, and the device's result awaited (deadline);
#   step 5/5: the result asserted through the REST API and on the device's flash.
# Exit status 0 means the upgrade worked. On failure it names the step and
# the check that failed, prints the last 30 lines of the emulator's and the
# device's logs, and keeps everything (logs, seed, flash) in
# tests/out/ci-example/ for the CI job to upload.
#
# Needs: a POSIX shell, curl, jq, python3 (only to pick two free loopback
# ports), and build/haas-emu + build/haas-device (`make`); HAAS_EMU and
# HAAS_DEVICE name other builds.
set -eu
cd "$(dirname "$0")/../.."
EMU=${HAAS_EMU:-build/haas-emu}
DEVICE=${HAAS_DEVICE:-build/haas-device}
KEEP=tests/out/ci-example
WORK=$(mktemp -d)
EMU_PID='' DEV_PID='' STEP='step 0/5: setting up'
step() { STEP="step $1"; echo "ci_example: $STEP"; }
finish() {
    rc=$?
    set +e
    [ -n "$DEV_PID" ] && kill "$DEV_PID" 2>/dev/null && wait "$DEV_PID" 2>/dev/null
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
    if [ "$rc" -ne 0 ]; then
        echo "ci_example: FAILED at $STEP" >&2
        for log in "emulator (haas-emu):emu.log" "device (haas-device):device.log"; do
            file=$WORK/${log##*:}
            echo "---- last 30 lines of the ${log%:*} log, ${log##*:} ----" >&2
            if [ -s "$file" ]; then tail -n 30 "$file" >&2
            elif [ -e "$file" ]; then echo "(empty)" >&2
            else echo "(not started)" >&2; fi
        done
        kept=
        rm -rf "$KEEP" && mkdir -p "$KEEP" && cp -R "$WORK/." "$KEEP/" && kept="; logs, seed and flash kept in $KEEP/"
        echo "ci_example: FAILED at $STEP (the logs' last lines above$kept)" >&2
    else
        rm -rf "$KEEP"  # an earlier failure's
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it
# succeeds; gives up at the deadline, or at once when a process named in
# $WATCH ("name:pid ...") has exited.
WATCH=
wait_until() {
    secs=$1 what=$2; shift 2; deadline=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        for p in $WATCH; do
            kill -0 "${p##*:}" 2>/dev/null || { echo "ci_example: ${p%:*} exited while waiting for: $what" >&2; return 1; }
        done
        [ "$(date +%s)" -lt "$deadline" ] || { echo "ci_example: timed out after $secs s: $what" >&2; return 1; }
        sleep 0.1
    done
}
# expect WHAT JQ-FILTER [FILE]: the JSON on stdin (or FILE) satisfies the
# filter; else names WHAT and shows the JSON. Prints nothing when it holds.
expect() {
    what=$1 filter=$2; shift 2
    json=$(cat "$@")
    printf '%s' "$json" | jq -e "$filter" >/dev/null 2>&1 && return 0
    echo "ci_example: expected $what ($filter), got: $json" >&2
    return 1
}

step "1/5: app package"
# tar czf <appName>-<appId>-<version>.tar.gz * inside the app folder
mkdir -p "$WORK/testUpgrade" "$WORK/flash/data/pyamp"
echo 'print("new version upgrade success.")' > "$WORK/testUpgrade/main.py"
echo '{"appName":"python9000","version":"0.0.2","appid":"8800100099990000"}' > "$WORK/testUpgrade/manifest.json"
# shellcheck disable=SC2035 # the tutorial's own command
(cd "$WORK/testUpgrade" && tar czf ../python9000-8800100099990000-0.0.2.tar.gz *)

step "2/5: emulator ready"
HTTP=$(free_port); MQTT=$(free_port)
API=http://127.0.0.1:$HTTP/api/v1
SECRET=oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq
# A version's "file" is relative to the seed file's folder (or absolute).
cat > "$WORK/seed.json" <<JSON
{"products": [{"productKey": "a1CiProduct", "name": "CI",
               "devices": [{"deviceName": "ci-core2", "deviceSecret": "$SECRET"}]}],
 "groups": [{"groupId": "grp-ci", "name": "CI", "devices": [{"productKey": "a1CiProduct", "deviceName": "ci-core2"}]}],
 "apps": [{"appName": "python9000", "appId": "8800100099990000",
           "versions": [{"file": "python9000-8800100099990000-0.0.2.tar.gz"}]}],
 "tasks": [{"taskId": "task-ci", "appId": "8800100099990000", "version": "0.0.2", "groupId": "grp-ci"}]}
JSON
set -- env
if ldd "$EMU" 2>/dev/null | grep -q libasan; then  # the sanitizer build (make test) loads its plugin too
    set -- env "LD_PRELOAD=$(ldd "$EMU" | awk '/libasan/ {print $3}')"
fi
# plain MQTT and HTTP are all this job needs: no TLS listeners (8883, 8443)
"$@" "$EMU" --ephemeral --seed "$WORK/seed.json" --http-port "$HTTP" --mqtt-port "$MQTT" \
    --mqtts-port 0 --https-port 0 > "$WORK/emu.log" 2>&1 &
EMU_PID=$! WATCH="haas-emu:$!"
wait_until 30 "haas-emu answers GET /healthz" curl -fs "http://127.0.0.1:$HTTP/healthz"

step "3/5: device online"
echo '{"appName":"python9000","version":"0.0.1","appid":"8800100099990000"}' > "$WORK/flash/data/pyamp/manifest.json"
echo 'print("Python App Upgrade Program")' > "$WORK/flash/data/pyamp/main.py"
"$DEVICE" --product-key a1CiProduct --device-name ci-core2 --device-secret "$SECRET" \
    --broker "127.0.0.1:$MQTT" --root "$WORK/flash" --no-python --exit-after-result > "$WORK/device.log" 2>&1 &
DEV_PID=$! WATCH="$WATCH haas-device:$!"
device_online() { [ "$(curl -fs "$API/products/a1CiProduct/devices/ci-core2" | jq -r .status)" = online ]; }
wait_until 30 "the device's status is online" device_online

step "4/5: push and the device's result"
WATCH="haas-emu:$EMU_PID"  # the device exits once it has reported its result
curl -fsS -X POST "$API/tasks/task-ci/push" | expect "the task pushed to the one device" '.pushed == 1'
task_done() { curl -fs "$API/tasks/task-ci" | jq -e '.devices[0].state == "succeeded" or .devices[0].state == "failed"'; }
wait_until 60 "the task's device state is succeeded or failed" task_done

step "5/5: verdict"
curl -fsS "$API/tasks/task-ci" |
    expect "the task succeeded (code 200)" '.devices[0].state == "succeeded" and .devices[0].code == 200 and .counts.succeeded == 1'
curl -fsS "$API/products/a1CiProduct/devices/ci-core2" |
    expect "the device to report 0.0.2" '.apps == [{"appId": "8800100099990000", "version": "0.0.2"}]'
expect "0.0.2 on the device's flash" '.version == "0.0.2"' "$WORK/flash/data/pyamp/manifest.json"
wait "$DEV_PID" || { DEV_PID=; echo "ci_example: haas-device exited with an error" >&2; exit 1; }
DEV_PID=
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/emu.log" "$WORK/device.log" >&2; then
    echo "ci_example: a sanitizer report (above)" >&2
    exit 1
fi
echo "ci_example: the device upgraded to 0.0.2 and the task says succeeded"
