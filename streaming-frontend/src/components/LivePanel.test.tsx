import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Store } from '../lib/store';
import { LivePanel, connectionText } from './LivePanel';

describe('connectionText', () => {
  it('counts down to the next attempt while reconnecting', () => {
    const status = { state: 'reconnecting' as const, retryAt: 10_000, failures: 1, lastEventId: '5' };
    expect(connectionText(status, 7_600)).toBe('reconnecting in 2.4 s');
    expect(connectionText(status, 10_500)).toBe('reconnecting now');
    expect(connectionText({ ...status, state: 'open', retryAt: null }, 0)).toBe('open');
    expect(connectionText({ ...status, state: 'connecting', retryAt: null }, 0)).toBe('connecting');
  });
});

describe('LivePanel', () => {
  it('shows the connection, counters and the backend statistics', () => {
    const store = new Store({ requestFrame: () => 0 });
    render(
      <LivePanel
        store={store}
        snapshot={{
          ...store.getSnapshot(),
          counts: { received: 1234, malformed: 2, duplicates: 1, outOfOrder: 0 },
          lastId: 99,
        }}
        connection={{ state: 'reconnecting', retryAt: Date.now() + 3000, failures: 1, lastEventId: '99' }}
        stats={{
          subscribers: 4,
          published: 1,
          delivered: 1,
          droppedSlow: 0,
          bufferSize: 10000,
          bufferCapacity: 10000,
          oldestId: 1,
          newestId: 99,
          uptimeS: 1,
        }}
        statsError={null}
      />,
    );
    expect(screen.getByTestId('connection-state')).toHaveTextContent(/reconnecting in [23]\.\d s/);
    expect(screen.getByTestId('connection-state')).toHaveAttribute('data-state', 'reconnecting');
    expect(screen.getByTestId('received')).toHaveTextContent('1,234');
    expect(screen.getByTestId('malformed')).toHaveTextContent('2');
    expect(screen.getByTestId('subscribers')).toHaveTextContent('4');
    expect(screen.getByRole('meter', { name: 'Buffer fill' })).toHaveAttribute('value', '1');
    expect(screen.getByTestId('last-id')).toHaveTextContent('99');
  });
});
