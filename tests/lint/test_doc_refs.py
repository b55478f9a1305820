"""Comments name only what exists. A comment in server/ or sdk/ that names
a .c or .h file names a file of the tree (or a C standard or system header,
or one of the few outside sources listed in OUTSIDE, each with its reason),
and no comment cites PROTOCOL.md or DESIGN.md: those live outside the
repository; the repository's own are docs/protocol.md and
docs/architecture.md (section numbers differ: cite by subject).

Comments are read from C files (/* */ and //; string and character
literals skipped), shell scripts (# comments) and Python files (comments
and docstrings). A file name may be a path (`server/protocol/topics.c`,
`plugin/clientid.c`), a glob (`store_*.c`) or a brace pair
(`identifiers.{c,h}`); a name in capitals (`OUT.c` in a usage line) is a
placeholder.
"""
import ast
import fnmatch
import io
import os
import re
import tokenize
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDERS = ("server", "sdk")
SKIP_DIRS = {".git", "build", "tests/out"}  # and every node_modules

# Files outside the tree that comments may name, and why.
OUTSIDE = {
    "src/loop.c": "mosquitto's source, read for the automatic subscription (server/plugin/auto_sub.h)",
    "src/plugin_public.c": "mosquitto's source, read for the automatic subscription (server/plugin/auto_sub.h)",
}
# C standard headers (the SDK core names the freestanding ones).
STANDARD_HEADERS = set(
    "assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h setjmp.h "
    "signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h "
    "string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h".split())
SYSTEM_INCLUDE = "/usr/include"

CITATION = re.compile(r"\b(?:PROTOCOL|DESIGN)\.md\b|\b(?:PROTOCOL|DESIGN)\s+(?:section\s+)?\d")
TOKEN = re.compile(r"(?:[A-Za-z0-9_./*-]|\{[A-Za-z0-9_,.*-]*\})+")


def tree_files():
    """Relative paths of every file in the tree (build output and test
    output left out)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        dirnames[:] = [d for d in dirnames
                       if d != "node_modules" and os.path.normpath(os.path.join(rel, d)) not in SKIP_DIRS]
        for f in filenames:
            found.add(os.path.normpath(os.path.join(rel, f)))
    return found


def c_comments(text):
    """[(line, comment)] of C source text: /* */ and // comments; string
    and character literals are skipped."""
    out, i, n = [], 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "/*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append((text.count("\n", 0, i) + 1, text[i:end]))
            i = end
        elif two == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((text.count("\n", 0, i) + 1, text[i:end]))
            i = end
        elif text[i] in "\"'":
            quote, j = text[i], i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return out


def shell_comments(text):
    """[(line, comment)] of a shell script: a # that starts a word outside
    quotes starts a comment."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        quote = None
        for k, ch in enumerate(line):
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (k == 0 or line[k - 1] in " \t;"):
                out.append((number, line[k:]))
                break
    return out


def python_comments(text):
    """[(line, comment)] of Python source: # comments and docstrings."""
    out = [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(text).readline)
           if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                out.append((node.body[0].lineno, doc))
    return out


def comments_of(path, text):
    if path.endswith((".c", ".h")):
        return c_comments(text)
    if path.endswith(".sh"):
        return shell_comments(text)
    if path.endswith(".py"):
        return python_comments(text)
    return []


def expand(token):
    """The names a token stands for: `a.{c,h}` is a.c and a.h."""
    m = re.search(r"\{([^{}]*)\}", token)
    if not m:
        return [token]
    return [n for alt in m.group(1).split(",") for n in expand(token[:m.start()] + alt + token[m.end():])]


def file_names(comment):
    """[(offset, name)] of the .c and .h file names a comment mentions (a
    name in capitals is a placeholder: "OUT.c" in a usage line)."""
    names = []
    for m in TOKEN.finditer(comment):
        for name in expand(m.group(0).strip(".-/")):
            stem = name.rsplit("/", 1)[-1]
            if re.fullmatch(r"[A-Za-z0-9_*-]+\.[ch]", stem) and not re.fullmatch(r"[A-Z][A-Z0-9_]*\.[ch]", stem):
                names.append((m.start(), name))
    return names


def exists(name, here, files, basenames):
    """Does file name `name`, in a comment of file `here`, name a file?"""
    if name in OUTSIDE or name in STANDARD_HEADERS or os.path.isfile(os.path.join(SYSTEM_INCLUDE, name)):
        return True
    if "/" not in name:
        return any(fnmatch.fnmatchcase(b, name) for b in basenames) if "*" in name else name in basenames
    local = os.path.normpath(os.path.join(os.path.dirname(here), name))
    return any(fnmatch.fnmatchcase(f, name) or fnmatch.fnmatchcase(f, local) or
               fnmatch.fnmatchcase(f, "*/" + name) for f in files)


def problems(path, text, files, basenames):
    """["path:line: ..."] for the comments of one file."""
    found = []
    for line, comment in comments_of(path, text):
        at = lambda offset: line + comment.count("\n", 0, offset)
        for offset, name in file_names(comment):
            if not exists(name, path, files, basenames):
                found.append("%s:%d: names %s, which is not in the tree" % (path, at(offset), name))
        for m in CITATION.finditer(comment):
            found.append("%s:%d: cites %s (docs/protocol.md or docs/architecture.md, by subject)"
                         % (path, at(m.start()), m.group(0)))
    return found


class DocRefsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = tree_files()
        cls.basenames = {os.path.basename(f) for f in cls.files}

    def check(self, path, text):
        return problems(path, text, self.files, self.basenames)

    def test_the_readers_find_comments_only(self):
        c = 'f("/* not.c */"); char q = \'"\'; /* one.c */ g(); // two.h\n'
        self.assertEqual([t for _, t in c_comments(c)], ["/* one.c */", "// two.h"])
        self.assertEqual([t for _, t in shell_comments('echo "#x.c" # y.c\n#z.h\n')], ["# y.c", "#z.h"])
        py = '"""doc a.c"""\nx = "#not.c"  # b.h\ndef f():\n    """c.c"""\n'
        self.assertEqual(sorted(t for _, t in python_comments(py)), ["# b.h", "c.c", "doc a.c"])

    def test_the_check_sees_what_it_must(self):
        bad = self.check("server/src/x.c", "/* see validate.c, device_db.h and PROTOCOL.md 4.1;\n"
                                           " * DESIGN section 5, PROTOCOL 4.2 */")
        self.assertEqual(len(bad), 5, bad)
        good = self.check("server/src/x.c", "/* db.c, store_*.c, server/protocol/identifiers.{c,h}, OUT.c,\n"
                                            " * plugin/clientid.c, ../plugin/topic_acl.h, a.b.c, stddef.h,\n"
                                            " * mosquitto's src/loop.c, docs/protocol.md section 2. */")
        self.assertEqual(good, [])

    def test_comments_name_files_that_exist_and_cite_the_repository_docs(self):
        found = []
        for folder in FOLDERS:
            for path in sorted(f for f in self.files if f.startswith(folder + os.sep)):
                if not path.endswith((".c", ".h", ".sh", ".py")):
                    continue
                with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                    found += problems(path, f.read(), self.files, self.basenames)
        self.assertEqual(found, [], "\n".join(found))


if __name__ == "__main__":
    unittest.main()
