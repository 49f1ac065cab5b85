#!/usr/bin/python3
"""Writes the real-world corpus of issue 18 into the directory given as argv[1].

Every file is built here from the element lists below (nothing binary is committed): the
encodings a conforming writer never produces (UN that is really a sequence, bytes that are not
a VR, a meta header that lies, ...) are written byte by byte with struct; pydicom writes the
files a library can. Used by test/data/real-world.test.ts, which then compares dicomnet with
dcm2json (and pydicom where DCMTK 3.6.7 cannot convert).
"""
import struct
import sys
from pathlib import Path

OUT = Path(sys.argv[1])
LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}
UNDEF = 0xFFFFFFFF
SC = b"1.2.840.10008.5.1.4.1.1.7"


def pad(v: bytes, byte: bytes = b" ") -> bytes:
    return v + byte if len(v) % 2 else v


def tag(g: int, e: int, le: bool = True) -> bytes:
    return struct.pack("<HH" if le else ">HH", g, e)


def ex(g: int, e: int, vr: str, value: bytes, le: bool = True, length: int | None = None) -> bytes:
    """An explicit VR element; `length` overrides the value length (e.g. UNDEF)."""
    n = len(value) if length is None else length
    o = "<" if le else ">"
    if vr in LONG:
        return tag(g, e, le) + vr.encode() + b"\0\0" + struct.pack(o + "I", n) + value
    return tag(g, e, le) + vr.encode() + struct.pack(o + "H", n) + value


def im(g: int, e: int, value: bytes, length: int | None = None) -> bytes:
    """An implicit VR little endian element."""
    return tag(g, e) + struct.pack("<I", len(value) if length is None else length) + value


def item(content: bytes, le: bool = True, undefined: bool = True) -> bytes:
    o = "<" if le else ">"
    if undefined:
        return tag(0xFFFE, 0xE000, le) + struct.pack(o + "I", UNDEF) + content + tag(0xFFFE, 0xE00D, le) + b"\0\0\0\0"
    return tag(0xFFFE, 0xE000, le) + struct.pack(o + "I", len(content)) + content


def seq_end(le: bool = True) -> bytes:
    return tag(0xFFFE, 0xE0DD, le) + b"\0\0\0\0"


def part10(name: str, body: bytes, ts: bytes, sop: bytes) -> None:
    meta_elements = (
        ex(2, 1, "OB", b"\0\1")
        + ex(2, 2, "UI", pad(SC, b"\0"))
        + ex(2, 3, "UI", pad(sop, b"\0"))
        + ex(2, 0x10, "UI", pad(ts, b"\0"))
        + ex(2, 0x12, "UI", pad(b"1.2.3.4", b"\0"))
    )
    meta = ex(2, 0, "UL", struct.pack("<I", len(meta_elements))) + meta_elements
    (OUT / name).write_bytes(b"\0" * 128 + b"DICM" + meta + body)


def ids(n: int, le: bool = True, implicit: bool = False) -> bytes:
    sop = b"1.2.826.0.1.3680043.2.1143.18.%d" % n
    if implicit:
        return im(8, 0x16, pad(SC, b"\0")) + im(8, 0x18, pad(sop, b"\0"))
    return ex(8, 0x16, "UI", pad(SC, b"\0"), le) + ex(8, 0x18, "UI", pad(sop, b"\0"), le)


def sop_of(n: int) -> bytes:
    return b"1.2.826.0.1.3680043.2.1143.18.%d" % n


EXPLICIT_LE = b"1.2.840.10008.1.2.1"
IMPLICIT_LE = b"1.2.840.10008.1.2"
EXPLICIT_BE = b"1.2.840.10008.1.2.2"

# -- 1. UN that is really a sequence, and UN values of known tags -----------------------------
inner = im(0x0040, 0xA040, b"TEXT") + im(0x0040, 0xA160, pad(b"  leading spaces kept"))
referenced = (
    im(8, 0x1150, pad(b"1.2.840.10008.5.1.4.1.1.2", b"\0"))
    + im(8, 0x1155, pad(b"1.2.3.4.5", b"\0"))
    + im(0x0040, 0xA730, item(inner), length=UNDEF)
    + seq_end()
)
defined_items = item(im(0x0040, 0x0009, pad(b"SPS-1")), undefined=False) + item(
    im(0x0040, 0x0009, pad(b"SPS-2")), undefined=False
)
body = (
    ids(1)
    + ex(8, 0x1115, "UN", item(referenced) + item(b"") + seq_end(), length=UNDEF)
    + ex(9, 0x0010, "LO", pad(b"ACME 1.0"))
    + ex(9, 0x1010, "UN", item(im(9, 0x0010, pad(b"ACME 1.0")) + im(0x10, 0x20, b"INNER ")) + seq_end(), length=UNDEF)
    + ex(0x10, 0x10, "UN", b"Doe^John")
    + ex(0x10, 0x20, "UN", b"ID-42 ")
    + ex(0x18, 0x9087, "UN", struct.pack("<d", 0.1))
    + ex(0x28, 0x10, "UN", struct.pack("<H", 512))
    + ex(0x40, 0x0275, "UN", defined_items)
)
part10("un-sequence.dcm", body, EXPLICIT_LE, sop_of(1))
body_be = (
    ids(2, le=False)
    + ex(8, 0x1115, "UN", item(referenced) + seq_end(), le=False, length=UNDEF)
    + ex(0x10, 0x20, "LO", b"ID-BE ", le=False)
    + ex(0x28, 0x10, "US", struct.pack(">H", 512), le=False)
)
part10("un-sequence-big.dcm", body_be, EXPLICIT_BE, sop_of(2))

