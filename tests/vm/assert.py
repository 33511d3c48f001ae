#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reads the VM test's serial console log and asserts, as TAP, that the guest
set up every scenario and that atrest's JSON agrees with cryptsetup/dmsetup.

Usage: assert.py [--first N] [--bench] CONSOLE_LOG
Prints TAP lines numbered from N and a trailing plan; exits 1 on any failure.
"""
import json
import statistics
import re
import sys

# Searched, not matched: firmware escapes may precede the first marker.
BEGIN = re.compile(r'===ATREST-BEGIN (.+)===$')
END = re.compile(r'^===ATREST-END rc=(\d+)===$')

# The default policy (CONTRACT.md): aes-xts-plain64 with a key >= 512 bits.
ALLOWED_CIPHERS = {'aes-xts-plain64'}
MIN_KEY_BITS = 512
REQUIRED_PATHS = {'/mnt/a': 'pass', '/mnt/e': 'pass', '/mnt/f': 'pass',
                  '/mnt/g': 'fail',
                  # (i) reencrypt --encrypt pending, (j) overlay over a plain
                  # lower dir, (k) btrfs over dm-crypt and a plain disk.
                  '/mnt/i': 'fail', '/mnt/j': 'fail', '/mnt/k': 'fail'}
SCENARIOS = ('a', 'b', 'c', 'd', 'e', 'fg', 'h', 'i', 'j', 'k')
CAP_SYS_ADMIN = 21


class Tap:
    def __init__(self, first):
        self.n = first - 1
        self.failed = 0
        self.prefix = ''

    def ok(self, cond, desc, why=''):
        self.n += 1
        if not cond:
            self.failed += 1
        print('%s %d - %s%s' % ('ok' if cond else 'not ok', self.n, self.prefix, desc))
        if not cond and why:
            for line in str(why).splitlines()[:8]:
                print('#   ' + line)
        return cond

    @staticmethod
    def diag(text):
        for line in text.splitlines():
            print('# ' + line)


def parse_console(text):
    """Sections by name: (body, rc). Kernel noise outside markers is ignored."""
    sections, name, body = {}, None, []
    for raw in text.splitlines():
        line = raw.rstrip('\r')
        m = BEGIN.search(line)
        if m:
            name, body = m.group(1), []
            continue
        m = END.match(line)
        if m and name is not None:
            sections[name] = ('\n'.join(body), int(m.group(1)))
            name = None
            continue
        if name is not None:
            body.append(line)
    return sections


def kv_lines(body, prefix):
    out = []
    for line in body.splitlines():
        if line.startswith(prefix):
            out.append(dict(f.split('=', 1) for f in line[len(prefix):].split()))
    return out


class DevMap:
    """Kernel names, numbers and dm names from the guest's sysfs listing."""

    def __init__(self, body):
        self.by_kname, self.by_dmname, self.by_devnum = {}, {}, {}
        for line in body.splitlines():
            f = line.split(' ')
            if len(f) < 4:
                continue
            kname, devnum, dmname, uuid = f[:4]
            slaves = [s for s in (f[4] if len(f) > 4 else '').split(',') if s]
            self.by_kname[kname] = {'devnum': devnum, 'dm': dmname,
                                    'uuid': uuid, 'slaves': slaves}
            self.by_devnum[devnum] = kname
            if dmname != '-':
                self.by_dmname[dmname] = kname

    def norm(self, dev):
        """/dev/mapper/X, /dev/dm-N, /dev/VG/LV, 8:16 or sdb -> kernel name."""
        if isinstance(dev, dict):
            dev = dev.get('device') or dev.get('name') or ''
        dev = str(dev)
        if dev in self.by_devnum:
            return self.by_devnum[dev]
        d = dev[5:] if dev.startswith('/dev/') else dev
        if d.startswith('mapper/'):
            return self.by_dmname.get(d[7:], d)
        if d in self.by_kname:
            return d
        if d.count('/') == 1:
            vg, lv = d.split('/')
            lvm = vg.replace('-', '--') + '-' + lv.replace('-', '--')
            return self.by_dmname.get(lvm, d)
        return self.by_dmname.get(d, d)


