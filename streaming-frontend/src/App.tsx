/** The dashboard: controls and live panel on the side, tiles and charts in a grid, the inspector beside. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Banners } from './components/Banners';
import type { ChartKind, TimeRange } from './components/Chart';
import { ChartCard } from './components/ChartCard';
import { SimulationControls, ViewControls, WINDOWS } from './components/Controls';
import { FaultMenu } from './components/FaultMenu';
import { type HealthRow, HealthPanel } from './components/HealthPanel';
import { Inspector } from './components/Inspector';
import { LivePanel } from './components/LivePanel';
import { SessionNotices } from './components/SessionNotices';
import { SessionPanel, shortId } from './components/SessionPanel';
import { Tile } from './components/Tile';
import { useBackfill } from './hooks/useBackfill';
import { useStream } from './hooks/useStream';
import type { SocketLike } from './hooks/useWebSocketStream';
import { useResource } from './hooks/useResource';
import { useSessionGone } from './hooks/useSessionGone';
import { useNow } from './hooks/useNow';
import { useSnapshot } from './hooks/useStore';
import { useTheme } from './hooks/useTheme';
import { useVisible } from './hooks/useVisible';
import type { Api } from './lib/api';
import { allows } from './lib/auth';
import { TYPE_LABELS, typeLabel } from './lib/catalogue';
import { type FaultSpec, NO_FAULTS, withFaults } from './lib/faults';
import type { Frame } from './lib/frameLog';
import { type TimeZoneChoice, formatCount } from './lib/format';
import { holdableSpan, staleFor } from './lib/health';
import { toSample } from './lib/parse';
import { type SeriesState, type Store, seriesKey } from './lib/store';
import { type Transport, type ViewState, readView, writeView } from './lib/urlState';

export interface AppProps {
  store: Store;
  api: Api;
  /** The page's query string, where the view state lives (`location.search`). */
  search?: string;
  /** Writes the view state back into the address bar; `history.replaceState` in the browser. */
  onViewChange?: (search: string) => void;
  /** For tests: the wall clock. */
  now?: () => number;
  /**
   * The server answered 401 (`code`), or a WebSocket closed for an expired token;
   * `hadWorked` when this token had been accepted before.
   */
  onAuthFailure?: (code: string, hadWorked: boolean) => void;
  /** Offers to enter another token; absent when the dashboard cannot take one. */
  onChangeToken?: () => void;
  /** For tests: makes the WebSocket when the transport is `ws`. */
  createSocket?: (url: string) => SocketLike;
  /** The session watched (`?session=`), which `api` already addresses; null for the default simulation. */
  session?: string | null;
  /** Watch another session (null: the default simulation): the dashboard starts over. */
  onSessionChange?: (session: string | null) => void;
}

const CATALOGUE_ORDER = Object.keys(TYPE_LABELS);
const INTERVAL_TYPES = new Set(['steps', 'distance_walking_running', 'active_energy_burned']);

function catalogueOrder(a: string, b: string): number {
  const ia = CATALOGUE_ORDER.indexOf(a);
  const ib = CATALOGUE_ORDER.indexOf(b);
  return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib) || a.localeCompare(b);
}

function replaceUrl(search: string): void {
  window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
}

