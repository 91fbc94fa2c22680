// Copies the browser builds of the pinned npm packages (package-lock.json) into
// supervisor_ui/static/vendor, which is generated at install time (`make run` / `make test`)
// and git-ignored: the pages load nothing from a CDN.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "supervisor_ui", "static", "vendor");

// package, file inside the package, name served under /static/vendor/
const FILES = [
  ["chart.js", "dist/chart.umd.min.js", "chart.umd.min.js"],
];

mkdirSync(out, { recursive: true });
const versions = {};
for (const [pkg, file, name] of FILES) {
  const base = join(root, "node_modules", pkg);
  copyFileSync(join(base, file), join(out, name));
  versions[pkg] = JSON.parse(readFileSync(join(base, "package.json"), "utf8")).version;
}
writeFileSync(join(out, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendored into ${out}: ${Object.entries(versions).map(([k, v]) => `${k}@${v}`).join(", ")}`);
