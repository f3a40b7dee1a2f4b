// Builds the console into ../controlplane/webui/dist, which hotswapd embeds:
// one hashed script, one hashed stylesheet and index.html naming them.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const out = new URL("../controlplane/webui/dist/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out + "assets", { recursive: true });

const result = await build({
  entryPoints: ["src/main.tsx"],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  write: false,
  outdir: "out",
  legalComments: "none",
});

const names = {};
for (const f of result.outputFiles) {
  const ext = f.path.endsWith(".css") ? "css" : "js";
  const hash = createHash("sha256").update(f.contents).digest("hex").slice(0, 10);
  names[ext] = `assets/app-${hash}.${ext}`;
  writeFileSync(out + names[ext], f.contents);
}
const html = readFileSync("index.html", "utf8")
  .replace("%SCRIPT%", "/ui/" + names.js)
  .replace("%STYLE%", "/ui/" + names.css);
writeFileSync(out + "index.html", html);
console.log("built", Object.values(names).join(", "));
