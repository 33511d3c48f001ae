#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Corrupts a LUKS header made by the real cryptsetup in place, one way per
# mode, so the fault matrix can show atrest never passes a broken header.
"""luks.py MODE IMAGE

Modes (LUKS2 unless named luks1-*; "both" modes damage the primary and the
secondary header, since libcryptsetup silently falls back to the intact
copy and would still read valid parameters):
  truncate          cut the file to 4 KiB (binary header only, JSON gone)
  json-both         flip a byte inside the JSON area of both copies
  json-primary      the same in the primary copy only (the secondary is valid)
  csum-both         flip a byte of the stored SHA-256 checksum of both copies
  magic-both        overwrite both magics ("LUKS\\xba\\xbe", "SKUL\\xba\\xbe")
  hdrsize-both      set hdr_size (the binary header + JSON area) to 2^40
  luks1-keybytes-0  LUKS1 key_bytes = 0
  luks1-keybytes-huge  LUKS1 key_bytes = 0xffffffff
  luks1-keybytes-1  LUKS1 key_bytes = 1 (an 8-bit "key")
Layouts: cryptsetup's lib/luks2/luks2.h and lib/luks1/luks.h.
"""
import os
import struct
import sys

LUKS2_MAGIC_1ST = b"LUKS\xba\xbe"
LUKS2_MAGIC_2ND = b"SKUL\xba\xbe"
HDR_SIZE_OFF = 8          # u64 BE: binary header + JSON area, per copy
CSUM_OFF = 0x1C0          # 64 bytes; SHA-256 uses the first 32
BIN_SIZE = 4096           # the binary header; the JSON area follows
LUKS1_KEY_BYTES_OFF = 108  # u32 BE after magic, version, cipher, mode, hash, offset


def read(f, off, n):
	f.seek(off)
	return f.read(n)


def write(f, off, data):
	f.seek(off)
	f.write(data)


def luks2_copies(f):
	"""Offsets of the primary and secondary LUKS2 binary headers."""
	if read(f, 0, 6) != LUKS2_MAGIC_1ST or struct.unpack(">H", read(f, 6, 2))[0] != 2:
		raise SystemExit("luks.py: not a LUKS2 image")
	hdr_size = struct.unpack(">Q", read(f, HDR_SIZE_OFF, 8))[0]
	if read(f, hdr_size, 6) != LUKS2_MAGIC_2ND:
		raise SystemExit("luks.py: no secondary LUKS2 header at %d" % hdr_size)
	return [0, hdr_size]


def flip(f, off):
	b = read(f, off, 1)
	write(f, off, bytes([b[0] ^ 0x5A]))


def json_flip(f, copies):
	for c in copies:
		# The JSON area starts with '{"keyslots":'; a flipped quote breaks
		# both the checksum and the syntax.
		flip(f, c + BIN_SIZE + 1)


def luks1(f):
	if read(f, 0, 6) != LUKS2_MAGIC_1ST or struct.unpack(">H", read(f, 6, 2))[0] != 1:
		raise SystemExit("luks.py: not a LUKS1 image")


def corrupt(mode, path):
	if mode == "truncate":
		os.truncate(path, BIN_SIZE)
		return
	with open(path, "r+b") as f:
		if mode.startswith("luks1-keybytes-"):
			luks1(f)
			v = {"0": 0, "huge": 0xFFFFFFFF, "1": 1}[mode.rsplit("-", 1)[1]]
			write(f, LUKS1_KEY_BYTES_OFF, struct.pack(">I", v))
			return
		copies = luks2_copies(f)
		if mode == "json-both":
			json_flip(f, copies)
		elif mode == "json-primary":
			json_flip(f, copies[:1])
		elif mode == "csum-both":
			for c in copies:
				flip(f, c + CSUM_OFF)
		elif mode == "magic-both":
			for c in copies:
				write(f, c, b"XXXX\x00\x00")
		elif mode == "hdrsize-both":
			for c in copies:
				write(f, c + HDR_SIZE_OFF, struct.pack(">Q", 1 << 40))
		else:
			raise SystemExit("luks.py: unknown mode " + mode)


if __name__ == "__main__":
	if len(sys.argv) != 3:
		print(__doc__.strip(), file=sys.stderr)
		sys.exit(2)
	corrupt(sys.argv[1], sys.argv[2])