def mounts_by_kname(mountinfo, devmap):
    out = {}
    for line in mountinfo.splitlines():
        f = line.split()
        if len(f) > 4:
            out.setdefault(devmap.by_devnum.get(f[2], f[2]), set()).add(f[4])
    return out


def parse_status(body):
    st = {}
    for line in body.splitlines()[1:]:
        if ':' in line:
            k, v = line.split(':', 1)
            st[k.strip()] = v.strip()
    m = re.match(r'^(\d+) bits', st.get('keysize', ''))
    st['key_bits'] = int(m.group(1)) if m else None
    return st


def parse_crypt_table(body):
    """dmsetup table of a crypt target: cipher, key bits, key form, device."""
    f = body.split()
    if len(f) < 8 or f[2] != 'crypt':
        return None
    key = f[4]
    m = re.match(r'^:(\d+):(logon|user):', key)
    if m:
        bits, form = int(m.group(1)) * 8, 'keyring'
    elif re.fullmatch(r'0+', key):
        bits, form = len(key) * 4, 'masked'
    elif key == '-':
        bits, form = 0, 'none'
    else:
        bits, form = len(key) * 4, 'CLEAR'
    return {'cipher': f[3], 'key_bits': bits, 'key_form': form, 'device': f[6]}


def parse_luks_dump(body):
    """Header view: version, cipher and key bits of segment 0 / LUKS1 header."""
    h = {}
    m = re.search(r'^Version:\s*(\d+)', body, re.M)
    h['type'] = 'LUKS' + m.group(1) if m else None
    if h['type'] == 'LUKS1':
        c = re.search(r'^Cipher name:\s*(\S+)', body, re.M)
        mo = re.search(r'^Cipher mode:\s*(\S+)', body, re.M)
        k = re.search(r'^MK bits:\s*(\d+)', body, re.M)
        h['cipher'] = c and mo and c.group(1) + '-' + mo.group(1)
        h['key_bits'] = k and int(k.group(1))
    else:
        seg = body.split('Data segments:', 1)[-1]
        c = re.search(r'^\s*cipher:\s*(\S+)', seg, re.M)
        h['cipher'] = c and c.group(1)
        k = re.search(r'^Keyslots:.*?Key:\s*(\d+) bits', body, re.M | re.S)
        h['key_bits'] = k and int(k.group(1))
    return h


class Guest:
    """Everything the guest printed, parsed into the views to compare."""

    def __init__(self, sections):
        self.s = sections
        self.devmap = DevMap(self.body('devmap'))
        self.expect = kv_lines(self.body('expect'), 'EXPECT ')
        maps = [e for e in self.expect if 'map' in e]
        # A mapping mid-reencryption has no single cipher view to compare.
        self.crypt = [e for e in maps if e.get('type') != 'LVM' and 'reencrypt' not in e]
        self.reenc = [e for e in maps if 'reencrypt' in e]
        self.lvm = [e for e in maps if e.get('type') == 'LVM']
        self.overlay = [e for e in self.expect if 'overlay' in e]
        self.btrfs = [e for e in self.expect if 'btrfs' in e]
        self.mounts = mounts_by_kname(self.body('mounts'), self.devmap)
        # btrfs shows an anonymous 0:N in mountinfo: its mount belongs to
        # every member, as /sys/fs/btrfs lists them.
        for e in self.btrfs:
            for member in (self.kname(e['crypt']), self.devmap.norm(e['plain'])):
                self.mounts.setdefault(member, set()).add(e['btrfs'])

    def body(self, name):
        return self.s.get(name, ('', None))[0]

    def rc(self, name):
        return self.s.get(name, ('', None))[1]

    def kname(self, mapping):
        return self.devmap.by_dmname.get(mapping)

    def holders(self, kname):
        return [k for k, v in self.devmap.by_kname.items() if kname in v['slaves']]

    def stack_mounts(self, kname):
        """Mounts of the device and of everything stacked on it."""
        out, todo = set(), [kname]
        while todo:
            k = todo.pop()
            out |= self.mounts.get(k, set())
            todo += self.holders(k)
        return out


