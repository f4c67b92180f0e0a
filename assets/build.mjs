// Builds Fourfold's front end with esbuild: assets/ → src/fourfold/static/fourfold/build/.
//
//   npm run build     minified app.js, charts.js, entry-grid.js and app.css (and their fonts), then their sizes
//   npm run watch     the same, rebuilt on every change, with inline source maps, while you edit
//
// The build fails when a page's JavaScript and CSS together exceed the budget in package.json
// (config.budgetKB, gzip-compressed): app.js + app.css on every page, plus charts.js on pages with charts.
import * as esbuild from "esbuild";
import { readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, "src/fourfold/static/fourfold/build");
const budgetKB = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).config.budgetKB;
const watch = process.argv.includes("--watch");

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: [
    { in: "assets/js/app.js", out: "app" },
    { in: "assets/js/charts.js", out: "charts" },
    { in: "assets/js/entry-grid.js", out: "entry-grid" },
    { in: "assets/css/app.css", out: "app" },
  ],
  outdir,
  assetNames: "fonts/[name]-[hash]",
  bundle: true,
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  format: "iife",
  // Browsers of the last few years; the CSS keeps nesting-free syntax and color-mix(), which these support.
  target: ["chrome111", "firefox113", "safari16.4", "edge111"],
  loader: { ".woff2": "file" },
  legalComments: "eof",
  logLevel: "warning",
  plugins: watch
    ? [{ name: "rebuilt", setup: (build) => build.onEnd(() => console.log(`rebuilt ${new Date().toLocaleTimeString()}`)) }]
    : [],
};

function kB(bytes) {
  return `${(bytes / 1000).toFixed(1).padStart(7)} kB`;
}

/** Raw and gzip sizes of each built file, and the total per kind of page, checked against the budget. */
function report() {
  const sizes = {};
  for (const name of ["app.js", "charts.js", "entry-grid.js", "app.css"]) {
    const content = readFileSync(join(outdir, name));
    sizes[name] = { raw: statSync(join(outdir, name)).size, gzip: gzipSync(content, { level: 9 }).length };
  }
  console.log(`Built into ${relative(root, outdir)}/:`);
  console.log(`  ${"file".padEnd(28)}${"raw".padStart(10)}${"gzip".padStart(11)}`);
  for (const [name, size] of Object.entries(sizes)) {
    console.log(`  ${name.padEnd(28)}${kB(size.raw)} ${kB(size.gzip)}`);
  }
  const pages = {
    "every page (app.js + app.css)": ["app.js", "app.css"],
    "a page with charts (+ charts.js)": ["app.js", "app.css", "charts.js"],
    "the entry grid (+ entry-grid.js)": ["app.js", "app.css", "entry-grid.js"],
  };
  let over = false;
  for (const [label, files] of Object.entries(pages)) {
    const raw = files.reduce((sum, name) => sum + sizes[name].raw, 0);
    const gzip = files.reduce((sum, name) => sum + sizes[name].gzip, 0);
    over ||= gzip > budgetKB * 1000;
    console.log(`  ${label.padEnd(28)}${kB(raw)} ${kB(gzip)}`);
  }
  console.log(`  budget: ${budgetKB} kB gzip per page`);
  if (over) {
    console.error(`A page's JavaScript and CSS exceed the ${budgetKB} kB budget: see docs/decisions/0008-front-end.md.`);
    process.exit(1);
  }
}

rmSync(outdir, { recursive: true, force: true });
if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log("Watching assets/ (Ctrl+C stops)…");
} else {
  await esbuild.build(options);
  report();
}
