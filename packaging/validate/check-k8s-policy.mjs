// SPDX-License-Identifier: Apache-2.0
// Asserts what the Kubernetes deployment promises beyond schema validity:
// the DaemonSet's host access is read-only and bounded, the PrometheusRule
// carries exactly rules.yml, kustomize lists the manifests, and the policy
// ConfigMap uses only keys atrest.conf(5) knows.
// Usage: node check-k8s-policy.mjs SRCDIR   (prints "ok ..." / "FAIL ..." lines)
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import yaml from "js-yaml";

const src = process.argv[2];
const k8s = join(src, "packaging", "kubernetes");
const load = (f) => yaml.load(readFileSync(join(k8s, f), "utf8"));
let failed = 0;
const check = (desc, cond) => {
	console.log(`${cond ? "ok" : "FAIL"} ${desc}`);
	if (!cond)
		failed++;
};

const ds = load("daemonset.yaml");
const pod = ds.spec.template.spec;
const c = pod.containers[0];
check("DaemonSet uses the host network (IMDS restriction)", pod.hostNetwork === true);
check("DaemonSet is system-node-critical", pod.priorityClassName === "system-node-critical");
check("DaemonSet tolerates every taint",
	pod.tolerations.some((t) => t.operator === "Exists" && !t.key && !t.effect));
check("NODE_NAME comes from the downward API",
	c.env.some((e) => e.name === "NODE_NAME" && e.valueFrom?.fieldRef?.fieldPath === "spec.nodeName"));
check("listens on the node IP from the downward API",
	c.env.some((e) => e.name === "NODE_IP" && e.valueFrom?.fieldRef?.fieldPath === "status.hostIP") &&
	c.args.includes("--listen=$(NODE_IP):8937"));
check("liveness probe is GET /healthz", c.livenessProbe?.httpGet?.path === "/healthz");
check("readiness probe is set", !!c.readinessProbe?.httpGet);
check("metrics port 8937 is named 'metrics'",
	c.ports.some((p) => p.name === "metrics" && p.containerPort === 8937));
check("requests and limits are small",
	parseInt(c.resources.requests.memory) <= 64 && parseInt(c.resources.limits.memory) <= 256 &&
	c.resources.requests.cpu && c.resources.limits.cpu);
check("root filesystem is read-only", c.securityContext.readOnlyRootFilesystem === true);
check("no service account token is mounted",
	pod.automountServiceAccountToken === false && load("serviceaccount.yaml").automountServiceAccountToken === false);
const hostVols = new Set(pod.volumes.filter((v) => v.hostPath).map((v) => v.name));
for (const want of ["/sys", "/dev", "/"])
	check(`hostPath ${want} is mounted`, pod.volumes.some((v) => v.hostPath?.path === want));
// A hostPath of type Directory that a node lacks keeps the pod from starting:
// only paths every node has. Optional node files are image links into /host.
check("host paths are only /, /sys and /dev (every node has them)",
	pod.volumes.filter((v) => v.hostPath).every((v) => ["/", "/sys", "/dev"].includes(v.hostPath.path)));
for (const m of c.volumeMounts.filter((m) => hostVols.has(m.name)))
	check(`hostPath mount ${m.mountPath} is read-only`, m.readOnly === true);
const mount = (path) => c.volumeMounts.find((m) => m.mountPath === path);
for (const p of ["/sys", "/dev"])
	check(`${p} is recursively read-only where the cluster can (IfPossible, no propagation)`,
		mount(p)?.recursiveReadOnly === "IfPossible" && !mount(p)?.mountPropagation);
check("/host follows the node's mounts (HostToContainer)", mount("/host")?.mountPropagation === "HostToContainer");
// The runtime applies no seccomp profile to a privileged container.
check("no seccompProfile claimed on a privileged container",
	!(c.securityContext.privileged && (c.securityContext.seccompProfile || pod.securityContext?.seccompProfile)));
check("no hostPath may be created on the node",
	pod.volumes.filter((v) => v.hostPath).every((v) => v.hostPath.type === "Directory" || v.hostPath.type === "File"));

const rule = load("prometheusrule.yaml");
const plain = yaml.load(readFileSync(join(src, "packaging", "prometheus", "rules.yml"), "utf8"));
check("PrometheusRule groups equal packaging/prometheus/rules.yml", isDeepStrictEqual(rule.spec, plain));

const pm = load("podmonitor.yaml"), apm = load("podmonitor-azure.yaml");
check("Azure PodMonitor is the same scrape in azmonitoring.coreos.com",
	apm.apiVersion === "azmonitoring.coreos.com/v1" && isDeepStrictEqual(apm.spec, pm.spec));
check("PodMonitor labels series with the node name",
	pm.spec.podMetricsEndpoints[0].relabelings.some((r) =>
		r.sourceLabels?.includes("__meta_kubernetes_pod_node_name") && r.targetLabel === "node"));
check("PodMonitor selects the DaemonSet's pods",
	isDeepStrictEqual(pm.spec.selector.matchLabels, ds.spec.selector.matchLabels));

const kust = load("kustomization.yaml");
check("kustomization resources all exist", kust.resources.every((r) => existsSync(join(k8s, r))));
for (const f of ["namespace.yaml", "serviceaccount.yaml", "configmap.yaml", "daemonset.yaml", "podmonitor.yaml", "prometheusrule.yaml"])
	check(`kustomization lists ${f}`, kust.resources.includes(f));

// The ConfigMap's policy: every section and key must be one the example
// atrest.conf documents (there as "#key = default").
const known = new Map();
let sect = null;
for (const line of readFileSync(join(src, "packaging", "systemd", "atrest.conf"), "utf8").split("\n")) {
	let m;
	if ((m = /^\[([a-z]+)\]/.exec(line)))
		known.set((sect = m[1]), new Set());
	else if (sect && (m = /^#([a-z_.]+) =/.exec(line)))
		known.get(sect).add(m[1]);
}
const conf = load("configmap.yaml").data["atrest.conf"];
sect = null;
let bad = [];
for (const line of conf.split("\n")) {
	let m;
	if ((m = /^\s*\[([a-z]+)\]\s*$/.exec(line))) {
		sect = m[1];
		if (!known.has(sect))
			bad.push(`[${sect}]`);
	} else if ((m = /^\s*([^#\s][^=]*?)\s*=/.exec(line))) {
		if (!sect || !known.get(sect)?.has(m[1]))
			bad.push(`${sect}.${m[1]}`);
	}
}
check(`ConfigMap atrest.conf uses only documented keys${bad.length ? ": " + bad.join(" ") : ""}`,
	bad.length === 0 && known.size === 5);

process.exit(failed ? 1 : 0);
