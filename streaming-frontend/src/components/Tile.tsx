/** A tile: current value, unit, min/max over the window, a trend arrow, and whether it went quiet. */
import { memo, useMemo } from 'react';
import { SLEEP_LEVEL_LABELS, typeLabel } from '../lib/catalogue';
import { type TimeZoneChoice, formatDuration, formatTime, formatUnit, formatValue } from '../lib/format';
import { summarize } from '../lib/ring';
import type { SeriesState } from '../lib/store';

export interface TileProps {
  type: string;
  series: SeriesState | undefined;
  windowS: number | null;
  unit: string | null;
  zone: TimeZoneChoice;
  /** How long the type has been quiet beyond its cadence (ms); null while it is on time. */
  staleForMs: number | null;
}

const TREND = {
  1: { arrow: '↑', text: 'rising' },
  0: { arrow: '→', text: 'steady' },
  [-1]: { arrow: '↓', text: 'falling' },
} as const;

function Stale({ staleForMs }: { staleForMs: number | null }): React.JSX.Element | null {
  if (staleForMs === null) return null;
  return (
    <p className="tile-stale" data-testid="stale">
      stale: nothing for {formatDuration(staleForMs)}
    </p>
  );
}

function CategoryTile({ type, series, zone, staleForMs }: TileProps): React.JSX.Element {
  const last = series?.last ?? null;
  let value = 'none yet';
  let detail = '';
  if (last !== null && typeof last.value === 'string') {
    if (type === 'workout') {
      value = last.value;
      detail =
        last.event === 'start'
          ? `in progress since ${formatTime(last.timestamp, zone)}`
          : `ended ${formatTime(last.timestamp, zone)}`;
    } else if (type === 'sleep_analysis') {
      const level = series?.view.lastValue() ?? Number.NaN;
      value = SLEEP_LEVEL_LABELS[level] ?? last.value;
      detail = `until ${formatTime(last.timestamp, zone)}`;
    } else {
      value = last.value;
      detail = formatTime(last.timestamp, zone);
    }
  }
  return (
    <article
      className={`tile${staleForMs !== null ? ' is-stale' : ''}`}
      aria-label={typeLabel(type)}
      data-testid={`tile-${type}`}
    >
      <h3 className="tile-title">{typeLabel(type)}</h3>
      <p className="tile-value">
        <span data-testid={`value-${type}`}>{value}</span>
      </p>
      <p className="tile-detail">{detail}</p>
      <Stale staleForMs={staleForMs} />
    </article>
  );
}

function TileImpl(props: TileProps): React.JSX.Element {
  const { type, series, windowS, unit, staleForMs } = props;
  // A series state is replaced in each snapshot where its data moved: that is what the summary follows.
  const summary = useMemo(
    () => (series === undefined ? null : summarize(series.view, windowS)),
    [series, windowS],
  );
  if (series?.categorical === true || type === 'sleep_analysis' || type === 'workout') {
    return <CategoryTile {...props} />;
  }
  const shownUnit = formatUnit(series?.unit ?? unit);
  const trend = TREND[summary?.trend ?? 0];
  const empty = summary === null || summary.count === 0;
  return (
    <article
      className={`tile${staleForMs !== null ? ' is-stale' : ''}`}
      aria-label={typeLabel(type)}
      data-testid={`tile-${type}`}
    >
      <h3 className="tile-title">{typeLabel(type)}</h3>
      <p className="tile-value">
        <span data-testid={`value-${type}`}>{empty ? '–' : formatValue(summary.last)}</span>
        <span className="tile-unit">{shownUnit}</span>
        {!empty && (
          <span className={`trend trend-${trend.text}`} title={trend.text}>
            <span aria-hidden="true">{trend.arrow}</span>
            <span className="visually-hidden">{trend.text}</span>
          </span>
        )}
      </p>
      <p className="tile-detail">
        {empty ? 'waiting for samples' : `min ${formatValue(summary.min)} · max ${formatValue(summary.max)}`}
      </p>
      <Stale staleForMs={staleForMs} />
    </article>
  );
}

export const Tile = memo(TileImpl);
