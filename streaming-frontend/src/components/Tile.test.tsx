import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Store } from '../lib/store';
import { sampleJson } from '../test/fakeEventSource';
import { Tile } from './Tile';

const at = (minute: number): string => new Date(Date.UTC(2026, 1, 3, 10, minute)).toISOString();

function storeWith(samples: Record<string, unknown>[]): Store {
  const store = new Store({ requestFrame: () => 0 });
  store.ingestHistory(samples);
  return store;
}

describe('Tile', () => {
  it('shows the current value, its unit, min/max over the window and the trend', () => {
    const values = [60, 61, 60, 62, 61, 70, 80, 90, 100, 110];
    const store = storeWith(values.map((value, i) => sampleJson({ id: i + 1, value, timestamp: at(i) })));
    const series = store.series('heart_rate', 'default');
    const { rerender } = render(
      <Tile
        type="heart_rate"
        series={series}
        version={series?.ring.version ?? 0}
        windowS={null}
        unit={null}
      />,
    );
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('110');
    expect(screen.getByText('bpm')).toBeInTheDocument();
    expect(screen.getByText('min 60 · max 110')).toBeInTheDocument();
    expect(screen.getByLabelText('rising')).toHaveTextContent('↑');
    // The last 3 minutes only: 90, 100, 110 (and the point exactly 3 min back, 80).
    rerender(
      <Tile
        type="heart_rate"
        series={series}
        version={series?.ring.version ?? 0}
        windowS={180}
        unit={null}
      />,
    );
    expect(screen.getByText('min 80 · max 110')).toBeInTheDocument();
  });

  it('waits for samples with the catalogue unit', () => {
    render(<Tile type="blood_glucose" series={undefined} version={0} windowS={null} unit="mg/dL" />);
    expect(screen.getByTestId('value-blood_glucose')).toHaveTextContent('–');
    expect(screen.getByText('mg/dL')).toBeInTheDocument();
    expect(screen.getByText('waiting for samples')).toBeInTheDocument();
  });

  it('shows the sleep stage and the workout in progress', () => {
    const store = storeWith([
      sampleJson({
        id: 1,
        type: 'sleep_analysis',
        value: 'asleepREM',
        unit: null,
        start: at(0),
        timestamp: at(20),
      }),
      sampleJson({ id: 2, type: 'workout', value: 'running', unit: null, event: 'start', timestamp: at(30) }),
    ]);
    render(
      <>
        <Tile
          type="sleep_analysis"
          series={store.series('sleep_analysis', 'default')}
          version={1}
          windowS={null}
          unit={null}
        />
        <Tile
          type="workout"
          series={store.series('workout', 'default')}
          version={1}
          windowS={null}
          unit={null}
        />
      </>,
    );
    expect(screen.getByTestId('value-sleep_analysis')).toHaveTextContent('REM');
    expect(screen.getByTestId('value-workout')).toHaveTextContent('running');
    expect(screen.getByText(/in progress since/)).toBeInTheDocument();
  });
});
