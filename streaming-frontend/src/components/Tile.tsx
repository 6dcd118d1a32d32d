/** A numeric tile: current value, unit, min/max over the window and a trend arrow. */
import { useMemo } from 'react';
import { SLEEP_LEVEL_LABELS, typeLabel } from '../lib/catalogue';
import { formatClock, formatUnit, formatValue } from '../lib/format';
import { summarize } from '../lib/ring';
import type { Series } from '../lib/store';

export interface TileProps {
  type: string;
  series: Series | undefined;
  /** The ring's version at this render. */
  version: number;
  windowS: number | null;
  unit: string | null;
}

const TREND = {
  1: { arrow: '↑', text: 'rising' },
  0: { arrow: '→', text: 'steady' },
  [-1]: { arrow: '↓', text: 'falling' },
} as const;

function CategoryTile({ type, series }: TileProps): React.JSX.Element {
  const last = series?.last ?? null;
  let value = 'none yet';
  let detail = '';
  if (last !== null && typeof last.value === 'string') {
    if (type === 'workout') {
      value = last.value;
      detail =
        last.event === 'start'
          ? `in progress since ${formatClock(last.timestamp)}`
          : `ended ${formatClock(last.timestamp)}`;
    } else if (type === 'sleep_analysis') {
      const level = series?.ring.lastValue() ?? Number.NaN;
      value = SLEEP_LEVEL_LABELS[level] ?? last.value;
      detail = `until ${formatClock(last.timestamp)}`;
    } else {
      value = last.value;
      detail = formatClock(last.timestamp);
    }
  }
  return (
    <article className="tile" aria-label={typeLabel(type)} data-testid={`tile-${type}`}>
      <h3 className="tile-title">{typeLabel(type)}</h3>
      <p className="tile-value">
        <span data-testid={`value-${type}`}>{value}</span>
      </p>
      <p className="tile-detail">{detail}</p>
    </article>
  );
}

export function Tile(props: TileProps): React.JSX.Element {
  const { type, series, version, windowS, unit } = props;
  const summary = useMemo(
    () => (series === undefined ? null : summarize(series.ring, windowS)),
    // The ring mutates in place; its version says when to look again.
    [series, version, windowS],
  );
  if (series?.categorical === true || type === 'sleep_analysis' || type === 'workout') {
    return <CategoryTile {...props} />;
  }
  const shownUnit = formatUnit(series?.unit ?? unit);
  const trend = TREND[summary?.trend ?? 0];
  const empty = summary === null || summary.count === 0;
  return (
    <article className="tile" aria-label={typeLabel(type)} data-testid={`tile-${type}`}>
      <h3 className="tile-title">{typeLabel(type)}</h3>
      <p className="tile-value">
        <span data-testid={`value-${type}`}>{empty ? '–' : formatValue(summary.last)}</span>
        <span className="tile-unit">{shownUnit}</span>
        {!empty && (
          <span className={`trend trend-${trend.text}`} title={trend.text} aria-label={trend.text}>
            {trend.arrow}
          </span>
        )}
      </p>
      <p className="tile-detail">
        {empty ? 'waiting for samples' : `min ${formatValue(summary.min)} · max ${formatValue(summary.max)}`}
      </p>
    </article>
  );
}
