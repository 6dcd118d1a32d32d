import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { type SeriesState, Store, seriesKey } from '../lib/store';
import { sampleJson } from '../test/fakeStream';
import { Tile } from './Tile';

const at = (minute: number): string => new Date(Date.UTC(2026, 1, 3, 10, minute)).toISOString();

function stateOf(samples: Record<string, unknown>[], type = 'heart_rate'): SeriesState | undefined {
  const frames: (() => void)[] = [];
  const store = new Store({ requestFrame: (cb) => frames.push(cb) });
  store.ingestHistory(samples);
  for (const frame of frames.splice(0)) frame();
  return store.getSnapshot().series.get(seriesKey(type, 'default'));
}

const common = { unit: null, zone: 'utc' as const, staleForMs: null, windowS: null };

describe('Tile', () => {
  it('shows the current value, its unit, min/max over the window and the trend', () => {
    const values = [60, 61, 60, 62, 61, 70, 80, 90, 100, 110];
    const series = stateOf(values.map((value, i) => sampleJson({ id: i + 1, value, timestamp: at(i) })));
    const { rerender } = render(<Tile {...common} type="heart_rate" series={series} />);
    expect(screen.getByTestId('value-heart_rate')).toHaveTextContent('110');
    expect(screen.getByText('bpm')).toBeInTheDocument();
    expect(screen.getByText('min 60 · max 110')).toBeInTheDocument();
    // The arrow is decoration; the trend is said in words.
    expect(screen.getByText('rising')).toHaveClass('visually-hidden');
    // The last 3 minutes only: 90, 100, 110 (and the point exactly 3 min back, 80).
    rerender(<Tile {...common} type="heart_rate" series={series} windowS={180} />);
    expect(screen.getByText('min 80 · max 110')).toBeInTheDocument();
  });

  it('waits for samples with the catalogue unit', () => {
    render(<Tile {...common} type="blood_glucose" series={undefined} unit="mg/dL" />);
    expect(screen.getByTestId('value-blood_glucose')).toHaveTextContent('–');
    expect(screen.getByText('mg/dL')).toBeInTheDocument();
    expect(screen.getByText('waiting for samples')).toBeInTheDocument();
  });

  it('says when a type went quiet', () => {
    const series = stateOf(
      [sampleJson({ id: 1, value: 97, type: 'oxygen_saturation', unit: '%' })],
      'oxygen_saturation',
    );
    render(<Tile {...common} type="oxygen_saturation" series={series} staleForMs={200_000} />);
    expect(screen.getByTestId('stale')).toHaveTextContent('stale: nothing for 3 min');
  });

  it('shows the sleep stage and the workout in progress, in UTC with the zone named', () => {
    const samples = [
      sampleJson({
        id: 1,
        type: 'sleep_analysis',
        value: 'asleepREM',
        unit: null,
        start: at(0),
        timestamp: at(20),
      }),
      sampleJson({ id: 2, type: 'workout', value: 'running', unit: null, event: 'start', timestamp: at(30) }),
    ];
    render(
      <>
        <Tile {...common} type="sleep_analysis" series={stateOf(samples, 'sleep_analysis')} />
        <Tile {...common} type="workout" series={stateOf(samples, 'workout')} />
      </>,
    );
    expect(screen.getByTestId('value-sleep_analysis')).toHaveTextContent('REM');
    expect(screen.getByTestId('value-workout')).toHaveTextContent('running');
    expect(screen.getByText('in progress since 10:30:00 UTC')).toBeInTheDocument();
  });
});
