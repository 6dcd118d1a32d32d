import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { Api } from './lib/api';
import { Store } from './lib/store';
import { type FakeFetch, fakeFetch } from './test/fakeFetch';
import { StreamServer, sampleJson } from './test/fakeStream';

vi.mock('uplot', async () => ({ default: (await import('./test/fakeUPlot')).FakeUPlot }));

const T0 = Date.UTC(2026, 1, 3, 10, 30, 0);
const at = (second: number): string => new Date(T0 + second * 1000).toISOString();

let server: StreamServer;

function backend(): FakeFetch {
  return fakeFetch({
    'GET /api/history': () => ({
      body: { items: [sampleJson({ id: 1, value: 60, timestamp: at(0) })], next_after_id: null },
    }),
    'GET /api/stream': (url, init) => server.fetch(url.pathname + url.search, init),
    'GET /api/stats': () => ({ body: { subscribers: 1, buffer: { size: 1, capacity: 10 } } }),
    'GET /api/types': () => ({ body: [{ name: 'heart_rate', unit: 'count/min', kind: 'quantity' }] }),
    'GET /api/subjects': () => ({ body: [{ name: 'default', scenario: 'rest' }] }),
    'GET /api/clock': () => ({ body: { speed: 1, paused: false, now: new Date(Date.now()).toISOString() } }),
  });
}

async function settle(ms = 0): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

async function setup(search = '') {
  const store = new Store({ requestFrame: (cb) => setTimeout(cb, 0) });
  const views: string[] = [];
  render(
    <App
      store={store}
      api={new Api('', backend().fetch)}
      search={search}
      onViewChange={(s) => views.push(s)}
    />,
  );
  await settle();
  await settle();
  await settle(200);
  return { store, views };
}

function query(url: string): URLSearchParams {
  return new URL(url, 'http://x').searchParams;
}

function tick(name: string, value?: string): void {
  const menu = screen.getByTestId('fault-menu');
  fireEvent.click(within(menu).getByTestId(`fault-${name}`));
  if (value !== undefined) {
    fireEvent.change(within(menu).getByTestId(`fault-${name}-value`), { target: { value } });
  }
}

async function send(write: () => void): Promise<void> {
  await act(async () => {
    write();
    await vi.advanceTimersByTimeAsync(200);
  });
}

beforeEach(() => {
  server = new StreamServer();
  vi.useFakeTimers();
  vi.setSystemTime(T0 + 5000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the fault menu', () => {
  it('reconnects the stream with the chosen faults, resuming after the newest sample, and says so', async () => {
    const { views } = await setup();
    expect(screen.queryByTestId('faults-active')).toBeNull();
    await send(() => server.latest().sample(sampleJson({ id: 2, timestamp: at(1) })));
    tick('drop', '0.2');
    tick('malformed', '0.5');
    fireEvent.change(screen.getByTestId('fault-seed'), { target: { value: '3' } });
    fireEvent.click(screen.getByTestId('apply-faults'));
    await settle();
    expect(server.connections[0]?.closed).toBe(true);
    const params = query(server.latest().url);
    expect(params.get('faults')).toBe('drop=0.2,malformed=0.5');
    expect(params.get('fault_seed')).toBe('3');
    expect(params.get('last_event_id')).toBe('2');
    expect(screen.getByTestId('faults-active')).toHaveTextContent(
      'Faults injected into this dashboard’s own stream: 20 % dropped, 50 % malformed (fault seed 3)'.replace(
        '’',
        "'",
      ),
    );
    expect(screen.getByTestId('faults-badge')).toBeInTheDocument();
    // The address carries them, so the faulty view can be shared.
    expect(query(views.at(-1) ?? '').get('faults')).toBe('drop=0.2,malformed=0.5');

    fireEvent.click(screen.getByTestId('clear-faults'));
    await settle();
    expect(query(server.latest().url).has('faults')).toBe(false);
    expect(screen.queryByTestId('faults-active')).toBeNull();
    expect(query(views.at(-1) ?? '').has('faults')).toBe(false);
  });

  it('refuses a value the server would refuse, without reconnecting', async () => {
    await setup();
    tick('duplicate', '1.5');
    fireEvent.click(screen.getByTestId('apply-faults'));
    await settle();
    expect(screen.getByTestId('fault-error')).toHaveTextContent('probability');
    expect(server.connections).toHaveLength(1);
  });

  it('opened from an address with faults, applies them from the first connection', async () => {
    await setup('?faults=disconnect_after%3D5&fault_seed=9');
    expect(query(server.latest().url).get('faults')).toBe('disconnect_after=5');
    expect(screen.getByTestId('faults-active')).toHaveTextContent('cut after 5 samples (fault seed 9)');
  });

  it('survives what the faults do: garbage, duplicates, gaps and cuts, each visible in the inspector', async () => {
    const { store } = await setup('?faults=disconnect_after%3D3,duplicate%3D0.5,malformed%3D0.5,drop%3D0.2');
    const stream = server.latest();
    await send(() => {
      stream.sample(sampleJson({ id: 2, timestamp: at(1) }));
      stream.sample(sampleJson({ id: 2, timestamp: at(1) }));
      stream.message('{"value": 6', '3');
      stream.sample(sampleJson({ id: 5, timestamp: at(4) }));
      stream.end();
    });
    expect(store.totals()).toMatchObject({ received: 3, duplicates: 1, malformed: 1, missing: 1 });
    // The cut is not taken for a dead backend; the next connection resumes after id 5.
    expect(screen.queryByTestId('backend-down')).toBeNull();
    await settle(3000);
    expect(query(server.latest().url).get('last_event_id')).toBe('5');
    expect(screen.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    expect(store.totals().reconnects).toBe(1);

    fireEvent.click(screen.getByTestId('toggle-inspector'));
    await settle(300);
    fireEvent.click(screen.getByTestId('filter-problems'));
    await settle(300);
    // jsdom lays nothing out, so the virtual list shows no rows: the count and the log say it.
    expect(screen.getByTestId('frame-count')).toHaveTextContent(/^3 of 4 frames/);
    const log = store.frames;
    const flags = Array.from({ length: log.length }, (_, i) => log.flagAt(log.first + i));
    expect(flags.filter((f) => f !== null)).toEqual(['duplicate', 'malformed', 'gap']);
  });
});
