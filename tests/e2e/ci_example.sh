#!/bin/sh
# ci_example.sh - what a CI job does with the emulator, end to end, with
# nothing but the shell, curl and jq (the README's GitHub Actions example
# runs this file):
#   1. make the app package under test, the way the tutorial does;
#   2. start haas-emu seeded (product, device with a fixed secret, group,
#      app, the version, a task) on a throw-away data directory;
#   3. run a simulated Core2 (haas-device) with the old app installed;
#   4. push the task and wait, with a deadline, for the device's result;
#   5. assert the result through the REST API and on the device's flash.
# Exit status 0 means the upgrade worked. `make test` runs it.
set -eu
cd "$(dirname "$0")/../.."
EMU=${HAAS_EMU:-build/haas-emu}
DEVICE=${HAAS_DEVICE:-build/haas-device}
WORK=$(mktemp -d)
EMU_PID= DEV_PID=
cleanup() {
    [ -n "$DEV_PID" ] && kill "$DEV_PID" 2>/dev/null || true
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(free_port); MQTT=$(free_port)
API=http://127.0.0.1:$HTTP/api/v1
# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_until() {
    limit=$(( $1 * 10 )); shift; n=0
    until "$@" >/dev/null 2>&1; do
        n=$((n + 1)); [ "$n" -ge "$limit" ] && { echo "timed out: $*" >&2; return 1; }
        sleep 0.1
    done
}

# 1. the package: tar czf <appName>-<appId>-<version>.tar.gz * inside the app folder
mkdir -p "$WORK/testUpgrade" "$WORK/flash/data/pyamp"
echo 'print("new version upgrade success.")' > "$WORK/testUpgrade/main.py"
echo '{"appName":"python9000","version":"0.0.2","appid":"8800100099990000"}' > "$WORK/testUpgrade/manifest.json"
(cd "$WORK/testUpgrade" && tar czf ../python9000-8800100099990000-0.0.2.tar.gz *)

# 2. the emulator, seeded
SECRET=oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq
cat > "$WORK/seed.json" <<JSON
{"products": [{"productKey": "a1CiProduct", "name": "CI",
               "devices": [{"deviceName": "ci-core2", "deviceSecret": "$SECRET"}]}],
 "groups": [{"groupId": "grp-ci", "name": "CI", "devices": [{"productKey": "a1CiProduct", "deviceName": "ci-core2"}]}],
 "apps": [{"appName": "python9000", "appId": "8800100099990000",
           "versions": [{"file": "python9000-8800100099990000-0.0.2.tar.gz"}]}],
 "tasks": [{"taskId": "task-ci", "appId": "8800100099990000", "version": "0.0.2", "groupId": "grp-ci"}]}
JSON
EMU_ENV=
if ldd "$EMU" 2>/dev/null | grep -q libasan; then  # the sanitizer build (make test) loads its plugin too
    EMU_ENV="LD_PRELOAD=$(ldd "$EMU" | awk '/libasan/ {print $3}')"
fi
# plain MQTT and HTTP are all this job needs: no TLS listeners (8883, 8443)
env $EMU_ENV "$EMU" --ephemeral --seed "$WORK/seed.json" --http-port "$HTTP" --mqtt-port "$MQTT" \
    --mqtts-port 0 --https-port 0 > "$WORK/emu.log" 2>&1 &
EMU_PID=$!
wait_until 30 curl -fs "http://127.0.0.1:$HTTP/healthz"

# 3. the device, running version 0.0.1
echo '{"appName":"python9000","version":"0.0.1","appid":"8800100099990000"}' > "$WORK/flash/data/pyamp/manifest.json"
echo 'print("Python App Upgrade Program")' > "$WORK/flash/data/pyamp/main.py"
"$DEVICE" --product-key a1CiProduct --device-name ci-core2 --device-secret "$SECRET" \
    --broker "127.0.0.1:$MQTT" --root "$WORK/flash" --no-python --exit-after-result > "$WORK/device.log" 2>&1 &
DEV_PID=$!
device_online() { [ "$(curl -fs "$API/products/a1CiProduct/devices/ci-core2" | jq -r .status)" = online ]; }
wait_until 30 device_online

# 4. push, and wait for the device's answer
curl -fs -X POST "$API/tasks/task-ci/push" | jq -e '.pushed == 1'
task_done() { curl -fs "$API/tasks/task-ci" | jq -e '.devices[0].state == "succeeded" or .devices[0].state == "failed"'; }
wait_until 60 task_done

# 5. the verdict
curl -fs "$API/tasks/task-ci" | jq -e '.devices[0].state == "succeeded" and .devices[0].code == 200 and .counts.succeeded == 1'
curl -fs "$API/products/a1CiProduct/devices/ci-core2" | jq -e '.apps == [{"appId": "8800100099990000", "version": "0.0.2"}]'
jq -e '.version == "0.0.2"' "$WORK/flash/data/pyamp/manifest.json"
wait "$DEV_PID"; DEV_PID=
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/emu.log" "$WORK/device.log"; then exit 1; fi
echo "ci_example: the device upgraded to 0.0.2 and the task says succeeded"
