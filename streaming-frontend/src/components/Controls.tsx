/** The controls: what to show, and how the simulation runs (scenario, clock). */
import { type FormEvent, memo, useId, useState } from 'react';
import type { Resource } from '../hooks/useResource';
import type { ThemeChoice } from '../hooks/useTheme';
import { type Api, ApiError } from '../lib/api';
import { typeLabel } from '../lib/catalogue';
import type { TimeZoneChoice } from '../lib/format';
import type { Transport } from '../lib/urlState';
import type { ScenarioInfo, SubjectInfo } from '../lib/parse';
import type { ClockReading } from '../lib/api';

export const WINDOWS: readonly { label: string; seconds: number | null }[] = [
  { label: 'All held', seconds: null },
  { label: 'Last 5 min', seconds: 300 },
  { label: 'Last 30 min', seconds: 1800 },
  { label: 'Last 2 h', seconds: 7200 },
  { label: 'Last 24 h', seconds: 86_400 },
];

/**
 * The windows the store can fill: a window longer than the span its rings hold
 * at the charted types' cadence (`holdableS`) would promise data that is not
 * there. The chosen window stays listed.
 */
export function holdableWindows(holdableS: number | null, chosen: number | null): typeof WINDOWS {
  return WINDOWS.filter(
    (w) => w.seconds === null || w.seconds === chosen || (holdableS !== null && w.seconds <= holdableS),
  );
}

export interface ViewControlsProps {
  windowS: number | null;
  onWindowChange: (seconds: number | null) => void;
  /** The longest window every charted type's buffer can hold, seconds. */
  holdableS: number | null;
  subjects: readonly string[];
  subject: string;
  onSubjectChange: (subject: string) => void;
  compare: readonly string[];
  onCompareChange: (subjects: string[]) => void;
  types: readonly string[];
  selected: ReadonlySet<string>;
  onSelectedChange: (selected: Set<string>) => void;
  themeChoice: ThemeChoice;
  onThemeChange: (choice: ThemeChoice) => void;
  zone: TimeZoneChoice;
  onZoneChange: (zone: TimeZoneChoice) => void;
  transport: Transport;
  onTransportChange: (transport: Transport) => void;
}

