# qr_png.py PAGE.html ID OUT.png — takes the data: PNG of <img id=ID> from a
# resolver page, checks its chunks (CRC, 1-bit grey), writes it 8x larger as
# 8-bit grey so zbarimg can read it (the page draws 1 pixel per module).
import base64, re, struct, sys, zlib
html = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'id="%s"[^>]*src="data:image/png;base64,([^"]+)"' % sys.argv[2], html)
png = base64.b64decode(m.group(1))
assert png[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(png):
    n, t = struct.unpack(">I4s", png[pos:pos + 8]); d = png[pos + 8:pos + 8 + n]
    assert zlib.crc32(t + d) == struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0]
    if t == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", d[:10]); assert depth == 1 and ctype == 0
    if t == b"IDAT": idat += d
    pos += 12 + n
raw, row, S = zlib.decompress(idat), 1 + (w + 7) // 8, 8
out = b""
for y in range(w):
    r = raw[y * row:(y + 1) * row]; assert r[0] == 0
    line = bytes(255 if r[1 + x // 8] & (0x80 >> (x % 8)) else 0 for x in range(w) for _ in range(S))
    out += (b"\0" + line) * S
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[3], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w * S, w * S, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(out)) + chunk(b"IEND", b""))
