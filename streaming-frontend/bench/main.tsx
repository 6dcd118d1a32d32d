/**
 * The chart benchmark page: 6 charts of 10,000 points each, the dashboard's
 * own store and Chart component, one new sample per chart every animation
 * frame. Each frame's main-thread time runs from the start of its
 * requestAnimationFrame callback to a message posted from it, which the
 * browser delivers once the frame's scripts, React's commit, uPlot's redraws
 * and the rendering update are done.
 */
import { StrictMode, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { Chart } from '../src/components/Chart';
import { Store } from '../src/lib/store';
import '../src/styles.css';

const ALL_TYPES = [
  ['heart_rate', 'count/min'],
  ['heart_rate_variability_sdnn', 'ms'],
  ['oxygen_saturation', '%'],
  ['respiratory_rate', 'count/min'],
  ['blood_glucose', 'mg/dL'],
  ['body_temperature', 'degC'],
] as const;
const POINTS = 10_000;
const params = new URLSearchParams(location.search);
const WARMUP_MS = Number(params.get('warmup') ?? 2000);
const MEASURE_MS = Number(params.get('measure') ?? 10_000);
const TYPES = ALL_TYPES.slice(0, Number(params.get('charts') ?? ALL_TYPES.length));

export interface BenchResult {
  frames: number[];
  elapsedMs: number;
  charts: number;
  pointsPerChart: number;
}

declare global {
  interface Window {
    __bench?: { done: boolean; result: BenchResult | null };
  }
}

const pending: (() => void)[] = [];
const store = new Store({ requestFrame: (cb) => pending.push(cb) });
let id = 0;
let time = Date.UTC(2026, 1, 3) - POINTS * 1000;

function feed(): void {
  time += 1000;
  for (const [index, [type, unit]] of TYPES.entries()) {
    id += 1;
    const value = 70 + index * 10 + 15 * Math.sin(id / 200) + Math.random() * 5;
    store.ingestEvent(
      JSON.stringify({ value, timestamp: new Date(time).toISOString(), type, id, unit, subject: 'default' }),
      time,
    );
  }
}

for (let i = 0; i < POINTS; i += 1) feed();

function Bench(): React.JSX.Element {
  useSyncExternalStore(store.subscribe, store.getSnapshot);
  return (
    <div className="charts" style={{ padding: 12 }}>
      {TYPES.map(([type]) => {
        const series = store.series(type, 'default');
        if (series === undefined) return null;
        return (
          <article key={type} className="card">
            <h3>{type}</h3>
            <Chart
              ring={series.ring}
              version={series.ring.version}
              label={type}
              unit={series.unit}
              kind="line"
              theme="light"
              windowS={null}
              testId={`chart-${type}`}
            />
          </article>
        );
      })}
    </div>
  );
}

window.__bench = { done: false, result: null };
const frames: number[] = [];
const channel = new MessageChannel();
let started = 0;
let measuring = false;

channel.port1.onmessage = (event: MessageEvent<number>) => {
  if (measuring) frames.push(performance.now() - event.data);
};

function frame(now: number): void {
  const t0 = performance.now();
  if (started === 0) started = now;
  const elapsed = now - started;
  if (!measuring && elapsed >= WARMUP_MS) {
    measuring = true;
    started = now;
  } else if (measuring && elapsed >= MEASURE_MS) {
    window.__bench = {
      done: true,
      result: { frames, elapsedMs: elapsed, charts: TYPES.length, pointsPerChart: POINTS },
    };
    return;
  }
  feed();
  for (const flush of pending.splice(0)) flush();
  channel.port2.postMessage(t0);
  requestAnimationFrame(frame);
}

const root = document.getElementById('root');
if (root === null) throw new Error('bench/index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <Bench />
  </StrictMode>,
);
requestAnimationFrame(frame);
