#!/usr/bin/env python3
"""Writes the corpus of bad packages into bad-packages/ (deterministic).

One file per rule of the package rule list (server/src/package_check.h);
the expected answer of the server, and of a device the file is served to
anyway, for each is in bad-packages.tsv beside this script, which
tests/integration/test_package_corpus.py and test_device_e2e.py read. Rerun after changing a case:
    /usr/bin/python3 tests/corpus/make_bad_packages.py
"""
import gzip
import io
import os
import random
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "bad-packages")
GOOD_MANIFEST = b'{"appName":"python9000","version":"0.0.2","appid":"8800100099990000"}'
MAIN = b'print("new version upgrade success.")\n'


def member(name, data=b"", kind=tarfile.REGTYPE, linkname=""):
    return (name, data, kind, linkname)


def tar_bytes(members, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data, kind, linkname in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mtime = 1700000000
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            info.linkname = linkname
            if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                info.devmajor, info.devminor = 1, 3
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


def with_bad_crc(data):
    """The gzip stream with its trailer's CRC-32 (bytes -8..-5) wrong."""
    data = bytearray(data)
    data[-8] ^= 0xff
    return bytes(data)


def pkg(*members):
    return gz(tar_bytes(list(members)))


def good(*extra):
    return [member("manifest.json", GOOD_MANIFEST), member("main.py", MAIN), *extra]


def sparse_noise(size, seed):
    """Bytes that compress about 60-100 times: mostly zeros, some noise."""
    rnd = random.Random(seed)
    out = bytearray(size)
    for i in range(0, size, 97):
        out[i] = rnd.randrange(256)
    return bytes(out)


def cases():
    rnd = random.Random(7)
    yield "not-gzip-plain-tar", tar_bytes(good())
    yield "not-gzip-random-bytes", bytes(rnd.randrange(256) for _ in range(2048))
    whole = pkg(*good(member("lib.py", bytes(rnd.randrange(256) for _ in range(4096)))))
    yield "truncated-gzip", whole[: len(whole) // 2]
    yield "gzip-of-garbage", gz(bytes(rnd.randrange(256) for _ in range(4096)))
    yield "empty-archive", gz(tar_bytes([]))
    yield "manifest-missing", pkg(member("main.py", MAIN))
    yield "manifest-in-subfolder", pkg(member("python9000/", kind=tarfile.DIRTYPE),
                                       member("python9000/manifest.json", GOOD_MANIFEST),
                                       member("python9000/main.py", MAIN))
    yield "manifest-with-comment", pkg(member("manifest.json", b"// app\n" + GOOD_MANIFEST), member("main.py", MAIN))
    yield "manifest-with-bom", pkg(member("manifest.json", b"\xef\xbb\xbf" + GOOD_MANIFEST), member("main.py", MAIN))
    yield "manifest-is-array", pkg(member("manifest.json", b"[" + GOOD_MANIFEST + b"]"), member("main.py", MAIN))
    yield "manifest-trailing-text", pkg(member("manifest.json", GOOD_MANIFEST + b" {}"), member("main.py", MAIN))
    yield "manifest-no-version", pkg(member("manifest.json", b'{"appName":"python9000","appid":"8800100099990000"}'))
    yield "manifest-version-number", pkg(member("manifest.json", b'{"appName":"python9000","version":2,"appid":"8800100099990000"}'))
    yield "manifest-twice", pkg(*good(member("./manifest.json", GOOD_MANIFEST)))
    yield "manifest-wrong-appname", pkg(member("manifest.json", GOOD_MANIFEST.replace(b"python9000", b"python9001")))
    yield "manifest-wrong-appid", pkg(member("manifest.json", GOOD_MANIFEST.replace(b"8800100099990000", b"8800100099990001")))
    yield "manifest-wrong-version", pkg(member("manifest.json", GOOD_MANIFEST.replace(b"0.0.2", b"0.0.3")))
    yield "member-absolute-path", pkg(*good(member("/data/pyamp/evil.py", b"x")))
    yield "member-dotdot", pkg(*good(member("../evil.py", b"x")))
    yield "member-dotdot-inside", pkg(*good(member("lib/../../evil.py", b"x")))
    yield "member-backslash", pkg(*good(member("..\\evil.py", b"x")))
    yield "member-symlink", pkg(*good(member("passwd", kind=tarfile.SYMTYPE, linkname="/etc/passwd")))
    yield "member-hardlink", pkg(*good(member("main2.py", kind=tarfile.LNKTYPE, linkname="main.py")))
    yield "member-char-device", pkg(*good(member("null", kind=tarfile.CHRTYPE)))
    yield "member-block-device", pkg(*good(member("disk", kind=tarfile.BLKTYPE)))
    yield "member-fifo", pkg(*good(member("pipe", kind=tarfile.FIFOTYPE)))
    yield "too-many-entries", pkg(*good(*[member("f%03d.py" % i, b"pass\n") for i in range(80)]))
    yield "unpacked-too-large", pkg(*good(member("big.bin", sparse_noise(3 << 20, 11))))
    yield "decompression-bomb", pkg(*good(member("zeros.bin", bytes(8 << 20))))
    # The gzip layer: one member, whole, nothing after it, a tar inside.
    yield "double-gzip", gz(pkg(*good()))
    yield "bad-crc", with_bad_crc(pkg(*good()))
    yield "trailing-garbage", pkg(*good()) + b"trailing garbage after the gzip stream\n" * 8
    whole_tar = tar_bytes(good())
    # manifest.json (header + one block) in the first member, the rest and
    # the end-of-archive blocks in a second: read as one stream it is whole.
    yield "two-gzip-members-split-tar", gz(whole_tar[:1024]) + gz(whole_tar[1024:])
    yield "second-member-dotdot", pkg(*good()) + pkg(member("../evil.py", b"import os\n"))
    # manifest.json: one plain object, no duplicate keys, no control characters.
    yield "manifest-version-nul", pkg(member("manifest.json", GOOD_MANIFEST.replace(b'"0.0.2"', b'"0.0.2\\u0000x"')),
                                      member("main.py", MAIN))
    yield "manifest-duplicate-version", pkg(member("manifest.json", GOOD_MANIFEST[:-1] + b',"version":"0.0.3"}'),
                                            member("main.py", MAIN))
    yield "manifest-control-char", pkg(member("manifest.json", GOOD_MANIFEST[:-1] + b',"note":"line\\nbreak"}'),
                                       member("main.py", MAIN))
    yield "manifest-number-leading-zero", pkg(member("manifest.json", GOOD_MANIFEST[:-1] + b',"build":01}'),
                                              member("main.py", MAIN))
    yield "manifest-too-large", pkg(member("manifest.json", GOOD_MANIFEST[:-1] + b',"note":"' + b"x" * 1500 + b'"}'),
                                    member("main.py", MAIN))
    # member names: valid UTF-8 ("caf\xe9.py" is Latin-1), one canonical form
    yield "member-name-not-utf8", pkg(*good(member("caf\udce9.py", b"x = 1\n")))
    yield "member-name-dot-component", pkg(*good(member("lib/./util.py", b"x = 1\n")))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in cases():
        with open(os.path.join(OUT, name + ".tar.gz"), "wb") as f:
            f.write(data)
        print("%-28s %7d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
