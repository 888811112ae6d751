// Audits pages of a running site in a running Chromium: Lighthouse 12 (its node API, on the
// mobile preset, the default: the phone viewport and touch targets are where the site is
// tightest) and the axe-core engine injected into each page (on a 1280x800 desktop viewport,
// so both layouts are checked).
//
//   node audit.mjs < spec.json > results.json
//
// spec: { "port": N, "base": "http://127.0.0.1:M", "mode": "check" | "perf", "runs": 3,
//         "pages": [{ "path": "/", "skip": ["is-crawlable"] }] }
// port is Chromium's --remote-debugging-port. "check" runs the accessibility,
// best-practices and SEO categories and axe; "perf" runs the performance category `runs`
// times per page. Results: one object per page on stdout as JSON; progress on stderr.
// Called by tests/webapp/browser_audit.rs (check) and bench/lighthouse.py (perf).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import lighthouse from 'lighthouse';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHECK_CATEGORIES = ['accessibility', 'best-practices', 'seo'];
const PERF_METRICS = [
  'first-contentful-paint',
  'largest-contentful-paint',
  'total-blocking-time',
  'cumulative-layout-shift',
  'speed-index',
];

const spec = JSON.parse(readFileSync(0, 'utf8'));
const log = (msg) => process.stderr.write(`audit: ${msg}\n`);
// a stuck browser fails the run instead of hanging it (a check takes seconds a page)
const LIMIT_S = spec.mode === 'perf' ? 1800 : 300;
setTimeout(() => { log(`gave up after ${LIMIT_S} s`); process.exit(2); }, LIMIT_S * 1000).unref();

/** One Lighthouse run of `categories` on `url` in a new tab; the report (LHR). */
async function runLighthouse(browser, url, categories, skip) {
  const page = await browser.newPage();
  try {
    // the full-page screenshot is for the HTML report, which nobody reads here
    const flags = { logLevel: 'error', output: 'json', onlyCategories: categories, disableFullPageScreenshot: true };
    if (skip.length) flags.skipAudits = skip;
    // Outside performance, the waits for a quiet page after load (a second each by default)
    // only cost time: the pages are rendered by the server and run one deferred script.
    const config = categories.includes('performance') ? undefined : {
      extends: 'lighthouse:default',
      settings: { pauseAfterFcpMs: 100, pauseAfterLoadMs: 100, networkQuietThresholdMs: 100, cpuQuietThresholdMs: 100 },
    };
    const result = await lighthouse(url, flags, config, page);
    if (!result) throw new Error(`Lighthouse gave no result for ${url}`);
    return result.lhr;
  } finally {
    await page.close().catch(() => {});
  }
}

/** The audits that cost points: weighted, scored below 1, with a short list of where. */
function failingAudits(lhr) {
  const failing = [];
  for (const [categoryId, category] of Object.entries(lhr.categories)) {
    for (const ref of category.auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        const items = (audit.details?.items ?? []).slice(0, 5).map((item) =>
          item.node?.snippet ?? item.node?.selector ?? item.source?.url ?? item.url ?? item.description ?? JSON.stringify(item).slice(0, 200));
        failing.push({ category: categoryId, id: ref.id, title: audit.title, score: audit.score,
          displayValue: audit.displayValue ?? null, explanation: audit.explanation ?? null, items });
      }
    }
  }
  return failing;
}

/** axe-core's violations on `url`, injected through the DevTools protocol (the page's CSP
 *  forbids inline scripts, and evaluation from DevTools is not subject to it). */
async function runAxe(browser, url) {
  const page = await browser.newPage();
  try {
    await page.setViewport({ width: 1280, height: 800 });
    const response = await page.goto(url, { waitUntil: 'load' });
    await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      }));
    });
    return { status: response ? response.status() : null, violations };
  } finally {
    await page.close().catch(() => {});
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function checkPage(browser, page) {
  const url = spec.base + page.path;
  const started = Date.now();
  const lhr = await runLighthouse(browser, url, CHECK_CATEGORIES, page.skip ?? []);
  const axe = await runAxe(browser, url);
  const scores = Object.fromEntries(Object.entries(lhr.categories).map(([id, c]) => [id, c.score]));
  log(`${page.path}: ${JSON.stringify(scores)}, axe ${axe.violations.length} violations, ${Date.now() - started} ms`);
  return { path: page.path, status: axe.status, runtimeError: lhr.runtimeError?.message ?? null,
    scores, failing: failingAudits(lhr), axe: axe.violations };
}

async function perfPage(browser, page) {
  const url = spec.base + page.path;
  const runs = [];
  for (let i = 0; i < (spec.runs ?? 3); i++) {
    const lhr = await runLighthouse(browser, url, ['performance'], []);
    const run = { score: lhr.categories.performance.score, failing: failingAudits(lhr) };
    for (const id of PERF_METRICS) run[id] = lhr.audits[id].numericValue;
    runs.push(run);
    log(`${page.path}: run ${i + 1}: performance ${run.score}`);
  }
  const out = { path: page.path, runs: runs.length };
  for (const key of ['score', ...PERF_METRICS]) out[key] = median(runs.map((r) => r[key]));
  // what cost points in the run whose score is the median one
  const typical = runs.reduce((a, b) => (Math.abs(b.score - out.score) < Math.abs(a.score - out.score) ? b : a));
  out.failing = typical.failing.map(({ id, title, displayValue }) => ({ id, title, displayValue }));
  return out;
}

const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${spec.port}`, defaultViewport: null });
const results = [];
try {
  for (const page of spec.pages) {
    results.push(await (spec.mode === 'perf' ? perfPage : checkPage)(browser, page));
  }
} finally {
  await browser.disconnect();
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