def check_infra(t, g, console):
    t.ok('===VM-DONE===' in console, 'guest ran to ===VM-DONE===',
         console.strip().splitlines()[-5:] if console.strip() else 'empty log')
    t.ok(g.rc('modules') == 0, 'guest loaded every module',
         g.body('modules') + g.body('modules.stderr'))
    check_disks(t, g)
    for scen in SCENARIOS:
        t.ok(g.rc('setup ' + scen) == 0, 'scenario %s set up in the guest' % scen,
             g.body('setup %s.stderr' % scen) or g.body('setup ' + scen))
    t.ok(len(g.crypt) == 8 and len(g.lvm) == 2 and len(g.reenc) == 1,
         'guest reports 8 dm-crypt, 1 reencrypting and 2 LVM mappings', g.body('expect'))
    for e in g.crypt:
        check_crypt_mapping(t, g, e)
    for e in g.lvm:
        check_lvm_mapping(t, g, e)
    swaps = g.body('swaps')
    t.ok('/dev/mapper/cryptswap' in swaps or '/dev/%s' % g.kname('cryptswap') in swaps,
         'swap is active on the plain dm-crypt mapping', swaps)
    cap = re.search(r'^CapEff:\s*([0-9a-f]+)', g.body('nocap-proof'), re.M)
    t.ok(cap and not int(cap.group(1), 16) >> CAP_SYS_ADMIN & 1
         and g.rc('nocap-proof') not in (0, None),
         'capsh --drop=cap_sys_admin denies device-mapper ioctls',
         g.body('nocap-proof') + g.body('nocap-proof.stderr'))
    t.ok('xts-aes-aesni' in g.body('crypto'),
         'guest kernel runs xts(aes) as xts-aes-aesni', g.body('crypto'))


def check_disks(t, g):
    """Azure-like SCSI: OS + resource on one controller, six data LUNs on another."""
    hosts = {}
    for line in g.body('disks').splitlines():
        f = line.split(None, 2)
        if len(f) == 3:
            h, _, _, lun = f[1].split(':')
            hosts.setdefault(h, []).append((int(lun), f[2].split()))
    layout = sorted(sorted(l for l, _ in v) for v in hosts.values())
    ids = all(v == ['Msft', 'Virtual', 'Disk'] for d in hosts.values() for _, v in d)
    t.ok(layout == [[0, 1], list(range(9))] and ids,
         'guest sees the Azure-like SCSI layout (Msft Virtual Disk, LUNs 0-1 and 0-8)',
         g.body('disks'))
    check_layers(t, g)


def check_layers(t, g):
    """The kernel really set up what scenarios i, j and k claim."""
    for e in g.reenc:
        dump = g.body('luks-dump ' + e['map'])
        t.ok('online-reencrypt' in dump and re.search(r'^\s*\d+: linear', dump, re.M),
             '%s: the LUKS2 header carries online-reencrypt and a linear (plaintext) segment'
             % e['map'], dump[:600])
        t.ok(e['mount'] in g.mounts.get(g.kname(e['map']), set()),
             '%s: open and mounted on %s while the reencryption is pending' % (
                 e['map'], e['mount']), g.mounts.get(g.kname(e['map'])))
    info = g.body('mounts')
    for e in g.overlay:
        t.ok(re.search(r' %s .* - overlay overlay .*lowerdir=%s/lower' % (
            re.escape(e['overlay']), re.escape(e['lower'])), info) is not None,
             'overlay on %s with its lower layer on %s' % (e['overlay'], e['lower']), info)
    members = g.body('btrfs-devices')
    for e in g.btrfs:
        want = {g.kname(e['crypt']), g.devmap.norm(e['plain'])}
        got = {l.rsplit('/', 1)[-1] for l in members.splitlines() if '/devices/' in l}
        t.ok(want <= got and re.search(r' 0:\d+ / %s .* - btrfs ' % re.escape(e['btrfs']), info),
             'btrfs on %s (0:N in mountinfo) over %s' % (e['btrfs'], ' and '.join(sorted(str(w) for w in want))),
             members + '\n' + info)


