#!/usr/bin/env python3
"""Worst-case stack of each public SDK call, from static analysis.

The core is compiled for each MCU target with -fstack-usage and
-fcallgraph-info=su (tests/mcu/mcu.mk): every function's own frame (.su)
and its calls (.ci). The worst case of a call is its frame plus the
deepest path below it. Calls through a function pointer go to the port
(not counted here: the port's own stack is the port's) or back into the
core: a sink or receive function the core hands to the port, a tar
callback, a module hook. Those core functions are found in the sources
(a name used other than in a call), and an indirect call is charged the
deepest of them that is not already on the path (a callback does not
re-enter itself). Frames of variable size make the analysis fail.

  stack_report.py DIR...             prints the table (one column per DIR)
  stack_report.py --update DIR...    rewrites the tables in the headers
  stack_report.py --check DIR...     fails when a call needs more than
                                     STACK_BUDGET bytes, or more than a
                                     header's table says
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADERS = {
    "sdk/include/haas_upgrade.h": ["haas_boot", "haas_start", "haas_drive", "haas_confirm", "haas_reject",
                                   "haas_set_module", "haas_connected", "haas_next_id", "haas_app_id",
                                   "haas_app_version"],
    "sdk/include/haas_fw.h": ["haas_fw_boot", "haas_fw_attach", "haas_fw_confirm", "haas_fw_reject",
                              "haas_fw_version", "haas_fw_slot"],
}
# Recursion the code bounds itself: (the functions of the cycle, header,
# macro). The cycle is charged macro + 2 times (nesting 0..macro+1: the call
# at macro+1 returns at once): skip_value counts its depth; plain_value and
# plain_container walk only documents skip_value accepted.
BOUNDED_RECURSION = [({"skip_value"}, "sdk/src/json_scan.h", "JSON_MAX_DEPTH"),
                     ({"plain_value", "plain_container"}, "sdk/src/json_scan.h", "JSON_MAX_DEPTH")]


def bounded_group(name):
    for group, header, macro in BOUNDED_RECURSION:
        if name in group:
            m = re.search(r"#define %s (\d+)" % macro, open(os.path.join(ROOT, header)).read())
            return group, int(m.group(1)) + 2
    return None, 1
STACK_BUDGET = 4096  # bytes a public call may need (the core's frames)
BEGIN = " * Worst-case stack of each call"
END = " * (end of the generated table)"
NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)" label: "([^"]*)"')
FRAME = re.compile(r"\\n(\d+) bytes \((\w+(?:,\w+)*)\)")


def short(title):
    return title.rsplit(":", 1)[-1]


def load(folder):
    """frames {title: bytes}, calls {title: [title]} over the .ci files;
    plain names of external nodes are mapped to their definitions."""
    frames, calls, kinds = {}, {}, {}
    for ci in sorted(glob.glob(os.path.join(folder, "*.ci"))):
        text = open(ci).read()
        for title, label in NODE.findall(text):
            m = FRAME.search(label)
            where = label.split("\\n")
            if m and len(where) > 1:
                FILES[title] = where[1].split(":")[0]
            if m:
                frames[title] = int(m.group(1))
                kinds[title] = m.group(2)
        for src, dst, site in EDGE.findall(text):
            calls.setdefault(src, []).append(dst if dst != "__indirect_call" else "__indirect_call@" + site)
    dynamic = [t for t, k in kinds.items() if "static" not in k.split(",")]
    if dynamic:
        sys.exit("stack_report: frames of variable size: %s" % ", ".join(sorted(dynamic)))
    by_name = {}
    for title in frames:
        by_name.setdefault(short(title), []).append(title)
    resolved = {}
    for src, dsts in calls.items():
        out = []
        for d in dsts:
            if d in frames or d.startswith("__indirect_call"):
                out.append(d)
            elif len(by_name.get(d, [])) == 1:
                out.append(by_name[d][0])
            else:
                out.append(d)  # outside the core (a compiler helper): no frame of its own counted
        resolved[src] = out
    return frames, resolved


# Where a call through a function pointer can come back into the core: the
# pointer called at the call site (read from the source line the call graph
# names, so inlining does not matter) -> the core functions it may reach. Every other indirect call goes to the
# port, or to the firmware's event callback, and costs the core nothing.
# Every core function whose address is taken must be reached from here,
# else the analysis fails (so a new callback cannot be forgotten).
INDIRECT = {
    "mqtt_poll(": [("upgrade.c", "on_message")],
    "http_get(": [("upgrade.c", "download_sink"), ("fw_ota.c", "sink")],
    "inflate_feed(": [("upgrade.c", "inflated")],
    "module.message(": [("fw_ota.c", "on_message")],
    "module.connected(": [("fw_ota.c", "on_connected")],
    "module.drive(": [("fw_ota.c", "on_drive")],
    "cb->on_entry(": [("upgrade.c", "tar_entry")],
    "cb->on_data(": [("upgrade.c", "tar_data")],
    "cb->on_entry_end(": [("upgrade.c", "tar_entry_end")],
}


FILES = {}  # node title -> the source file defining it (from the .ci labels)


def split(title):
    """(file name, function) of a node title."""
    name = title.rsplit(":", 1)[-1]
    return (os.path.basename(FILES[title]) if title in FILES else None), name


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)


def address_taken(frames):
    """Core functions named in their source other than in a call."""
    found = []
    sources = {}
    for title in frames:
        path = FILES.get(title)
        if path and os.path.exists(path):
            if path not in sources:
                sources[path] = strip_comments(open(path).read())
            name = split(title)[1]
            if re.search(r"\b%s\b(?!\s*\()" % re.escape(name), sources[path]):
                found.append(title)
    return sorted(found)


def worst(folder):
    frames, calls = load(folder)
    titles = {split(t): t for t in frames}
    reached = set()
    lines = {}

    def site_targets(site):
        path, line = site.split(":")[0], int(site.split(":")[1])
        if path not in lines:
            lines[path] = open(path).read().split("\n")
        text = lines[path][line - 1].replace(" ", "")
        out = []
        for key, targets in INDIRECT.items():
            if key.replace(" ", "") in text:
                for tf, tn in targets:
                    if (tf, tn) not in titles:
                        sys.exit("stack_report: %s:%s (in INDIRECT) is not in the core" % (tf, tn))
                    out.append(titles[(tf, tn)])
        reached.update(out)
        return out

    for src in list(calls):
        calls[src] = [t for d in calls[src] for t in (site_targets(d.split("@", 1)[1]) if d.startswith("__indirect_call@") else [d])]
    missed = [t for t in address_taken(frames) if t not in reached]
    if missed:
        sys.exit("stack_report: callbacks that INDIRECT does not name: %s" % ", ".join(missed))
    memo = {}

    def depth(fn, path):
        if fn in memo:
            return memo[fn]
        group, times = bounded_group(split(fn)[1])
        members = [t for t in frames if group and split(t)[1] in group] or [fn]
        best = 0
        for m in members:
            for d in calls.get(m, []):
                for t in [d]:
                    if t not in frames or (group and split(t)[1] in group):
                        continue
                    if t in path:
                        sys.exit("stack_report: recursion through %s: no static bound" % t)
                    best = max(best, depth(t, path | {t}))
        memo[fn] = sum(frames[m] for m in members) * times + best
        return memo[fn]

    out = {}
    for names in HEADERS.values():
        for name in names:
            found = [t for t in frames if split(t)[1] == name]
            if len(found) != 1:
                sys.exit("stack_report: %s not found once in %s" % (name, folder))
            out[name] = depth(found[0], frozenset(found))
    return out, sorted(reached)


def table(results, labels, names):
    lines = [BEGIN + " (bytes; the core's frames only, from",
             " * -fcallgraph-info=su at -Os; add the port's own functions and the event",
             " * callback; tests/mcu/stack_report.py writes this table, make test-mcu",
             " * checks it and a budget of %d bytes a call):" % STACK_BUDGET,
             " *",
             " *     %-20s %s" % ("call", " ".join("%12s" % l for l in labels))]
    for name in names:
        lines.append(" *     %-20s %s" % (name, " ".join("%12d" % r[name] for r in results)))
    lines.append(END)
    return lines


def header_tables(results, labels):
    for header, names in HEADERS.items():
        path = os.path.join(ROOT, header)
        text = open(path).read().split("\n")
        want = table(results, labels, names)
        try:
            start = next(i for i, l in enumerate(text) if l.startswith(BEGIN))
            end = next(i for i, l in enumerate(text) if l.startswith(END))
            have = text[start:end + 1]
        except StopIteration:
            start = end = None
            have = None
        yield path, text, start, end, have, want


def main(argv):
    mode, budget = "print", None
    if argv and argv[0] == "--update":
        mode, argv = "update", argv[1:]
    elif argv and argv[0] == "--check":
        mode, budget, argv = "check", STACK_BUDGET, argv[1:]
    labels = [os.path.basename(os.path.normpath(d)).replace("m3", "cortex-m3").replace("m4", "cortex-m4")
              for d in argv]
    labels = [l if l.startswith("cortex") else l for l in labels]
    results, cbs = [], None
    for d in argv:
        r, cbs = worst(os.path.join(d, "core") if os.path.isdir(os.path.join(d, "core")) else d)
        results.append(r)
    for name in results[0]:
        print("stack %-20s %s" % (name, " ".join("%6d" % r[name] for r in results)))
    print("stack: calls back into the core through pointers: %s" % ", ".join(short(c) for c in cbs))
    bad = 0
    for path, text, start, end, have, want in header_tables(results, labels):
        if mode == "update":
            if have is None:
                sys.exit("stack_report: no table in %s (a comment line starting %r)" % (path, BEGIN))
            text[start:end + 1] = want
            open(path, "w").write("\n".join(text))
            print("stack: table written into %s" % os.path.relpath(path, ROOT))
        elif mode == "check":
            # The table is a promise: no call may need more than it says.
            # (Less is fine; --update makes it exact again.)
            stated = {}
            for line in have or []:
                m = re.match(r" \*\s+(haas_\w+)\s+(\d+)\s+(\d+)$", line)
                if m:
                    stated[m.group(1)] = (int(m.group(2)), int(m.group(3)))
            names = HEADERS[os.path.relpath(path, ROOT)]
            under = [n for n in names if n not in stated or any(r[n] > v for r, v in zip(results, stated[n]))]
            if under:
                print("stack: the table in %s understates %s: run tests/mcu/stack_report.py --update "
                      "build/mcu/m3 build/mcu/m4" % (os.path.relpath(path, ROOT), ", ".join(under)))
                bad += 1
            elif have != want:
                print("stack: the table in %s is not exact (no call needs more than it says; --update "
                      "makes it exact)" % os.path.relpath(path, ROOT))
    if mode == "check":
        top = max(max(r.values()) for r in results)
        over = [(n, r[n]) for r in results for n in r if r[n] > budget]
        for n, v in over:
            print("stack: %s needs %d bytes, over the budget of %d" % (n, v, budget))
        print("stack: deepest public call %d bytes (budget %d)" % (top, budget))
        bad += len(over)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
