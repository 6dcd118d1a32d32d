import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { Api } from './lib/api';
import { Store } from './lib/store';
import { FakeEventSource, asEventSource, sampleJson } from './test/fakeEventSource';
import { type FakeFetch, fakeFetch } from './test/fakeFetch';
import { FakeUPlot } from './test/fakeUPlot';

vi.mock('uplot', async () => ({ default: (await import('./test/fakeUPlot')).FakeUPlot }));

const at = (second: number): string => new Date(Date.UTC(2026, 1, 3, 10, 30, second)).toISOString();

const stats = {
  subscribers: 3,
  published: 120,
  delivered: 300,
  dropped_slow: 0,
  buffer: { size: 2500, capacity: 10000, oldest_id: 1, newest_id: 120 },
  uptime_s: 12,
};

function backend(overrides: Record<string, Parameters<typeof fakeFetch>[0][string]> = {}): FakeFetch {
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
    'GET /api/stats': () => ({ body: stats }),
    'GET /api/types': () => ({
      body: [
        { name: 'heart_rate', unit: 'count/min', kind: 'quantity' },
        { name: 'steps', unit: 'count', kind: 'interval' },
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
    'GET /api/clock': () => ({ body: { speed: 1, paused: false } }),
    'POST /api/clock': (_url, init) => ({
      body: { speed: 1, paused: false, ...JSON.parse(String(init?.body)) },
    }),
    'POST /api/scenario': () => ({ body: { subject: 'default', scenario: 'workout' } }),
    ...overrides,
  });
}

/** Frames run when the test flushes them, as the browser would before painting. */
function setup(fake: FakeFetch) {
  const frames: (() => void)[] = [];
  const store = new Store({ requestFrame: (cb) => frames.push(cb) });
  const flush = (): void =>
    act(() => {
      for (const frame of frames.splice(0)) frame();
    });
  render(<App store={store} api={new Api('', fake.fetch)} EventSourceImpl={asEventSource()} />);
  return { store, flush };
}

beforeEach(() => {
  FakeEventSource.reset();
  FakeUPlot.instances = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('App', () => {
  it('loads every history page, then opens the stream right after the newest id', async () => {
    const fake = backend();
    const { flush } = setup(fake);
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const historyCalls = fake.calls.filter((c) => c.url.pathname === '/api/history');
    expect(historyCalls.map((c) => c.url.searchParams.get('after_id'))).toEqual([null, '1']);
    expect(FakeEventSource.latest().url).toBe('/api/stream?last_event_id=3');
    flush();
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('62');
    expect(screen.getByTestId('value-steps')).toHaveTextContent('40');
    // Types in the catalogue without samples are listed, not drawn empty.
    expect(screen.getByTestId('waiting')).toHaveTextContent('No samples yet for default: Sleep.');
    expect(screen.queryByTestId('card-sleep_analysis')).toBeNull();
  });

  it('shows stream values in tiles and feeds the chart with setData, not new charts', async () => {
    const { flush } = setup(backend());
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const source = FakeEventSource.latest();
    act(() => source.open());
    flush();
    expect(screen.getByTestId('connection-state')).toHaveTextContent('open');
    const created = FakeUPlot.live().length;
    expect(created).toBeGreaterThan(0);
    act(() => {
      source.sample(sampleJson({ id: 4, value: 90, timestamp: at(2) }));
      source.sample(sampleJson({ id: 5, value: 95, timestamp: at(3) }));
    });
    flush();
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('95');
    expect(within(screen.getByTestId('tile-heart_rate')).getByText(/min 60 · max 95/)).toBeInTheDocument();
    expect(FakeUPlot.live()).toHaveLength(created);
    const heart = FakeUPlot.live().find((p) => p.opts.series[1]?.label === 'Heart rate');
    expect([...(heart?.data[1] as Float64Array)]).toEqual([60, 62, 90, 95]);
  });

  it('shows the live panel from /api/stats', async () => {
    setup(backend());
    await vi.waitFor(() => expect(screen.getByTestId('subscribers')).toHaveTextContent('3'));
    expect(screen.getByTestId('buffer-fill')).toHaveTextContent('2.5K / 10K');
  });

  it('counts and shows malformed events without breaking', async () => {
    const { flush } = setup(backend());
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const source = FakeEventSource.latest();
    act(() => {
      source.message('{"value": oops');
      source.message(JSON.stringify({ type: 'heart_rate' }));
      source.sample(sampleJson({ id: 6, value: 77, timestamp: at(5) }));
    });
    flush();
    expect(screen.getByTestId('malformed')).toHaveTextContent('2');
    expect(screen.getByTestId('malformed-notice')).toHaveTextContent('2 malformed events ignored');
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('77');
  });

  it('shows a reset from the server', async () => {
    const { flush } = setup(backend());
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    act(() =>
      FakeEventSource.latest().named('reset', '{"reason": "expired", "oldest_id": 900, "newest_id": 950}'),
    );
    flush();
    expect(screen.getByTestId('reset-notice')).toHaveTextContent('expired');
    await userEvent.click(
      within(screen.getByTestId('reset-notice')).getByRole('button', { name: 'Dismiss' }),
    );
    expect(screen.queryByTestId('reset-notice')).toBeNull();
  });

  it('pauses the view while data keeps coming, and catches up on resume', async () => {
    const { store, flush } = setup(backend());
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    flush();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Pause view' }));
    expect(screen.getByRole('button', { name: 'Resume view' })).toHaveAttribute('aria-pressed', 'true');
    act(() => FakeEventSource.latest().sample(sampleJson({ id: 10, value: 120, timestamp: at(10) })));
    flush();
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('62');
    expect(store.lastId()).toBe(10);
    await user.click(screen.getByRole('button', { name: 'Resume view' }));
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('120');
  });

  it('hides the types the user unticks', async () => {
    const { flush } = setup(backend());
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    flush();
    expect(await screen.findByTestId('card-steps')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Steps' }));
    expect(screen.queryByTestId('card-steps')).toBeNull();
    expect(screen.queryByTestId('tile-steps')).toBeNull();
    expect(screen.getByTestId('card-heart_rate')).toBeInTheDocument();
  });

  it('switches the chosen subject to a scenario', async () => {
    const fake = backend();
    setup(fake);
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'alice' });
    await user.selectOptions(screen.getByLabelText('Subject'), 'alice');
    await screen.findByRole('option', { name: 'workout' });
    await user.selectOptions(screen.getByTestId('scenario'), 'workout');
    await user.click(screen.getByRole('button', { name: 'Switch alice' }));
    expect(await screen.findByTestId('sim-feedback')).toHaveTextContent('alice is now in workout');
    expect(fake.calls.find((c) => c.method === 'POST')?.body).toEqual({
      scenario: 'workout',
      subject: 'alice',
    });
  });

  it('sets the clock speed and pauses the clock', async () => {
    const fake = backend();
    setup(fake);
    const user = userEvent.setup();
    const speed = await screen.findByLabelText('Clock speed (× real time)');
    await vi.waitFor(() => expect(speed).toHaveValue(1));
    await user.clear(speed);
    await user.type(speed, '60');
    await user.click(screen.getByRole('button', { name: 'Set speed' }));
    expect(await screen.findByTestId('sim-feedback')).toHaveTextContent('Clock speed 60×');
    await user.click(screen.getByRole('button', { name: 'Pause clock' }));
    await vi.waitFor(() => expect(screen.getByTestId('sim-feedback')).toHaveTextContent('Clock paused'));
    const posts = fake.calls.filter((c) => c.method === 'POST').map((c) => c.body);
    expect(posts).toEqual([{ speed: 60 }, { paused: true }]);
  });

  it('does not overwrite a speed being typed when the clock is polled again', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const fake = backend();
    setup(fake);
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const speed = await screen.findByLabelText('Clock speed (× real time)');
    await vi.waitFor(() => expect(speed).toHaveValue(1));
    await user.clear(speed);
    await user.type(speed, '25');
    const polls = fake.calls.filter((c) => c.url.pathname === '/api/clock').length;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5100);
    });
    expect(fake.calls.filter((c) => c.url.pathname === '/api/clock').length).toBeGreaterThan(polls);
    expect(speed).toHaveValue(25);
  });

  it('refuses a clock speed out of range before asking the backend', async () => {
    const fake = backend();
    setup(fake);
    const user = userEvent.setup();
    const speed = await screen.findByLabelText('Clock speed (× real time)');
    await vi.waitFor(() => expect(speed).toHaveValue(1));
    await user.clear(speed);
    await user.type(speed, '0');
    await user.click(screen.getByRole('button', { name: 'Set speed' }));
    expect(screen.getByTestId('sim-feedback')).toHaveTextContent('Speed must be');
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('works against a backend without the catalogue and simulation routes', async () => {
    const fake = backend();
    for (const route of ['GET /api/types', 'GET /api/subjects', 'GET /api/scenarios', 'GET /api/clock']) {
      fake.routes.delete(route);
    }
    const { flush } = setup(fake);
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    flush();
    expect(await screen.findByText('This backend has no scenarios to switch.')).toBeInTheDocument();
    expect(screen.getByText('This backend has no adjustable clock.')).toBeInTheDocument();
    // Types and subjects come from the data itself.
    expect(screen.getByRole('checkbox', { name: 'Heart rate' })).toBeChecked();
    expect(screen.getByRole('option', { name: 'default' })).toBeInTheDocument();
  });

  it('shows a backend that is down and recovers by itself when it is back', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let up = false;
    const fake = backend({
      'GET /api/history': () => (up ? { body: { items: [], next_after_id: null } } : 'down'),
      'GET /api/stats': () => (up ? { body: stats } : 'down'),
    });
    setup(fake);
    expect(await screen.findByTestId('backend-down')).toHaveTextContent('cannot be reached');
    expect(FakeEventSource.instances).toHaveLength(0);
    up = true;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3100);
    });
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    expect(screen.queryByTestId('backend-down')).toBeNull();
    expect(FakeEventSource.latest().url).toBe('/api/stream');
  });
});
