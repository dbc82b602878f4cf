import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { type ChartSpec, chartSvg } from './svg.ts';

/** DejaVu Sans, shipped as an npm dependency: no system font is needed, so slim images render text. */
const FONT_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')),
  'ttf',
);
/** DejaVu Sans regular and bold: the charts' text, and the incident pages' font. */
export const FONTS = [
  path.join(FONT_DIR, 'DejaVuSans.ttf'),
  path.join(FONT_DIR, 'DejaVuSans-Bold.ttf'),
] as const;

/** Renders an SVG to PNG in-process (no browser), with Guardian's own fonts only. */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles: [...FONTS], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

/** The chart of a series around a departure, as a PNG. */
export function chartPng(spec: ChartSpec): Buffer {
  return svgToPng(chartSvg(spec));
}
