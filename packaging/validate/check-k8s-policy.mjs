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
// Two roles: the server (the only port, no privilege) and the evaluator
// (privileged, the host mounts, no port), sharing an in-memory emptyDir.
const c = pod.containers.find((x) => x.name === "server");
const ev = pod.containers.find((x) => x.name === "evaluator");
check("DaemonSet has exactly the containers server and evaluator",
	pod.containers.length === 2 && !!c && !!ev);
check("the server runs --role=server, the evaluator --role=evaluator",
	c.args.includes("--role=server") && ev.args.includes("--role=evaluator"));
check("the server: non-root, no capability, no escalation, RuntimeDefault seccomp, read-only root",
	c.securityContext.runAsNonRoot === true && c.securityContext.runAsUser > 0 &&
	!c.securityContext.privileged && c.securityContext.allowPrivilegeEscalation === false &&
	isDeepStrictEqual(c.securityContext.capabilities?.drop, ["ALL"]) && !c.securityContext.capabilities?.add &&
	c.securityContext.seccompProfile?.type === "RuntimeDefault" &&
	c.securityContext.readOnlyRootFilesystem === true);
check("the server mounts no host path", !c.volumeMounts.some((m) =>
	pod.volumes.find((v) => v.name === m.name)?.hostPath));
check("the evaluator has no port and no probe", !ev.ports && !ev.livenessProbe && !ev.readinessProbe);
const runVol = pod.volumes.find((v) => v.name === "run");
check("the runtime directory is an in-memory emptyDir shared at /run/atrest, read-only in the server",
	runVol?.emptyDir?.medium === "Memory" &&
	c.volumeMounts.some((m) => m.name === "run" && m.mountPath === "/run/atrest" && m.readOnly === true) &&
	ev.volumeMounts.some((m) => m.name === "run" && m.mountPath === "/run/atrest" && !m.readOnly));
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
	[c, ev].every((x) => parseInt(x.resources.requests.memory) <= 64 &&
		parseInt(x.resources.limits.memory) <= 256 && x.resources.requests.cpu && x.resources.limits.cpu));
check("root filesystem is read-only",
	[c, ev].every((x) => x.securityContext.readOnlyRootFilesystem === true));
check("no service account token is mounted",
	pod.automountServiceAccountToken === false && load("serviceaccount.yaml").automountServiceAccountToken === false);
const hostVols = new Set(pod.volumes.filter((v) => v.hostPath).map((v) => v.name));
for (const want of ["/sys", "/dev", "/"])
	check(`hostPath ${want} is mounted`, pod.volumes.some((v) => v.hostPath?.path === want));
// A hostPath of type Directory that a node lacks keeps the pod from starting:
// only paths every node has. Optional node files are image links into /host.
check("host paths are only /, /sys and /dev (every node has them)",
	pod.volumes.filter((v) => v.hostPath).every((v) => ["/", "/sys", "/dev"].includes(v.hostPath.path)));
for (const m of ev.volumeMounts.filter((m) => hostVols.has(m.name)))
	check(`hostPath mount ${m.mountPath} is read-only`, m.readOnly === true);
const mount = (path) => ev.volumeMounts.find((m) => m.mountPath === path);
for (const p of ["/sys", "/dev"])
	check(`${p} is recursively read-only where the cluster can (IfPossible, no propagation)`,
		mount(p)?.recursiveReadOnly === "IfPossible" && !mount(p)?.mountPropagation);
check("/host follows the node's mounts (HostToContainer)", mount("/host")?.mountPropagation === "HostToContainer");
// The runtime applies no seccomp profile to a privileged container.
check("no seccompProfile claimed on a privileged container",
	!(ev.securityContext.privileged && (ev.securityContext.seccompProfile || pod.securityContext?.seccompProfile)));
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

// node-problem-detector with atrest's plugin: unprivileged, reading the
// report the DaemonSet publishes on the node's loopback.
const npdDs = load("npd/daemonset.yaml"), npdPod = npdDs.spec.template.spec;
const npdC = npdPod.containers[0];
const npdCfg = JSON.parse(readFileSync(join(k8s, "npd", "atrest-custom-plugin-monitor.json"), "utf8"));
const npdRule = npdCfg.rules.find((r) => r.type === "permanent");
check("NPD pod: no privilege, no capability, non-root, read-only root",
	[...npdPod.initContainers, ...npdPod.containers].every((x) =>
		!x.securityContext?.privileged && x.securityContext?.allowPrivilegeEscalation === false &&
		x.securityContext?.capabilities?.drop?.includes("ALL") && x.securityContext?.readOnlyRootFilesystem === true) &&
	npdPod.securityContext?.runAsNonRoot === true);
check("NPD pod: no hostPath", !npdPod.volumes.some((v) => v.hostPath));
check("NPD runs the custom plugin monitor config it mounts",
	npdC.command.includes("--config.custom-plugin-monitor=/config/atrest-custom-plugin-monitor.json") &&
	npdC.volumeMounts.some((m) => m.mountPath === "/config"));
check("NPD serves nothing on the node's network", npdC.command.includes("--port=0") && npdC.command.includes("--prometheus-port=0"));
check("NPD's image for the plugin is atrest's", npdC.image === c.image);
check("the plugin is atrest check --format=npd reading the published report",
	npdRule.path === "/usr/bin/atrest" && npdRule.args.includes("--format=npd") &&
	npdRule.args.some((a) => a.startsWith("--report-from=http://127.0.0.1:8937/")));
check("the atrest DaemonSet publishes on the loopback the plugin reads", c.args.includes("--listen=127.0.0.1:8937"));
check("NPD reaches the node's loopback (hostNetwork)", npdPod.hostNetwork === true);
check("the condition is EncryptionAtRestNoncompliant",
	npdRule.condition === "EncryptionAtRestNoncompliant" &&
	npdCfg.conditions.some((x) => x.type === npdRule.condition && x.reason && x.message));
const npdKust = load("npd/kustomization.yaml");
check("npd kustomization lists its manifests and generates the config",
	npdKust.resources.every((r) => existsSync(join(k8s, "npd", r))) &&
	npdKust.configMapGenerator[0].files.includes("atrest-custom-plugin-monitor.json") &&
	npdPod.volumes.some((v) => v.configMap?.name === npdKust.configMapGenerator[0].name));

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
	bad.length === 0 && known.size === 6);

process.exit(failed ? 1 : 0);
