// SPDX-License-Identifier: Apache-2.0
// Validates Kubernetes manifests offline, twice: against the API's JSON
// schemas (kubernetes-models, ajv) for types, formats and required fields,
// and through TypeScript's excess-property check, which catches the
// misspelt field the schemas let through.
// Usage: node validate-k8s.mjs FILE.yaml...   (exit 1 on any problem)
import { readFileSync, writeFileSync, mkdtempSync, symlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import yaml from "js-yaml";

const here = dirname(fileURLToPath(import.meta.url));
const PO = "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

// apiVersion/kind -> module and interface. Azure managed Prometheus' CRDs
// (azmonitoring.coreos.com) copy the Prometheus Operator's: same schema.
const kinds = {
	"v1/Namespace": ["kubernetes-models/v1/Namespace", "Namespace"],
	"v1/ServiceAccount": ["kubernetes-models/v1/ServiceAccount", "ServiceAccount"],
	"v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "ConfigMap"],
	"apps/v1/DaemonSet": ["kubernetes-models/apps/v1/DaemonSet", "DaemonSet"],
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": ["kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding", "ClusterRoleBinding"],
	"monitoring.coreos.com/v1/PodMonitor": [`${PO}/PodMonitor`, "PodMonitor"],
	"monitoring.coreos.com/v1/PrometheusRule": [`${PO}/PrometheusRule`, "PrometheusRule"],
	"azmonitoring.coreos.com/v1/PodMonitor": [`${PO}/PodMonitor`, "PodMonitor", "monitoring.coreos.com/v1"],
};

let failed = 0;
const ts = [];

for (const file of process.argv.slice(2)) {
	let docs;
	try {
		docs = yaml.loadAll(readFileSync(file, "utf8")).filter((d) => d != null);
	} catch (e) {
		console.log(`FAIL ${file}: YAML: ${e.message.split("\n")[0]}`);
		failed++;
		continue;
	}
	for (const [i, doc] of docs.entries()) {
		const where = `${basename(file)}[${i}] ${doc.kind}/${doc.metadata?.name}`;
		if (doc.kind === "Kustomization")
			continue; // checked by the shell test against the files present
		const k = kinds[`${doc.apiVersion}/${doc.kind}`];
		if (!k) {
			console.log(`FAIL ${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
			failed++;
			continue;
		}
		const [mod, cls, asVersion] = k;
		const obj = structuredClone(doc);
		if (asVersion)
			obj.apiVersion = asVersion;
		try {
			const Model = (await import(mod))[cls];
			new Model(obj).validate();
			console.log(`ok   ${where}: schema ${mod.replace(/^.*models\//, "")}`);
		} catch (e) {
			console.log(`FAIL ${where}: ${e.message}`);
			failed++;
		}
		ts.push({ where, mod, type: `I${cls}`, obj });
	}
}

// One TypeScript file, one typed constant per document: an unknown field
// anywhere is "Object literal may only specify known properties".
if (ts.length) {
	const dir = mkdtempSync(join(tmpdir(), "atrest-k8s-"));
	try {
		symlinkSync(join(here, "node_modules"), join(dir, "node_modules"));
		const src = ts.map((t, i) =>
			`import type { ${t.type} as T${i} } from "${t.mod}";\n` +
			`// ${t.where}\nexport const m${i}: T${i} = ${JSON.stringify(t.obj, null, 1)};\n`).join("");
		writeFileSync(join(dir, "manifests.ts"), src);
		const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
		try {
			execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck",
				"--module", "nodenext", "--moduleResolution", "nodenext",
				"--target", "es2022", join(dir, "manifests.ts")], { cwd: dir, stdio: "pipe" });
			console.log(`ok   ${ts.length} documents: no unknown or mistyped field (tsc --strict)`);
		} catch (e) {
			const lines = src.split("\n");
			for (const l of String(e.stdout).trim().split("\n")) {
				const m = /manifests\.ts\((\d+),/.exec(l);
				let doc = "";
				if (m) // the nearest "// where" comment above the error line
					for (let n = +m[1] - 1; n >= 0; n--)
						if (lines[n].startsWith("// ")) { doc = lines[n].slice(3); break; }
				console.log(`FAIL ${doc}: ${l.replace(/^.*error /, "")}`);
			}
			failed++;
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

process.exit(failed ? 1 : 0);
