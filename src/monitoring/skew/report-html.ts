import { CategoryCount, ColumnStats, ConsistencyResult, FeatureDrift, Histogram, SchemaResult, SkewResult } from '../../core/skew/skew-result';

/**
 * The skew report as one self-contained HTML file: inline CSS and SVG, no scripts, no fonts or
 * images to fetch — it opens the same from a laptop, an e-mail or an air-gapped cluster.
 */
export function renderReport(result: SkewResult): string {
  const title = `Skew check ${result.name ?? result.id}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style></head>
<body>
<header><h1>${esc(title)} ${badge(result.status === 'passed', 'passed', 'failed')}</h1>
<p class="meta">${esc(result.project)} · ${esc(result.created_at)} · id ${esc(result.id)} · registry v${result.registry_version} · ${result.duration_ms} ms</p>
<table class="sides"><tr><th></th><th>side</th><th>rows</th></tr>
${result.reference ? `<tr><td><span class="key ref"></span>reference</td><td>${esc(result.reference.label)}</td><td>${num(result.reference.rows)}</td></tr>` : ''}
<tr><td><span class="key cur"></span>current</td><td>${esc(result.current.label)}</td><td>${num(result.current.rows)}</td></tr></table>
</header>
${summary(result)}
${result.consistency ? consistency(result.consistency) : ''}
${result.schema ? schema(result.schema) : ''}
${result.distribution ? `<h2>Distributions</h2><p class="meta">Reference in blue, current in orange, as shares of each side's non-null values.</p>${result.distribution.features.map(featureCard).join('\n')}` : ''}
</body></html>
`;
}

/** One row per feature: the verdict of every check that ran. */
function summary(result: SkewResult): string {
  const names = new Set<string>([
    ...(result.distribution?.features.map((f) => f.feature) ?? []),
    ...(result.consistency?.features.map((f) => f.feature) ?? []),
    ...(result.schema?.issues.map((i) => i.feature) ?? []),
  ]);
  const rows = [...names].map((name) => {
    const drift = result.distribution?.features.find((f) => f.feature === name);
    const served = result.consistency?.features.find((f) => f.feature === name);
    const issues = result.schema?.issues.filter((i) => i.feature === name) ?? [];
    return `<tr class="${drift?.drifted || (served && !served.passed) || issues.length ? 'flag' : ''}"><td><a href="#${anchor(name)}">${esc(name)}</a></td>
<td>${drift ? `${esc(drift.method)} ${score(drift)} ${badge(!drift.drifted, 'no drift', 'drift')}` : '—'}</td>
<td>${served ? `${pct(served.inconsistent_rate)} ${badge(served.passed, 'consistent', 'inconsistent')}` : '—'}</td>
<td>${served?.smape === null || served?.smape === undefined ? '—' : `${served.smape.toFixed(2)}%`}</td>
<td>${result.schema ? (issues.length ? issues.map((i) => `<span class="bad">${esc(i.issue)}</span>`).join(' ') : '<span class="ok">ok</span>') : '—'}</td></tr>`;
  });
  const drift = result.distribution;
  return `<h2>Summary</h2>
${drift ? `<p>${drift.drifted_features} of ${drift.features_compared} features drifted (share ${drift.drift_share.toFixed(2)}, dataset drift at ≥ ${drift.drift_share_threshold}): ${badge(!drift.dataset_drift, 'no dataset drift', 'dataset drift')}</p>` : ''}
<table><tr><th>feature</th><th>drift (method, score)</th><th>inconsistent rows</th><th>SMAPE</th><th>schema</th></tr>${rows.join('\n')}</table>`;
}

function consistency(c: ConsistencyResult): string {
  const rows = c.features.map(
    (f) => `<tr class="${f.passed ? '' : 'flag'}"><td>${esc(f.feature)}</td><td>${num(f.rows)}</td><td>${num(f.compared)}</td><td>${num(f.mismatches)}</td><td>${num(f.missing)}</td><td>${num(f.extra)}</td><td>${pct(f.mismatch_rate)}</td><td>${f.smape === null ? '—' : f.smape.toFixed(2) + '%'}</td><td>${badge(f.passed, 'ok', 'fail')}</td></tr>`,
  );
  const examples = c.features.flatMap((f) =>
    f.examples.map((e) => `<tr><td>${esc(f.feature)}</td><td>${esc(JSON.stringify(e.keys))}</td><td>${esc(e.request_time)}</td><td>${esc(JSON.stringify(e.served))}</td><td>${esc(JSON.stringify(e.offline))}</td></tr>`),
  );
  return `<h2>Online / offline consistency ${badge(c.passed, 'passed', 'failed')}</h2>
<p class="meta">${num(c.rows)} logged rows of ${esc(c.feature_service)}, each compared with the point-in-time offline value at its request time; a feature fails above ${pct(c.threshold)} inconsistent rows.</p>
<table><tr><th>feature</th><th>rows</th><th>compared</th><th>mismatches</th><th>missing</th><th>extra</th><th>mismatch rate</th><th>SMAPE</th><th></th></tr>${rows.join('\n')}</table>
${examples.length ? `<details><summary>Examples of disagreeing rows</summary><table><tr><th>feature</th><th>keys</th><th>request time</th><th>served</th><th>offline</th></tr>${examples.join('\n')}</table></details>` : ''}`;
}

function schema(s: SchemaResult): string {
  const issues = s.issues.map((i) => `<li><b>${esc(i.issue)}</b> ${esc(i.message)}</li>`).join('\n');
  return `<h2>Schema ${badge(s.passed, 'passed', 'failed')}</h2>${issues ? `<ul>${issues}</ul>` : '<p>Same features, same types, no new categories, null rates within ' + pct(s.null_rate_threshold) + '.</p>'}`;
}

function featureCard(f: FeatureDrift): string {
  const chart = f.histogram ? histogramSvg(f.histogram) : f.categories ? categoriesSvg(f.categories) : '<p class="meta">no values to plot</p>';
  return `<section class="card ${f.drifted ? 'flag' : ''}" id="${anchor(f.feature)}"><h3>${esc(f.feature)} ${badge(!f.drifted, 'no drift', 'drift')}</h3>
<p class="meta">${esc(f.kind)} · ${esc(f.method)} ${f.method_source === 'default' ? '' : `(${esc(f.method_source)})`} ${score(f)} against threshold ${f.threshold}${f.note ? ` · ${esc(f.note)}` : ''}</p>
<div class="row">${chart}${statsTable(f.reference, f.current)}</div></section>`;
}

function statsTable(ref: ColumnStats, cur: ColumnStats): string {
  const line = (label: string, get: (s: ColumnStats) => unknown) => `<tr><th>${label}</th><td>${fmt(get(ref))}</td><td>${fmt(get(cur))}</td></tr>`;
  return `<table class="stats"><tr><th></th><th>reference</th><th>current</th></tr>
${line('count', (s) => s.count)}${line('nulls', (s) => s.nulls)}${line('distinct', (s) => s.distinct)}${line('mean', (s) => s.mean)}${line('std', (s) => s.std)}
${line('min', (s) => s.min)}${line('p25', (s) => s.quantiles?.p25)}${line('median', (s) => s.quantiles?.p50)}${line('p75', (s) => s.quantiles?.p75)}${line('max', (s) => s.max)}</table>`;
}

const W = 560;
const H = 200;
const PAD = { left: 44, right: 10, top: 10, bottom: 34 };

/** Both histograms on the same bins, as shares, drawn over each other (translucent). */
function histogramSvg(h: Histogram): string {
  const ref = shares(h.reference);
  const cur = shares(h.current);
  const top = Math.max(...ref, ...cur, 1e-9);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = plotW / ref.length;
  const bars = (values: number[], cls: string) =>
    values.map((v, i) => `<rect class="${cls}" x="${(PAD.left + i * barW).toFixed(1)}" y="${(PAD.top + plotH * (1 - v / top)).toFixed(1)}" width="${Math.max(barW - 1, 1).toFixed(1)}" height="${((plotH * v) / top).toFixed(1)}"/>`).join('');
  const ticks = [0, Math.floor(h.edges.length / 2), h.edges.length - 1].map(
    (i) => `<text x="${(PAD.left + i * barW).toFixed(1)}" y="${H - 14}" text-anchor="middle">${esc(short(h.edges[i]))}</text>`,
  );
  return svg(`${bars(ref, 'ref')}${bars(cur, 'cur')}${axes(top)}${ticks.join('')}`);
}

/** The most frequent categories, reference and current bars side by side. */
function categoriesSvg(categories: CategoryCount[]): string {
  const shown = categories.slice(0, 12);
  const ref = shares(categories.map((c) => c.reference)).slice(0, shown.length);
  const cur = shares(categories.map((c) => c.current)).slice(0, shown.length);
  const top = Math.max(...ref, ...cur, 1e-9);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / shown.length;
  const bar = (v: number, i: number, offset: number, cls: string) =>
    `<rect class="${cls}" x="${(PAD.left + i * slot + offset).toFixed(1)}" y="${(PAD.top + plotH * (1 - v / top)).toFixed(1)}" width="${(slot * 0.4).toFixed(1)}" height="${((plotH * v) / top).toFixed(1)}"/>`;
  const labels = shown.map((c, i) => `<text x="${(PAD.left + (i + 0.5) * slot).toFixed(1)}" y="${H - 14}" text-anchor="middle">${esc(c.value.slice(0, 10))}</text>`);
  return svg(`${ref.map((v, i) => bar(v, i, slot * 0.1, 'ref')).join('')}${cur.map((v, i) => bar(v, i, slot * 0.5, 'cur')).join('')}${axes(top)}${labels.join('')}`);
}

function axes(top: number): string {
  return `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" class="axis"/><line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" class="axis"/>
<text x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end">${(top * 100).toFixed(0)}%</text><text x="${PAD.left - 4}" y="${H - PAD.bottom}" text-anchor="end">0</text>`;
}

