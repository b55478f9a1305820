"""procs.py - what the benchmarks read of the processes they measure, from
/proc: CPU seconds (per process and per thread), memory (VmHWM, VmRSS),
child processes (haas-emu's managed mosquitto); and stopping what they
started. Shared by bench_fleet.py, bench_rollout.py (through bench_fleet)
and bench_100k.py."""
import os
import subprocess
import time

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(path):
    """The fields of a /proc/.../stat file after the command name."""
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds; 0 when gone."""
    try:
        fields = proc_stat("/proc/%d/stat" % pid)
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def thread_cpu_seconds(pid):
    """{thread id: (name, CPU seconds)} of every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            fields = proc_stat("/proc/%d/task/%s/stat" % (pid, tid))
            out[tid] = (name, (int(fields[11]) + int(fields[12])) / TICK)
        except (OSError, IndexError, ValueError):
            pass
    return out


ENDED = "(threads that ended)"


def thread_cpu_by_name(before, after, process_seconds=None):
    """CPU seconds per thread name between two thread_cpu_seconds() looks.
    /proc lists live threads only, so a thread that ended in between (one
    that ran a push, say) is missing from both; given process_seconds, the
    process's CPU over the same time, what no live thread accounts for is
    given as ENDED (when it is at least one clock tick)."""
    out = {}
    for tid, (name, cpu) in after.items():
        out[name] = out.get(name, 0.0) + cpu - before.get(tid, (name, 0.0))[1]
    if process_seconds is not None and process_seconds - sum(out.values()) >= 1.0 / TICK:
        out[ENDED] = process_seconds - sum(out.values())
    return out


def status_kib(pid, key):
    """A 'kB' field of /proc/<pid>/status (VmHWM, VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (key, pid))


def children(parent):
    """{pid: name} of parent's child processes."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                text = f.read()
        except OSError:
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == parent:
            out[int(entry)] = text[text.index("(") + 1:text.rindex(")")]
    return out


def child_pid(parent, comm):
    """Pid of parent's child process named comm (haas-emu's mosquitto)."""
    for pid, name in children(parent).items():
        if name == comm:
            return pid
    return None


def stop_procs(procs, timeout=30):
    """SIGTERM every process still running, then waits; kills what is left at the deadline."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
