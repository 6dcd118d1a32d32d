/**
 * One uPlot chart of a type, for one subject or several overlaid. It is
 * created once (again only when its look changes: theme, zone, unit, kind,
 * subjects) and then fed with `setData` when a series' version in the
 * snapshot moves, so a frame costs a redraw, never a re-creation.
 *
 * Charts share a time axis (`xRange`), a crosshair (uPlot's cursor sync) and
 * a zoom: dragging selects a time span for every chart, a double click goes
 * back. Bands show the type's normal range; markers show scenario switches,
 * clock changes, resets and reconnects; the inspector's chosen frame is ringed.
 */
import { memo, useEffect, useId, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Theme } from '../hooks/useTheme';
import { SLEEP_LEVEL_LABELS } from '../lib/catalogue';
import { FrameBuffers, intervalData, overlayData } from '../lib/chartData';
import {
  type TimeZoneChoice,
  formatTick,
  formatTime,
  formatUnit,
  formatValue,
  zoneName,
} from '../lib/format';
import type { Marker } from '../lib/notices';
import { PALETTES } from '../lib/palette';
import { FrozenRing, lowerBound } from '../lib/ring';
import type { SeriesState } from '../lib/store';

export type ChartKind = 'line' | 'interval' | 'hypnogram';
export type TimeRange = readonly [number, number];

export interface ChartProps {
  /** The main subject's series first, then overlaid subjects'. */
  series: readonly SeriesState[];
  label: string;
  unit: string | null;
  kind: ChartKind;
  theme: Theme;
  zone: TimeZoneChoice;
  /** The time span every chart shows (seconds), unless zoomed. */
  xRange: TimeRange | null;
  /** A span chosen by dragging on any chart; null when not zoomed. */
  zoom: TimeRange | null;
  onZoom: (range: TimeRange | null) => void;
  normalRange: readonly [number, number] | null;
  markers: readonly Marker[];
  /** Sample time (seconds) to ring on the main series, from the inspector. */
  highlight: number | null;
  /**
   * When the text summary was last brought up to date (a wall-clock tick): it
   * follows the data once a second, not on every frame.
   */
  describedAt: number;
  height?: number;
  testId?: string;
}

const SYNC_KEY = 'biomock-charts';

interface Live {
  props: ChartProps;
}

function chartData(
  series: readonly SeriesState[],
  kind: ChartKind,
  buffers: FrameBuffers,
): uPlot.AlignedData {
  const main = series[0];
  if (main === undefined) return [[], []];
  if (kind !== 'line') return intervalData(main.view);
  if (series.length === 1) return buffers.fill(main.view);
  return overlayData(series.map((s) => s.view));
}

function drawBand(u: uPlot, live: Live): void {
  const range = live.props.normalRange;
  if (range === null) return;
  const palette = PALETTES[live.props.theme];
  const top = u.valToPos(range[1], 'y', true);
  const bottom = u.valToPos(range[0], 'y', true);
  const { left, width, top: boxTop, height } = u.bbox;
  const y0 = Math.max(boxTop, Math.min(top, bottom));
  const y1 = Math.min(boxTop + height, Math.max(top, bottom));
  if (y1 <= y0) return;
  u.ctx.save();
  u.ctx.fillStyle = palette.band;
  u.ctx.fillRect(left, y0, width, y1 - y0);
  u.ctx.restore();
}

function drawMarkers(u: uPlot, live: Live): void {
  const { markers, highlight, theme } = live.props;
  const palette = PALETTES[theme];
  const { left, width, top, height } = u.bbox;
  const ctx = u.ctx;
  const min = u.scales.x?.min ?? Number.NEGATIVE_INFINITY;
  const max = u.scales.x?.max ?? Number.POSITIVE_INFINITY;
  ctx.save();
  ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.lineWidth = devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  for (const marker of markers) {
    if (marker.time < min || marker.time > max) continue;
    const x = u.valToPos(marker.time, 'x', true);
    if (x < left || x > left + width) continue;
    ctx.strokeStyle = palette.markers[marker.kind];
    ctx.fillStyle = palette.markers[marker.kind];
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.fillText(marker.label, x + 3 * devicePixelRatio, top + 10 * devicePixelRatio);
  }
  ctx.setLineDash([]);
  if (highlight !== null && highlight >= min && highlight <= max) {
    const xs = u.data[0];
    const ys = u.data[1];
    const i = lowerBound(xs, highlight);
    const y = ys?.[i];
    if (xs[i] === highlight && typeof y === 'number') {
      ctx.strokeStyle = palette.highlight;
      ctx.lineWidth = 3 * devicePixelRatio;
      ctx.beginPath();
      ctx.arc(
        u.valToPos(highlight, 'x', true),
        u.valToPos(y, 'y', true),
        7 * devicePixelRatio,
        0,
        2 * Math.PI,
      );
      ctx.stroke();
    }
  }
  ctx.restore();
}

