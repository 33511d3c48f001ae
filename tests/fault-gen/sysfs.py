#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Damages a copy of a fixture node (tests/fixtures/mknode.py) the ways a
# hostile or racing sysfs/procfs can look; used by tests/faults.py.
"""Each function takes ROOT (the sysroot on the host) and logical paths
(/sys/...). Block devices are named by kernel name and found through
/sys/class/block, as atrest finds them."""
import os
import shutil


def host(root, path):
	return os.path.join(root, path.lstrip("/"))


def blockdir(root, name):
	"""The resolved block dir of a device, as a host path."""
	return os.path.realpath(host(root, "/sys/class/block/" + name))


def dev_attr(root, name, attr):
	return os.path.join(blockdir(root, name), attr)


def remove(p):
	if os.path.isdir(p) and not os.path.islink(p):
		shutil.rmtree(p)
	elif os.path.lexists(p):
		os.unlink(p)


def rm_attr(root, name, attr):
	"""An attribute the kernel did not create (older kernel, other driver)."""
	remove(dev_attr(root, name, attr))


def set_attr(root, name, attr, value):
	with open(dev_attr(root, name, attr), "w") as f:
		f.write(value + "\n")


def dirify(p):
	"""A directory where a file should be: read() fails with EISDIR even as root."""
	remove(p)
	os.mkdir(p)


def fifo(p):
	"""A FIFO where a file should be: a blocking open() would hang forever."""
	remove(p)
	os.mkfifo(p)


def unreadable(p):
	"""Mode 000: stops a reader that is not root (root ignores DAC)."""
	os.chmod(p, 0)


def dangle(p):
	"""A symlink to nothing (the kernel object went away under it)."""
	remove(p)
	os.symlink("../../nonexistent/device/gone", p)


def loop(p):
	"""A symlink that resolves to itself through a second link: ELOOP."""
	remove(p)
	other = p + ".loop"
	os.symlink(os.path.basename(p), other)
	os.symlink(os.path.basename(other), p)


def controller_dir(root, guid):
	return host(root, "/sys/bus/vmbus/devices/" + guid)


def vanish(root, name):
	"""A device that vanished between listing and reading, frozen at the
	worst moment: /sys/class/block/NAME still lists it, but the directory
	it names is empty (the kernel removed the attributes first) and the
	device node is gone. A real race cannot be replayed deterministically;
	this is the state a scan sees inside that window."""
	d = blockdir(root, name)
	for e in os.listdir(d):
		remove(os.path.join(d, e))
	remove(host(root, "/dev/" + name))


def proc_self(root, what):
	"""/proc/self/WHAT on the host (self links to the fixture's pid dir)."""
	return os.path.realpath(host(root, "/proc/self")) + "/" + what


GARBAGE = (b"\x00\xff\xfe garbage \x01\x02 not a table\n" * 64 +
	   b"30 1 253:0 / /data rw" + b" x" * 5000 + b"\n" +
	   b"\n\n\t\t \\\\\\ 1 2 3 - - -\n" +
	   bytes(range(256)))


def garbage(p):
	remove(p)
	with open(p, "wb") as f:
		f.write(GARBAGE)


def rm_scsi_attrs(root, name, attrs):
	"""Attributes of the SCSI device (vendor, model) behind a disk."""
	d = os.path.realpath(dev_attr(root, name, "device"))
	for a in attrs:
		remove(os.path.join(d, a))


def append(p, text):
	with open(p, "a") as f:
		f.write(text)


def edit_lines(p, needle, fn):
	"""Rewrites the lines of P that contain NEEDLE through FN."""
	with open(p) as f:
		lines = f.read().split("\n")
	with open(p, "w") as f:
		f.write("\n".join(fn(l) if needle in l else l for l in lines))