export function App({
  store,
  api,
  search = '',
  onViewChange = replaceUrl,
  now = Date.now,
  onAuthFailure,
  onChangeToken,
  createSocket,
  session = null,
  onSessionChange,
}: AppProps): React.JSX.Element {
  const snapshot = useSnapshot(store);
  // Tiles and counters follow the store ten times a second; the charts every frame.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the tick decides, not the snapshot's identity
  const slow = useMemo(() => snapshot, [snapshot.slowTick, snapshot.paused]);
  const visible = useVisible();
  const { choice, theme, setChoice } = useTheme();
  const [view, setView] = useState<ViewState>(() => readView(search));
  const [zoom, setZoom] = useState<TimeRange | null>(null);
  const [selectedFrame, setSelectedFrame] = useState<Frame | null>(null);
  const backfill = useBackfill(api, store);
  // After a switch of transport the new one resumes after the newest sample held.
  const [resumeFrom, setResumeFrom] = useState<{ id: number | null } | null>(null);
  const { gone, note: noteFailures, deleted: sessionDeleted } = useSessionGone(session);
  const baseUrl =
    backfill.streamUrl === null || resumeFrom === null ? backfill.streamUrl : api.streamUrl(resumeFrom.id);
  const streamUrl =
    baseUrl === null || gone !== null ? null : withFaults(baseUrl, view.faults, view.faultSeed);
  const connection = useStream(
    api,
    view.transport,
    streamUrl,
    {
      onMessage: (event) => store.ingestEvent(event.data, now(), event.id),
      onReset: (event) => store.ingestReset(event.data, now()),
      onOpen: (reconnected) => {
        if (reconnected) store.noteReconnect();
      },
    },
    { now, createSocket },
  );
  const down =
    backfill.error?.unreachable === true ||
    (connection.state === 'reconnecting' && connection.error?.status === 0);
  // Nothing polls in a hidden tab, and only the stream and history probe a backend that is down.
  const reachable = visible && !down;
  const stats = useResource((signal) => api.stats(signal), { pollMs: 2000, enabled: visible });
  const typeInfo = useResource((signal) => api.types(signal), { enabled: reachable });
  const subjectInfo = useResource((signal) => api.subjects(signal), { pollMs: 10_000, enabled: reachable });
  const scenarios = useResource((signal) => api.scenarios(signal), { enabled: reachable });
  const clock = useResource((signal) => api.clockReading(signal), { pollMs: 5000, enabled: reachable });
  const whoami = useResource((signal) => api.whoami(signal), { pollMs: 60_000, enabled: reachable });
  noteFailures([backfill.error, stats.error, subjectInfo.error, clock.error], connection);
  const identity = whoami.data;
  const refused = [backfill.error, stats.error, whoami.error, connection.error].find(
    (e) => e?.status === 401,
  );
  const refusedCode = refused?.code ?? null;
  const hadWorked = whoami.data !== null || stats.data !== null;
  useEffect(() => {
    if (refusedCode !== null) onAuthFailure?.(refusedCode, hadWorked);
  }, [refusedCode, hadWorked, onAuthFailure]);
  const tick = useCallback((t: number) => store.tick(t), [store]);
  const time = useNow(visible, now, tick);

  useEffect(() => {
    onViewChange(writeView(search, view));
  }, [search, view, onViewChange]);
  useEffect(() => {
    if (clock.data !== null) store.noteClock(clock.data.clock, clock.data.readAt);
  }, [clock.data, store]);
  const reloadClock = clock.reload;
  useEffect(() => {
    // A sample showed the clock was changed elsewhere: read it again.
    if (snapshot.clockStale > 0) reloadClock();
  }, [snapshot.clockStale, reloadClock]);

  const catalogue = useMemo(() => new Map(typeInfo.data?.map((t) => [t.name, t]) ?? []), [typeInfo.data]);
  const types = useMemo(() => {
    const names = new Set<string>(typeInfo.data?.map((t) => t.name) ?? []);
    for (const t of snapshot.types) names.add(t);
    return [...names].sort(catalogueOrder);
  }, [typeInfo.data, snapshot.types]);
  const subjects = useMemo(() => {
    const names = new Set<string>(subjectInfo.data?.map((s) => s.name) ?? []);
    for (const s of snapshot.subjects) names.add(s);
    if (names.size === 0) names.add('default');
    return [...names];
  }, [subjectInfo.data, snapshot.subjects]);
  const subject =
    view.subject !== null && subjects.includes(view.subject)
      ? view.subject
      : subjects.includes('default')
        ? 'default'
        : (subjects[0] ?? 'default');
  const compare = view.compare.filter((s) => s !== subject && subjects.includes(s));
  const chosen = types.filter((t) => view.types === null || view.types.has(t));
  const seriesOf = (type: string, who: string): SeriesState | undefined =>
    snapshot.series.get(seriesKey(type, who));
  // Types without samples yet (a daily resting heart rate) are listed once instead of as empty charts.
  const shown = chosen.filter((t) => (seriesOf(t, subject)?.view.length ?? 0) > 0);
  const waiting = chosen.filter((t) => !shown.includes(t));
  const charted = shown.filter((t) => t !== 'workout');
  const kindOf = (type: string): ChartKind =>
    type === 'sleep_analysis'
      ? 'hypnogram'
      : catalogue.get(type)?.kind === 'interval' || INTERVAL_TYPES.has(type)
        ? 'interval'
        : 'line';

  // One time axis for every chart: up to the newest sample, back as far as every chart holds data.
  let newest = Number.NEGATIVE_INFINITY;
  let oldest = Number.NEGATIVE_INFINITY;
  let holdable: number | null = null;
  for (const type of charted) {
    const s = seriesOf(type, subject);
    if (s === undefined || s.view.length === 0) continue;
    newest = Math.max(newest, s.view.lastTime());
    if (kindOf(type) === 'line') {
      oldest = Math.max(oldest, s.view.times()[0] ?? oldest);
      const span = holdableSpan(s.view);
      if (span !== null) holdable = holdable === null ? span : Math.min(holdable, span);
    }
  }
  const lo = view.windowS !== null ? newest - view.windowS : oldest;
  const rangeLo = Number.isFinite(lo) && lo < newest ? lo : null;
  const rangeHi = Number.isFinite(newest) ? newest : null;
  const xRange = useMemo<TimeRange | null>(
    () => (rangeLo === null || rangeHi === null ? null : [rangeLo, rangeHi]),
    [rangeLo, rangeHi],
  );

  const speed = clock.data?.clock.speed ?? null;
  const clockPaused = clock.data?.clock.paused ?? false;
  const staleness = (type: string): number | null => {
    const s = seriesOf(type, subject);
    return s === undefined
      ? null
      : staleFor(s.lastArrival, catalogue.get(type)?.cadenceS ?? null, speed, clockPaused, time);
  };
  const chosenKey = chosen.join(',');
  // Cadence and staleness move with the wall clock: the table is brought up to date once a second.
  const healthRows = useMemo<HealthRow[]>(
    () =>
      chosen.map((type) => {
        const series = snapshot.series.get(seriesKey(type, subject));
        const cadenceS = catalogue.get(type)?.cadenceS ?? null;
        return {
          type,
          series,
          cadenceS,
          staleForMs:
            series === undefined ? null : staleFor(series.lastArrival, cadenceS, speed, clockPaused, time),
        };
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once a second, not on every frame's snapshot
    [time, chosenKey, subject, catalogue, speed, clockPaused],
  );
  const highlight = (type: string): number | null => {
    if (selectedFrame === null || selectedFrame.type !== type || selectedFrame.subject !== subject)
      return null;
    const parsed = toSample(JSON.parse(selectedFrame.data) as unknown);
    return parsed.ok ? parsed.value.timestamp / 1000 : null;
  };
  // The inspector's curl resumes this stream (its session included, never the token) from anywhere.
  const curlStream = `${api.base === '' ? window.location.origin : ''}${api.withToken(null).streamUrl()}`;
  const update = (change: Partial<ViewState>): void => setView((v) => ({ ...v, ...change }));
  // Stable handlers and props, so the controls (memoised) skip the per-frame renders.
  const closeInspector = useCallback(() => setView((v) => ({ ...v, inspector: false })), []);
  const setWindowS = useCallback((windowS: number | null) => setView((v) => ({ ...v, windowS })), []);
  const setSubject = useCallback((subject: string) => setView((v) => ({ ...v, subject })), []);
  const setCompare = useCallback((compare: string[]) => setView((v) => ({ ...v, compare })), []);
  const setTypes = useCallback((types: Set<string>) => setView((v) => ({ ...v, types })), []);
  const setZone = useCallback((zone: TimeZoneChoice) => setView((v) => ({ ...v, zone })), []);
  const setTransport = useCallback(
    (transport: Transport) => {
      setResumeFrom({ id: store.lastId() });
      setView((v) => ({ ...v, transport }));
    },
    [store],
  );
  // New faults: a new connection that resumes after the newest sample held.
  const setFaults = useCallback(
    (faults: FaultSpec, faultSeed: number | null) => {
      setResumeFrom({ id: store.lastId() });
      setView((v) => ({ ...v, faults, faultSeed }));
    },
    [store],
  );
  const clearFaults = useCallback(() => setFaults(NO_FAULTS, null), [setFaults]);
  const selectedTypes = useMemo(() => view.types ?? new Set(types), [view.types, types]);
  const compareKey = compare.join(',');
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the list's content, not its identity
  const stableCompare = useMemo(() => compare, [compareKey]);
  // The longest offered window the buffers hold: it moves in steps, not with every sample.
  const holdableWindow = WINDOWS.reduce<number | null>(
    (best, w) => (w.seconds !== null && holdable !== null && w.seconds <= holdable ? w.seconds : best),
    null,
  );

  return (
    <div className={`app${view.inspector ? ' with-inspector' : ''}`}>
      <header className="topbar">
        <h1>
          biomock <span className="muted">live</span>
        </h1>
        <div className="row toolbar">
          <button
            type="button"
            className="primary"
            aria-pressed={snapshot.paused}
            onClick={() => store.setPaused(!snapshot.paused)}
            data-testid="pause-view"
          >
            {snapshot.paused ? 'Resume view' : 'Pause view'}
          </button>
          {snapshot.paused && (
            <span className="badge" data-testid="new-badge">
              {formatCount(snapshot.newWhilePaused)} new
            </span>
          )}
          <button
            type="button"
            aria-pressed={view.inspector}
            onClick={() => update({ inspector: !view.inspector })}
            data-testid="toggle-inspector"
          >
            Inspector
          </button>
          {zoom !== null && (
            <button type="button" onClick={() => setZoom(null)}>
              Reset zoom
            </button>
          )}
        </div>
        <p className="muted small">
          {api.base === '' ? 'this server' : api.base}
          {session !== null && (
            <>
              {' '}
              · session <strong title={session}>{shortId(session)}</strong>
            </>
          )}{' '}
          · subject <strong>{subject}</strong>
          {snapshot.paused && <strong className="paused-flag"> · view paused</strong>}
          {identity?.authentication === true && (
            <span data-testid="identity">
              {' '}
              · token <strong>{identity.name ?? 'unnamed'}</strong> (
              {identity.scopes.join(', ') || 'no scopes'})
            </span>
          )}
          {onChangeToken !== undefined && identity?.authentication === true && (
            <>
              {' '}
              <button type="button" className="link" onClick={onChangeToken} data-testid="change-token">
                Change token
              </button>
            </>
          )}
        </p>
      </header>
      <Banners
        api={api}
        backfill={backfill}
        connection={connection}
        down={down}
        snapshot={snapshot}
        zone={view.zone}
        onDismiss={(id) => store.dismissNotice(id)}
      />
      <SessionNotices
        session={session}
        gone={gone}
        onLeave={() => onSessionChange?.(null)}
        faults={view.faults}
        faultSeed={view.faultSeed}
        onClearFaults={clearFaults}
      />
      <div className="layout">
        <aside className="sidebar">
          {onSessionChange !== undefined && (
            <SessionPanel
              api={api}
              session={session}
              onSwitch={onSessionChange}
              onDeleted={sessionDeleted}
              gone={gone !== null}
              scenarios={scenarios.data}
              canControl={allows(identity, 'control')}
              visible={visible}
              zone={view.zone}
            />
          )}
          <LivePanel
            snapshot={slow}
            connection={connection}
            stats={stats.data}
            statsError={stats.error}
            visible={visible}
            now={now}
            ended={gone !== null}
          />
          <ViewControls
            windowS={view.windowS}
            onWindowChange={setWindowS}
            holdableS={holdableWindow}
            subjects={subjects}
            subject={subject}
            onSubjectChange={setSubject}
            compare={stableCompare}
            onCompareChange={setCompare}
            types={types}
            selected={selectedTypes}
            onSelectedChange={setTypes}
            themeChoice={choice}
            onThemeChange={setChoice}
            zone={view.zone}
            onZoneChange={setZone}
            transport={view.transport}
            onTransportChange={setTransport}
          />
          <SimulationControls
            api={api}
            subject={subject}
            subjects={subjectInfo}
            scenarios={scenarios}
            clock={clock}
            canControl={allows(identity, 'control')}
          />
          <FaultMenu faults={view.faults} seed={view.faultSeed} onApply={setFaults} />
          <HealthPanel rows={healthRows} subject={subject} />
        </aside>
        <main className="content">
          <section className="tiles" aria-label="Current values">
            {shown.map((type) => (
              <Tile
                key={type}
                type={type}
                series={slow.series.get(seriesKey(type, subject))}
                windowS={view.windowS}
                unit={catalogue.get(type)?.unit ?? null}
                zone={view.zone}
                staleForMs={staleness(type)}
              />
            ))}
          </section>
          {waiting.length > 0 && (
            <p className="muted small" data-testid="waiting">
              {shown.length === 0 ? 'Waiting for samples' : 'No samples yet'} for {subject}:{' '}
              {waiting.map(typeLabel).join(', ')}.
            </p>
          )}
          <section className="charts" aria-label="Charts">
            {charted.map((type) => (
              <ChartCard
                key={type}
                type={type}
                series={[subject, ...(kindOf(type) === 'line' ? compare : [])]
                  .map((who) => seriesOf(type, who))
                  .filter((s): s is SeriesState => s !== undefined && s.view.length > 0)}
                kind={kindOf(type)}
                theme={theme}
                zone={view.zone}
                xRange={type === 'sleep_analysis' ? null : xRange}
                zoom={zoom}
                onZoom={setZoom}
                normalRange={catalogue.get(type)?.normalRange ?? null}
                markers={snapshot.markers}
                highlight={highlight(type)}
                describedAt={time}
              />
            ))}
          </section>
        </main>
        {view.inspector && (
          <Inspector
            log={store.frames}
            version={snapshot.framesVersion}
            types={types}
            subjects={subjects}
            zone={view.zone}
            streamUrl={curlStream}
            selected={selectedFrame?.seq ?? null}
            onSelect={setSelectedFrame}
            onClose={closeInspector}
          />
        )}
      </div>
    </div>
  );
}
