#!/bin/sh
# make.sh - writes the tar corpus of tests/unit/test_tar_reader.c.
#
# Archives made by real tools: GNU tar (--format=gnu/pax/ustar) and bsdtar
# (libarchive-tools: pax, ustar, gnutar). Python only builds the source
# tree, flips a checksum byte and writes the manifests.
#
#   good-*.tar   valid archives; good-*.tar.list is what they hold, written
#                by an independent reader (Python tarfile) and checked
#                against the source tree: one line per member in archive
#                order, "F <size> <fnv1a64 of content> <name>" or
#                "D 0 - <name>", names normalised like tar_reader does.
#   bad-*.tar    each holds a.txt, then one bad member, then z.txt; the
#                expected error codes are in the test.
#
# Run as root (mknod) from anywhere:  sh tests/corpus/tar/make.sh
# Output is stable except for time fields of pax headers (bsdtar's atime and
# ctime records, the mtime of GNU tar's global header); the .list files are.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C.UTF-8 TZ=UTC
rm -f "$OUT"/*.tar "$OUT"/*.tar.list

GNU="tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX -b 1"
PAXOPT="--pax-option=delete=atime,delete=ctime,exthdr.name=%d/PaxHeaders/%f"
# bsdtar does not sort: it is given the sorted list of paths and -n.
# $4 is a list of paths (globs), expanded inside $3.
bsd() { fmt=$1 out=$2 dir=$3 list=$4
    (cd "$dir" && find $list | sort | bsdtar -c -n -b 1 --format "$fmt" --uid 0 --gid 0 \
        --uname root --gname root -f "$OUT/$out" -T -); }

# ---- the source tree -----------------------------------------------------
L150=$(printf 'n%.0s' $(seq 1 146)).txt               # one 150-byte component
D60=$(printf 'd%.0s' $(seq 1 60))                     # prefix-splittable path
F60=$(printf 'f%.0s' $(seq 1 56)).txt
L255=$(printf 'x%.0s' $(seq 1 249))                   # "l255/" + 250 = 255
$PY - "$TMP/tree" "$L150" "$D60" "$F60" "$L255" <<'EOF'
import os, sys
root, l150, d60, f60, l255 = sys.argv[1:]
def put(path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
put("README.txt", b"".join(b"line %03d of the readme\n" % i for i in range(30)))  # 690 B
put("a/b/deep.txt", b"deep\n")
put("exact512.bin", bytes((i * 7) & 255 for i in range(512)))
put("zero.bin", b"")
put("sp ace/\u00fcn\u00ef.txt", b"utf-8 name\n")
put(os.path.join("long", d60, f60), b"prefix\n")
put(os.path.join("long", l150), b"long component\n")
put(os.path.join("l255", l255 + "y"), b"255\n")
os.makedirs(os.path.join(root, "empty"))
EOF
find "$TMP/tree" -exec touch -h -d @1700000000 {} +
TOP="README.txt a empty exact512.bin l255 long sp?ace zero.bin"

# ---- good archives ---------------------------------------------------------
(cd "$TMP/tree" && $GNU --format=gnu -cf "$OUT/good-gnu.tar" $TOP)
(cd "$TMP/tree" && $GNU --format=pax $PAXOPT -cf "$OUT/good-pax.tar" $TOP)
# ustar cannot hold a component over 100 bytes nor a 255-byte path
(cd "$TMP/tree" && $GNU --format=ustar --exclude="$L150" --exclude=l255 -cf "$OUT/good-ustar.tar" $TOP)
bsd pax good-bsd-pax.tar "$TMP/tree" "$TOP"
bsd gnutar good-bsd-gnutar.tar "$TMP/tree" "$TOP"
bsd ustar good-bsd-ustar.tar "$TMP/tree" "README.txt a empty exact512.bin long/$D60 sp?ace zero.bin"

# "tar czf x.tgz ." style, with the root entry "./"; default 10 KiB records
# (the zero padding after the end blocks must be ignored)
mkdir -p "$TMP/small/sub"
printf 'one\n' >"$TMP/small/one.txt"
printf 'two\n' >"$TMP/small/sub/two.txt"
find "$TMP/small" -exec touch -h -d @1700000000 {} +
(cd "$TMP/small" && tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf "$OUT/good-dot-gnu.tar" .)
bsd pax good-dot-bsd.tar "$TMP/small" .
# a pax global header ('g') before the first member
(cd "$TMP/small" && $GNU --format=pax $PAXOPT,comment=hello,globexthdr.name=/GlobalHead.0 \
    -cf "$OUT/good-pax-global.tar" one.txt sub)

# ---- bad archives: a.txt, the bad member, z.txt ------------------------------
B="$TMP/bad"
mkdir -p "$B/d"
printf 'a\n' >"$B/a.txt"
printf 'z\n' >"$B/z.txt"
ln -s a.txt "$B/link"
ln "$B/a.txt" "$B/b-hard"
mkfifo "$B/fifo"
mknod "$B/cdev" c 1 3
mknod "$B/bdev" b 8 0
ln -s "$(printf 't%.0s' $(seq 1 150))" "$B/longlink"
printf 'evil\n' >"$B/evil"
printf 'bs\n' >"$B/back\\slash"
printf 'cc\n' >"$B/ctl$(printf '\001')char"
mkdir -p "$B/l256"
printf '256\n' >"$B/l256/$(printf 'x%.0s' $(seq 1 251))"
find "$B" -exec touch -h -d @1700000000 {} +
bad() { (cd "$B" && $GNU "$@"); }
bad --format=gnu -cf "$OUT/bad-symlink.tar" a.txt link z.txt
bad --format=gnu -cf "$OUT/bad-hardlink.tar" a.txt b-hard z.txt
bad --format=gnu -cf "$OUT/bad-fifo.tar" a.txt fifo z.txt
bad --format=gnu -cf "$OUT/bad-chardev.tar" a.txt cdev z.txt
bad --format=gnu -cf "$OUT/bad-blockdev.tar" a.txt bdev z.txt
bad --format=gnu -cf "$OUT/bad-longlink.tar" a.txt longlink z.txt
bad --format=gnu -P -cf "$OUT/bad-dotdot.tar" a.txt d/../evil z.txt
bad --format=gnu -P --transform='s,^evil$,/abs/evil,' -cf "$OUT/bad-abs.tar" a.txt evil z.txt
bad --format=gnu -cf "$OUT/bad-backslash.tar" a.txt 'back\slash' z.txt
bad --format=gnu -cf "$OUT/bad-control.tar" a.txt "ctl$(printf '\001')char" z.txt
bad --format=gnu -cf "$OUT/bad-name256-gnu.tar" a.txt l256 z.txt
bad --format=pax $PAXOPT -cf "$OUT/bad-name256-pax.tar" a.txt l256 z.txt

# corrupted checksum: the first byte of z.txt's name (header block 2) flipped
bad --format=gnu -cf "$TMP/c.tar" a.txt z.txt
$PY - "$TMP/c.tar" "$OUT/bad-checksum.tar" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
assert b[2 * 512:2 * 512 + 5] == b"z.txt"
b[2 * 512] ^= 0x20
open(sys.argv[2], "wb").write(bytes(b))
EOF
# truncated: inside the data of README.txt, and inside a header
head -c 700 "$OUT/good-gnu.tar" >"$OUT/bad-truncated-data.tar"
head -c 1800 "$OUT/good-gnu.tar" >"$OUT/bad-truncated-header.tar"

# ---- manifests of the good archives ------------------------------------------
$PY - "$TMP/tree" "$TMP/small" "$OUT"/good-*.tar <<'EOF'
import os, sys, tarfile
tree, small, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
def fnv(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h
for path in paths:
    src = small if ("dot" in path or "global" in path) else tree
    lines = []
    with tarfile.open(path, encoding="utf-8", errors="surrogateescape") as t:
        for m in t:
            name = m.name
            while name.startswith("./"):
                name = name[2:]
            name = name.rstrip("/")
            if name in ("", "."):
                continue
            if m.isdir():
                assert os.path.isdir(os.path.join(src, name)), name
                lines.append("D 0 - " + name)
            else:
                assert m.isfile(), name
                data = t.extractfile(m).read()
                with open(os.path.join(src, name), "rb") as f:
                    assert f.read() == data, name
                lines.append("F %d %s %s" % (m.size, fnv(data), name))
    with open(path + ".list", "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(lines) + "\n")
EOF
ls -l "$OUT"
