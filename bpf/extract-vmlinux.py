#!/usr/bin/python3
"""Extract the ELF vmlinux from a compressed kernel image (bzImage).

Usage: extract-vmlinux.py VMLINUZ OUT

The kernel's scripts/extract-vmlinux does the same with shell tools; this one
needs only Python (xz/lzma and gzip built in; zstd through the zstd tool),
so the BTF of the pinned guest kernel can be dumped without its source tree.
"""
import gzip
import lzma
import subprocess
import sys
import zlib

MAGICS = [
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b\x08", "gzip"),
]


def try_decompress(kind, blob):
    if kind == "xz":
        return lzma.LZMADecompressor().decompress(blob)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    if kind == "zstd":
        r = subprocess.run(["zstd", "-dc"], input=blob, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        return r.stdout
    return b""


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    if data[:4] == b"\x7fELF":
        open(out, "wb").write(data)
        return 0
    for magic, kind in MAGICS:
        pos = data.find(magic)
        while pos >= 0:
            try:
                elf = try_decompress(kind, data[pos:])
            except (lzma.LZMAError, zlib.error, EOFError, OSError):
                elf = b""
            if elf[:4] == b"\x7fELF":
                open(out, "wb").write(elf)
                return 0
            pos = data.find(magic, pos + 1)
    print("extract-vmlinux: no compressed ELF found in %s" % src, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
