import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { EventSourceStatus } from '../hooks/useEventSource';
import { Store } from '../lib/store';
import { LivePanel, connectionText } from './LivePanel';

const base: EventSourceStatus = {
  state: 'reconnecting',
  retryAt: 10_000,
  failures: 1,
  lastEventId: '5',
  error: null,
  serverRetryMs: null,
};

describe('connectionText', () => {
  it('counts down to the next attempt while reconnecting', () => {
    expect(connectionText(base, 7_600)).toBe('reconnecting in 2.4 s');
    expect(connectionText(base, 10_500)).toBe('reconnecting now');
    expect(connectionText({ ...base, state: 'open', retryAt: null }, 0)).toBe('open');
    expect(connectionText({ ...base, state: 'connecting', retryAt: null }, 0)).toBe('connecting');
  });
});

describe('LivePanel', () => {
  it('shows the connection, every counter and the backend statistics', () => {
    const store = new Store({ requestFrame: () => 0 });
    render(
      <LivePanel
        snapshot={{
          ...store.getSnapshot(),
          counts: { received: 1234, malformed: 2, duplicates: 1, outOfOrder: 3, missing: 7, reconnects: 6 },
          lastId: 99,
        }}
        connection={{ ...base, retryAt: Date.now() + 3000, failures: 4 }}
        stats={{
          subscribers: 4,
          published: 1,
          delivered: 1,
          droppedSlow: 5,
          bufferSize: 10000,
          bufferCapacity: 10000,
          oldestId: 1,
          newestId: 99,
          uptimeS: 1,
        }}
        statsError={null}
        visible
      />,
    );
    expect(screen.getByTestId('connection-state')).toHaveTextContent(/reconnecting in [23]\.\d s/);
    expect(screen.getByTestId('connection-state')).toHaveAttribute('data-state', 'reconnecting');
    expect(screen.getByTestId('reconnects')).toHaveTextContent('6');
    expect(screen.getByTestId('received')).toHaveTextContent('1,234');
    expect(screen.getByTestId('malformed')).toHaveTextContent('2');
    expect(screen.getByTestId('out-of-order')).toHaveTextContent('3');
    expect(screen.getByTestId('missing')).toHaveTextContent('7');
    expect(screen.getByTestId('dropped-slow')).toHaveTextContent('5');
    expect(screen.getByTestId('failures')).toHaveTextContent('4');
    expect(screen.getByTestId('subscribers')).toHaveTextContent('4');
    expect(screen.getByRole('meter', { name: 'Buffer fill' })).toHaveAttribute('value', '1');
    expect(screen.getByTestId('last-id')).toHaveTextContent('99');
    // Without a clock reading the latency is not made up.
    expect(screen.getByTestId('latency')).toHaveTextContent('unknown');
  });
});
