import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** A file the hub serves as it is. */
export interface StaticAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const PAGE_DIR = join(import.meta.dirname, "page");

/**
 * The /trends page and what it loads, read once at start: the page, its script and styles, and
 * Chart.js's UMD build from the hub's own node_modules (the page never reaches for a CDN). The
 * chart.js package exports no subpath for it, so it is found next to the package's main file.
 */
export function trendsPageAssets(): ReadonlyMap<string, StaticAsset> {
  const chartDist = dirname(createRequire(import.meta.url).resolve("chart.js"));
  const read = (path: string, contentType: string): StaticAsset => ({ contentType, body: readFileSync(path) });
  return new Map([
    ["/trends", read(join(PAGE_DIR, "trends.html"), "text/html; charset=utf-8")],
    ["/trends/trends.js", read(join(PAGE_DIR, "trends.js"), "text/javascript; charset=utf-8")],
    ["/trends/trends.css", read(join(PAGE_DIR, "trends.css"), "text/css; charset=utf-8")],
    ["/trends/chart.umd.min.js", read(join(chartDist, "chart.umd.min.js"), "text/javascript; charset=utf-8")],
  ]);
}
