"""haas-device, the simulated Core2, as the tests drive it: a flash folder
with an installed app, the process, and its log."""
import json
import os
import shutil
import signal
import subprocess

from harness import APP_ID, APP_NAME, OUT, ROOT, wait_for

DEVICE = os.environ.get("HAAS_DEVICE", os.path.join(ROOT, "build", "asan", "haas-device"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def write_app(app_dir, version, files=None, name=APP_NAME, app_id=APP_ID):
    """An installed app: manifest.json, main.py and any other files."""
    if os.path.exists(app_dir):
        shutil.rmtree(app_dir)
    os.makedirs(app_dir)
    files = dict(files or {})
    files.setdefault("manifest.json", json.dumps({"appName": name, "version": version, "appid": app_id}, indent=4))
    files.setdefault("main.py", 'print("Python App Upgrade Program")\n')
    for path, content in files.items():
        full = os.path.join(app_dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)


def read_app(app_dir):
    """{relative path: bytes} of every file of an app folder."""
    out = {}
    for dirpath, _, files in os.walk(app_dir):
        for name in files:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, app_dir)] = f.read()
    return out


def tutorial_package(work_dir, version, files):
    """Makes <appName>-<appId>-<version>.tar.gz exactly as the tutorial says:
    `tar cvzf NAME *` inside the app folder. Returns (path, bytes)."""
    src = os.path.join(work_dir, "testUpgrade-" + version)
    write_app(src, version, files)
    name = "%s-%s-%s.tar.gz" % (APP_NAME, APP_ID, version)
    out = os.path.join(work_dir, name)
    subprocess.run("tar czf '%s' *" % out, shell=True, cwd=src, check=True, stdout=subprocess.DEVNULL)
    with open(out, "rb") as f:
        return out, f.read()


class SimDevice:
    def __init__(self, name, emu, pk, dn, ds, root=None, broker=None):
        self.name, self.emu, self.pk, self.dn, self.ds = name, emu, pk, dn, ds
        self.root = root or os.path.join(OUT, "devices", name)
        self.log_path = os.path.join(OUT, "logs", "device-%s.log" % name)
        self.proc = None
        # or mqtts://HOST:PORT with --ca-file; broker= for a broker that is not the emulator's
        self.broker = broker or "127.0.0.1:%d" % emu.mqtt_port

    @property
    def app_dir(self):
        return os.path.join(self.root, "data", "pyamp")

    def install(self, version, files=None):
        if os.path.exists(self.root):
            shutil.rmtree(self.root)
        write_app(self.app_dir, version, files)

    def env(self, extra=None):
        env = dict(os.environ)
        env.update({"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"})
        env.pop("LD_PRELOAD", None)
        env.update(extra or {})
        return env

    def args(self, extra=()):
        return [DEVICE, "--product-key", self.pk, "--device-name", self.dn, "--device-secret", self.ds,
                "--broker", self.broker, "--root", self.root, "--python", "/usr/bin/python3",
                "--app-settle", "1", "--confirm-timeout", "20"] + list(extra)

    def start(self, extra=(), env=None, fresh_log=True):
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.log = open(self.log_path, "wb" if fresh_log else "ab")
        self.proc = subprocess.Popen(self.args(extra), stdout=self.log, stderr=subprocess.STDOUT, env=self.env(env))
        return self

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=20):
        return wait_for(lambda: text in self.read_log() or self._died(), timeout=timeout,
                        what="%r in %s" % (text, self.log_path)) and self._check_alive_or(text)

    def _died(self):
        return self.proc.poll() is not None

    def _check_alive_or(self, text):
        if text not in self.read_log():
            raise AssertionError("haas-device exited (%s) before %r:\n%s" % (self.proc.returncode, text,
                                                                              self.read_log()[-3000:]))
        return True

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()

    def stop(self, check=True):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        if check:
            self.check_sanitizers()

    def check_sanitizers(self):
        text = self.read_log()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("sanitizer report in %s:\n%s" % (self.log_path, text[-4000:]))

    def boot_only(self, env=None):
        """Runs just the boot path (journal recovery); returns the version
        the app folder then holds, per the SDK."""
        last = [line for line in self._boot_only(env) if line.startswith("app ")][-1]
        return last.split()[2]

    def boot_only_firmware(self, env=None):
        """Runs just the boot path (the firmware slot choice included);
        returns (firmware version, slot) of the image the device boots."""
        last = [line for line in self._boot_only(env) if line.startswith("firmware ")][-1].split()
        return last[1], int(last[3])

    def fw_slot_image(self, slot, size):
        """The first size bytes of the image in firmware slot 0 or 1 (after
        its 256-byte header; sdk/include/private/fw_store.h)."""
        path = os.path.join(self.root, "data", ".fw", "slot%d" % slot)
        if not os.path.exists(path):
            return b""
        with open(path, "rb") as f:
            f.seek(256)
            return f.read(size)

    def _boot_only(self, env=None):
        r = subprocess.run([DEVICE, "--root", self.root, "--boot-only"], capture_output=True, text=True,
                           env=self.env(env), timeout=60)
        for mark in SANITIZER_MARKS:
            if mark in r.stdout + r.stderr:
                raise AssertionError("sanitizer report in boot-only run:\n" + r.stdout + r.stderr)
        if r.returncode != 0:
            raise AssertionError("boot-only failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))
        return r.stdout.splitlines()

