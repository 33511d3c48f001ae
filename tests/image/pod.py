#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Turns packaging/kubernetes' DaemonSet into what podman can run on this
# machine, changing only what a node-less test must: the image, the listen
# address (loopback, a free port, instead of the downward API's host IP) and
# the policy's IMDS URL (the loopback stand-in) with ARM off.
#
#   pod.py kube DAEMONSET CONFIGMAP IMAGE PORT IMDS_URL NAME OUTDIR
#       writes OUTDIR/pod.yaml (the pod template as a Pod) and
#       OUTDIR/configmap.yaml, for `podman kube play --configmap`
#   pod.py run DAEMONSET IMAGE CONTAINER CONFDIR
#       prints, one per line, the `podman run` options that run CONTAINER
#       of the pod template as Kubernetes would (privileged, read-only
#       root, the same mounts); CONFDIR stands in for the ConfigMap volume
#   pod.py conf CONFIGMAP IMDS_URL
#       prints the policy with the test's IMDS URL and ARM off
import copy
import re
import sys

import yaml


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def test_conf(cm, imds_url):
    text = cm["data"]["atrest.conf"]
    text, n = re.subn(r"(?m)^\[imds\]\n", "[imds]\nurl = %s\n" % imds_url, text)
    assert n == 1, "the ConfigMap has no [imds] section"
    text, n = re.subn(r"(?m)^mode = auto$", "mode = off", text)
    assert n == 1, "the ConfigMap's [arm] mode is not auto"
    return text


def kube(ds_path, cm_path, image, port, imds_url, name, outdir):
    ds, cm = load(ds_path), load(cm_path)
    tmpl = copy.deepcopy(ds["spec"]["template"])
    spec = tmpl["spec"]
    for c in spec["containers"]:
        c["image"] = image
        c["imagePullPolicy"] = "Never"
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if ref == "status.hostIP":
                del e["valueFrom"]
                e["value"] = "127.0.0.1"
            elif ref == "spec.nodeName":
                del e["valueFrom"]
                e["value"] = name
        # Kubernetes expands $(NODE_IP) in args; podman 4 does not.
        # The node IP becomes loopback here, so the manifest's second, loopback
        # listener (for node-problem-detector) would only take the fixed
        # port 8937 from whatever else runs on this machine: dropped.
        c["args"] = [a.replace("$(NODE_IP):8937", "127.0.0.1:%d" % port) for a in c.get("args", [])
                     if a != "--listen=127.0.0.1:8937"]
        for m in c.get("volumeMounts", []):
            m["name"] = name + "-" + m["name"]
        if spec.get("hostNetwork"):
            # On the host network the port list only names the port; podman
            # refuses port mappings there.
            c.pop("ports", None)
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            # podman runs probes inside the container with curl, which a
            # shell-less image does not have; the test probes /healthz itself.
            c.pop(probe, None)
    # podman makes named volumes of the pod's volumes and the ConfigMap:
    # names of this run's own, so that parallel runs do not share them.
    cm = copy.deepcopy(cm)
    for v in spec["volumes"]:
        v["name"] = name + "-" + v["name"]
        if "configMap" in v:
            assert v["configMap"]["name"] == cm["metadata"]["name"]
            v["configMap"]["name"] = cm["metadata"]["name"] = name + "-config"
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": tmpl["metadata"]["labels"]},
           "spec": spec}
    cm["data"]["atrest.conf"] = test_conf(cm, imds_url)
    with open(outdir + "/pod.yaml", "w") as f:
        yaml.safe_dump(pod, f, sort_keys=False)
    with open(outdir + "/configmap.yaml", "w") as f:
        yaml.safe_dump(cm, f, sort_keys=False)


def run_args(ds_path, image, container, confdir):
    ds = load(ds_path)
    spec = ds["spec"]["template"]["spec"]
    c = next(c for c in spec["containers"] if c["name"] == container)
    vols = {v["name"]: v for v in spec["volumes"]}
    sc = c.get("securityContext", {})
    out = []
    if sc.get("privileged"):
        out.append("--privileged")
    if sc.get("readOnlyRootFilesystem"):
        # Kubernetes mounts nothing over /run or /tmp by itself.
        out += ["--read-only", "--read-only-tmpfs=false"]
    if "runAsUser" in sc:
        out.append("--user=%d:%d" % (sc["runAsUser"], sc.get("runAsGroup", sc["runAsUser"])))
    if spec.get("hostNetwork"):
        out.append("--network=host")
    for m in c.get("volumeMounts", []):
        v = vols[m["name"]]
        ro = m.get("readOnly", False)
        prop = {"HostToContainer": "rslave", "Bidirectional": "rshared"}.get(
            m.get("mountPropagation", "None"), "rprivate")
        if "hostPath" in v:
            # podman has no recursive read-only option: readOnly is plain ro,
            # what a cluster without recursiveReadOnly support gives.
            opts = ["ro" if ro else "rw", prop]
            out.append("--volume=%s:%s:%s" % (v["hostPath"]["path"], m["mountPath"], ",".join(opts)))
        elif "configMap" in v:
            out.append("--volume=%s:%s:ro" % (confdir, m["mountPath"]))
        elif "emptyDir" in v:
            size = v["emptyDir"].get("sizeLimit", "16Mi").replace("Mi", "m")
            out.append("--tmpfs=%s:rw,size=%s" % (m["mountPath"], size))
        else:
            raise SystemExit("pod.py: volume kind of %s not handled" % m["name"])
    for e in c.get("env", []):
        if "value" in e:
            out.append("--env=%s=%s" % (e["name"], e["value"]))
    return out


def main(argv):
    if argv[1] == "kube":
        kube(argv[2], argv[3], argv[4], int(argv[5]), argv[6], argv[7], argv[8])
    elif argv[1] == "run":
        print("\n".join(run_args(argv[2], argv[3], argv[4], argv[5])))
    elif argv[1] == "conf":
        sys.stdout.write(test_conf(load(argv[2]), argv[3]))
    else:
        raise SystemExit("pod.py: unknown command " + argv[1])


if __name__ == "__main__":
    main(sys.argv)