function options(props: ChartProps, width: number, live: Live): uPlot.Options {
  const palette = PALETTES[props.theme];
  const unit = formatUnit(props.unit);
  const axisStyle = {
    stroke: palette.axis,
    grid: { stroke: palette.grid, width: 1 },
    ticks: { stroke: palette.grid, width: 1 },
  };
  const hypnogram = props.kind === 'hypnogram';
  const zone = props.zone;
  const lines: uPlot.Series[] = props.series.map((s, i) => {
    const stroke = palette.lines[i % palette.lines.length] ?? palette.axis;
    return {
      label: props.series.length > 1 ? s.subject : props.label,
      stroke,
      // A 1 px line: wider anti-aliased strokes cost several times more to rasterise without a GPU.
      width: hypnogram ? 2 : 1,
      fill: props.kind === 'line' && i === 0 && props.series.length === 1 ? palette.fill : undefined,
      ...(props.kind === 'interval' ? { fill: palette.fill, fillTo: 0 } : {}),
      spanGaps: props.kind === 'line' && props.series.length > 1,
      points: {
        show: (_u: uPlot, _si: number, i0: number, i1: number) => i1 - i0 < 60,
        size: 5,
        fill: stroke,
      },
      value: (_u: uPlot, v: number | null) =>
        v === null ? '–' : hypnogram ? (SLEEP_LEVEL_LABELS[v] ?? '–') : `${formatValue(v)} ${unit}`.trim(),
    };
  });
  return {
    width,
    height: props.height ?? 180,
    legend: { show: true, live: true },
    tzDate:
      zone === 'utc' ? (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : (ts) => new Date(ts * 1000),
    cursor: {
      sync: { key: SYNC_KEY, setSeries: false },
      drag: { x: true, y: false, setScale: false },
      bind: {
        dblclick: () => () => {
          live.props.onZoom(null);
          return null;
        },
      },
    },
    hooks: {
      drawClear: [(u) => drawBand(u, live)],
      draw: [(u) => drawMarkers(u, live)],
      setSelect: [
        (u) => {
          if (u.select.width < 4) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          live.props.onZoom([from, to]);
        },
      ],
    },
    scales: {
      x: {
        time: true,
        range: (u, min, max) => {
          const shared = live.props.zoom ?? live.props.xRange;
          if (shared !== null) return [shared[0], shared[1]];
          if (min === null || max === null || u.data[0].length < 2) {
            const x = u.data[0][0] ?? max ?? 0;
            return [x - 300, x + 60];
          }
          return [min, max];
        },
      },
      y: hypnogram
        ? { range: [-0.5, SLEEP_LEVEL_LABELS.length - 0.5] }
        : {
            auto: true,
            range: (_u, min, max) => {
              if (min === null || max === null) return [0, 1];
              if (props.kind === 'interval') return [0, Math.max(max * 1.1, 1)];
              if (max - min < 1e-9) {
                const pad = Math.max(Math.abs(min) * 0.02, 0.5);
                return [min >= 0 ? Math.max(0, min - pad) : min - pad, max + pad];
              }
              return uPlot.rangeNum(min, max, 0.1, true);
            },
          },
    },
    axes: [
      {
        ...axisStyle,
        space: 70,
        label: zoneName(zone),
        labelSize: 16,
        values: (_u, splits, _ai, _space, incr) => splits.map((v) => formatTick(v * 1000, zone, incr < 60)),
      },
      hypnogram
        ? {
            ...axisStyle,
            size: 64,
            splits: () => SLEEP_LEVEL_LABELS.map((_, i) => i),
            values: (_u, splits) => splits.map((v) => SLEEP_LEVEL_LABELS[v] ?? ''),
          }
        : { ...axisStyle, size: 56, label: unit === '' ? undefined : unit, labelSize: 18 },
    ],
    series: [{ value: (_u, v) => (v === null ? '–' : formatTime(v * 1000, zone)) }, ...lines],
  };
}

/** A plain-text summary of what the chart shows, for screen readers. */
function summary(
  props: Pick<ChartProps, 'series' | 'zone' | 'label' | 'unit' | 'kind' | 'normalRange'>,
): string {
  const main = props.series[0];
  if (main === undefined || main.view.length === 0) return `${props.label}: no data yet.`;
  const times = main.view.times();
  const values = main.view.values();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const unit = formatUnit(props.unit);
  const fmt = (v: number): string =>
    props.kind === 'hypnogram' ? (SLEEP_LEVEL_LABELS[v] ?? '–') : `${formatValue(v)} ${unit}`.trim();
  const range =
    props.normalRange === null ? '' : ` Normal range ${props.normalRange[0]}–${props.normalRange[1]}.`;
  return (
    `${props.label}${props.series.length > 1 ? ` for ${props.series.map((s) => s.subject).join(', ')}` : ''}: ` +
    `${values.length} points from ${formatTime((times[0] ?? 0) * 1000, props.zone)} to ` +
    `${formatTime(main.view.lastTime() * 1000, props.zone)}; lowest ${fmt(min)}, highest ${fmt(max)}, ` +
    `latest ${fmt(main.view.lastValue())}.${range}`
  );
}

function ChartImpl(props: ChartProps): React.JSX.Element {
  const { series, theme, zone, unit, kind, label, xRange, zoom, markers, highlight, normalRange } = props;
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const buffersRef = useRef<FrameBuffers | null>(null);
  const liveRef = useRef<Live>({ props });
  const summaryId = useId();
  const subjects = series.map((s) => s.subject).join(',');
  const versions = series.map((s) => s.version).join(',');

  useEffect(() => {
    liveRef.current.props = props;
  });

  useEffect(() => {
    const host = hostRef.current;
    if (host === null) return undefined;
    const live = liveRef.current;
    const buffers = new FrameBuffers(live.props.series[0]?.view.capacity ?? 1);
    buffersRef.current = buffers;
    const width = Math.max(host.clientWidth, 200);
    const plot = new uPlot(
      options(live.props, width, live),
      chartData(live.props.series, live.props.kind, buffers),
      host,
    );
    plotRef.current = plot;
    let observer: ResizeObserver | null = null;
    if (typeof ResizeObserver === 'function') {
      observer = new ResizeObserver((entries) => {
        const box = entries[0]?.contentRect;
        if (box !== undefined && box.width > 0 && Math.abs(box.width - plot.width) >= 1) {
          plot.setSize({ width: Math.floor(box.width), height: plot.height });
        }
      });
      observer.observe(host);
    }
    return () => {
      observer?.disconnect();
      plot.destroy();
      plotRef.current = null;
    };
    // Rebuilt only when its look changes; data, ranges and markers flow in below.
  }, [theme, zone, unit, kind, label, subjects, normalRange]);

  useEffect(() => {
    const plot = plotRef.current;
    const buffers = buffersRef.current;
    if (plot === null || buffers === null) return;
    plot.setData(chartData(liveRef.current.props.series, liveRef.current.props.kind, buffers));
  }, [versions, xRange, zoom, theme, zone, unit, kind, label, subjects, normalRange]);

  useEffect(() => {
    plotRef.current?.redraw(false, false);
  }, [markers, highlight]);

  const { describedAt } = props;
  const paused = series[0]?.view instanceof FrozenRing;
  const text = useMemo(() => {
    void describedAt;
    return summary({ series, zone, label, unit, kind, normalRange });
    // The summary follows the tick and the look, not every frame's new series.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [describedAt, paused, zone, label, unit, kind, normalRange, series.length]);

  return (
    <>
      <div
        ref={hostRef}
        className="chart-canvas"
        data-testid={props.testId}
        role="img"
        aria-label={`${label} chart`}
        aria-describedby={summaryId}
      />
      <p id={summaryId} className="visually-hidden" data-testid={props.testId && `${props.testId}-summary`}>
        {text}
      </p>
    </>
  );
}

export const Chart = memo(ChartImpl);
