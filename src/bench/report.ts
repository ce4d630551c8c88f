/**
 * zk-bench's output: the text summary, the progress bar, and the self-contained HTML
 * report (inline SVG charts, no scripts, nothing fetched).
 */
import type { Comparison } from './compare.js';
import type { BenchResult, Progress } from './runner.js';

const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(d)) : 'n/a');
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function describeShape(r: Pick<BenchResult, 'workload' | 'sessions' | 'inFlight' | 'payloadBytes' | 'readPercent'>): string {
  const mix = r.readPercent !== null ? ` ${r.readPercent}:${100 - r.readPercent} read:write` : '';
  return `${r.workload}${mix}, ${r.sessions} session(s) x ${r.inFlight} in flight, ${r.payloadBytes} B`;
}

function errorsText(errors: Record<string, number>): string {
  const e = Object.entries(errors);
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${int(v)}`).join(', ');
}

export function resultText(r: BenchResult): string {
  const l = r.latencyMs;
  const lines = [
    `zk-bench ${describeShape(r)} against ${r.server}`,
    `  ops:        ${int(r.ok)} ok, ${int(r.completed - r.ok)} failed in ${r.elapsedS.toFixed(3)} s${r.readPercent !== null ? ` (${int(r.reads)} reads, ${int(r.writes)} writes)` : ''}`,
    `  throughput: ${int(r.opsPerSec)} ops/s   (load generator CPU ${fmt(r.loadGen.cpuCores, 2)} cores = ${(r.loadGen.cpuShare * 100).toFixed(0)}% of ${r.loadGen.machineCores})`,
    `  latency ms: min ${fmt(l.min)}  p50 ${fmt(l.p50)}  p90 ${fmt(l.p90)}  p99 ${fmt(l.p99)}  p99.9 ${fmt(l.p999)}  max ${fmt(l.max)}`,
    `  errors:     ${errorsText(r.errors)}`,
  ];
  return lines.join('\n') + '\n';
}

export function comparisonText(c: Comparison): string {
  const first = c.runs[0]?.result;
  const head = first === undefined ? c.workload : describeShape(first);
  const row = (name: string, s: Comparison['a']): string =>
    `  ${name.padEnd(2)} ${int(s.opsPerSec).padStart(10)} ${fmt(s.latencyMs.p50).padStart(9)} ${fmt(s.latencyMs.p90).padStart(9)} ${fmt(s.latencyMs.p99).padStart(9)} ${fmt(s.latencyMs.p999).padStart(9)} ${fmt(s.latencyMs.max).padStart(9)}   ${fmt(s.loadGenCpuCores, 2).padStart(5)}  ${s.server}`;
  const q = c.ratio;
  return [
    `zk-bench --compare: ${head}, ${c.a.rounds} rounds each, alternating A B (medians)`,
    `     ${'ops/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p90 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'p99.9 ms'.padStart(9)} ${'max ms'.padStart(9)}   ${'lgCPU'.padStart(5)}  server`,
    row('A', c.a),
    row('B', c.b),
    `  A/B ${fmt(q.opsPerSec).padStart(9)} ${fmt(q.p50).padStart(9)} ${fmt(q.p90).padStart(9)} ${fmt(q.p99).padStart(9)} ${fmt(q.p999).padStart(9)} ${fmt(q.max).padStart(9)}`,
    `  errors: A ${errorsText(c.a.errors)}; B ${errorsText(c.b.errors)}`,
    `  (lgCPU: the load generator's own CPU, in cores, over each measured window)`,
  ].join('\n') + '\n';
}

/** One line of progress (no newline): a bar, the count, the rate. */
export function progressLine(p: Progress, label: string, width = 30): string {
  let frac: number | null = null;
  if (p.phase === 'measure' || p.phase === 'warmup') {
    if (p.total !== null && p.total > 0) frac = p.done / p.total;
    else if (p.durationS !== null && p.durationS > 0) frac = p.elapsedS / p.durationS;
  }
  const f = frac === null ? 0 : Math.max(0, Math.min(1, frac));
  const filled = Math.round(f * width);
  const bar = frac === null ? ' '.repeat(width) : '#'.repeat(filled) + '.'.repeat(width - filled);
  const rate = p.elapsedS > 0 ? `${int(p.done / p.elapsedS)} ops/s` : '';
  return `${label}${p.phase.padEnd(7)} [${bar}] ${frac === null ? '    ' : `${Math.floor(f * 100)}%`.padStart(4)} ${int(p.done)} ops ${rate}`;
}

