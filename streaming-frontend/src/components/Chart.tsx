/**
 * One uPlot chart. It is created once (again only when its look changes:
 * theme, unit, kind) and then fed with `setData` whenever the ring's version
 * moves, so a frame costs a redraw, never a re-creation.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Theme } from '../hooks/useTheme';
import { SLEEP_LEVEL_LABELS } from '../lib/catalogue';
import { FrameBuffers, hypnogramData } from '../lib/chartData';
import { formatUnit } from '../lib/format';
import type { Ring } from '../lib/ring';

export type ChartKind = 'line' | 'hypnogram';

export interface ChartProps {
  ring: Ring;
  /** The ring's version at this render: a change triggers `setData`. */
  version: number;
  label: string;
  unit: string | null;
  kind: ChartKind;
  theme: Theme;
  /** Show only the last `windowS` seconds of sample time; null shows all. */
  windowS: number | null;
  height?: number;
  testId?: string;
}

function cssVar(element: Element, name: string, fallback: string): string {
  const value = getComputedStyle(element).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

function chartOptions(
  element: HTMLElement,
  props: ChartProps,
  width: number,
  windowRef: { current: number | null },
): uPlot.Options {
  const line = cssVar(element, '--chart-line', '#2f7de1');
  const fill = cssVar(element, '--chart-fill', 'rgba(47,125,225,0.12)');
  const axis = cssVar(element, '--chart-axis', '#888');
  const grid = cssVar(element, '--chart-grid', 'rgba(128,128,128,0.2)');
  const unit = formatUnit(props.unit);
  const hypnogram = props.kind === 'hypnogram';
  const axisStyle = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: props.height ?? 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: {
        time: true,
        range: (u, min, max) => {
          const win = windowRef.current;
          if (min === null || max === null) return [0, 1];
          const xs = u.data[0];
          // A single sample (a daily value, a first reading): a few minutes around it.
          if (xs.length < 2) {
            const x = xs[0] ?? max;
            return [x - 300, x + 60];
          }
          const lo = win === null ? min : Math.max(min, max - win);
          return lo >= max ? [max - 300, max + 60] : [lo, max];
        },
      },
      y: hypnogram
        ? { range: [-0.5, SLEEP_LEVEL_LABELS.length - 0.5] }
        : {
            auto: true,
            // A flat series (a steady temperature) gets a narrow band around it, not 0..2x.
            range: (_u, min, max) => {
              if (min === null || max === null) return [0, 1];
              if (max - min < 1e-9) {
                const pad = Math.max(Math.abs(min) * 0.02, 0.5);
                // Counts and distances never go below zero.
                return [min >= 0 ? Math.max(0, min - pad) : min - pad, max + pad];
              }
              return uPlot.rangeNum(min, max, 0.1, true);
            },
          },
    },
    axes: [
      { ...axisStyle, space: 70 },
      hypnogram
        ? {
            ...axisStyle,
            size: 64,
            splits: () => SLEEP_LEVEL_LABELS.map((_, i) => i),
            values: (_u, splits) => splits.map((v) => SLEEP_LEVEL_LABELS[v] ?? ''),
          }
        : { ...axisStyle, size: 56, label: unit === '' ? undefined : unit, labelSize: 18 },
    ],
    series: [
      {},
      hypnogram
        ? { label: props.label, stroke: line, width: 2, points: { show: false }, spanGaps: false }
        : // A 1 px line: wider anti-aliased strokes cost several times more to rasterise
          // without a GPU (the benchmark's 6 x 10k points went from 60 to under 20 fps at 1.5 px).
          {
            label: props.label,
            stroke: line,
            width: 1,
            fill,
            // Sparse series (a reading every 15 min) show their points; dense ones are a line.
            points: { show: (_u, _si, i0, i1) => i1 - i0 < 60, size: 5, fill: line },
          },
    ],
  };
}

export function Chart(props: ChartProps): React.JSX.Element {
  const { ring, version, unit, kind, theme, windowS, label } = props;
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const buffersRef = useRef<FrameBuffers | null>(null);
  const windowRef = useRef<number | null>(windowS);
  const propsRef = useRef(props);
  propsRef.current = props;

  const dataOf = (r: Ring): uPlot.AlignedData => {
    if (kind === 'hypnogram') return hypnogramData(r);
    if (buffersRef.current === null || buffersRef.current === undefined) {
      buffersRef.current = new FrameBuffers(r.capacity);
    }
    return buffersRef.current.fill(r);
  };

  useEffect(() => {
    const host = hostRef.current;
    if (host === null) return undefined;
    const width = Math.max(host.clientWidth, 200);
    const plot = new uPlot(
      chartOptions(host, propsRef.current, width, windowRef),
      dataOf(propsRef.current.ring),
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
    // The chart is rebuilt only when its look changes; data flows in through setData.
  }, [theme, unit, kind, label]);

  useEffect(() => {
    windowRef.current = windowS;
    const plot = plotRef.current;
    if (plot !== null) plot.setData(dataOf(ring));
  }, [version, windowS, ring]);

  return (
    <div
      ref={hostRef}
      className="chart-canvas"
      data-testid={props.testId}
      role="img"
      aria-label={`${label} chart`}
    />
  );
}