function ViewControlsImpl(props: ViewControlsProps): React.JSX.Element {
  const ids = useId();
  const { selected, onSelectedChange } = props;
  const toggle = (type: string): void => {
    const next = new Set(selected);
    if (next.has(type)) next.delete(type);
    else next.add(type);
    onSelectedChange(next);
  };
  const others = props.subjects.filter((s) => s !== props.subject);
  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>View</h2>
      <Field label={<>Subject</>}>
        {(id) => (
          <select
            id={id}
            value={props.subject}
            onChange={(e) => props.onSubjectChange(e.target.value)}
            data-testid="subject"
          >
            {props.subjects.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      {others.length > 0 && (
        <fieldset className="types">
          <legend>Overlay on the charts</legend>
          {others.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={props.compare.includes(s)}
                onChange={() =>
                  props.onCompareChange(
                    props.compare.includes(s) ? props.compare.filter((c) => c !== s) : [...props.compare, s],
                  )
                }
              />
              {s}
            </label>
          ))}
        </fieldset>
      )}
      <Field label={<>Time window</>}>
        {(id) => (
          <select
            id={id}
            value={props.windowS === null ? 'all' : String(props.windowS)}
            onChange={(e) => props.onWindowChange(e.target.value === 'all' ? null : Number(e.target.value))}
            data-testid="window"
          >
            {holdableWindows(props.holdableS, props.windowS).map((w) => (
              <option key={w.label} value={w.seconds === null ? 'all' : String(w.seconds)}>
                {w.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={<>Times in</>}>
        {(id) => (
          <select
            id={id}
            value={props.zone}
            onChange={(e) => props.onZoneChange(e.target.value as TimeZoneChoice)}
            data-testid="zone"
          >
            <option value="utc">UTC (as the API)</option>
            <option value="local">This browser&apos;s zone</option>
          </select>
        )}
      </Field>
      <Field label={<>Stream over</>}>
        {(id) => (
          <select
            id={id}
            value={props.transport}
            onChange={(e) => props.onTransportChange(e.target.value as Transport)}
            data-testid="transport"
          >
            <option value="sse">Server-Sent Events</option>
            <option value="ws">WebSocket</option>
          </select>
        )}
      </Field>
      <Field label={<>Theme</>}>
        {(id) => (
          <select
            id={id}
            value={props.themeChoice}
            onChange={(e) => props.onThemeChange(e.target.value as ThemeChoice)}
            data-testid="theme"
          >
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        )}
      </Field>
      <fieldset className="types">
        <legend>Types</legend>
        <div className="row">
          <button type="button" onClick={() => onSelectedChange(new Set(props.types))}>
            All
          </button>
          <button type="button" onClick={() => onSelectedChange(new Set())}>
            None
          </button>
        </div>
        {props.types.map((type) => (
          <label key={type} className="check">
            <input type="checkbox" checked={selected.has(type)} onChange={() => toggle(type)} />
            {typeLabel(type)}
          </label>
        ))}
      </fieldset>
    </section>
  );
}

/** Memoised: the dashboard renders every animation frame, the controls only when they change. */
export const ViewControls = memo(ViewControlsImpl);

/** A labelled control; the label names the control alone (not its current value too). */
export function Field({
  label,
  children,
}: {
  label: React.ReactNode;
  children: (id: string) => React.ReactNode;
}): React.JSX.Element {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

export interface SimulationControlsProps {
  api: Api;
  subject: string;
  subjects: Resource<SubjectInfo[]>;
  scenarios: Resource<ScenarioInfo[]>;
  clock: Resource<ClockReading>;
  /** False when the token lacks the `control` scope: the controls are not offered. */
  canControl?: boolean;
}

function message(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

export const SimulationControls = memo(SimulationControlsImpl);

function SimulationControlsImpl({
  api,
  subject,
  subjects,
  scenarios,
  clock,
  canControl = true,
}: SimulationControlsProps): React.JSX.Element {
  const ids = useId();
  const current = subjects.data?.find((s) => s.name === subject)?.scenario ?? null;
  const [picked, setScenario] = useState<string | null>(null);
  const scenario = picked ?? current ?? scenarios.data?.[0]?.name ?? '';
  // What the user typed is kept until the server's speed changes: a poll that
  // brings the same speed must not overwrite it.
  const serverSpeed = clock.data?.clock.speed ?? null;
  const [typed, setTyped] = useState<{ text: string; basis: number | null } | null>(null);
  const speed =
    typed !== null && typed.basis === serverSpeed
      ? typed.text
      : serverSpeed === null
        ? ''
        : String(serverSpeed);
  const setSpeed = (text: string): void => setTyped({ text, basis: serverSpeed });
  const [feedback, setFeedback] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (what: () => Promise<unknown>, done: string): Promise<void> => {
    setBusy(true);
    try {
      await what();
      setFeedback(done);
    } catch (error) {
      setFeedback(`Failed: ${message(error)}`);
    } finally {
      setBusy(false);
    }
  };

  const switchScenario = (event: FormEvent): void => {
    event.preventDefault();
    void act(async () => {
      await api.setScenario(scenario, subject);
      subjects.reload();
    }, `${subject} is now in ${scenario}`);
  };

  const applySpeed = (event: FormEvent): void => {
    event.preventDefault();
    const value = Number(speed);
    if (!Number.isFinite(value) || value <= 0 || value > 100_000) {
      setFeedback('Speed must be a number above 0 and at most 100000');
      return;
    }
    void act(async () => {
      await api.setClock({ speed: value });
      clock.reload();
    }, `Clock speed ${value}×`);
  };

  const togglePaused = (): void => {
    const paused = !(clock.data?.clock.paused ?? false);
    void act(
      async () => {
        await api.setClock({ paused });
        clock.reload();
      },
      paused ? 'Clock paused' : 'Clock running',
    );
  };

  const scenarioDescription = scenarios.data?.find((s) => s.name === scenario)?.description ?? '';
  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Simulation</h2>
      {!canControl ? (
        <p className="muted" data-testid="no-control">
          This token may only watch: changing the scenario or the clock needs the <code>control</code> scope.
        </p>
      ) : scenarios.missing ? (
        <p className="muted">This backend has no scenarios to switch.</p>
      ) : (
        <form onSubmit={switchScenario} className="stack">
          <Field label={<>Scenario{current !== null ? ` (now: ${current})` : ''}</>}>
            {(id) => (
              <select
                id={id}
                value={scenario}
                onChange={(e) => setScenario(e.target.value)}
                data-testid="scenario"
                disabled={scenarios.data === null}
              >
                {(scenarios.data ?? []).map((s) => (
                  <option key={s.name} value={s.name} title={s.description}>
                    {s.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {scenarioDescription !== '' && <p className="muted small">{scenarioDescription}</p>}
          <button type="submit" disabled={busy || scenario === ''} data-testid="switch-scenario">
            Switch {subject}
          </button>
        </form>
      )}
      {!canControl ? null : clock.missing ? (
        <p className="muted">This backend has no adjustable clock.</p>
      ) : (
        <form onSubmit={applySpeed} className="stack" noValidate>
          <Field label={<>Clock speed (× real time)</>}>
            {(id) => (
              <>
                <input
                  id={id}
                  type="number"
                  min={0.001}
                  max={100000}
                  step="any"
                  value={speed}
                  onChange={(e) => setSpeed(e.target.value)}
                  data-testid="clock-speed"
                  list={`${ids}-speeds`}
                />
                <datalist id={`${ids}-speeds`}>
                  {[1, 10, 60, 600, 3600].map((s) => (
                    <option key={s} value={s} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <div className="row">
            <button type="submit" disabled={busy || clock.data === null} data-testid="set-speed">
              Set speed
            </button>
            <button
              type="button"
              onClick={togglePaused}
              disabled={busy || clock.data === null}
              aria-pressed={clock.data?.clock.paused ?? false}
              data-testid="clock-pause"
            >
              {clock.data?.clock.paused === true ? 'Run clock' : 'Pause clock'}
            </button>
          </div>
        </form>
      )}
      {feedback !== null && (
        <p role="status" className="small" data-testid="sim-feedback">
          {feedback}
        </p>
      )}
    </section>
  );
}
