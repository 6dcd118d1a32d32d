/**
 * Fault injection on the dashboard's own stream (API.md v2, "Fault injection"):
 * `?faults=drop=0.1,duplicate=0.05&fault_seed=3` on `/api/stream` and `/api/ws`.
 * The faults touch only what this connection receives, so a developer can
 * watch how the dashboard itself survives drops, duplicates, garbage, cuts,
 * stalls and error statuses. Pure: parsing, validation, the query and words.
 */

export type FaultName =
  | 'disconnect_after'
  | 'stall_after'
  | 'drop'
  | 'duplicate'
  | 'malformed'
  | 'delay_ms'
  | 'jitter_ms'
  | 'status';

/** The faults chosen, each with its value; absent ones are off. */
export type FaultSpec = Readonly<Partial<Record<FaultName, number>>>;

export interface FaultInfo {
  name: FaultName;
  /** What the menu calls it. */
  label: string;
  /** `count`: samples (>= 1); `probability`: 0 < P <= 1; `ms`: >= 0; `status`: one of STATUSES. */
  kind: 'count' | 'probability' | 'ms' | 'status';
  /** The value the menu offers when the fault is ticked. */
  initial: number;
}

/** The statuses `status=` may ask for (API.md). */
export const FAULT_STATUSES: readonly number[] = [429, 500, 502, 503, 504];

/** In the order the query and the menu list them. */
export const FAULTS: readonly FaultInfo[] = [
  { name: 'disconnect_after', label: 'Disconnect after N samples', kind: 'count', initial: 5 },
  { name: 'stall_after', label: 'Stall after N samples', kind: 'count', initial: 20 },
  { name: 'drop', label: 'Drop (probability)', kind: 'probability', initial: 0.1 },
  { name: 'duplicate', label: 'Duplicate (probability)', kind: 'probability', initial: 0.1 },
  { name: 'malformed', label: 'Malformed (probability)', kind: 'probability', initial: 0.1 },
  { name: 'delay_ms', label: 'Delay writes (ms)', kind: 'ms', initial: 200 },
  { name: 'jitter_ms', label: 'Jitter (± ms)', kind: 'ms', initial: 100 },
  { name: 'status', label: 'Refuse with status', kind: 'status', initial: 503 },
];

const BY_NAME = new Map(FAULTS.map((f) => [f.name, f]));

export const NO_FAULTS: FaultSpec = {};

/** Why `value` is not a valid setting of fault `name`; null when it is. */
export function faultError(name: FaultName, value: number): string | null {
  const info = BY_NAME.get(name);
  if (info === undefined) return `unknown fault ${name}`;
  if (!Number.isFinite(value)) return `${name} needs a number`;
  switch (info.kind) {
    case 'count':
      return Number.isInteger(value) && value >= 1
        ? null
        : `${name} is a whole number of samples, at least 1`;
    case 'probability':
      return value > 0 && value <= 1 ? null : `${name} is a probability above 0, at most 1`;
    case 'ms':
      return Number.isInteger(value) && value >= 0 && value <= 60_000
        ? null
        : `${name} is whole milliseconds from 0 to 60000`;
    case 'status':
      return FAULT_STATUSES.includes(value) ? null : `status is one of ${FAULT_STATUSES.join(', ')}`;
  }
}

/**
 * Reads a `faults=` value leniently: entries that are unknown or invalid are
 * left out (an address typed by hand must not break the dashboard).
 */
export function parseFaults(text: string | null): FaultSpec {
  if (text === null) return NO_FAULTS;
  const spec: Partial<Record<FaultName, number>> = {};
  for (const part of text.split(',')) {
    const [rawName = '', rawValue = '', ...rest] = part.split('=');
    const name = rawName.trim() as FaultName;
    if (rest.length > 0 || !BY_NAME.has(name) || !/^\d+(\.\d+)?$/.test(rawValue.trim())) continue;
    const value = Number(rawValue.trim());
    if (faultError(name, value) === null) spec[name] = value;
  }
  return spec;
}

/** The `faults=` value for `spec`, in the documented order; '' when no fault is on. */
export function formatFaults(spec: FaultSpec): string {
  return FAULTS.filter((f) => spec[f.name] !== undefined)
    .map((f) => `${f.name}=${String(spec[f.name])}`)
    .join(',');
}

export function hasFaults(spec: FaultSpec): boolean {
  return formatFaults(spec) !== '';
}

/** Reads `fault_seed=`: a non-negative whole number, else none. */
export function parseFaultSeed(text: string | null): number | null {
  if (text === null || !/^\d{1,15}$/.test(text.trim())) return null;
  return Number(text.trim());
}

function percent(p: number): string {
  return `${Number((p * 100).toPrecision(3))} %`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One short phrase per active fault, for the banner that says faults are on. */
export function describeFaults(spec: FaultSpec): string[] {
  const words: string[] = [];
  for (const { name } of FAULTS) {
    const value = spec[name];
    if (value === undefined) continue;
    switch (name) {
      case 'disconnect_after':
        words.push(`cut after ${plural(value, 'sample')}`);
        break;
      case 'stall_after':
        words.push(`silent after ${plural(value, 'sample')}`);
        break;
      case 'drop':
        words.push(`${percent(value)} dropped`);
        break;
      case 'duplicate':
        words.push(`${percent(value)} duplicated`);
        break;
      case 'malformed':
        words.push(`${percent(value)} malformed`);
        break;
      case 'delay_ms':
        words.push(`writes delayed ${value} ms`);
        break;
      case 'jitter_ms':
        words.push(`± ${value} ms jitter`);
        break;
      case 'status':
        words.push(`refused with ${value}`);
        break;
    }
  }
  return words;
}

/** `url` with the faults (and their seed) in its query; relative URLs stay relative. */
export function withFaults(url: string, spec: FaultSpec, seed: number | null): string {
  const text = formatFaults(spec);
  const parsed = new URL(url, 'http://relative.invalid');
  if (text === '') {
    parsed.searchParams.delete('faults');
    parsed.searchParams.delete('fault_seed');
  } else {
    parsed.searchParams.set('faults', text);
    if (seed === null) parsed.searchParams.delete('fault_seed');
    else parsed.searchParams.set('fault_seed', String(seed));
  }
  return parsed.origin === 'http://relative.invalid'
    ? `${parsed.pathname}${parsed.search}${parsed.hash}`
    : parsed.href;
}
