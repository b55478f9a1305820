"""Ports the managed broker needs: a port held by another program (say the
broker Debian's mosquitto package starts on 1883) stops haas-emu with the
holder's name and the fix, so no device is sent to a foreign broker; and a
restart right after a kill -9 waits for the old broker instead of failing."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import EMU, Emulator, ForeignBroker, emu_env, free_ports, wait_for


class PortsTest(unittest.TestCase):
    def run_emu(self, *args):
        http, mqtt, mqtts, https = free_ports(4)
        base = {"--http-port": http, "--mqtt-port": mqtt, "--mqtts-port": mqtts, "--https-port": https}
        for i in range(0, len(args), 2):
            base[args[i]] = args[i + 1]
        data = tempfile.mkdtemp(prefix="ports-")
        self.addCleanup(shutil.rmtree, data, True)
        cmd = [EMU, "--data-dir", data]
        for k, v in base.items():
            cmd += [k] if v is None else [k, str(v)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=emu_env())

    def test_foreign_broker_on_the_mqtt_port_is_named(self):
        port = free_ports(1)[0]
        foreign = ForeignBroker(port)
        self.addCleanup(foreign.stop)
        r = self.run_emu("--mqtt-port", port)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("port 127.0.0.1:%d is already in use by mosquitto (pid %d)" % (port, foreign.proc.pid),
                      r.stderr)
        self.assertIn("systemctl disable --now mosquitto", r.stderr)
        self.assertIn("--mqtt-port", r.stderr)
        self.assertNotIn("haas-emu ready", r.stderr)

    def test_failed_start_leaves_no_ephemeral_folder(self):
        port = free_ports(1)[0]
        foreign = ForeignBroker(port)
        self.addCleanup(foreign.stop)
        r = self.run_emu("--mqtt-port", port, "--ephemeral", None)
        self.assertEqual(r.returncode, 1, r.stderr)
        folder = re.search(r"ephemeral data directory (\S+)", r.stderr).group(1)
        self.assertFalse(os.path.exists(folder), folder)

    def test_foreign_program_on_the_tls_port_is_named(self):
        port = free_ports(1)[0]
        foreign = ForeignBroker(port)
        self.addCleanup(foreign.stop)
        r = self.run_emu("--mqtts-port", port)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("port 127.0.0.1:%d is already in use" % port, r.stderr)

    def test_restart_right_after_kill_waits_for_the_old_broker(self):
        emu = Emulator("ports-kill9").start()
        try:
            for _ in range(5):
                broker = emu.get("/healthz").json["brokerPid"]
                emu.proc.send_signal(signal.SIGKILL)
                emu.proc.wait()
                emu.log.close()
                emu.proc = None
                emu.start(fresh=False)  # at once: the old broker may still hold the ports
                self.assertNotEqual(emu.get("/healthz").json["brokerPid"], broker)
                wait_for(lambda: not os.path.exists("/proc/%d" % broker) or
                         open("/proc/%d/stat" % broker).read().split()[2] == "Z", what="old broker gone")
        finally:
            emu.stop()
