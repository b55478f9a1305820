"""Upload validation: one bad package per rule (tests/corpus/bad-packages.tsv,
the rules of server/src/package_check.h).

Each upload must get its own error code and 4xx status, and leave no version
row and no file behind (neither in packages/ nor in tmp/). The same files are
served to a device by test_device_e2e.py, which must refuse them too.
"""
import os

from harness import APP_ID, ROOT, EmulatorTest, make_package, package_name

CORPUS = os.path.join(ROOT, "tests", "corpus")


def load_cases(with_device=False):
    """(file, upload name, status, code[, device result]) per line of the TSV;
    the device result is None where it does not apply ("-")."""
    cases = []
    with open(os.path.join(CORPUS, "bad-packages.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            file, upload_name, status, code, device = line.rstrip("\n").split("\t")
            case = (file, upload_name, int(status), code)
            cases.append(case + (None if device == "-" else int(device),) if with_device else case)
    return cases


class PackageCorpusTest(EmulatorTest):
    emulator_args = ("--max-entries", "64", "--max-unpacked-size", "2m", "--max-ratio", "200",
                     "--max-package-size", "512k")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.app()
        cls.emu.app("python9001", "8800100099990001")

    def assert_nothing_stored(self, what):
        self.assertEqual(self.emu.get("/api/v1/apps/%s/versions" % APP_ID).json["total"], 0, what)
        self.assertEqual(self.emu.packages_on_disk(), [], what)

    def test_corpus_covers_every_rule(self):
        codes = {c[3] for c in load_cases()}
        for rule in ("NotGzip", "ArchiveUnreadable", "ManifestMissing", "ManifestInvalid", "ManifestMismatch",
                     "UnsafeMemberName", "ForbiddenMemberType", "TooManyEntries", "UnpackedTooLarge",
                     "DecompressionBomb", "InvalidFileName", "InvalidAppName", "InvalidAppId",
                     "InvalidVersion", "FileNameMismatch", "TrailingData", "DoubleCompressed"):
            self.assertIn(rule, codes)

    def test_each_bad_package(self):
        good = make_package({})
        for file, upload_name, status, code in load_cases():
            with self.subTest(file=file, upload=upload_name):
                if file == "-":
                    data = good
                else:
                    with open(os.path.join(CORPUS, "bad-packages", file + ".tar.gz"), "rb") as f:
                        data = f.read()
                r = self.emu.upload(APP_ID, upload_name, data)
                self.assertEqual((r.status, r.code), (status, code), r)
                self.assertTrue(r.json["message"])
                self.assert_nothing_stored(file)

    def test_too_large_upload_is_413(self):
        data = os.urandom(600 * 1024)
        r = self.emu.upload(APP_ID, package_name(), data)
        self.assertEqual((r.status, r.code), (413, "PackageTooLarge"))
        self.assert_nothing_stored("too large")

    def test_empty_and_nameless_uploads(self):
        r = self.emu.upload(APP_ID, package_name(), b"")
        self.assertEqual((r.status, r.code), (400, "EmptyPackage"))
        r = self.emu.post("/api/v1/apps/%s/versions" % APP_ID, body=make_package({}))
        self.assertEqual((r.status, r.code), (400, "MissingFileName"))
        self.assert_nothing_stored("empty")

    def test_good_package_after_all_that_is_accepted(self):
        # The same limits accept a normal package, and "./" member prefixes.
        r = self.emu.upload(APP_ID, package_name("9.9.9"), make_package({"./lib/util.py": "x = 1\n"}, version="9.9.9"))
        self.assertEqual(r.status, 201, r)
        self.emu.post("/api/v1/apps/%s/versions/9.9.9/deprecate" % APP_ID)
        self.assertEqual(self.emu.delete("/api/v1/apps/%s/versions/9.9.9" % APP_ID).status, 204)
        self.assert_nothing_stored("deleted")


class DefaultLimitsTest(EmulatorTest):
    """With default limits a larger, highly compressible but legitimate
    package passes, while the bomb (8 MiB of zeros in 8 KiB) is still one."""

    def test_bomb_with_default_limits(self):
        self.emu.app()
        with open(os.path.join(CORPUS, "bad-packages", "decompression-bomb.tar.gz"), "rb") as f:
            r = self.emu.upload(APP_ID, package_name(), f.read())
        self.assertEqual((r.status, r.code), (400, "DecompressionBomb"))
        body = "".join("print('line %d')\n" % i for i in range(60000))  # ~1 MiB of source
        r = self.emu.upload(APP_ID, package_name("0.0.3"), make_package({"big.py": body}, version="0.0.3"))
        self.assertEqual(r.status, 201, r)

