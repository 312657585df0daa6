"""The export names of a wasm module (the binary format's export section)."""

import sys


def _leb128(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def exports(path):
    with open(path, "rb") as module:
        data = module.read()
    if data[:4] != b"\0asm":
        raise ValueError(f"{path} is not a wasm module")
    at = 8
    while at < len(data):
        section, at = data[at], at + 1
        size, at = _leb128(data, at)
        if section == 7:
            count, cursor = _leb128(data, at)
            names = []
            for _ in range(count):
                length, cursor = _leb128(data, cursor)
                names.append(data[cursor:cursor + length].decode())
                cursor += length + 1  # the kind byte
                _, cursor = _leb128(data, cursor)  # the index
            return names
        at += size
    return []


if __name__ == "__main__":
    for name in exports(sys.argv[1]):
        print(name)
