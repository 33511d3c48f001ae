#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Proves assert.py's atrest assertions can pass and can fail (TAP).

From a real console log it builds the report a correct atrest would print
(from the guest's own cryptsetup/dmsetup/sysfs views) and checks that every
atrest assertion passes on it; then it corrupts that report one fact at a
time and checks that each corruption is caught.

Usage: selftest.py [--first N] [--no-plan] CONSOLE_LOG
"""
import copy
import contextlib
import importlib.util
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('vm_assert', os.path.join(HERE, 'assert.py'))
A = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(A)


def oracle(g, nocap):
    """The report and device list a correct atrest prints in this guest."""
    ents, checks = [], []
    for e in g.crypt:
        name, k = e['map'], g.kname(e['map'])
        st = A.parse_status(g.body('cs-status ' + name))
        ent = {'name': name, 'device': '/dev/' + k, 'type': st['type'],
               'cipher': st['cipher'], 'key_bits': st['key_bits'],
               'backing': ['/dev/' + s for s in g.devmap.by_kname[k]['slaves']],
               'mountpoints': sorted(g.mounts.get(k, set())), 'source': 'active'}
        status = A.cipher_verdict(e)
        if nocap and e['type'] == 'PLAIN':
            ent.update(cipher=None, key_bits=None, source=None)
            status = 'unknown'
        elif nocap:
            ent['source'] = 'header'
        ents.append(ent)
        checks.append({'id': 'dmcrypt.cipher', 'subject': name, 'status': status,
                       'evidence': {}})
    for e in g.reenc:
        name, k = e['map'], g.kname(e['map'])
        ents.append({'name': name, 'device': '/dev/' + k, 'type': e['type'],
                     'cipher': e['cipher'], 'key_bits': int(e['key_bits']),
                     'backing': ['/dev/' + s for s in g.devmap.by_kname[k]['slaves']],
                     'mountpoints': [e['mount']], 'source': 'header' if nocap else 'active'})
        checks.append({'id': 'dmcrypt.cipher', 'subject': name, 'status': 'fail',
                       'evidence': {'basis': 'reencryption_unfinished'}})
    for p, want in A.REQUIRED_PATHS.items():
        checks.append({'id': 'path.dm_crypt', 'subject': p, 'status': want})
    checks.append({'id': 'swap.encrypted', 'subject': '/dev/mapper/cryptswap',
                   'status': 'pass'})
    disks = [{'role': 'other', 'lun': None, 'device': '/dev/' + k}
             for k in g.devmap.by_kname if k.startswith('sd') and len(k) == 3]
    report = {'schema': 'atrest.report/v1', 'verdict': 'noncompliant',
              'checks': checks, 'disks': disks, 'dm_crypt': ents}
    return report, {'disks': disks}


def run(sections, report, devices, nocap_report):
    """The atrest assertions of assert.py on these documents: failures."""
    s = dict(sections)
    s['atrest-check'] = (json.dumps(report), 2)
    s['atrest-devices'] = (json.dumps(devices), 0)
    s['atrest-check-nocap'] = (json.dumps(nocap_report), 2)
    t = A.Tap(1)
    with contextlib.redirect_stdout(io.StringIO()) as out:
        g = A.Guest(s)
        A.check_atrest(t, g)
        A.check_nocap(t, g)
    return t.failed, out.getvalue()


def entry(doc, name):
    return next(e for e in doc['dm_crypt'] if e['name'] == name)


def check(doc, cid, subject):
    return next(c for c in doc['checks'] if c['id'] == cid and c['subject'] == subject)


# Each corruption of a correct report must fail at least one assertion.
CORRUPTIONS = [
    ('256-bit XTS key reported as 512', 'cap',
     lambda d: entry(d, 'luks2xts256').update(key_bits=512)),
    ('cbc-essiv mapping passes dmcrypt.cipher', 'cap',
     lambda d: check(d, 'dmcrypt.cipher', 'luks1cbc').update(status='pass')),
    ('plain LVM volume listed as dm-crypt', 'cap',
     lambda d: d['dm_crypt'].append(dict(entry(d, 'luks2xts512'), name='vgp-lvplain'))),
    ('active mapping read from the header', 'cap',
     lambda d: entry(d, 'nokeyring').update(source='header')),
    ('crypt-on-LV backed by the disk', 'cap',
     lambda d: entry(d, 'lvcryptopen').update(backing=['/dev/sda'])),
    ('mount missing', 'cap',
     lambda d: entry(d, 'luks2xts512').update(mountpoints=[])),
    ('wrong type', 'cap',
     lambda d: entry(d, 'luks1cbc').update(type='LUKS2')),
    ('plain LV path passes path.dm_crypt', 'cap',
     lambda d: check(d, 'path.dm_crypt', '/mnt/g').update(status='pass')),
    ('mapping mid reencrypt --encrypt passes dmcrypt.cipher', 'cap',
     lambda d: check(d, 'dmcrypt.cipher', 'reenc').update(status='pass')),
    ('its failure rests on no basis', 'cap',
     lambda d: check(d, 'dmcrypt.cipher', 'reenc').update(evidence={})),
    ('overlay with a plain lower layer passes path.dm_crypt', 'cap',
     lambda d: check(d, 'path.dm_crypt', '/mnt/j').update(status='pass')),
    ('btrfs with a plain member passes path.dm_crypt', 'cap',
     lambda d: check(d, 'path.dm_crypt', '/mnt/k').update(status='pass')),
    ('reencrypting path passes path.dm_crypt', 'cap',
     lambda d: check(d, 'path.dm_crypt', '/mnt/i').update(status='pass')),
    ('verdict compliant', 'cap', lambda d: d.update(verdict='compliant')),
    ('a disk gets an Azure role', 'cap', lambda d: d['disks'][0].update(role='os')),
    ('plain mapping passes without CAP_SYS_ADMIN', 'nocap',
     lambda d: check(d, 'dmcrypt.cipher', 'cryptswap').update(status='pass')),
    ('header view with a wrong cipher', 'nocap',
     lambda d: entry(d, 'pvcrypt').update(cipher='aes-cbc-essiv:sha256')),
]


def main(argv):
    first, plan = 1, True
    while argv and argv[0].startswith('--'):
        opt = argv.pop(0)
        if opt == '--first':
            first = int(argv.pop(0))
        elif opt == '--no-plan':
            plan = False
    with open(argv[0], encoding='utf-8', errors='replace') as f:
        sections = A.parse_console(f.read().replace('\r', ''))
    g = A.Guest(sections)
    t = A.Tap(first)
    good, devices = oracle(g, False)
    good_nocap, _ = oracle(g, True)
    failed, out = run(sections, good, devices, good_nocap)
    t.ok(g.crypt and failed == 0,
         'selftest: every atrest assertion passes on a report that agrees with the guest',
         '\n'.join(l for l in out.splitlines() if l.startswith('not ok')))
    for desc, which, corrupt in CORRUPTIONS:
        bad, bad_nocap = copy.deepcopy(good), copy.deepcopy(good_nocap)
        corrupt(bad if which == 'cap' else bad_nocap)
        failed, _ = run(sections, bad, devices, bad_nocap)
        t.ok(failed > 0, 'selftest: caught: %s' % desc)
    if plan:
        print('1..%d' % t.n)
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
