#!/bin/sh
# install-deps.sh LIST...: make sure the Debian packages named in the LIST
# files (one per line, '#' comments) are installed. Installs the missing ones
# with apt-get (as root, or through sudo); when it cannot, it names them and
# exits 1, so `make run` / `make test` fail with a clear message instead of a
# compiler error. Silent when everything is already there.
set -eu

missing=""
for list in "$@"; do
    for pkg in $(sed -e 's/#.*//' "$list"); do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        case "$status" in
            *"install ok installed"*) ;;
            *) missing="$missing $pkg" ;;
        esac
    done
done
[ -z "$missing" ] && exit 0

echo "install-deps: missing Debian packages:$missing" >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get here; install the equivalents of:$missing" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    echo "install-deps: not root and no password-less sudo; run:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || true
# shellcheck disable=SC2086
if ! $sudo apt-get install -y -qq --no-install-recommends $missing >&2; then
    echo "install-deps: apt-get could not install:$missing" >&2
    exit 1
fi
