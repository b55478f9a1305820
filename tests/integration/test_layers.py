"""The server's layers stay apart (docs/architecture.md section 2,
"Layers"): SQL is written only in the store (server/src/store_*.c, with db.c
and db_checkpoint.c as its base), and neither the store nor the services (service_*.c) know
HTTP or JSON output.

The files are read as C: comments are dropped and string literals looked
at on their own, so a comment may still talk about SQL or HTTP. The broker
plugin (server/plugin) has its own read-only store and is checked with it.
"""
import glob
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "server", "src")

SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE\s+FROM|CREATE|PRAGMA|COMMIT|ROLLBACK)\b|^\s*BEGIN\b")
SQLITE_CALL = re.compile(r"\bsqlite3_\w+")
HTTP_NAMES = re.compile(r"\b(http_request|MHD_\w*|microhttpd)\b")
JSON_NAMES = re.compile(r"\bcJSON\w*")


def split_c(text):
    """(code, strings): the source without comments and string literals,
    and the string literals' contents."""
    code, strings, i, n = [], [], 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "/*":
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            code.append(" ")
        elif two == "//":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text[i] in "\"'":
            quote, j, lit = text[i], i + 1, []
            while j < n and text[j] != quote:
                if text[j] == "\\":
                    lit.append(text[j:j + 2])
                    j += 2
                else:
                    lit.append(text[j])
                    j += 1
            if quote == '"':
                strings.append("".join(lit))
            code.append(quote + quote)
            i = j + 1
        else:
            code.append(text[i])
            i += 1
    return "".join(code), strings


def sources(pattern="*"):
    return sorted(glob.glob(os.path.join(SRC, pattern + ".c")) + glob.glob(os.path.join(SRC, pattern + ".h")))


def is_store(path):
    name = os.path.basename(path)
    return name.startswith(("store_", "db_")) or name in ("store.h", "db.c", "db.h")


def read(path):
    with open(path, encoding="utf-8") as f:
        return split_c(f.read())


class LayersTest(unittest.TestCase):
    def test_the_c_reader_tells_code_comments_and_strings_apart(self):
        code, strings = split_c('/* SELECT */ f("UPDATE x \\" y"); // INSERT\nchar c = \'"\'; g("a");')
        self.assertEqual(strings, ['UPDATE x \\" y', "a"])
        self.assertNotIn("SELECT", code)
        self.assertNotIn("INSERT", code)
        self.assertIn("g(", code)

    def test_sql_only_in_the_store(self):
        found = []
        for path in sources():
            if is_store(path):
                continue
            code, strings = read(path)
            name = os.path.relpath(path, ROOT)
            found += ["%s: calls %s" % (name, m) for m in sorted(set(SQLITE_CALL.findall(code)))]
            found += ["%s: SQL in \"%.60s\"" % (name, s) for s in strings if SQL_WORDS.search(s)]
        self.assertEqual(found, [], "SQL belongs in server/src/store_*.c (or db.c)")

    def test_store_and_services_know_no_http_nor_json_output(self):
        found = []
        for path in sources("store*") + sources("service*"):
            code, _ = read(path)
            name = os.path.relpath(path, ROOT)
            found += ["%s: %s" % (name, m) for m in sorted(set(HTTP_NAMES.findall(code)))]
            found += ["%s: %s" % (name, m) for m in sorted(set(JSON_NAMES.findall(code)))]
        self.assertEqual(found, [], "the store and the services take and return plain C values")

    def test_the_layers_exist(self):
        self.assertGreater(len(sources("store_*")), 0)
        self.assertGreater(len(sources("service_*")), 0)


if __name__ == "__main__":
    unittest.main()
