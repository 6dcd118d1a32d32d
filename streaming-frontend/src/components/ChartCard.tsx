/** One chart's card in the grid: its title and unit above the chart. */
import { useState } from 'react';
import { typeLabel } from '../lib/catalogue';
import { formatUnit } from '../lib/format';
import type { SeriesState } from '../lib/store';
import { Chart } from './Chart';

const NO_SERIES: readonly SeriesState[] = [];

export interface ChartCardProps extends Omit<
  React.ComponentProps<typeof Chart>,
  'label' | 'unit' | 'testId' | 'series'
> {
  type: string;
  series: SeriesState[];
}

/** A chart's card; the series list keeps its identity while its states do, so the chart's memo holds. */
export function ChartCard({ type, series, ...rest }: ChartCardProps): React.JSX.Element {
  const stable = useStableList(series);
  const unit = stable[0]?.unit ?? null;
  return (
    <article className="card" data-testid={`card-${type}`}>
      <h3>
        {typeLabel(type)}
        {unit !== null && <span className="muted small"> · {formatUnit(unit)}</span>}
      </h3>
      <Chart
        {...rest}
        series={stable.length > 0 ? stable : NO_SERIES}
        label={typeLabel(type)}
        unit={unit}
        testId={`chart-${type}`}
      />
    </article>
  );
}

function useStableList<T>(items: T[]): readonly T[] {
  const [held, setHeld] = useState<readonly T[]>(items);
  const same = held.length === items.length && held.every((item, i) => item === items[i]);
  if (!same) setHeld(items);
  return same ? held : items;
}
