import type { HistoryPoint } from './series-history.ts';

/** What a chart shows: a series around a departure, and what it was judged against. */
export interface ChartSpec {
  /** One line above the plot (the metric and what it is about). */
  readonly title: string;
  readonly unit?: string | undefined;
  /** Oldest first; at least one. */
  readonly points: readonly HistoryPoint[];
  /** A threshold rule's line. */
  readonly threshold?: { readonly value: number; readonly op: string } | undefined;
  /** The learnt expected range at the departure. */
  readonly band?: { readonly low: number; readonly high: number } | undefined;
  /** When the signal fired, epoch ms. */
  readonly firedAt?: number | undefined;
}

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 320;
/** The plot area inside the chart: left, top, right, bottom edges in pixels. */
export const PLOT = { left: 72, top: 40, right: CHART_WIDTH - 20, bottom: CHART_HEIGHT - 44 } as const;

/** The linear maps from time and value to pixels that a chart uses (exported for its tests). */
export interface ChartScales {
  readonly t0: number;
  readonly t1: number;
  readonly v0: number;
  readonly v1: number;
  x(t: number): number;
  y(v: number): number;
}

/** Scales that fit every point, the threshold, the band and the firing time, with a margin. */
export function chartScales(spec: ChartSpec): ChartScales {
  const times = spec.points.map((p) => p.t);
  if (spec.firedAt !== undefined) times.push(spec.firedAt);
  const values = spec.points.map((p) => p.v).filter(Number.isFinite);
  if (spec.threshold) values.push(spec.threshold.value);
  if (spec.band) values.push(spec.band.low, spec.band.high);
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 === t0) [t0, t1] = [t0 - 60_000, t1 + 60_000];
  let v0 = values.length > 0 ? Math.min(...values) : 0;
  let v1 = values.length > 0 ? Math.max(...values) : 1;
  const span = v1 - v0 || Math.abs(v1) || 1;
  v0 -= span * 0.08;
  v1 += span * 0.08;
  const x = (t: number) => PLOT.left + ((t - t0) / (t1 - t0)) * (PLOT.right - PLOT.left);
  const y = (v: number) => PLOT.bottom - ((v - v0) / (v1 - v0)) * (PLOT.bottom - PLOT.top);
  return { t0, t1, v0, v1, x, y };
}

/**
 * The chart as SVG: the series' line and points, the threshold (dashed) or the expected band
 * (shaded), the moment it fired (a vertical marker), value and UTC time axes. Text uses DejaVu
 * Sans, which Guardian ships, so the PNG renders the same in a slim image.
 */
export function chartSvg(spec: ChartSpec): string {
  const s = chartScales(spec);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="DejaVu Sans" font-size="12">`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="22" font-size="15" font-weight="bold" fill="#1d1c1d">${escapeXml(truncate(spec.title, 90))}</text>`,
  );
  for (const v of niceTicks(s.v0, s.v1, 5)) {
    const y = fmt(s.y(v));
    out.push(
      `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${y}" y2="${y}" stroke="#e8e8e8"/>`,
      `<text x="${PLOT.left - 8}" y="${y}" dy="4" text-anchor="end" fill="#616061">${escapeXml(formatValue(v))}</text>`,
    );
  }
  for (const t of timeTicks(s.t0, s.t1)) {
    const x = fmt(s.x(t));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${PLOT.bottom}" y2="${PLOT.bottom + 5}" stroke="#999999"/>`,
      `<text x="${x}" y="${PLOT.bottom + 20}" text-anchor="middle" fill="#616061">${new Date(t).toISOString().slice(11, 16)}</text>`,
    );
  }
  out.push(
    `<text x="${PLOT.right}" y="${CHART_HEIGHT - 6}" text-anchor="end" fill="#616061">UTC${spec.unit && spec.unit !== '1' ? ` · ${escapeXml(spec.unit)}` : ''}</text>`,
    `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}" stroke="#999999"/>`,
  );
  if (spec.band) {
    const top = s.y(spec.band.high);
    out.push(
      `<rect data-role="band" x="${PLOT.left}" y="${fmt(top)}" width="${PLOT.right - PLOT.left}" height="${fmt(s.y(spec.band.low) - top)}" fill="#2eb67d" fill-opacity="0.15"/>`,
      `<text x="${PLOT.left + 4}" y="${fmt(top)}" dy="14" fill="#1e7a55">expected</text>`,
    );
  }
  if (spec.threshold) {
    const y = fmt(s.y(spec.threshold.value));
    out.push(
      `<line data-role="threshold" x1="${PLOT.left}" x2="${PLOT.right}" y1="${y}" y2="${y}" stroke="#e01e5a" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${PLOT.left + 4}" y="${y}" dy="-5" fill="#e01e5a">threshold ${escapeXml(spec.threshold.op)} ${escapeXml(formatValue(spec.threshold.value))}</text>`,
    );
  }
  if (spec.firedAt !== undefined) {
    const x = fmt(s.x(spec.firedAt));
    out.push(
      `<line data-role="fired" x1="${x}" x2="${x}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#ecb22e" stroke-width="2"/>`,
      `<text x="${x}" y="${PLOT.top - 4}" text-anchor="middle" fill="#9a6b00">fired ${new Date(spec.firedAt).toISOString().slice(11, 16)}</text>`,
    );
  }
  const finite = spec.points.filter((p) => Number.isFinite(p.v));
  if (finite.length > 0) {
    const d = finite.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(s.x(p.t))},${fmt(s.y(p.v))}`).join(' ');
    out.push(`<path data-role="series" d="${d}" fill="none" stroke="#1264a3" stroke-width="2"/>`);
    const last = finite[finite.length - 1]!;
    out.push(`<circle cx="${fmt(s.x(last.t))}" cy="${fmt(s.y(last.v))}" r="3.5" fill="#1264a3"/>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** About `count` round values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function timeTicks(t0: number, t1: number): number[] {
  const steps = [60_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000];
  const step = steps.find((s) => (t1 - t0) / s <= 6) ?? 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return ticks;
}

function formatValue(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${Number((v / 1e9).toPrecision(3))}G`;
  if (abs >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

function fmt(n: number): string {
  return n.toFixed(1);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
