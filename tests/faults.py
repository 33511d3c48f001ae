#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The fault matrix: one row per fault, each run END TO END through the real
binary (`atrest check --format json --no-bench` and, for local faults,
`atrest devices --format json`) against a fixture node (tests/fixtures) and
the loopback IMDS (tests/imds-server.py), damaged by the generators in
tests/fault-gen. Every row asserts: no crash (exit 0..3, never a signal, no
sanitizer report), no hang past its deadline (wall time measured), the JSON
report parses and its verdict matches the exit code, the checks that rested
on the damaged evidence are never `pass` (and `unknown` where named), every
pass carries evidence, and a LUKS image is never written. One TAP line per
row; the matrix follows as diagnostics. Usage: faults.py [ROW-NAME...]"""
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.join(top, "tests", "fault-gen"))
import luks  # noqa: E402  (tests/fault-gen/luks.py)
import many  # noqa: E402
import sysfs as fs  # noqa: E402

atrest = os.environ.get("ATREST", "./atrest")
wrapper = shlex.split(os.environ.get("ATREST_VALGRIND", ""))
fx = os.path.join(top, "tests", "fixtures")
IMDS_TIMEOUT = 1.5
# The deadline is the IMDS timeout plus one second. Under valgrind the
# binary runs 20-50 times slower: CPU-bound rows get room, but the network
# deadline must still hold within the fixed start-up cost.
# make check-valgrind wraps $ATREST itself and says so in ATREST_UNDER_VALGRIND.
valgrind = bool(wrapper) or bool(os.environ.get("ATREST_UNDER_VALGRIND"))


def sanitized(path):
	"""An ASan build (--enable-asan) runs our code 2-3 times slower."""
	try:
		with open(path, "rb") as f:
			return b"__asan_init" in f.read()
	except OSError:
		return False


def busy():
	"""How many times over the CPUs are runnable: a deadline is a claim about
	atrest, not about what else the machine is doing (make -j, a neighbour)."""
	try:
		return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
	except OSError:
		return 1.0


# A cross build's tests run the binary under qemu-user (make check sets
# ATREST_UNDER_EMULATION): translated code, 1.3-2 times slower measured on
# the 1,000-device row, given the sanitizer build's room.
emulated = bool(os.environ.get("ATREST_UNDER_EMULATION"))
SLOW = (20 if valgrind else 3 if sanitized(atrest) or emulated else 1) * busy()
SLACK = 15.0 if valgrind else 1.0 if SLOW > 1 else 0.0
EXIT = {"compliant": 0, "warning": 1, "noncompliant": 2, "indeterminate": 3}
n = 0
fails = 0
matrix = []


def ok(cond, what, diag=()):
	global n, fails
	n += 1
	print(("ok" if cond else "not ok") + f" {n} - {what}")
	if not cond:
		fails += 1
		for d in diag:
			print("#   " + d)
	sys.stdout.flush()
	return cond


class Row:
	"""One fault. build(tmp, port) -> dict(root, url, conf[, user, image])."""
	def __init__(self, name, group, build, expect, want=None, notpass=(), forbid=(),
		     verdict=None, deadline=None, devices=False, check=True):
		self.name, self.group, self.build, self.expect = name, group, build, expect
		self.want = want or {}           # (check, subject) -> allowed statuses
		self.notpass = list(notpass)     # (check, subject): absent or not pass
		self.forbid = list(forbid)       # (check, None|subject, statuses)
		self.verdict = verdict           # allowed verdicts, or None
		self.deadline = deadline or IMDS_TIMEOUT + 1.0
		self.devices = devices
		self.check = check


# ---- building blocks ---------------------------------------------------------

def base_node(scenario):
	out = subprocess.run(["sh", os.path.join(fx, "run-node.sh"), scenario],
			     capture_output=True, text=True)
	if out.returncode != 0:
		raise RuntimeError(f"run-node.sh {scenario}: {out.stderr.strip()[-300:]}")
	return out.stdout.strip()


def node_copy(tmp, scenario, tag):
	"""A private copy of a cached fixture node, free to damage."""
	dst = os.path.join(tmp, tag)
	# cp keeps the disk images sparse (tens of GiB apparent, MiBs used);
	# shutil.copytree would write every zero.
	subprocess.run(["cp", "-a", "--sparse=always", base_node(scenario), dst], check=True)
	return dst


def conf(scenario):
	p = os.path.join(fx, "conf", scenario + ".conf")
	return p if os.path.exists(p) else None


def untrusting(scenario, damage):
	"""damage, run with the scenario's policy minus the v5+ platform basis
	(trust_platform_temp_encryption = no): a row about a damaged dm-crypt
	stack under the temp disk must see the stack judged, not the size."""
	def f(root):
		extra = damage(root) or {}
		text = open(conf(scenario)).read() if conf(scenario) else ""
		if "[policy]\n" in text:
			text = text.replace("[policy]\n", "[policy]\ntrust_platform_temp_encryption = no\n", 1)
		else:
			text += "\n[policy]\ntrust_platform_temp_encryption = no\n"
		path = root + ".conf"
		with open(path, "w") as c:
			c.write(text)
		extra["conf"] = path
		return extra
	return f


def closed_port():
	"""A loopback port nobody listens on: connect() is refused at once."""
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def file_digest(path):
	h = hashlib.sha256()
	with open(path, "rb") as f:
		h.update(f.read(8 << 20))
	return (os.path.getsize(path), h.hexdigest())


# ---- the rows ----------------------------------------------------------------

BASE = "gen2-luks-data"
IMDS_WANT = {
	("host.encryption_at_host", "node"): {"unknown"},
	("ade.active", "os"): {"unknown"},
	("imds.disks_match", "node"): {"unknown"},
	# The local evidence is intact: the fault must not spill over.
	("dmcrypt.cipher", "datacrypt"): {"pass"},
	("path.dm_crypt", "/data"): {"pass"},
}
# /dev/sdb1 is plain: the temp disk passes only on IMDS's word.
IMDS_NOTPASS = [("disk.temp_encrypted", "resource")]


def imds_row(name, kind, expect):
	def build(tmp, port):
		url = (f"http://127.0.0.1:{closed_port()}" if kind == "refused"
		       else f"http://127.0.0.1:{port}/fault/{kind}")
		return {"root": base_node(BASE), "url": url, "conf": conf(BASE)}
	return Row(f"imds-{name}", "imds", build, expect, want=IMDS_WANT, notpass=IMDS_NOTPASS,
		   verdict={"indeterminate"}, deadline=IMDS_TIMEOUT + 1.0 + SLACK)


def local_row(name, scenario, damage, expect, **kw):
	def build(tmp, port):
		root = node_copy(tmp, scenario, name)
		extra = damage(root) or {}
		imds = json.load(open(os.path.join(fx, "scenarios", scenario + ".json"))).get("imds")
		d = {"root": root, "url": f"http://127.0.0.1:{port}/doc/{imds}", "conf": conf(scenario)}
		d.update(extra)
		return d
	kw.setdefault("devices", True)
	kw.setdefault("deadline", (IMDS_TIMEOUT + 1.0) * SLOW + SLACK)
	return Row(name, kw.pop("group", "sysfs"), build, expect, **kw)


def luks_row(name, scenario, image, mode, mapping, expect, want=None, **kw):
	def damage(root):
		p = fs.host(root, image)
		luks.corrupt(mode, p)
		return {"image": p, "image_digest": file_digest(p)}
	if want is None:
		want = {("dmcrypt.cipher", mapping): {"unknown"}}
	return local_row(name, scenario, damage, expect, group="luks", want=want,
			 notpass=[] if mode == "json-primary" else [("dmcrypt.cipher", mapping)], **kw)


def as_nobody(root):
	"""Runs the row unprivileged when we are root: a mode-000 file only
	stops a reader without CAP_DAC_OVERRIDE."""
	if os.geteuid() != 0:
		return {}
	p = root
	while p != "/":
		if not os.stat(p).st_mode & 0o001:
			os.chmod(p, 0o755)
		p = os.path.dirname(p)
	return {"user": ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]}


def chmod000(path_of):
	def damage(root):
		fs.unreadable(path_of(root))
		return as_nobody(root)
	return damage


def hide_boot_mount(root):
	"""ADE node: / on dm-crypt, /boot on plain sda1. The /boot line of
	mountinfo loses its tail: a reader that skips it would resolve /boot to
	the encrypted / and pass it. /boot becomes a required path."""
	fs.edit_lines(fs.proc_self(root, "mountinfo"), " /boot ", lambda l: l.split(" - ")[0])
	c = os.path.join(root, "..", "ade-boot.conf")
	with open(conf("ade-osencrypt")) as f, open(c, "w") as o:
		o.write(f.read().replace("required_paths = /", "required_paths = /boot /"))
	return {"conf": os.path.abspath(c)}


def many_node(tmp, count):
	scen = os.path.join(tmp, "many.json")
	with open(scen, "w") as f:
		json.dump(many.scenario(count), f)
	root = os.path.join(tmp, "many")
	subprocess.run([sys.executable, os.path.join(fx, "mknode.py"), scen, root], check=True)
	return root


def rows():
	dm0 = lambda a: (lambda r: fs.rm_attr(r, "dm-0", a))  # noqa: E731
	sdc = lambda a: (lambda r: fs.rm_attr(r, "sdc", a))  # noqa: E731
	data_ctl = "f8b3781b-1e82-4818-a1c3-63d806ec15bb"
	path_np = [("path.dm_crypt", "/data")]
	crypt_np = [("dmcrypt.cipher", "datacrypt")]
	R = []
	# IMDS: every way the metadata service can fail or lie.
	R += [imds_row("refused", "refused", "unknown x3, exit 3"),
	      imds_row("closed", "closed", "unknown x3, exit 3"),
	      imds_row("hang", "hang", "unknown x3, exit 3, < deadline"),
	      imds_row("drip", "drip", "unknown x3, exit 3, < deadline")]
	for code in ("400json", "400xml", "404", "405", "410", "429", "500", "503"):
		R.append(imds_row(code, code, "unknown x3, exit 3"))
	# Throttled with a Retry-After past the IMDS step: no wait, no sooner retry.
	R.append(imds_row("429-retry-after-60", "429ra60", "unknown x3, exit 3, < deadline"))
	R += [imds_row("wrongtypes", "wrongtypes", "unknown x3, exit 3"),
	      imds_row("nested", "nested", "unknown x3, exit 3"),
	      imds_row("huge-50MB", "huge", "unknown x3, exit 3, < deadline"),
	      imds_row("invalidutf8", "invalidutf8", "unknown x3, exit 3"),
	      imds_row("truncated", "truncated", "unknown x3, exit 3"),
	      imds_row("empty-200", "empty", "unknown x3, exit 3"),
	      imds_row("html-200", "html", "unknown x3, exit 3")]
	# Sysfs: missing attributes.
	R += [local_row("attr-dev-missing", BASE, dm0("dev"), "path not pass", notpass=path_np),
	      local_row("attr-size-missing", BASE, sdc("size"), "no crash"),
	      local_row("attr-device_id-missing", BASE,
			lambda r: fs.remove(os.path.join(fs.controller_dir(r, data_ctl), "device_id")),
			"disks_match not pass", notpass=[("imds.disks_match", "node")]),
	      local_row("attr-vendor-model-missing", BASE,
			lambda r: fs.rm_scsi_attrs(r, "sdc", ("vendor", "model")),
			"no crash (role rests on VMBus)"),
	      local_row("attr-nvme-model-missing", "nvme-v6",
			lambda r: fs.remove(fs.host(r, "/sys/class/nvme/nvme0/model")),
			"disks_match not pass", notpass=[("imds.disks_match", "node")]),
	      local_row("attr-nvme-nsid-missing", "nvme-v6", lambda r: fs.rm_attr(r, "nvme0n2", "nsid"),
			"no crash (nsid from the name)"),
	      local_row("attr-dm-uuid-missing", BASE, dm0("dm/uuid"), "path+cipher not pass",
			notpass=path_np + crypt_np),
	      local_row("attr-dm-uuid-missing-temp", "gen2-resource-encrypted",
			untrusting("gen2-resource-encrypted", dm0("dm/uuid")),
			"temp+path not pass",
			notpass=[("disk.temp_encrypted", "resource"), ("path.dm_crypt", "/mnt")])]
	# Sysfs: dangling and looping links.
	cls = lambda name: (lambda r: fs.host(r, "/sys/class/block/" + name))  # noqa: E731
	R += [local_row("link-class-dangling", BASE, lambda r: fs.dangle(cls("sdc")(r)),
			"cipher+disks_match not pass", notpass=crypt_np + [("imds.disks_match", "node")]),
	      local_row("link-class-loop", BASE, lambda r: fs.loop(cls("sdc")(r)),
			"cipher+disks_match not pass", notpass=crypt_np + [("imds.disks_match", "node")]),
	      local_row("link-slave-dangling", BASE,
			lambda r: fs.dangle(fs.dev_attr(r, "dm-0", "slaves/sdc")), "no crash"),
	      local_row("link-holder-loop", BASE,
			lambda r: fs.loop(fs.dev_attr(r, "sdc", "holders/dm-0")), "no crash"),
	      local_row("link-device-dangling", BASE, lambda r: fs.dangle(fs.dev_attr(r, "sdc", "device")),
			"disks_match not pass", notpass=[("imds.disks_match", "node")]),
	      local_row("link-device-loop", BASE, lambda r: fs.loop(fs.dev_attr(r, "sdc", "device")),
			"disks_match not pass", notpass=[("imds.disks_match", "node")])]
	# Sysfs: unreadable attributes.
	R += [local_row("unreadable-uuid-dir", BASE, lambda r: fs.dirify(fs.dev_attr(r, "dm-0", "dm/uuid")),
			"path+cipher not pass", notpass=path_np + crypt_np),
	      local_row("unreadable-uuid-fifo", BASE, lambda r: fs.fifo(fs.dev_attr(r, "dm-0", "dm/uuid")),
			"no hang; path+cipher not pass", notpass=path_np + crypt_np),
	      local_row("unreadable-dev-fifo", BASE, lambda r: fs.fifo(fs.dev_attr(r, "dm-0", "dev")),
			"no hang; path not pass", notpass=path_np),
	      local_row("unreadable-uuid-mode000", BASE,
			chmod000(lambda r: fs.dev_attr(r, "dm-0", "dm/uuid")),
			"as uid 65534: path+cipher not pass", notpass=path_np + crypt_np),
	      local_row("unreadable-luks-mode000", BASE, chmod000(lambda r: fs.host(r, "/dev/sdc")),
			"as uid 65534: cipher unknown", want={("dmcrypt.cipher", "datacrypt"): {"unknown"}},
			notpass=crypt_np)]
	# Sysfs: values that are not numbers.
	R += [local_row("value-size-abc", BASE, lambda r: fs.set_attr(r, "sdc", "size", "abc"), "no crash"),
	      local_row("value-dev-x:y", BASE, lambda r: fs.set_attr(r, "dm-0", "dev", "x:y"),
			"path not pass", notpass=path_np),
	      local_row("value-partition--1", "gen2-resource-encrypted",
			untrusting("gen2-resource-encrypted",
				   lambda r: fs.set_attr(r, "sdb1", "partition", "-1")),
			"temp not pass", notpass=[("disk.temp_encrypted", "resource")])]
	# A device that vanishes, frozen (deterministic) and racing (not).
	R += [local_row("vanish-frozen", BASE, lambda r: fs.vanish(r, "sdc"),
			"cipher+disks_match not pass", notpass=crypt_np + [("imds.disks_match", "node")])]
	R.append(Row("vanish-race", "sysfs", build_churn, "no crash in 12 racing runs",
		     deadline=(IMDS_TIMEOUT + 1.0) * SLOW + SLACK, devices=True))
	# 1,000 devices.
	R.append(Row("devices-1000", "sysfs",
		     lambda tmp, port: {"root": many_node(tmp, 1000),
					"url": f"http://127.0.0.1:{port}/doc/{BASE}", "conf": conf(BASE)},
		     "< 2 s; disks_match not pass", notpass=[("imds.disks_match", "node")],
		     deadline=2.0 * SLOW + SLACK, devices=True))
	# procfs: mountinfo and swaps.
	mi = lambda r: fs.proc_self(r, "mountinfo")  # noqa: E731
	sw = lambda r: fs.host(r, "/proc/swaps")  # noqa: E731
	swap_np = [("swap.encrypted", None, {"pass", "not_applicable"})]
	R += [local_row("mountinfo-missing", BASE, lambda r: fs.remove(mi(r)), "path unknown",
			want={("path.dm_crypt", "/data"): {"unknown"}}, group="proc"),
	      local_row("mountinfo-garbage", BASE, lambda r: fs.garbage(mi(r)), "path not pass",
			notpass=path_np, group="proc"),
	      local_row("mountinfo-fifo", BASE, lambda r: fs.fifo(mi(r)), "no hang; path unknown",
			want={("path.dm_crypt", "/data"): {"unknown"}}, group="proc"),
	      local_row("mountinfo-line-unparsable", "ade-osencrypt", hide_boot_mount,
			"/boot not pass (not via / on dm-crypt)", notpass=[("path.dm_crypt", "/boot")],
			group="proc"),
	      local_row("swaps-missing", "swap-encrypted", lambda r: fs.remove(sw(r)),
			"swap unknown", forbid=swap_np, group="proc"),
	      local_row("swaps-garbage", "swap-encrypted", lambda r: fs.garbage(sw(r)),
			"swap not pass/n.a.", forbid=swap_np, group="proc"),
	      local_row("swaps-line-unparsable", "swap-encrypted",
			lambda r: fs.append(sw(r), "/dev/sdb1 partition 4194300\n"),
			"a swap unjudged: not all pass", forbid=swap_np, group="proc"),
	      local_row("swaps-missing-noswap", BASE, lambda r: fs.remove(sw(r)),
			"swap unknown (not n.a.)", forbid=swap_np, group="proc"),
	      local_row("swaps-fifo", BASE, lambda r: fs.fifo(sw(r)), "no hang; swap not n.a.",
			forbid=swap_np, group="proc")]
	# LUKS: headers made by cryptsetup, then broken by tests/fault-gen/luks.py.
	for mode in ("truncate", "json-both", "csum-both", "magic-both", "hdrsize-both"):
		R.append(luks_row(f"luks2-{mode}", BASE, "/dev/sdc", mode, "datacrypt",
				  "cipher unknown; image untouched"))
	R.append(luks_row("luks2-json-primary", BASE, "/dev/sdc", "json-primary", "datacrypt",
			  "secondary copy read; image untouched",
			  want={("dmcrypt.cipher", "datacrypt"): {"pass", "unknown"}}))
	R.append(luks_row("luks2-json-both-temp", "gen2-resource-encrypted", "/dev/sdb1", "json-both",
			  "resourcecrypt", "cipher unknown; image untouched"))
	for v in ("0", "1", "huge"):
		R.append(luks_row(f"luks1-keybytes-{v}", "ade-osencrypt", "/boot/luks/osluksheader",
				  f"luks1-keybytes-{v}", "osencrypt", "cipher not pass; image untouched",
				  want={}))
	return R


# ---- the racing vanish --------------------------------------------------------

def build_churn(tmp, port):
	root = node_copy(tmp, BASE, "vanish-race")
	return {"root": root, "url": f"http://127.0.0.1:{port}/doc/{BASE}", "conf": conf(BASE),
		"churn": fs.blockdir(root, "sdc")}


def churn(path, stop):
	"""Moves a device dir away and back as fast as it can while atrest scans
	(as a hot-unplug and re-plug would): which read hits the gap differs
	from run to run, so this row proves robustness, not a fixed outcome."""
	away = path + ".gone"
	while not stop.is_set():
		os.rename(path, away)
		os.rename(away, path)


# ---- running -------------------------------------------------------------------

def run(cmd, deadline):
	"""(exit code or -signal, wall seconds, stdout, stderr); kills a hang."""
	t0 = time.monotonic()
	p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
	try:
		out, err = p.communicate(timeout=max(30.0, deadline * 4))
	except subprocess.TimeoutExpired:
		os.killpg(p.pid, signal.SIGKILL)
		out, err = p.communicate()
		return ("hung", time.monotonic() - t0, out, err)
	return (p.returncode, time.monotonic() - t0, out, err)


def crash_problems(label, rc, wall, err, deadline):
	bad = []
	text = err.decode(errors="replace")
	if rc == "hung":
		bad.append(f"{label}: hung (killed after {wall:.1f} s)")
	elif rc < 0:
		bad.append(f"{label}: killed by signal {-rc}")
	elif rc not in (0, 1, 2, 3):
		bad.append(f"{label}: exit code {rc}")
	if wall > deadline:
		bad.append(f"{label}: {wall:.2f} s, past the {deadline:.2f} s deadline")
	for mark in ("Sanitizer", "runtime error:", "== Invalid", "definitely lost"):
		if mark in text:
			bad.append(f"{label}: stderr has '{mark}': {text.strip()[-400:]}")
			break
	return bad


def statuses(report):
	return {(c["id"], c["subject"]): c for c in report.get("checks", [])}


def judge_report(row, rc, report):
	bad = []
	got = statuses(report)
	v = report.get("verdict")
	if EXIT.get(v) != rc:
		bad.append(f"verdict {v} but exit {rc}")
	if row.verdict and v not in row.verdict:
		bad.append(f"verdict {v}, want {'|'.join(sorted(row.verdict))}")
	for key, allowed in row.want.items():
		st = got[key]["status"] if key in got else "missing"
		if st not in allowed:
			bad.append(f"{key[0]} {key[1]}: {st}, want {'|'.join(sorted(allowed))}"
				   + (f" ({got[key]['summary']})" if key in got else ""))
	for key in row.notpass:
		if key in got and got[key]["status"] == "pass":
			bad.append(f"{key[0]} {key[1]}: pass on damaged evidence ({got[key]['summary']})")
	for check, subject, banned in row.forbid:
		for (cid, subj), c in got.items():
			if cid == check and subject in (None, subj) and c["status"] in banned:
				bad.append(f"{cid} {subj}: {c['status']} on missing evidence ({c['summary']})")
	for (cid, subj), c in got.items():
		if c["status"] == "pass" and not c.get("evidence"):
			bad.append(f"{cid} {subj}: pass without evidence")
	return bad


def short(report, row):
	got = statuses(report)
	keys = list(row.want) + row.notpass + [(c, s) for c, s, _ in row.forbid if s]
	keys += [k for k in got if k[0] in {c for c, s, _ in row.forbid if s is None}]
	seen, parts = set(), []
	for k in keys:
		if k in seen:
			continue
		seen.add(k)
		parts.append(f"{k[0].split('.')[-1]}={got[k]['status'] if k in got else '-'}")
	return " ".join(parts + [f"verdict={report.get('verdict')}"])


def staged(spec):
	"""The binary and config a row runs with. A row run as uid 65534 reads
	nothing from the checkout, which may sit where only root can enter (a
	clone under a 0700 /root): both are copied beside its node."""
	binary, cfg = atrest, spec.get("conf")
	if not spec.get("user"):
		return binary, cfg
	d = os.path.join(os.path.dirname(spec["root"]), "as-nobody")
	if not os.path.isdir(d):
		os.mkdir(d)
		os.chmod(d, 0o755)
		real = os.path.join(os.environ.get("top_builddir", "."), "atrest")
		emu = os.environ.get("ATREST_TEST_EMULATOR")
		if emu and os.path.exists(real):
			# A cross build's binary runs behind its emulator (the
			# kernel cannot exec it): both copied, and a script to join them.
			shutil.copy2(real, os.path.join(d, "atrest.bin"))
			shutil.copy2(emu, os.path.join(d, "emulator"))
			with open(os.path.join(d, "atrest"), "w") as f:
				f.write('#!/bin/sh\nd=$(dirname "$0")\nexec "$d/emulator" "$d/atrest.bin" "$@"\n')
			os.chmod(os.path.join(d, "atrest"), 0o755)
		else:
			shutil.copy2(real if os.path.exists(real) else atrest, os.path.join(d, "atrest"))
		if cfg:
			shutil.copy2(cfg, os.path.join(d, "atrest.conf"))
			os.chmod(os.path.join(d, "atrest.conf"), 0o644)
	return os.path.join(d, "atrest"), os.path.join(d, "atrest.conf") if cfg else None


def one_check(row, spec, bad):
	binary, cfg = staged(spec)
	cmd = spec.get("user", []) + ([] if spec.get("user") else wrapper) + [
		binary, "check", "--format", "json", "--no-bench", "--sysroot", spec["root"],
		"--imds-url", spec["url"], "--imds-timeout", str(IMDS_TIMEOUT)]
	if cfg:
		cmd += ["--config", cfg]
	rc, wall, out, err = run(cmd, row.deadline)
	bad += crash_problems("check", rc, wall, err, row.deadline)
	if rc == "hung" or rc < 0:
		return "crashed", wall
	try:
		report = json.loads(out)
	except ValueError:
		bad.append(f"check: report is not JSON: {out[:120]!r} {err.decode(errors='replace')[-200:]}")
		return "no JSON", wall
	bad += judge_report(row, rc, report)
	return short(report, row) + f" exit={rc}", wall


def one_devices(row, spec, bad):
	binary, _ = staged(spec)
	cmd = spec.get("user", []) + ([] if spec.get("user") else wrapper) + [
		binary, "devices", "--format", "json", "--sysroot", spec["root"]]
	rc, wall, out, err = run(cmd, row.deadline)
	bad += crash_problems("devices", rc, wall, err, row.deadline)
	if rc == "hung" or rc < 0:
		return wall
	try:
		doc = json.loads(out)
		if not isinstance(doc.get("disks"), list):
			bad.append("devices: no disks list")
	except ValueError:
		bad.append(f"devices: output is not JSON: {out[:120]!r}")
	return wall


def run_row(row, tmp, port):
	bad = []
	try:
		spec = row.build(tmp, port)
	except Exception as e:  # a generator bug is a failed row, not a crash of the suite
		ok(False, f"{row.group}: {row.name} (setup)", [f"{type(e).__name__}: {e}"])
		matrix.append((row.name, row.expect, "setup failed", 0.0, False))
		return
	stop = threading.Event()
	churner = None
	if spec.get("churn"):
		churner = threading.Thread(target=churn, args=(spec["churn"], stop), daemon=True)
		churner.start()
	try:
		got, wall = one_check(row, spec, bad)
		dwall = one_devices(row, spec, bad) if row.devices else None
		for _ in range(10 if churner else 0):
			one_devices(row, spec, bad)
		if churner:
			one_check(row, spec, bad)
	finally:
		stop.set()
		if churner:
			churner.join()
	if spec.get("image"):
		if file_digest(spec["image"]) != spec["image_digest"]:
			bad.append(f"{spec['image']} was written")
	walls = f"{wall:.2f}" + (f"/{dwall:.2f}" if dwall is not None else "")
	ok(not bad, f"{row.group}: {row.name}: {row.expect} ({walls} s)", bad)
	matrix.append((row.name, row.expect, got, walls, not bad))


def scratch():
	"""tmpfs when there is one: the 1,000-device node is 25,000 files, and
	creating and removing them on a slow disk takes 25 s instead of 4 s."""
	shm = "/dev/shm"
	try:
		st = os.statvfs(shm)
		if os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize > (1 << 30):
			return shm
	except OSError:
		pass
	return None


def start_server(tmp):
	port_file = os.path.join(tmp, "port")
	srv = subprocess.Popen([sys.executable, os.path.join(top, "tests", "imds-server.py"),
				"--port-file", port_file])
	for _ in range(500):
		if os.path.exists(port_file) and open(port_file).read().strip():
			return srv, int(open(port_file).read())
		time.sleep(0.02)
	srv.kill()
	raise SystemExit("Bail out! the loopback IMDS did not start")


def main():
	only = set(sys.argv[1:])
	todo = [r for r in rows() if not only or r.name in only]
	t0 = time.monotonic()
	with tempfile.TemporaryDirectory(prefix="atrest-faults.", dir=scratch()) as tmp:
		srv, port = start_server(tmp)
		try:
			for row in todo:
				rtmp = os.path.join(tmp, "rows")
				os.mkdir(rtmp)
				run_row(row, rtmp, port)
				subprocess.run(["rm", "-rf", rtmp], check=True)
		finally:
			srv.send_signal(signal.SIGTERM)
			srv.wait()
	print(f"# fault matrix ({len(todo)} rows, {time.monotonic() - t0:.1f} s, deadlines x{SLOW:.1f}; "
	      "wall = check[/devices] seconds; * = row failed):")
	print(f"#   {'row':<28} {'expected':<36} {'wall s':<11} got")
	for name, expect, got, walls, good in matrix:
		print(f"#   {name:<28} {expect:<36} {walls:<11} {got}{'' if good else ' *'}")
	print(f"1..{n}")
	return 1 if fails else 0


if __name__ == "__main__":
	sys.exit(main())
