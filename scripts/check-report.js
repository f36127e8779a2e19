#!/usr/bin/env node
'use strict';
/**
 * `npm run check:report [-- REPORT.html [SCREENSHOT.png]]`: opens a skew report in headless
 * Chromium (Debian's `chromium` package; CHROMIUM_PATH overrides) with the network cut off, checks
 * that it renders — every feature has a card with a drawn chart, flagged features stand out, no
 * request leaves the file, no script errors — and saves a full-page screenshot.
 * Defaults: the demo's report (.featurelake/skew-report.html) → docs/skew-report.png.
 */
const { existsSync } = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.join(__dirname, '..');
const report = path.resolve(process.argv[2] || path.join(ROOT, '.featurelake', 'skew-report.html'));
const screenshot = path.resolve(process.argv[3] || path.join(ROOT, 'docs', 'skew-report.png'));
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

async function main() {
  if (!existsSync(report)) throw new Error(`${report} does not exist: run npm run demo:skew first`);
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file://')) return route.continue();
      problems.push(`the report asked the network for ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(`file://${report}`);
    const facts = await page.evaluate(() => {
      const cards = [...document.querySelectorAll('section.card')];
      return {
        title: document.title,
        summaryRows: document.querySelectorAll('h2 + p + table tr, h2 + table tr').length,
        cards: cards.map((card) => {
          const svg = card.querySelector('svg');
          const box = svg ? svg.getBoundingClientRect() : null;
          const bars = svg ? [...svg.querySelectorAll('rect')].filter((r) => r.getBoundingClientRect().height > 0.5).length : 0;
          return { id: card.id, flagged: card.classList.contains('flag'), border: getComputedStyle(card).borderTopColor, width: box?.width ?? 0, height: box?.height ?? 0, bars };
        }),
        overflowing: [...document.querySelectorAll('table')].filter((t) => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length,
      };
    });
    if (!facts.title.startsWith('Skew check')) problems.push(`unexpected title ${JSON.stringify(facts.title)}`);
    if (facts.cards.length === 0) problems.push('no feature cards rendered');
    for (const card of facts.cards) {
      if (card.width < 300 || card.height < 100) problems.push(`${card.id}: chart is ${card.width}×${card.height} px`);
      if (card.bars === 0) problems.push(`${card.id}: chart has no visible bars`);
    }
    const flaggedBorders = new Set(facts.cards.filter((c) => c.flagged).map((c) => c.border));
    if ([...flaggedBorders].some((b) => facts.cards.some((c) => !c.flagged && c.border === b))) problems.push('flagged features do not stand out from the others');
    if (facts.overflowing > 0) problems.push(`${facts.overflowing} table(s) overflow the page width`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`${facts.cards.length} feature cards (${facts.cards.filter((c) => c.flagged).length} flagged), every chart drawn; no network requests; screenshot: ${path.relative(process.cwd(), screenshot)}`);
  } finally {
    await browser.close();
  }
  if (problems.length) throw new Error(`the report does not render as it should:\n  ${problems.join('\n  ')}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