def check_crypt_mapping(t, g, e):
    name = e['map']
    st = parse_status(g.body('cs-status ' + name))
    tb = parse_crypt_table(g.body('dm-table ' + name)) or {}
    k = g.kname(name)
    uuid = g.devmap.by_kname.get(k, {}).get('uuid', '')
    want_bits = int(e['key_bits'])
    t.ok(st.get('type') == e['type'] and st.get('cipher') == e['cipher']
         and st.get('key_bits') == want_bits
         and g.devmap.norm(st.get('device', '')) == g.devmap.norm(e['backing']),
         '%s: cryptsetup status = %s %s %d-bit on %s' % (
             name, e['type'], e['cipher'], want_bits, e['backing']),
         g.body('cs-status ' + name))
    t.ok(tb.get('cipher') == e['cipher'] and tb.get('key_bits') == want_bits
         and g.devmap.norm(tb.get('device', '')) == g.devmap.norm(e['backing'])
         and uuid.startswith('CRYPT-%s-' % e['type']),
         '%s: dmsetup table and dm uuid agree' % name,
         g.body('dm-table ' + name) + '\nuuid ' + uuid)
    want_form = 'keyring' if e.get('keyring') == 'yes' else 'masked'
    t.ok(tb.get('key_form') == want_form,
         '%s: dmsetup table shows no key material (%s)' % (name, want_form),
         'key form: %s' % tb.get('key_form'))
    if e['type'].startswith('LUKS'):
        h = parse_luks_dump(g.body('luks-dump ' + name))
        t.ok(h == {'type': e['type'], 'cipher': e['cipher'], 'key_bits': want_bits},
             '%s: LUKS header view equals the active mapping' % name, h)
    if e.get('mount', '-') != '-':
        t.ok(e['mount'] in g.mounts.get(k, set()),
             '%s: mounted on %s' % (name, e['mount']), g.mounts.get(k))


def check_lvm_mapping(t, g, e):
    name = e['map']
    k = g.kname(name)
    info = g.devmap.by_kname.get(k, {})
    tbl = g.body('dm-table ' + name).split()
    t.ok(info.get('uuid', '').startswith('LVM-') and len(tbl) > 2 and tbl[2] == 'linear'
         and g.devmap.norm(e['backing']) in info.get('slaves', [])
         and e['mount'] in g.mounts.get(k, set()),
         '%s: linear LVM volume on %s mounted on %s' % (name, e['backing'], e['mount']),
         g.body('dm-table ' + name) + '\n' + str(info))


# ---------------------------------------------------------------- atrest ---

def load_json(t, g, section, what):
    body, rc = g.s.get(section, ('', None))
    try:
        doc = json.loads(body)
    except ValueError as err:
        doc = None
        why = 'rc=%s, not JSON (%s): %s' % (rc, err, body[:200])
    else:
        why = ''
    t.ok(isinstance(doc, dict), '%s prints a JSON object' % what,
         why or g.body(section + '.stderr')[:400])
    return doc if isinstance(doc, dict) else None, rc


def entry_source(entry, check):
    """Where atrest read the parameters: the dm_crypt entry, else the check."""
    for obj in (entry or {}, (check or {}).get('evidence') or {}):
        for key in ('source', 'parameters_source', 'params_source'):
            if isinstance(obj.get(key), str):
                return obj[key]
    return None