function svg(body: string): string {
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${body}</svg>`;
}

function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return counts.map((c) => c / total);
}

function score(f: FeatureDrift): string {
  if (f.score === null) return '<span class="meta">not tested</span>';
  return `<b>${f.method === 'ks' || f.method === 'chisquare' || f.method === 'z' ? 'p = ' : ''}${f.score < 0.001 && f.score > 0 ? f.score.toExponential(2) : f.score.toFixed(3)}</b>`;
}

function badge(ok: boolean, good: string, bad: string): string {
  return ok ? `<span class="badge ok">${good}</span>` : `<span class="badge bad">${bad}</span>`;
}

function fmt(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return esc(typeof value === 'number' ? short(value) : String(value));
}

function short(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1000 || Math.abs(value) < 0.01 ? value.toPrecision(4) : value.toFixed(3);
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.001 ? 3 : 1)}%`;
}

function anchor(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#1f2328;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:0 0 4px}
.meta{color:#656d76;margin:2px 0 8px}table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #e6e8eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}tr.flag td{background:#fff5f5}.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;vertical-align:middle}
.badge.ok,.ok{color:#1a7f37}.badge.ok{background:#dafbe1}.badge.bad{background:#ffebe9;color:#cf222e}.bad{color:#cf222e;font-weight:600}
.card{border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;margin:12px 0}.card.flag{border-color:#cf222e;box-shadow:0 0 0 1px #cf222e33}
.row{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start}.chart text{font-size:11px;fill:#656d76}.chart .axis{stroke:#8c959f}
.chart .ref{fill:#1f6feb;fill-opacity:.55}.chart .cur{fill:#fb8500;fill-opacity:.55}.stats td,.stats th{padding:2px 8px;font-size:13px}
.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}.key.ref{background:#1f6feb}.key.cur{background:#fb8500}
.sides td,.sides th{padding:2px 10px}details{margin:8px 0}summary{cursor:pointer;color:#0969da}`;
