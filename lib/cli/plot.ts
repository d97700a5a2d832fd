/**
 * Success and precision plots drawn into an RGB buffer (encoded with lib/io's PNG writer), in
 * the style of the OTB/LaSOT toolkits: one curve per tracker, the score in the legend.
 */
import type { Frame } from '../engine/types.js';
import { drawText, drawTextVertical, fillRect, pixelPainter, textWidth, type RgbColor } from '../io/font.js';

/** One curve: y values at the plot's x thresholds. */
export interface PlotCurve {
  /** Legend text, e.g. "SCT-Diff [0.612]". */
  label: string;
  /** y value (0..1) at each threshold. */
  values: readonly number[];
  /** Line colour. Default: a palette colour by position. */
  color?: RgbColor;
}

/** What {@link drawCurvePlot} draws. */
export interface CurvePlot {
  /** Title above the plot. */
  title: string;
  /** x-axis caption. */
  xLabel: string;
  /** y-axis caption. */
  yLabel: string;
  /** x values, increasing (e.g. IoU thresholds 0..1 or pixel thresholds 0..50). */
  thresholds: readonly number[];
  /** The curves. */
  curves: readonly PlotCurve[];
  /** Image width. Default: 640. */
  width?: number;
  /** Image height. Default: 480. */
  height?: number;
  /** Legend corner: 'lower-left' (success plots) or 'lower-right' (precision plots). Default: 'lower-left'. */
  legend?: 'lower-left' | 'lower-right';
}

const PALETTE: RgbColor[] = [[220, 30, 30], [30, 90, 220], [20, 150, 60], [230, 140, 0], [140, 50, 170]];
const BLACK: RgbColor = [0, 0, 0];
const GRID: RgbColor = [225, 225, 225];

/** Draw a line of `thickness` from (x0, y0) to (x1, y1) by stepping along its longer axis. */
function drawLine(frame: Frame, x0: number, y0: number, x1: number, y1: number, color: RgbColor, thickness: number): void {
  const put = pixelPainter(frame, color);
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  const half = Math.floor(thickness / 2);
  for (let i = 0; i <= steps; i++) {
    const x = Math.round(x0 + ((x1 - x0) * i) / steps);
    const y = Math.round(y0 + ((y1 - y0) * i) / steps);
    fillRect(put, frame, x - half, y - half, x - half + thickness, y - half + thickness);
  }
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** Draw a curve plot into a new RGB frame (white background). */
export function drawCurvePlot(plot: CurvePlot): Frame {
  const width = plot.width ?? 640;
  const height = plot.height ?? 480;
  const frame: Frame = { data: new Uint8Array(width * height * 3).fill(255), width, height, format: 'rgb' };
  const left = 70;
  const right = width - 20;
  const top = 40;
  const bottom = height - 55;
  const xMin = plot.thresholds[0] ?? 0;
  const xMax = plot.thresholds[plot.thresholds.length - 1] ?? 1;
  const px = (x: number): number => left + ((x - xMin) / (xMax - xMin || 1)) * (right - left);
  const py = (y: number): number => bottom - Math.min(1, Math.max(0, y)) * (bottom - top);

  // Grid and ticks: ten divisions on each axis.
  for (let i = 0; i <= 10; i++) {
    const xValue = xMin + ((xMax - xMin) * i) / 10;
    const yValue = i / 10;
    drawLine(frame, px(xValue), top, px(xValue), bottom, GRID, 1);
    drawLine(frame, left, py(yValue), right, py(yValue), GRID, 1);
    const xTick = formatTick(xValue);
    drawText(frame, xTick, px(xValue) - textWidth(xTick, 2) / 2, bottom + 8, BLACK, 2);
    const yTick = yValue.toFixed(1);
    drawText(frame, yTick, left - 8 - textWidth(yTick, 2), py(yValue) - 5, BLACK, 2);
  }
  // Axes box.
  drawLine(frame, left, top, right, top, BLACK, 2);
  drawLine(frame, left, bottom, right, bottom, BLACK, 2);
  drawLine(frame, left, top, left, bottom, BLACK, 2);
  drawLine(frame, right, top, right, bottom, BLACK, 2);
  // Captions.
  drawText(frame, plot.title, (width - textWidth(plot.title, 3)) / 2, 10, BLACK, 3);
  drawText(frame, plot.xLabel, (left + right - textWidth(plot.xLabel, 2)) / 2, height - 22, BLACK, 2);
  drawTextVertical(frame, plot.yLabel, 8, (top + bottom + textWidth(plot.yLabel, 2)) / 2, BLACK, 2);

  plot.curves.forEach((curve, index) => {
    const color = curve.color ?? (PALETTE[index % PALETTE.length] as RgbColor);
    for (let i = 1; i < Math.min(curve.values.length, plot.thresholds.length); i++) {
      drawLine(frame, px(plot.thresholds[i - 1] as number), py(curve.values[i - 1] as number), px(plot.thresholds[i] as number), py(curve.values[i] as number), color, 3);
    }
    // Legend entry: a short line and the label.
    const entryY = bottom - 20 - (plot.curves.length - 1 - index) * 18;
    const labelWidth = textWidth(curve.label, 2) + 30;
    const entryX = plot.legend === 'lower-right' ? right - 12 - labelWidth : left + 12;
    fillRect(pixelPainter(frame, [255, 255, 255]), frame, entryX - 4, entryY - 6, entryX + labelWidth + 4, entryY + 14);
    drawLine(frame, entryX, entryY + 4, entryX + 20, entryY + 4, color, 3);
    drawText(frame, curve.label, entryX + 28, entryY, BLACK, 2);
  });
  return frame;
}
