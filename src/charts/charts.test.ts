import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { chartPng } from './png.ts';
import { SeriesHistory } from './series-history.ts';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec, chartScales, chartSvg } from './svg.ts';

const T0 = Date.parse('2026-09-14T02:00:00Z');
const spec: ChartSpec = {
  title: 'system.memory.utilization of spark-worker on 10.0.6.44',
  unit: '1',
  points: Array.from({ length: 120 }, (_, i) => ({
    t: T0 + i * 30_000,
    v: i < 90 ? 0.4 + 0.05 * Math.sin(i / 5) : 0.95,
  })),
  threshold: { value: 0.9, op: '>' },
  firedAt: T0 + 90 * 30_000,
};

describe('series history', () => {
  it('keeps the newest points of each series, oldest first', () => {
    const h = new SeriesHistory({ pointsPerSeries: 3 });
    for (let i = 0; i < 5; i++) h.record('a', i * 1000, i);
    h.record('b', 0, 42);
    expect(h.points('a')).toEqual([
      { t: 2000, v: 2 },
      { t: 3000, v: 3 },
      { t: 4000, v: 4 },
    ]);
    expect(h.points('b')).toEqual([{ t: 0, v: 42 }]);
    expect(h.points('c')).toEqual([]);
  });

  it('ignores a point older than the newest it has', () => {
    const h = new SeriesHistory();
    h.record('a', 2000, 1);
    h.record('a', 1000, 9);
    expect(h.points('a')).toEqual([{ t: 2000, v: 1 }]);
  });

  it('holds at most maxSeries, evicting series not written lately, not the busy ones', () => {
    const h = new SeriesHistory({ maxSeries: 100, pointsPerSeries: 4 });
    for (let i = 0; i < 1000; i++) {
      if (i % 10 === 0) h.record('busy', i, i);
      h.record(`flood-${i}`, i, i);
    }
    expect(h.size).toBe(100);
    expect(h.evicted).toBe(901);
    expect(h.points('busy')).toHaveLength(4);
    expect(h.points('flood-999')).toHaveLength(1);
    expect(h.points('flood-0')).toEqual([]);
  });
});

describe('chart', () => {
  it('draws each point where its time and value map', () => {
    const svg = chartSvg(spec);
    const d = /data-role="series" d="([^"]+)"/.exec(svg)![1]!;
    const coords = d.split(' ').map((c) => c.slice(1).split(',').map(Number) as [number, number]);
    expect(coords).toHaveLength(spec.points.length);
    const s = chartScales(spec);
    for (const [i, [x, y]] of coords.entries()) {
      const p = spec.points[i]!;
      const t = s.t0 + ((x - s.x(s.t0)) / (s.x(s.t1) - s.x(s.t0))) * (s.t1 - s.t0);
      const v = s.v0 + ((s.y(s.v0) - y) / (s.y(s.v0) - s.y(s.v1))) * (s.v1 - s.v0);
      expect(Math.abs(t - p.t)).toBeLessThan(((s.t1 - s.t0) / (s.x(s.t1) - s.x(s.t0))) * 0.1);
      expect(Math.abs(v - p.v)).toBeLessThan(((s.v1 - s.v0) / (s.y(s.v0) - s.y(s.v1))) * 0.1);
    }
    expect(svg).toMatch(/data-role="threshold"[^>]*y1="([\d.]+)"/);
    expect(Number(/data-role="threshold"[^>]*y1="([\d.]+)"/.exec(svg)![1])).toBeCloseTo(s.y(0.9), 0);
    expect(Number(/data-role="fired" x1="([\d.]+)"/.exec(svg)![1])).toBeCloseTo(s.x(spec.firedAt!), 0);
  });

  it('escapes what it is given as text', () => {
    expect(chartSvg({ ...spec, title: '<script>&"' })).toContain('&#60;script&#62;&#38;&#34;');
  });

  it('renders a PNG of its size, with the line where the series is', () => {
    const png = chartPng(spec);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(5_000);
    expect(png.length).toBeLessThan(200_000);
    const image = PNG.sync.read(png);
    expect([image.width, image.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    const s = chartScales(spec);
    const isLine = (x: number, y: number) => {
      const at = (Math.round(y) * image.width + Math.round(x)) * 4;
      const [r, g, b] = [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
      return b > 120 && r < 90 && Math.abs(g - 0x64) < 50; // #1264a3, anti-aliased
    };
    // Every tenth point: the series' colour is at (or a pixel from) where the point maps.
    for (const p of spec.points.filter((_, i) => i % 10 === 5)) {
      const x = s.x(p.t);
      const y = s.y(p.v);
      const near = [-1, 0, 1].some((dy) => isLine(x, y + dy));
      expect(near, `line at ${p.t} → (${x.toFixed(0)}, ${y.toFixed(0)})`).toBe(true);
    }
    // And not where no point is: the middle of the empty space above the early, low values.
    expect(isLine(s.x(spec.points[20]!.t), s.y(0.75))).toBe(false);
  });
});