def results(doc, check_id):
    out = {}
    for c in (doc or {}).get('checks') or []:
        if isinstance(c, dict) and c.get('id') == check_id:
            out[str(c.get('subject'))] = c
    return out


def dm_entries(doc):
    out = {}
    for e in (doc or {}).get('dm_crypt') or []:
        if isinstance(e, dict) and 'name' in e:
            out[e['name']] = e
    return out


def cipher_verdict(e):
    ok = e['cipher'] in ALLOWED_CIPHERS and int(e['key_bits']) >= MIN_KEY_BITS
    return 'pass' if ok else 'fail'


def view(e):
    if not e:
        return 'missing'
    return '%s %s %s' % (e.get('type'), e.get('cipher'), e.get('key_bits'))


def check_atrest(t, g):
    doc, rc = load_json(t, g, 'atrest-check', 'atrest check --format json')
    t.ok(doc is not None and doc.get('schema') == 'atrest.report/v1',
         'report schema is atrest.report/v1', doc and doc.get('schema'))
    ents, cipher = dm_entries(doc), results(doc, 'dmcrypt.cipher')
    rows = []
    for e in g.crypt:
        a = ents.get(e['map'])
        rows.append(check_atrest_mapping(t, g, e, a, cipher.get(e['map'])))
    t.ok(doc is not None and sorted(ents) == sorted(x['map'] for x in g.crypt + g.reenc),
         'dm_crypt lists exactly the dm-crypt mappings (no LVM volume)',
         'atrest: %s' % sorted(ents))
    for e in g.reenc:
        c = cipher.get(e['map']) or {}
        t.ok(c.get('status') == 'fail' and (c.get('evidence') or {}).get('basis')
             == 'reencryption_unfinished',
             '%s: dmcrypt.cipher fails while reencrypt --encrypt is pending' % e['map'],
             json.dumps(c)[:400])
    for e in g.lvm:
        t.ok(doc is not None and e['map'] not in ents and e['map'] not in cipher,
             '%s (plain LVM) is not reported as dm-crypt' % e['map'])
    paths = results(doc, 'path.dm_crypt')
    for p, want in sorted(REQUIRED_PATHS.items()):
        got = (paths.get(p) or {}).get('status')
        t.ok(got == want, 'path.dm_crypt %s is %s' % (p, want),
             'got %s: %s' % (got, (paths.get(p) or {}).get('summary')))
    swaps = results(doc, 'swap.encrypted')
    t.ok(bool(swaps) and all(c.get('status') == 'pass' for c in swaps.values())
         and any('cryptswap' in s or g.kname('cryptswap') in s for s in swaps),
         'swap.encrypted passes for the plain dm-crypt swap',
         {s: c.get('status') for s, c in swaps.items()})
    disks = (doc or {}).get('disks') or []
    t.ok(doc is not None and all(d.get('role') in ('other', None) for d in disks
                                 if isinstance(d, dict)),
         'qemu disks (no VMBus) get no Azure role',
         [(d.get('device'), d.get('role')) for d in disks if isinstance(d, dict)])
    t.ok(doc is not None and doc.get('verdict') == 'noncompliant' and rc == 2,
         'verdict noncompliant, exit code 2 (weak ciphers are critical)',
         'verdict %s rc %s' % (doc and doc.get('verdict'), rc))
    dev, _ = load_json(t, g, 'atrest-devices', 'atrest devices --format json')
    text = json.dumps(dev) if dev else ''
    missing = [k for k in g.devmap.by_kname if k.startswith('sd') and len(k) == 3
               and '/dev/' + k not in text]
    t.ok(dev is not None and not missing, 'atrest devices lists every SCSI disk',
         'missing %s' % missing)
    return rows


