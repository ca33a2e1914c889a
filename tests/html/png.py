"""png.py — just enough PNG for the report test: read an 8-bit, non-interlaced
RGB/RGBA/grey image (what Chromium writes), count pixels that are not
background, and write a cropped copy for a person to look at. No PIL."""

import struct
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read(path):
    """(width, height, channels, rows): rows are bytearrays of raw samples."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace or colour not in CHANNELS:
        raise ValueError("unsupported PNG (depth %d, colour %d)" % (depth, colour))
    ch = CHANNELS[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = width * ch
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(ch, stride):
                line[i] = (line[i] + line[i - ch]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - ch] if i >= ch else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                left = line[i - ch] if i >= ch else 0
                upleft = prev[i - ch] if i >= ch else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 255
        rows.append(line)
        prev = line
    return width, height, ch, rows


def ink_pixels(image, background=(255, 255, 255), tolerance=12):
    """Pixels whose colour differs from background by more than tolerance."""
    width, height, ch, rows = image
    count = 0
    for line in rows:
        for x in range(0, width * ch, ch):
            px = line[x:x + 3] if ch >= 3 else line[x:x + 1] * 3
            if any(abs(px[i] - background[i]) > tolerance for i in range(3)):
                count += 1
    return count


def write_crop(image, path, top, height):
    """Rows [top, top+height) as a new PNG."""
    width, total, ch, rows = image
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[ch]
    body = b"".join(b"\x00" + bytes(r) for r in rows[top:min(total, top + height)])
    h = min(total, top + height) - top

    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload +
                struct.pack(">I", zlib.crc32(kind + payload) & 0xffffffff))

    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, h, 8, colour, 0, 0, 0)))
        out.write(chunk(b"IDAT", zlib.compress(body, 6)))
        out.write(chunk(b"IEND", b""))