/** A progress bar on stderr, redrawn in place; only when stderr is a terminal. */
export function progressBar(label = ''): { update(p: Progress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const cols = process.stderr.columns ?? 80;
      process.stderr.write('\r' + progressLine(p, label).slice(0, cols - 1).padEnd(cols - 1));
      shown = true;
    },
    done() {
      if (tty && shown) process.stderr.write('\r' + ' '.repeat((process.stderr.columns ?? 80) - 1) + '\r');
      shown = false;
    },
  };
}

// ---- SVG ----------------------------------------------------------------------------------

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export interface Series {
  name: string;
  points: [number, number][];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= x) return m * e;
  return 10 * e;
}

/**
 * A line chart. `xTicks` gives the x axis labels ([value, label]); the y axis starts at 0.
 */
export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], xTicks?: [number, string][]): string {
  const W = 720;
  const H = 360;
  const L = 70;
  const R = 20;
  const T = 36;
  const B = 60;
  const all = series.flatMap((s) => s.points);
  const xMin = Math.min(...all.map((p) => p[0]), xTicks?.[0]?.[0] ?? Infinity);
  const xMax = Math.max(...all.map((p) => p[0]), xTicks?.at(-1)?.[0] ?? -Infinity);
  const yMax = niceMax(Math.max(0, ...all.map((p) => p[1])));
  const sx = (x: number): number => L + ((x - xMin) / (xMax - xMin || 1)) * (W - L - R);
  const sy = (y: number): number => T + (1 - y / yMax) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    out.push(`<line x1="${L}" x2="${W - R}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${sy(y) + 4}" text-anchor="end">${esc(y >= 100 ? int(y) : String(Number(y.toPrecision(3))))}</text>`);
  }
  const ticks = xTicks ?? Array.from({ length: 6 }, (_, i): [number, string] => {
    const x = xMin + ((xMax - xMin) * i) / 5;
    return [x, String(Number(x.toPrecision(3)))];
  });
  for (const [x, label] of ticks) {
    out.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${sx(x)}" y="${H - B + 16}" text-anchor="middle">${esc(label)}</text>`);
  }
  out.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#000"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#000"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - B + 34}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    if (s.points.length > 0) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of s.points.length <= 40 ? s.points : []) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${c}"/>`);
    const lx = W - R - 230;
    const ly = T + 14 + i * 15;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="3" fill="${c}"/><text x="${lx + 16}" y="${ly - 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Percentile p (0-100) on a "nines" scale: 90 -> 1, 99 -> 2, 99.9 -> 3. */
export function nines(p: number, cap: number): number {
  return p >= 100 ? cap : Math.min(cap, -Math.log10(1 - p / 100));
}

function latencyChart(series: { name: string; curve: [number, number][] }[]): string {
  const maxN = Math.max(2, ...series.flatMap((s) => s.curve.filter(([p]) => p < 100).map(([p]) => Math.ceil(nines(p, 9) + 0.5))));
  const cap = Math.min(maxN, 5);
  const ticks: [number, string][] = [
    [0, 'p0'],
    [nines(50, cap), 'p50'],
    [1, 'p90'],
    [2, 'p99'],
    [3, 'p99.9'],
    [4, 'p99.99'],
    [5, 'p99.999'],
  ].filter(([x]) => (x as number) < cap) as [number, string][];
  ticks.push([cap, 'max']);
  return lineChart(
    'Latency by percentile',
    'percentile',
    'latency (ms)',
    series.map((s) => ({ name: s.name, points: s.curve.map(([p, ms]): [number, number] => [nines(p, cap), ms]) })),
    ticks,
  );
}