# -- 2. Specific Character Set inside sequence items (PS3.5 H.3.1 and I.2 examples) -----------
yamada = bytes.fromhex(
    "d4cfc0de5ec0dbb33d1b24423b3345441b284a5e1b244242404f3a1b284a3d1b24422464245e24401b284a5e1b2442243f246d24261b284a"
)
item_jp = ex(8, 5, "CS", pad(b"ISO 2022 IR 13\\ISO 2022 IR 87")) + ex(0x10, 0x10, "PN", pad(yamada))
nested_inherits = ex(0x10, 0x1002, "SQ", item(ex(0x10, 0x10, "PN", pad(yamada))) + seq_end(), length=UNDEF)
item_utf8 = ex(8, 5, "CS", b"ISO_IR 192") + ex(0x10, 0x10, "PN", pad("Wang^XiaoDong=王^小東".encode()))
item_plain = ex(0x10, 0x10, "PN", pad("Müller^Jürgen".encode("latin-1")))
body = (
    ex(8, 5, "CS", b"ISO_IR 100")
    + ids(3)
    + ex(0x10, 0x10, "PN", pad("Bücher^Hélène".encode("latin-1")))
    + ex(0x10, 0x1002, "SQ", item(item_jp + nested_inherits) + item(item_utf8) + item(item_plain) + seq_end(), length=UNDEF)
    + ex(0x10, 0x4000, "LT", pad("Après la séquence".encode("latin-1")))
)
part10("charset-items.dcm", body, EXPLICIT_LE, sop_of(3))

# -- 3. explicit VR with bytes that are not a VR; a meta header that lies ----------------------
body = (
    ids(4)
    + ex(0x10, 0x10, "PN", b"Doe^Jane")
    + tag(0x10, 0x20) + b"  " + struct.pack("<H", 6) + b"ID-SP "
    + tag(0x10, 0x30) + b"\0\0" + struct.pack("<H", 8) + b"19700101"
    + ex(0x10, 0x40, "CS", b"F ")
)
part10("bad-vr.dcm", body, EXPLICIT_LE, sop_of(4))
implicit_body = (
    ids(5, implicit=True)
    + im(0x10, 0x10, b"Liar^Meta ")
    + im(0x10, 0x20, b"ID-LIE")
    + im(0x28, 0x10, struct.pack("<H", 4))
)
part10("meta-lies-explicit.dcm", implicit_body, EXPLICIT_LE, sop_of(5))
explicit_body = ids(6) + ex(0x10, 0x10, "PN", b"Liar^Other") + ex(0x28, 0x10, "US", struct.pack("<H", 4))
part10("meta-lies-implicit.dcm", explicit_body, IMPLICIT_LE, sop_of(6))

# -- 4. VRs that depend on the data (implicit VR little endian) -------------------------------
lut = struct.pack("<3H", 4, 0, 16) + struct.pack("<4H", 0, 100, 200, 65535)
signed = (
    ids(7, implicit=True)
    + im(0x28, 0x0002, struct.pack("<H", 1))
    + im(0x28, 0x0010, struct.pack("<H", 2))
    + im(0x28, 0x0011, struct.pack("<H", 2))
    + im(0x28, 0x0100, struct.pack("<H", 16))
    + im(0x28, 0x0101, struct.pack("<H", 12))
    + im(0x28, 0x0102, struct.pack("<H", 11))
    + im(0x28, 0x0103, struct.pack("<H", 1))
    + im(0x28, 0x0106, struct.pack("<h", -5))
    + im(0x28, 0x0107, struct.pack("<h", 1000))
    + im(0x28, 0x0120, struct.pack("<h", -2000))
    + im(0x28, 0x3010, item(im(0x28, 0x3002, lut[:6]) + im(0x28, 0x3006, lut[6:])), length=UNDEF)
    + seq_end()
    + im(0x60, 0x3000, b"\x0f\x00\x00\x00")
    + im(0x7FE0, 0x10, struct.pack("<4h", -5, 0, 1000, -2000))
)
signed = signed.replace(tag(0x60, 0x3000), tag(0x6000, 0x3000))
part10("xs-signed-implicit.dcm", signed, IMPLICIT_LE, sop_of(7))
unsigned8 = (
    ids(8, implicit=True)
    + im(0x28, 0x0010, struct.pack("<H", 2))
    + im(0x28, 0x0011, struct.pack("<H", 2))
    + im(0x28, 0x0100, struct.pack("<H", 8))
    + im(0x28, 0x0103, struct.pack("<H", 0))
    + im(0x28, 0x0106, struct.pack("<H", 65000))
    + im(0x7FE0, 0x10, b"\x01\x02\x03\x04")
)
part10("xs-unsigned8-implicit.dcm", unsigned8, IMPLICIT_LE, sop_of(8))