def check_atrest_mapping(t, g, e, a, chk):
    """One mapping: atrest's entry against cryptsetup's and dmsetup's views."""
    name = e['map']
    st = parse_status(g.body('cs-status ' + name))
    tb = parse_crypt_table(g.body('dm-table ' + name)) or {}
    k = g.kname(name)
    want_back = sorted(g.devmap.by_kname.get(k, {}).get('slaves', []))
    direct = g.mounts.get(k, set())
    stacked = g.stack_mounts(k)
    agree = a is not None
    if a is not None:
        back = sorted(g.devmap.norm(b) for b in a.get('backing') or [])
        mnts = set(a.get('mountpoints') or [])
        agree = (a.get('type') == st.get('type') and a.get('cipher') == st.get('cipher')
                 == tb.get('cipher') and a.get('key_bits') == st.get('key_bits')
                 == tb.get('key_bits') and g.devmap.norm(a.get('device', '')) == k
                 and back == want_back and mnts in (direct, stacked))
    t.ok(agree, '%s: atrest agrees with cryptsetup status and dmsetup table' % name,
         'atrest %s\ncryptsetup %s %s %s, table %s %s, backing %s, mounts %s' % (
             json.dumps(a), st.get('type'), st.get('cipher'), st.get('key_bits'),
             tb.get('cipher'), tb.get('key_bits'), want_back, sorted(stacked)))
    src = entry_source(a, chk)
    t.ok(src == 'active', '%s: parameters read from the active mapping' % name,
         'source %s' % src)
    want = cipher_verdict(e)
    got = (chk or {}).get('status')
    t.ok(got == want, '%s: dmcrypt.cipher is %s' % (name, want), 'got %s' % got)
    return (e['scenario'], name, '%s %s' % (view(a), got),
            '%s %s %s' % (st.get('type'), st.get('cipher'), st.get('key_bits')), agree)


def check_nocap(t, g):
    """Without CAP_SYS_ADMIN: LUKS parameters from the header, plain unknown."""
    doc, _ = load_json(t, g, 'atrest-check-nocap', 'atrest check without CAP_SYS_ADMIN')
    try:
        active = dm_entries(json.loads(g.body('atrest-check')))
    except ValueError:
        active = {}
    ents, cipher = dm_entries(doc), results(doc, 'dmcrypt.cipher')
    for e in g.crypt:
        name, a, chk = e['map'], ents.get(e['map']), cipher.get(e['map'])
        got = (chk or {}).get('status')
        if e['type'] == 'PLAIN':
            t.ok(doc is not None and got == 'unknown'
                 and not (a or {}).get('key_bits') and entry_source(a, chk) != 'active',
                 '%s: without CAP_SYS_ADMIN a plain mapping is unknown' % name,
                 'entry %s status %s' % (json.dumps(a), got))
            continue
        h = parse_luks_dump(g.body('luks-dump ' + name))
        t.ok(a is not None and a.get('cipher') == h['cipher']
             and a.get('key_bits') == h['key_bits'] and a.get('type') == h['type']
             and entry_source(a, chk) == 'header' and got == cipher_verdict(e),
             '%s: without CAP_SYS_ADMIN atrest reads the LUKS header (%s %s, %s)' % (
                 name, h['cipher'], h['key_bits'], cipher_verdict(e)),
             'entry %s status %s' % (json.dumps(a), got))
        act = active.get(name) or {}
        same = ('type', 'cipher', 'key_bits')
        t.ok(a is not None and act and all(a.get(f) == act.get(f) for f in same),
             "%s: atrest's active-mapping view equals its header view" % name,
             'active %s\nheader %s' % (json.dumps(act), json.dumps(a)))


def print_paths(g):
    """Each required path: what atrest said, and the fact it rests on."""
    try:
        paths = results(json.loads(g.body('atrest-check')), 'path.dm_crypt')
    except ValueError:
        return
    Tap.diag('%-8s %-8s %-24s %s' % ('path', 'status', 'basis', 'reason'))
    for p in sorted(REQUIRED_PATHS):
        c = paths.get(p) or {}
        Tap.diag('%-8s %-8s %-24s %s' % (p, c.get('status'), (c.get('evidence') or {}).get('basis', '-'),
                                         (c.get('summary') or '')[:90]))


