#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""WALinuxAgent's own code driving the simulated extension directory: its
HandlerEnvironment.json and settings writers, and its status-file reader
(ExtHandlerInstance.collect_ext_status -> parse_ext_status).

  test-vmss-waagent.py LIBDIR LOGDIR NAME VERSION env
  test-vmss-waagent.py LIBDIR LOGDIR NAME VERSION settings SEQ PUBLIC_JSON [PROTECTED THUMBPRINT]
  test-vmss-waagent.py LIBDIR LOGDIR NAME VERSION collect SEQ

Exit 77 when the waagent package is not installed."""
import json
import sys
import types

try:
    from azurelinuxagent.common import conf
    from azurelinuxagent.common.protocol.restapi import Extension
    from azurelinuxagent.ga import exthandlers
except ImportError as e:
    print("waagent not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


def instance(libdir, logdir, name, version):
    conf.__conf__.values["Lib.Dir"] = libdir
    conf.__conf__.values["Extension.LogDir"] = logdir
    handler = Extension(name=name)
    handler.version = version
    return exthandlers.ExtHandlerInstance(handler, None)


def write_settings(inst, seq, public, protected, thumbprint):
    ext = types.SimpleNamespace(name=inst.ext_handler.name, sequenceNumber=int(seq),
                                publicSettings=json.loads(public),
                                protectedSettings=protected,
                                certificateThumbprint=thumbprint)
    inst.ext_handler.settings = [ext]
    inst.update_settings(ext)


def collect(inst, seq):
    ext = types.SimpleNamespace(name=inst.ext_handler.name, sequenceNumber=int(seq))
    st = inst.collect_ext_status(ext)
    out = {
        "status": st.status, "code": st.code, "operation": st.operation,
        "message": st.message,
        "substatus": [{"name": s.name, "status": s.status, "code": s.code,
                       "message": s.message} for s in st.substatusList],
    }
    print(json.dumps(out))


def main(argv):
    libdir, logdir, name, version, cmd = argv[1:6]
    inst = instance(libdir, logdir, name, version)
    if cmd == "env":
        inst.create_handler_env()
    elif cmd == "settings":
        extra = argv[8:10] if len(argv) > 9 else [None, None]
        write_settings(inst, argv[6], argv[7], *extra)
    elif cmd == "collect":
        collect(inst, argv[6])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
