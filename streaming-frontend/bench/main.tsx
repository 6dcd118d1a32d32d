/**
 * The dashboard benchmark page: the whole App (tiles, charts, live and health
 * panels, the inspector), with 6 types of 10,000 points each and a backend
 * answered in the page. Two modes:
 *
 * - `?mode=live`: one new sample per type every animation frame, the
 *   inspector open and following them;
 * - `?mode=scroll`: the inspector holding 50,000 frames, scrolled by ten rows
 *   every animation frame;
 * - `?mode=charts`: the six charts alone, fed as in `live`, as a reference for how
 *   busy the machine is during the run.
 *
 * Each frame's main-thread time runs from the start of its
 * requestAnimationFrame callback to a message posted from it, which the
 * browser delivers once the frame's scripts, React's commit, uPlot's redraws
 * and the rendering update are done; the interval between frames is recorded too.
 */
import { StrictMode, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from '../src/App';
import { Chart } from '../src/components/Chart';
import { Api } from '../src/lib/api';
import { type Marker, Store, seriesKey } from '../src/lib/store';
import '../src/styles.css';

const TYPES = [
  ['heart_rate', 'count/min', 1, [60, 100]],
  ['heart_rate_variability_sdnn', 'ms', 300, [20, 100]],
  ['oxygen_saturation', '%', 60, [95, 100]],
  ['respiratory_rate', 'count/min', 60, [12, 20]],
  ['blood_glucose', 'mg/dL', 300, [70, 140]],
  ['body_temperature', 'degC', 300, [36.1, 37.2]],
] as const;
const POINTS = 10_000;
const params = new URLSearchParams(location.search);
const MODE = params.get('mode') === 'scroll' ? 'scroll' : params.get('mode') === 'charts' ? 'charts' : 'live';
const WARMUP_MS = Number(params.get('warmup') ?? 2000);
const MEASURE_MS = Number(params.get('measure') ?? 10_000);

export interface BenchResult {
  mode: string;
  frames: number[];
  intervals: number[];
  elapsedMs: number;
  charts: number;
  pointsPerChart: number;
  framesHeld: number;
}

declare global {
  interface Window {
    __bench?: { done: boolean; result: BenchResult | null };
  }
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
}

/** The backend's JSON routes, answered in the page; the stream stays open and silent. */
async function fakeBackend(input: string, init?: RequestInit): Promise<Response> {
  const path = new URL(input, location.href).pathname;
  switch (path) {
    case '/api/history':
      return json({ items: [], next_after_id: null });
    case '/api/stream':
      init?.signal?.throwIfAborted();
      return new Response(new ReadableStream(), { headers: { 'Content-Type': 'text/event-stream' } });
    case '/api/stats':
      return json({
        subscribers: 1,
        published: 1,
        delivered: 1,
        dropped_slow: 0,
        buffer: { size: 10000, capacity: 10000 },
      });
    case '/api/types':
      return json(
        TYPES.map(([name, unit, cadence, [low, high]]) => ({
          name,
          unit,
          kind: 'quantity',
          cadence_s: cadence,
          normal_range: { low, high },
        })),
      );
    case '/api/subjects':
      return json([{ name: 'default', scenario: 'normal_day' }]);
    case '/api/scenarios':
      return json([{ name: 'normal_day', description: 'A normal day' }]);
    case '/api/clock':
      return json({ speed: 1, paused: false, now: new Date(time).toISOString() });
    default:
      return json({});
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
      Date.now(),
      String(id),
    );
  }
}

for (let i = 0; i < POINTS; i += 1) feed();

window.__bench = { done: false, result: null };
const frames: number[] = [];
const intervals: number[] = [];
const channel = new MessageChannel();
let started = 0;
let previous = 0;
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
      result: {
        mode: MODE,
        frames,
        intervals,
        elapsedMs: elapsed,
        charts: TYPES.length,
        pointsPerChart: POINTS,
        framesHeld: store.frames.length,
      },
    };
    return;
  }
  if (measuring && previous > 0) intervals.push(now - previous);
  previous = now;
  if (MODE !== 'scroll') {
    feed();
  } else {
    const list = document.querySelector<HTMLElement>('[data-testid="frame-list"]');
    if (list !== null) {
      const bottom = list.scrollHeight - list.clientHeight;
      list.scrollTop = list.scrollTop >= bottom ? 0 : list.scrollTop + 240;
    }
  }
  for (const flush of pending.splice(0)) flush();
  channel.port2.postMessage(t0);
  requestAnimationFrame(frame);
}

/** The charts alone, as the dashboard draws them, without the rest of the page. */
function ChartsAlone(): React.JSX.Element {
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return (
    <div className="charts" style={{ padding: 12 }}>
      {TYPES.map(([type]) => {
        const series = snapshot.series.get(seriesKey(type, 'default'));
        return series === undefined ? null : (
          <article key={type} className="card">
            <Chart
              series={[series]}
              label={type}
              unit={series.unit}
              kind="line"
              theme="light"
              zone="utc"
              xRange={null}
              zoom={null}
              onZoom={() => undefined}
              normalRange={null}
              markers={NO_MARKERS}
              highlight={null}
              describedAt={0}
              testId={`chart-${type}`}
            />
          </article>
        );
      })}
    </div>
  );
}

const NO_MARKERS: Marker[] = [];
const root = document.getElementById('root');
if (root === null) throw new Error('bench/index.html has no #root');
createRoot(root).render(
  <StrictMode>
    {MODE === 'charts' ? (
      <ChartsAlone />
    ) : (
      <App
        store={store}
        api={new Api('', fakeBackend)}
        search={params.get('inspector') === '0' ? '' : '?inspector=1'}
        onViewChange={() => undefined}
      />
    )}
  </StrictMode>,
);
// Scrolling starts from the top, away from the follow mode's end.
if (MODE === 'scroll') {
  setTimeout(() => {
    const follow = document.querySelector<HTMLInputElement>('.inspector input[type="checkbox"]');
    if (follow?.checked === true) follow.click();
  }, 500);
}
requestAnimationFrame(frame);
