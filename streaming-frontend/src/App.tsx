/** The dashboard: controls and live panel on the side, tiles and charts in a grid. */
import { useMemo, useState } from 'react';
import { Chart } from './components/Chart';
import { SimulationControls, ViewControls } from './components/Controls';
import { LivePanel } from './components/LivePanel';
import { Tile } from './components/Tile';
import { useBackfill } from './hooks/useBackfill';
import { useEventSource } from './hooks/useEventSource';
import { useResource } from './hooks/useResource';
import { useSnapshot } from './hooks/useStore';
import { useTheme } from './hooks/useTheme';
import type { Api } from './lib/api';
import { TYPE_LABELS, typeLabel } from './lib/catalogue';
import { formatClock, formatUnit } from './lib/format';
import type { Store } from './lib/store';

export interface AppProps {
  store: Store;
  api: Api;
  /** For tests: a stand-in for the browser's EventSource. */
  EventSourceImpl?: typeof EventSource;
}

const CATALOGUE_ORDER = Object.keys(TYPE_LABELS);

function catalogueOrder(a: string, b: string): number {
  const ia = CATALOGUE_ORDER.indexOf(a);
  const ib = CATALOGUE_ORDER.indexOf(b);
  return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib) || a.localeCompare(b);
}

export function App({ store, api, EventSourceImpl }: AppProps): React.JSX.Element {
  const snapshot = useSnapshot(store);
  const { choice, theme, setChoice } = useTheme();
  const backfill = useBackfill(api, store);
  const connection = useEventSource(
    backfill.streamUrl,
    {
      onMessage: (event) => store.ingestEvent(event.data),
      onReset: (event) => store.ingestReset(event.data),
    },
    EventSourceImpl === undefined ? {} : { EventSourceImpl },
  );
  const stats = useResource((signal) => api.stats(signal), { pollMs: 2000 });
  const typeInfo = useResource((signal) => api.types(signal));
  const subjectInfo = useResource((signal) => api.subjects(signal), { pollMs: 10_000 });
  const scenarios = useResource((signal) => api.scenarios(signal));
  const clock = useResource((signal) => api.clock(signal), { pollMs: 5000 });

  const [selected, setSelected] = useState<Set<string> | null>(null);
  const [chosenSubject, setChosenSubject] = useState<string | null>(null);
  const [windowS, setWindowS] = useState<number | null>(null);
  const [dismissedReset, setDismissedReset] = useState<number | null>(null);

  const types = useMemo(() => {
    const names = new Set<string>(typeInfo.data?.map((t) => t.name) ?? []);
    for (const t of snapshot.types) names.add(t);
    return [...names].sort(catalogueOrder);
  }, [typeInfo.data, snapshot.types]);
  const units = useMemo(() => new Map(typeInfo.data?.map((t) => [t.name, t.unit]) ?? []), [typeInfo.data]);
  const subjects = useMemo(() => {
    const names = new Set<string>(subjectInfo.data?.map((s) => s.name) ?? []);
    for (const s of snapshot.subjects) names.add(s);
    if (names.size === 0) names.add('default');
    return [...names];
  }, [subjectInfo.data, snapshot.subjects]);
  const subject =
    chosenSubject !== null && subjects.includes(chosenSubject)
      ? chosenSubject
      : subjects.includes('default')
        ? 'default'
        : (subjects[0] ?? 'default');
  const chosen = types.filter((t) => selected === null || selected.has(t));
  // Types without samples yet (a daily resting heart rate, a backend that sends
  // only some types) are listed once instead of as empty charts.
  const shown = chosen.filter((t) => (store.series(t, subject)?.ring.length ?? 0) > 0);
  const waiting = chosen.filter((t) => !shown.includes(t));
  const charted = shown.filter((t) => t !== 'workout');

  const unreachable =
    backfill.error?.unreachable === true ||
    (connection.state === 'reconnecting' && stats.error?.unreachable === true);
  const reset = snapshot.reset !== null && snapshot.reset.at !== dismissedReset ? snapshot.reset : null;

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          biomock <span className="muted">live</span>
        </h1>
        <p className="muted small">
          {api.base === '' ? 'this server' : api.base} · subject <strong>{subject}</strong>
          {snapshot.paused && <strong className="paused-flag"> · view paused</strong>}
        </p>
      </header>
      <div className="banners" aria-live="polite">
        {unreachable && (
          <p className="banner error" role="alert" data-testid="backend-down">
            The backend at {api.base === '' ? 'this address' : api.base} cannot be reached. Retrying every 3
            s: the dashboard picks up where it left off when it is back.
          </p>
        )}
        {reset !== null && (
          <p className="banner warn" data-testid="reset-notice">
            The stream could not resume exactly ({reset.reason}) at {formatClock(reset.at)}: it restarted from
            the server&apos;s oldest buffered sample{reset.oldestId !== null ? ` (id ${reset.oldestId})` : ''}
            , so some samples may be missing.{' '}
            <button type="button" onClick={() => setDismissedReset(reset.at)}>
              Dismiss
            </button>
          </p>
        )}
        {snapshot.counts.malformed > 0 && (
          <p className="banner warn" data-testid="malformed-notice">
            {snapshot.counts.malformed} malformed event{snapshot.counts.malformed === 1 ? '' : 's'} ignored
            (last: {snapshot.lastError}).
          </p>
        )}
      </div>
      <div className="layout">
        <aside className="sidebar">
          <LivePanel
            store={store}
            snapshot={snapshot}
            connection={connection}
            stats={stats.data}
            statsError={stats.error}
          />
          <ViewControls
            paused={snapshot.paused}
            onPausedChange={(p) => store.setPaused(p)}
            windowS={windowS}
            onWindowChange={setWindowS}
            subjects={subjects}
            subject={subject}
            onSubjectChange={setChosenSubject}
            types={types}
            selected={selected ?? new Set(types)}
            onSelectedChange={setSelected}
            themeChoice={choice}
            onThemeChange={setChoice}
          />
          <SimulationControls
            api={api}
            subject={subject}
            subjects={subjectInfo}
            scenarios={scenarios}
            clock={clock}
          />
        </aside>
        <main className="content">
          <section className="tiles" aria-label="Current values">
            {shown.map((type) => {
              const series = store.series(type, subject);
              return (
                <Tile
                  key={type}
                  type={type}
                  series={series}
                  version={series?.ring.version ?? 0}
                  windowS={windowS}
                  unit={units.get(type) ?? null}
                />
              );
            })}
          </section>
          {waiting.length > 0 && (
            <p className="muted small" data-testid="waiting">
              {shown.length === 0 ? 'Waiting for samples' : 'No samples yet'} for {subject}:{' '}
              {waiting.map(typeLabel).join(', ')}.
            </p>
          )}
          <section className="charts" aria-label="Charts">
            {charted.map((type) => {
              const series = store.series(type, subject);
              return (
                <article key={type} className="card" data-testid={`card-${type}`}>
                  <h3>
                    {typeLabel(type)}
                    {series?.unit != null && (
                      <span className="muted small"> · {formatUnit(series.unit)}</span>
                    )}
                  </h3>
                  {series === undefined ? null : (
                    <Chart
                      ring={series.ring}
                      version={series.ring.version}
                      label={typeLabel(type)}
                      unit={series.unit}
                      kind={type === 'sleep_analysis' ? 'hypnogram' : 'line'}
                      theme={theme}
                      windowS={type === 'sleep_analysis' ? null : windowS}
                      testId={`chart-${type}`}
                    />
                  )}
                </article>
              );
            })}
          </section>
        </main>
      </div>
    </div>
  );
}