def print_table(rows):
    Tap.diag('%-3s %-12s %-40s %-34s %s' % ('sc', 'mapping', 'atrest view (cipher check)',
                                            'cryptsetup view', 'agree'))
    for sc, name, av, cv, agree in rows:
        Tap.diag('%-3s %-12s %-40s %-34s %s' % (sc, name, av, cv, 'yes' if agree else 'NO'))


BENCH_ROUNDS = 5


def check_bench(t, g):
    """Each round: `cryptsetup benchmark` then `atrest bench`, the kernel
    path of both; the table compares medians over the rounds."""
    peer, ours = [], []
    for n in range(1, BENCH_ROUNDS + 1):
        body = g.body('kernel-bench-%d' % n)
        m = re.search(r'aes-xts\s+512b\s+([\d.]+)\s+MiB/s\s+([\d.]+)\s+MiB/s', body)
        t.ok(g.rc('kernel-bench-%d' % n) == 0 and m is not None,
             'round %d: cryptsetup benchmark aes-xts 512b ran in the guest' % n, body)
        try:
            rep = json.loads(g.body('atrest-bench-%d' % n))
        except ValueError:
            rep = None
        t.ok(rep is not None and rep.get('status') == 'ok',
             'round %d: atrest bench ran in the guest' % n, g.body('atrest-bench-%d' % n)[:400])
        if not rep:
            continue
        kern = rep.get('kernel') or {}
        t.ok(kern.get('available') is True and rep.get('engine') == 'kernel',
             'round %d: atrest used the kernel path (AF_ALG) in the guest' % n, str(kern))
        t.ok(bool(kern.get('driver')), 'round %d: atrest named the xts(aes) driver: %s '
             '(priority %s)' % (n, kern.get('driver'), kern.get('priority')))
        if m and rep.get('engine') == 'kernel':
            peer.append((float(m.group(1)), float(m.group(2))))
            ours.append((rep['encrypt_bytes_per_second'] / 1048576.0,
                         rep['decrypt_bytes_per_second'] / 1048576.0, rep.get('cpu_seconds')))
    if not peer:
        return
    Tap.diag('%-6s %-24s %-24s %-15s %s' % ('round', 'atrest enc/dec MiB/s',
                                             'cryptsetup enc/dec MiB/s', 'ratio enc/dec',
                                             'atrest CPU-s'))
    for n, (p, o) in enumerate(zip(peer, ours), 1):
        Tap.diag('%-6d %9.1f / %-12.1f %9.1f / %-12.1f %6.3f / %-6.3f %s'
                 % (n, o[0], o[1], p[0], p[1], o[0] / p[0], o[1] / p[1], o[2]))
    med = statistics.median
    oe, od = med(o[0] for o in ours), med(o[1] for o in ours)
    pe, pd = med(p[0] for p in peer), med(p[1] for p in peer)
    Tap.diag('%-6s %9.1f / %-12.1f %9.1f / %-12.1f %6.3f / %-6.3f'
             % ('median', oe, od, pe, pd, oe / pe, od / pd))


def main(argv):
    first, bench = 1, False
    while argv and argv[0].startswith('--'):
        opt = argv.pop(0)
        if opt == '--first':
            first = int(argv.pop(0))
        elif opt == '--bench':
            bench = True
    with open(argv[0], encoding='utf-8', errors='replace') as f:
        console = f.read().replace('\r', '')
    t, g = Tap(first), Guest(parse_console(console))
    if bench:
        t.ok('===VM-DONE===' in console, 'guest ran to ===VM-DONE===')
        check_bench(t, g)
    else:
        check_infra(t, g, console)
        t.prefix = 'atrest: '
        rows = check_atrest(t, g)
        check_nocap(t, g)
        print_table(rows)
        print_paths(g)
    print('1..%d' % t.n)
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
