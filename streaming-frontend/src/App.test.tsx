import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { Api } from './lib/api';
import { PALETTES } from './lib/palette';
import { Store } from './lib/store';
import { type FakeFetch, type Route, fakeFetch } from './test/fakeFetch';
import { StreamServer, sampleJson } from './test/fakeStream';
import { FakeUPlot } from './test/fakeUPlot';

vi.mock('uplot', async () => ({ default: (await import('./test/fakeUPlot')).FakeUPlot }));

const T0 = Date.UTC(2026, 1, 3, 10, 30, 0);
const at = (second: number): string => new Date(T0 + second * 1000).toISOString();

const stats = {
  subscribers: 3,
  published: 120,
  delivered: 300,
  dropped_slow: 2,
  buffer: { size: 2500, capacity: 10000, oldest_id: 1, newest_id: 120 },
  uptime_s: 12,
};

let server: StreamServer;

function backend(overrides: Record<string, Route> = {}): FakeFetch {
  return fakeFetch({
    'GET /api/history': (url) =>
      url.searchParams.get('after_id') === null
        ? { body: { items: [sampleJson({ id: 1, value: 60, timestamp: at(0) })], next_after_id: 1 } }
        : {
            body: {
              items: [
                sampleJson({ id: 2, value: 62, timestamp: at(1) }),
                sampleJson({
                  id: 3,
                  type: 'steps',
                  value: 40,
                  unit: 'count',
                  start: at(0),
                  timestamp: at(1),
                }),
              ],
              next_after_id: null,
            },
          },
    'GET /api/stream': (url, init) => server.fetch(url.pathname + url.search, init),
    'GET /api/stats': () => ({ body: stats }),
    'GET /api/types': () => ({
      body: [
        {
          name: 'heart_rate',
          unit: 'count/min',
          kind: 'quantity',
          normal_range: { low: 60, high: 100 },
          cadence_s: 1,
        },
        { name: 'steps', unit: 'count', kind: 'interval', cadence_s: 60 },
        { name: 'sleep_analysis', unit: null, kind: 'category' },
      ],
    }),
    'GET /api/subjects': () => ({
      body: [
        { name: 'default', scenario: 'rest' },
        { name: 'alice', scenario: 'rest' },
      ],
    }),
    'GET /api/scenarios': () => ({
      body: [
        { name: 'rest', description: 'Sitting quietly' },
        { name: 'workout', description: 'A 30-minute run' },
      ],
    }),
    'GET /api/clock': () => ({ body: { speed: 1, paused: false, now: new Date(Date.now()).toISOString() } }),
    'POST /api/clock': (_url, init) => ({
      body: { speed: 1, paused: false, now: at(0), ...JSON.parse(String(init?.body)) },
    }),
    'POST /api/scenario': () => ({ body: { subject: 'default', scenario: 'workout' } }),
    ...overrides,
  });
}

/** Lets timers, fetches and stream reads run for `ms` of fake time, inside act(). */
async function settle(ms = 0): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

/** Frames run when the test flushes them, as the browser would before painting. */
async function setup(fake: FakeFetch, search = '') {
  const frames: (() => void)[] = [];
  const store = new Store({ requestFrame: (cb) => frames.push(cb) });
  const runFrames = (): void =>
    act(() => {
      for (const frame of frames.splice(0)) frame();
    });
  /** Runs the pending frames, then lets the tiles' and counters' ten-a-second tick catch up. */
  const flush = async (): Promise<void> => {
    runFrames();
    await settle(150);
    runFrames();
  };
  const views: string[] = [];
  render(
    <App store={store} api={new Api('', fake.fetch)} search={search} onViewChange={(s) => views.push(s)} />,
  );
  await settle();
  await settle();
  await flush();
  return { store, flush, views };
}

function plotFor(label: string): FakeUPlot | undefined {
  return FakeUPlot.live().find((p) => p.opts.series.slice(1).some((s) => s.label === label));
}

function requestsTo(fake: FakeFetch, path: string): number {
  return fake.calls.filter((c) => c.url.pathname === path).length;
}

/** Clicks and choices are synchronous (fireEvent, inside act); fake timers drive the rest. */
const user = () => ({
  click: async (element: Element) => {
    fireEvent.click(element);
    await settle();
  },
  selectOptions: async (element: Element, value: string) => {
    fireEvent.change(element, { target: { value } });
    await settle();
  },
  clear: async (element: Element) => {
    fireEvent.change(element, { target: { value: '' } });
    await settle();
  },
  type: async (element: Element, value: string) => {
    fireEvent.change(element, { target: { value } });
    await settle();
  },
});

beforeEach(() => {
  server = new StreamServer();
  FakeUPlot.instances = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(T0 + 5000);
});

