"""The complexity budget: no C function of the project above BUDGET
(pmccabe's modified cyclomatic complexity, `&&` and `||` counted) unless
tests/lint/complexity-exceptions.tsv names it, with its ceiling and the
written reason it may be that complex. An exception that is no longer
needed, or names a function that is gone, fails too: the list stays true."""
import os
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUDGET = 20
FOLDERS = ["server/src", "server/plugin", "server/protocol", "sdk/src", "sdk/port/posix", "sdk/tools"]
EXCEPTIONS = os.path.join(ROOT, "tests", "lint", "complexity-exceptions.tsv")


def sources():
    out = []
    for folder in FOLDERS:
        full = os.path.join(ROOT, folder)
        out += sorted(os.path.join(folder, f) for f in os.listdir(full) if f.endswith(".c"))
    return out


def measured():
    """{(file, function): complexity} from pmccabe."""
    proc = subprocess.run(["pmccabe"] + sources(), cwd=ROOT, capture_output=True, text=True, check=True)
    result = {}
    for line in proc.stdout.splitlines():
        cols = line.split("\t")
        where = cols[5]                        # "file(line): function"
        path, func = where.split("(", 1)[0], where.split(": ", 1)[1]
        result[(path, func)] = max(int(cols[0]), result.get((path, func), 0))
    return result


def exceptions():
    """{(file, function): (ceiling, reason)} from the exceptions file."""
    out = {}
    with open(EXCEPTIONS, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            assert len(cols) == 4 and cols[3].strip(), "%s:%d: want file, function, ceiling, reason" % (EXCEPTIONS, n)
            out[(cols[0], cols[1])] = (int(cols[2]), cols[3])
    return out


class ComplexityTest(unittest.TestCase):
    def test_every_function_within_budget(self):
        have, allowed = measured(), exceptions()
        over = ["%s %s: %d > %d" % (p, f, c, allowed.get((p, f), (BUDGET,))[0])
                for (p, f), c in sorted(have.items()) if c > allowed.get((p, f), (BUDGET, ""))[0]]
        self.assertEqual(over, [], "functions over the complexity budget (split them, or add a reasoned "
                                   "exception to tests/lint/complexity-exceptions.tsv)")

    def test_exceptions_are_still_needed(self):
        have = measured()
        stale = ["%s %s (now %s)" % (p, f, have.get((p, f), "gone")) for (p, f) in sorted(exceptions())
                 if have.get((p, f), 0) <= BUDGET]
        self.assertEqual(stale, [], "exceptions no longer needed: remove them")
