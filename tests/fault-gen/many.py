#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes a mknode.py scenario with about N block devices: Azure SCSI disks,
# each with partitions, the way a big node (or a hostile tree) can look.
"""many.py N OUT.json: a scenario of N block devices (disks plus three
partitions each) on the Gen2 OS controller and data controllers, with
encryption at host on (IMDS document gen2-luks-data is reused as is, so
imds.disks_match must see the extra disks as unexplained)."""
import json
import sys


def sd_name(i):
	"""sda, ..., sdz, sdaa, ... as the sd driver names them."""
	s = ""
	i += 1
	while i:
		i, r = divmod(i - 1, 26)
		s = chr(ord("a") + r) + s
	return "sd" + s


def scenario(n):
	ctl = [{"id": "os", "type": "storvsc", "gen": 2, "class": "scsi",
		"guid": "f8b3781a-1e82-4818-a1c3-63d806ec15bb", "host": 0}]
	disks = [{"name": "sda", "controller": "os", "lun": 0, "size": "30G",
		  "partitions": [{"number": 1, "size": "29G"}]},
		 {"name": "sdb", "controller": "os", "lun": 1, "size": "150G",
		  "partitions": [{"number": 1, "size": "149G"}]}]
	count = 4
	i = 2
	while count < n:
		c = len(ctl)
		# 64 LUNs per data controller, as Azure does; controllers past the
		# three data GUIDs are unknown ones (role other).
		if (i - 2) % 64 == 0:
			guid = "f8b3781%s-1e82-4818-a1c3-63d806ec15bb" % "bcd"[c - 1] if c <= 3 else \
				"0badc0de-%04x-4818-a1c3-63d806ec15bb" % c
			ctl.append({"id": "c%d" % c, "type": "storvsc", "gen": 2, "class": "scsi",
				    "guid": guid, "host": c})
		parts = [{"number": k, "size": "1G"} for k in (1, 2, 3)]
		disks.append({"name": sd_name(i), "controller": ctl[-1]["id"],
			      "lun": (i - 2) % 64, "size": "4G", "partitions": parts})
		count += 4
		i += 1
	return {
		"description": "A node with %d block devices (fault matrix)." % count,
		"imds": "gen2-luks-data",
		"hostname": "vm-many",
		"dmi": {"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine",
			"chassis_asset_tag": "7783-7084-3265-9085-8269-3286-77"},
		"controllers": ctl,
		"disks": disks,
		"mounts": [{"dev": "sda1", "mountpoint": "/", "source": "/dev/root",
			    "fstype": "ext4", "super": "rw"}],
	}


if __name__ == "__main__":
	if len(sys.argv) != 3:
		print(__doc__.strip(), file=sys.stderr)
		sys.exit(2)
	with open(sys.argv[2], "w") as f:
		json.dump(scenario(int(sys.argv[1])), f, indent=1)