afterEach(() => {
  vi.useRealTimers();
  Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'visible' });
});

describe('App', () => {
  it('loads every history page, then opens the stream right after the newest id', async () => {
    const fake = backend();
    await setup(fake);
    const historyCalls = fake.calls.filter((c) => c.url.pathname === '/api/history');
    expect(historyCalls.map((c) => c.url.searchParams.get('after_id'))).toEqual([null, '1']);
    expect(server.latest().url).toBe('/api/stream?last_event_id=3');
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('62');
    expect(screen.getByTestId('value-steps')).toHaveTextContent('40');
    expect(screen.getByTestId('waiting')).toHaveTextContent('No samples yet for default: Sleep.');
    expect(screen.queryByTestId('card-sleep_analysis')).toBeNull();
  });

  it('shows stream values in tiles and feeds the chart with setData, not new charts', async () => {
    const { flush } = await setup(backend());
    expect(screen.getByTestId('connection-state')).toHaveTextContent('open');
    const created = FakeUPlot.live().length;
    server.latest().sample(sampleJson({ id: 4, value: 90, timestamp: at(2) }));
    server.latest().sample(sampleJson({ id: 5, value: 95, timestamp: at(3) }));
    await settle();
    await flush();
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('95');
    expect(within(screen.getByTestId('tile-heart_rate')).getByText(/min 60 · max 95/)).toBeInTheDocument();
    expect(FakeUPlot.live()).toHaveLength(created);
    expect([...(plotFor('Heart rate')?.data[1] as Float64Array)]).toEqual([60, 62, 90, 95]);
  });

  it('draws interval types as bars over each interval, with the normal range known', async () => {
    await setup(backend());
    const steps = plotFor('Steps');
    // From the interval's start to its end, filled down to zero.
    expect(steps?.data).toEqual([
      [T0 / 1000, T0 / 1000 + 1],
      [40, 40],
    ]);
    expect(steps?.opts.series[1]).toMatchObject({ fillTo: 0 });
    expect(screen.getByTestId('chart-heart_rate-summary')).toHaveTextContent('Normal range 60–100');
  });

  it('shows the live panel from /api/stats, counts included', async () => {
    await setup(backend());
    expect(screen.getByTestId('subscribers')).toHaveTextContent('3');
    expect(screen.getByTestId('buffer-fill')).toHaveTextContent('2.5K / 10K');
    expect(screen.getByTestId('dropped-slow')).toHaveTextContent('2');
  });

  it('counts and shows malformed events without breaking', async () => {
    const { flush } = await setup(backend());
    server.latest().message('{"value": oops', '4');
    server.latest().message(JSON.stringify({ type: 'heart_rate' }), '5');
    server.latest().sample(sampleJson({ id: 6, value: 77, timestamp: at(5) }));
    await settle();
    await flush();
    expect(screen.getByTestId('malformed')).toHaveTextContent('2');
    expect(screen.getByTestId('malformed-notice')).toHaveTextContent('2 malformed events ignored');
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('77');
    expect(screen.getByTestId('missing')).toHaveTextContent('0');
  });

  it('says a restarted backend lost nothing, instead of a false alarm', async () => {
    const { flush } = await setup(backend());
    const next = 1_770_000_060_000_001;
    server
      .latest()
      .named('reset', JSON.stringify({ reason: 'expired', oldest_id: next, newest_id: next + 5 }));
    await settle();
    await flush();
    const notice = screen.getByTestId('notice-restart');
    expect(notice).toHaveTextContent('The backend restarted');
    expect(notice).toHaveTextContent('nothing it published was missed');
    expect(notice).not.toHaveTextContent('may be missing');
    await user().click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('notice-restart')).toBeNull();
  });

  it('keeps the paused view frozen through polls and re-renders, with a count of what is new', async () => {
    const fake = backend();
    const { flush } = await setup(fake);
    await user().click(screen.getByRole('button', { name: 'Pause view' }));
    expect(screen.getByRole('button', { name: 'Resume view' })).toHaveAttribute('aria-pressed', 'true');
    const heart = plotFor('Heart rate');
    server.latest().sample(sampleJson({ id: 10, value: 120, timestamp: at(10) }));
    server.latest().sample(sampleJson({ id: 11, value: 125, timestamp: at(11) }));
    await settle();
    await flush();
    // The stats poll re-renders the whole page every 2 s: the view must not move.
    const polls = requestsTo(fake, '/api/stats');
    await settle(4100);
    await flush();
    expect(requestsTo(fake, '/api/stats')).toBeGreaterThan(polls);
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('62');
    expect([...(plotFor('Heart rate')?.data[1] as Float64Array)]).toEqual([60, 62]);
    expect(plotFor('Heart rate')).toBe(heart);
    expect(screen.getByTestId('new-badge')).toHaveTextContent('2 new');
    await user().click(screen.getByRole('button', { name: 'Resume view' }));
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('125');
    expect(screen.queryByTestId('new-badge')).toBeNull();
  });

  it('recolours the charts when the theme changes, with readable axes', async () => {
    await setup(backend());
    await user().selectOptions(screen.getByLabelText('Theme'), 'dark');
    expect(plotFor('Heart rate')?.opts.axes?.[0]?.stroke).toBe(PALETTES.dark.axis);
    await user().selectOptions(screen.getByLabelText('Theme'), 'light');
    expect(plotFor('Heart rate')?.opts.axes?.[0]?.stroke).toBe(PALETTES.light.axis);
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it("measures latency from the server's clock, even at 60x", async () => {
    const simNow = T0 + 4 * 3_600_000;
    const { flush, store } = await setup(
      backend({
        'GET /api/clock': () => ({ body: { speed: 60, paused: false, now: new Date(simNow).toISOString() } }),
      }),
    );
    // One wall second after the clock was read (at the start), simulated time is a minute on;
    // the sample arrives 20 ms after that.
    await settle(T0 + 5000 + 1020 - Date.now());
    server.latest().sample(sampleJson({ id: 20, timestamp: new Date(simNow + 60_000).toISOString() }));
    await settle();
    store.tick();
    await flush();
    expect(screen.getByTestId('latency')).toHaveTextContent(/^\d+ ms$/);
    expect(Number(screen.getByTestId('latency').textContent?.replace(' ms', ''))).toBeLessThan(100);
  });

  it("shows a refused stream's status and message, and waits for Retry-After", async () => {
    server.refuse({
      status: 503,
      body: { error: { code: 'too_many_subscribers', message: 'at most 1 subscriber' } },
      headers: { 'Retry-After': '5' },
    });
    await setup(backend());
    const banner = screen.getByTestId('stream-error');
    expect(banner).toHaveTextContent('503 too_many_subscribers: at most 1 subscriber');
    expect(banner).toHaveTextContent('the server asked for 5.0 s');
    // Setup already let 150 ms go by.
    await settle(4700);
    expect(server.requests).toHaveLength(1);
    await settle(300);
    expect(server.requests).toHaveLength(2);
    expect(screen.queryByTestId('stream-error')).toBeNull();
  });

  it('shows a failing history request with its status, instead of loading forever', async () => {
    let fail = true;
    const history = backend().routes.get('GET /api/history');
    await setup(
      backend({
        'GET /api/history': (url, init) =>
          fail
            ? { status: 500, body: { error: { code: 'internal', message: 'history broke' } } }
            : (history?.(url, init) ?? 'down'),
      }),
    );
    expect(screen.getByTestId('history-error')).toHaveTextContent('500 internal: history broke');
    fail = false;
    await settle(5000);
    expect(screen.queryByTestId('history-error')).toBeNull();
    expect(server.connections).toHaveLength(1);
  });

  it('overlays another subject on the same charts, in its own colour', async () => {
    const fake = backend({
      'GET /api/history': () => ({
        body: {
          items: [
            sampleJson({ id: 1, value: 60, timestamp: at(0) }),
            sampleJson({ id: 2, value: 90, timestamp: at(0), subject: 'alice' }),
            sampleJson({ id: 3, value: 62, timestamp: at(1) }),
            sampleJson({ id: 4, value: 95, timestamp: at(2), subject: 'alice' }),
          ],
          next_after_id: null,
        },
      }),
    });
    await setup(fake, '?compare=alice');
    const heart = FakeUPlot.live().find((p) => p.opts.series.slice(1).some((s) => s.label === 'alice'));
    expect(heart?.opts.series.slice(1).map((s) => s.label)).toEqual(['default', 'alice']);
    expect(heart?.opts.series[1]?.stroke).not.toBe(heart?.opts.series[2]?.stroke);
    expect(heart?.data).toEqual([
      [T0 / 1000, T0 / 1000 + 1, T0 / 1000 + 2],
      [60, 62, null],
      [90, null, 95],
    ]);
  });

  it('offers only the windows its buffers can hold', async () => {
    await setup(backend());
    const options = within(screen.getByTestId('window'))
      .getAllByRole('option')
      .map((o) => o.textContent);
    // Two heart-rate points a second apart: 10,000 of them hold under 3 hours.
    expect(options).toEqual(['All held', 'Last 5 min', 'Last 30 min', 'Last 2 h']);
  });

  it('stops polling in a hidden tab, keeps the stream, and catches up when shown', async () => {
    const fake = backend();
    await setup(fake);
    Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' });
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const before = fake.calls.length;
    // A minute in a hidden tab; the server's keepalives keep the stream's watchdog content.
    for (let i = 0; i < 6; i += 1) {
      server.latest().write(': keepalive\n\n');
      await settle(10_000);
    }
    expect(fake.calls.length).toBe(before);
    expect(server.latest().closed).toBe(false);
    Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'visible' });
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await settle(100);
    expect(requestsTo(fake, '/api/stats')).toBeGreaterThan(0);
    expect(fake.calls.length).toBeGreaterThan(before);
  });

  it('asks a backend that is down a few times with growing pauses, not every resource every 3 s', async () => {
    let up = false;
    const fake = backend();
    for (const [route, answer] of [...fake.routes])
      fake.routes.set(route, (u, i) => (up ? answer(u, i) : 'down'));
    await setup(fake);
    expect(screen.getByTestId('backend-down')).toHaveTextContent('cannot be reached');
    await settle(10_000);
    // Old behaviour: every resource every 2-3 s, about 25 requests in 10 s. Now one first try
    // per resource (seven, with whoami) and a few backed-off retries of history and stats.
    expect(fake.calls.length).toBeLessThanOrEqual(13);
    up = true;
    await settle(30_000);
    expect(screen.queryByTestId('backend-down')).toBeNull();
    expect(server.connections).toHaveLength(1);
  });

  it('keeps the view in the URL and restores it from there', async () => {
    const { views } = await setup(backend(), '?subject=alice&types=heart_rate&window=300&tz=local');
    expect(screen.getByTestId('subject')).toHaveValue('alice');
    expect(screen.getByTestId('window')).toHaveValue('300');
    expect(screen.getByTestId('zone')).toHaveValue('local');
    expect(screen.getByRole('checkbox', { name: 'Steps' })).not.toBeChecked();
    await user().click(screen.getByRole('checkbox', { name: 'Steps' }));
    expect(views.at(-1)).toContain('types=heart_rate%2Csteps');
    await user().click(screen.getByTestId('toggle-inspector'));
    expect(views.at(-1)).toContain('inspector=1');
  });

  it('switches the chosen subject to a scenario', async () => {
    const fake = backend();
    await setup(fake);
    await user().selectOptions(screen.getByLabelText('Subject'), 'alice');
    await user().selectOptions(screen.getByTestId('scenario'), 'workout');
    await user().click(screen.getByRole('button', { name: 'Switch alice' }));
    await settle();
    expect(screen.getByTestId('sim-feedback')).toHaveTextContent('alice is now in workout');
    expect(fake.calls.find((c) => c.method === 'POST')?.body).toEqual({
      scenario: 'workout',
      subject: 'alice',
    });
  });

  it('sets the clock speed and pauses the clock, keeping a speed being typed across polls', async () => {
    const fake = backend();
    await setup(fake);
    const speed = screen.getByLabelText('Clock speed (× real time)');
    expect(speed).toHaveValue(1);
    await user().clear(speed);
    await user().type(speed, '25');
    await settle(5100);
    expect(speed).toHaveValue(25);
    await user().clear(speed);
    await user().type(speed, '60');
    await user().click(screen.getByRole('button', { name: 'Set speed' }));
    await settle();
    expect(screen.getByTestId('sim-feedback')).toHaveTextContent('Clock speed 60×');
    await user().click(screen.getByRole('button', { name: 'Pause clock' }));
    await settle();
    expect(screen.getByTestId('sim-feedback')).toHaveTextContent('Clock paused');
    const posts = fake.calls.filter((c) => c.method === 'POST').map((c) => c.body);
    expect(posts).toEqual([{ speed: 60 }, { paused: true }]);
  });

  it('refuses a clock speed out of range before asking the backend', async () => {
    const fake = backend();
    await setup(fake);
    const speed = screen.getByLabelText('Clock speed (× real time)');
    await user().clear(speed);
    await user().type(speed, '0');
    await user().click(screen.getByRole('button', { name: 'Set speed' }));
    expect(screen.getByTestId('sim-feedback')).toHaveTextContent('Speed must be');
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('works against a backend without the catalogue and simulation routes', async () => {
    const fake = backend();
    for (const route of ['GET /api/types', 'GET /api/subjects', 'GET /api/scenarios', 'GET /api/clock']) {
      fake.routes.delete(route);
    }
    await setup(fake);
    expect(screen.getByText('This backend has no scenarios to switch.')).toBeInTheDocument();
    expect(screen.getByText('This backend has no adjustable clock.')).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Heart rate' })).toBeChecked();
    expect(screen.getByRole('option', { name: 'default' })).toBeInTheDocument();
  });
});
