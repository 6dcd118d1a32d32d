/**
 * The fault menu: faults the server injects into this dashboard's own stream
 * (API.md v2 "Fault injection"), so a developer can watch how the dashboard
 * itself recovers. Nothing else is touched: the buffer, history and every other
 * client see the clean stream. Ticked faults are sent only when applied.
 */
import { type FormEvent, memo, useId, useState } from 'react';
import {
  FAULTS,
  FAULT_STATUSES,
  type FaultName,
  type FaultSpec,
  faultError,
  hasFaults,
  parseFaultSeed,
} from '../lib/faults';

export interface FaultMenuProps {
  faults: FaultSpec;
  seed: number | null;
  onApply: (faults: FaultSpec, seed: number | null) => void;
}

type Draft = Record<FaultName, { on: boolean; value: string }>;

function draftOf(faults: FaultSpec): Draft {
  const draft = {} as Draft;
  for (const f of FAULTS) {
    const value = faults[f.name];
    draft[f.name] = { on: value !== undefined, value: String(value ?? f.initial) };
  }
  return draft;
}

/** The spec a draft asks for, or the first reason it is refused. */
export function specOf(draft: Draft): FaultSpec | string {
  const spec: Partial<Record<FaultName, number>> = {};
  for (const { name } of FAULTS) {
    const { on, value } = draft[name];
    if (!on) continue;
    const number = value.trim() === '' ? Number.NaN : Number(value);
    const error = faultError(name, number);
    if (error !== null) return error;
    spec[name] = number;
  }
  return spec;
}

function FaultMenuImpl({ faults, seed, onApply }: FaultMenuProps): React.JSX.Element {
  const ids = useId();
  const active = hasFaults(faults);
  // The draft starts from what is applied, and again whenever that changes (a cleared banner).
  const [basis, setBasis] = useState(faults);
  const [draft, setDraft] = useState(() => draftOf(faults));
  const [seedText, setSeedText] = useState(seed === null ? '' : String(seed));
  const [error, setError] = useState<string | null>(null);
  if (basis !== faults) {
    setBasis(faults);
    setDraft(draftOf(faults));
    setSeedText(seed === null ? '' : String(seed));
  }
  const edit = (name: FaultName, change: Partial<Draft[FaultName]>): void =>
    setDraft((d) => ({ ...d, [name]: { ...d[name], ...change } }));

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    const spec = specOf(draft);
    if (typeof spec === 'string') {
      setError(spec);
      return;
    }
    const parsedSeed = parseFaultSeed(seedText);
    if (seedText.trim() !== '' && parsedSeed === null) {
      setError('The fault seed is a whole number (or empty)');
      return;
    }
    setError(null);
    onApply(spec, parsedSeed);
  };

  return (
    <section className="panel faults" aria-labelledby={`${ids}-title`} data-testid="fault-menu">
      <h2 id={`${ids}-title`}>
        Faults on this stream{' '}
        {active && (
          <span className="badge" data-testid="faults-badge">
            active
          </span>
        )}
      </h2>
      <details open={active || undefined}>
        <summary>{active ? 'Change faults' : 'Inject faults'}</summary>
        <p className="muted small">
          Only this dashboard&apos;s own connection is affected; watch the live counters and the inspector.
        </p>
        <form onSubmit={apply} className="stack" noValidate>
          {FAULTS.map((f) => {
            const entry = draft[f.name];
            const inputId = `${ids}-${f.name}`;
            return (
              <div key={f.name} className="fault-row">
                <label className="check">
                  <input
                    type="checkbox"
                    checked={entry.on}
                    onChange={(e) => edit(f.name, { on: e.target.checked })}
                    data-testid={`fault-${f.name}`}
                  />
                  {f.label}
                </label>
                {f.kind === 'status' ? (
                  <select
                    id={inputId}
                    aria-label={`${f.label}: value`}
                    value={entry.value}
                    disabled={!entry.on}
                    onChange={(e) => edit(f.name, { value: e.target.value })}
                    data-testid={`fault-${f.name}-value`}
                  >
                    {FAULT_STATUSES.map((s) => (
                      <option key={s} value={String(s)}>
                        {s}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={inputId}
                    aria-label={`${f.label}: value`}
                    type="number"
                    min={f.kind === 'count' ? 1 : 0}
                    max={f.kind === 'probability' ? 1 : undefined}
                    step={f.kind === 'probability' ? 0.01 : 1}
                    value={entry.value}
                    disabled={!entry.on}
                    onChange={(e) => edit(f.name, { value: e.target.value })}
                    data-testid={`fault-${f.name}-value`}
                  />
                )}
              </div>
            );
          })}
          <div className="fault-row">
            <label htmlFor={`${ids}-seed`}>Fault seed (same seed, same samples chosen)</label>
            <input
              id={`${ids}-seed`}
              inputMode="numeric"
              placeholder="random"
              value={seedText}
              onChange={(e) => setSeedText(e.target.value)}
              data-testid="fault-seed"
            />
          </div>
          <div className="row">
            <button type="submit" className="primary" data-testid="apply-faults">
              Apply to the stream
            </button>
            {active && (
              <button type="button" onClick={() => onApply({}, null)} data-testid="clear-faults-menu">
                Stop all faults
              </button>
            )}
          </div>
          {error !== null && (
            <p role="alert" className="small warn" data-testid="fault-error">
              {error}
            </p>
          )}
        </form>
      </details>
    </section>
  );
}

export const FaultMenu = memo(FaultMenuImpl);