# -- 5. bytes are bytes -------------------------------------------------------------------------
body = (
    ids(9)
    + ex(9, 0x0010, "LO", pad(b"ACME 1.0"))
    + ex(9, 0x1001, "UN", b"Nested SQ\0")
    + ex(9, 0x1002, "OB", b"Nested SQ\0")
    + ex(9, 0x1003, "OB", b"\0\0\0\0")
    + ex(0x10, 0x20, "LO", b"ID\0\0")
    + ex(0x10, 0x21, "LO", b" LEAD ")
    + ex(0x20, 0x4000, "LT", b"  text\0\0")
    + ex(0x42, 0x11, "OB", b"%PDF\0\0")
)
part10("bytes.dcm", body, EXPLICIT_LE, sop_of(9))

# -- 6. DICOM JSON as dcm2json writes it --------------------------------------------------------
body = (
    ex(8, 0, "UL", struct.pack("<I", 0))
    + ids(10)
    + ex(8, 0x90, "PN", b"^^^^")
    + ex(0x10, 0, "UL", struct.pack("<I", 0))
    + ex(0x10, 0x10, "PN", pad(b"^^^^=^^^^"))
    + ex(0x10, 0x20, "LO", b"")
    + ex(0x10, 0x30, "DA", b"")
    + ex(0x10, 0x1010, "AS", b"")
    + ex(0x10, 0x1020, "DS", b"")
    + ex(0x10, 0x1030, "DS", b"  ")
    + ex(0x10, 0x9431, "FL", struct.pack("<4f", 0.1, 3.4028234663852886e38, 1e-45, -2.5))
    + ex(0x18, 0x1310, "US", b"")
    + ex(0x18, 0x9087, "FD", struct.pack("<4d", 0.1, 1 / 3, 5e-324, 1.7976931348623157e308))
    + ex(0x20, 0x13, "IS", b"")
)
part10("json-rules.dcm", body, EXPLICIT_LE, sop_of(10))

# -- 7. truncated and damaged files (cut by the test from a whole one) -------------------------
body = (
    ids(11)
    + ex(0x10, 0x10, "PN", b"Cut^Short ")
    + ex(0x10, 0x20, "LO", b"ID-CUT")
    + ex(0x10, 0x4000, "LT", b"This value is cut in the middle.")
)
part10("truncated-whole.dcm", body, EXPLICIT_LE, sop_of(11))

# -- 8. private tags with well-known creators, implicit VR --------------------------------------
body = (
    ids(12, implicit=True)
    + im(0x19, 0x0010, pad(b"GEMS_ACQU_01"))
    + im(0x19, 0x1002, struct.pack("<l", 880))
    + im(0x19, 0x1003, pad(b"1.5"))
    + im(0x19, 0x100F, b"12.3")
    + im(0x29, 0x0010, pad(b"SIEMENS CSA HEADER"))
    + im(0x29, 0x0011, pad(b"ACME 1.0"))
    + im(0x29, 0x1008, pad(b"IMAGE NUM 4"))
    + im(0x29, 0x1010, b"SV10\x04\x03\x02\x01")
    + im(0x29, 0x1101, b"\x01\x02\x03\x04")
    + im(0x43, 0x0010, pad(b"GEMS_PARM_01"))
    + im(0x43, 0x1001, struct.pack("<h", -7))
)
part10("private-implicit.dcm", body, IMPLICIT_LE, sop_of(12))

# -- 9. values that break PS3.5 (for dump --validate, dciodvfy as the second opinion) -----------
body = (
    ids(13)
    + ex(8, 0x20, "DA", b"2024-1-2")
    + ex(8, 0x30, "TM", b"25:61:00")
    + ex(8, 0x60, "CS", b"ct-scan ")
    + ex(8, 0x1030, "LO", pad(b"A" * 70))
    + ex(0x10, 0x10, "PN", pad(b"Doe^John\x01"))
    + ex(0x10, 0x1010, "AS", b"42Y ")
    + ex(0x18, 0x50, "DS", b"1,5 ")
    + ex(0x20, 0x0D, "UI", pad(b"1.2.840.01.abc", b"\0"))
    + ex(0x20, 0x13, "IS", b"12.5")
    + ex(0x28, 0x10, "US", struct.pack("<2H", 2, 3))
    + ex(0x28, 0x30, "DS", b"0.5 ")
)
part10("invalid-values.dcm", body, EXPLICIT_LE, sop_of(13))