function throughputChart(series: { name: string; r: BenchResult }[]): string {
  return lineChart(
    'Throughput over the measured window',
    'seconds',
    'successful ops/s',
    series.map(({ name, r }) => ({
      name,
      points: r.timeline.map((n, i): [number, number] => [((i + 1) * r.timelineBucketMs) / 1000, (n * 1000) / r.timelineBucketMs]),
    })),
  );
}

function resultTable(rows: { name: string; r: BenchResult }[]): string {
  const th = ['run', 'ops/s', 'ok', 'failed', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'load gen CPU (cores)', 'errors'];
  const tr = rows.map(({ name, r }) => {
    const l = r.latencyMs;
    const cells = [name, int(r.opsPerSec), int(r.ok), int(r.completed - r.ok), fmt(l.min), fmt(l.p50), fmt(l.p90), fmt(l.p99), fmt(l.p999), fmt(l.max), fmt(r.loadGen.cpuCores, 2), errorsText(r.errors)];
    return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<table><tr>${th.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${tr.join('\n')}</table><p class="note">latencies in ms, of successful requests</p>`;
}

function page(title: string, body: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.note { color: #666; font-size: 90%; }
pre { background: #f6f6f6; padding: 0.6em; }
</style></head><body>
<h1>${esc(title)}</h1>
${body.join('\n')}
</body></html>
`;
}

export function resultHtml(runs: { name: string; r: BenchResult }[], command: string, title?: string): string {
  const first = runs[0]!.r;
  return page(title ?? `zk-bench: ${describeShape(first)}`, [
    `<p>Against <code>${esc(first.server)}</code>, started ${esc(first.startedAt)}.</p>`,
    `<pre>${esc(command)}</pre>`,
    resultTable(runs),
    throughputChart(runs),
    latencyChart(runs.map(({ name, r }) => ({ name, curve: r.latencyCurve }))),
  ]);
}

export function comparisonHtml(c: Comparison, command: string): string {
  const first = c.runs[0]!.result;
  const named = c.runs.map((x) => ({ name: `${x.target}${x.round}`, r: x.result }));
  const q = c.ratio;
  return page(`zk-bench --compare: ${describeShape(first)}`, [
    `<p>A = <code>${esc(c.a.server)}</code>, B = <code>${esc(c.b.server)}</code>; ${c.a.rounds} rounds each, run alternately A B A B ….</p>`,
    `<pre>${esc(command)}</pre>`,
    `<table><tr><th></th><th>ops/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>load gen CPU (cores)</th></tr>`,
    ...(['a', 'b'] as const).map((k) => {
      const s = c[k];
      return `<tr><td>${k.toUpperCase()} (median)</td><td>${int(s.opsPerSec)}</td><td>${fmt(s.latencyMs.p50)}</td><td>${fmt(s.latencyMs.p90)}</td><td>${fmt(s.latencyMs.p99)}</td><td>${fmt(s.latencyMs.p999)}</td><td>${fmt(s.latencyMs.max)}</td><td>${fmt(s.loadGenCpuCores, 2)}</td></tr>`;
    }),
    `<tr><td>A / B</td><td>${fmt(q.opsPerSec)}</td><td>${fmt(q.p50)}</td><td>${fmt(q.p90)}</td><td>${fmt(q.p99)}</td><td>${fmt(q.p999)}</td><td>${fmt(q.max)}</td><td></td></tr></table>`,
    lineChart(
      'Throughput per round',
      'round',
      'successful ops/s',
      (['A', 'B'] as const).map((t) => ({ name: t === 'A' ? `A ${c.a.server}` : `B ${c.b.server}`, points: c.runs.filter((x) => x.target === t).map((x): [number, number] => [x.round, x.result.opsPerSec]) })),
      Array.from({ length: c.a.rounds }, (_, i): [number, string] => [i + 1, String(i + 1)]),
    ),
    latencyChart(named.map(({ name, r }) => ({ name, curve: r.latencyCurve }))),
    throughputChart(named),
    '<h2>Every run</h2>',
    resultTable(named),
  ]);
}
