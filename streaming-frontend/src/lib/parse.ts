/**
 * Parsing of everything the backend sends, shaped by docs/API.md.
 *
 * Nothing here throws: every parser returns either the value or a short
 * reason, so one bad event is counted and shown, never a crash.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Sample {
  id: number;
  type: string;
  /** A number for quantities, a string for categories. */
  value: number | string;
  /** The sample's time (an interval's end), epoch milliseconds. */
  timestamp: number;
  unit: string | null;
  subject: string;
  /** An interval's beginning, epoch milliseconds; null when it has none. */
  start: number | null;
  scenario: string | null;
  /** `start` or `end` for workouts. */
  event: string | null;
}

export interface ResetInfo {
  reason: string;
  oldestId: number | null;
  newestId: number | null;
}

export interface HistoryPage {
  items: unknown[];
  nextAfterId: number | null;
}

export interface Stats {
  subscribers: number;
  published: number | null;
  delivered: number | null;
  droppedSlow: number | null;
  bufferSize: number;
  bufferCapacity: number;
  oldestId: number | null;
  newestId: number | null;
  uptimeS: number | null;
}

export interface TypeInfo {
  name: string;
  unit: string | null;
  kind: string;
  normalRange: [number, number] | null;
  /** How often the catalogue says it is reported, seconds of simulated time; null when event-driven. */
  cadenceS: number | null;
}

export interface SubjectInfo {
  name: string;
  scenario: string | null;
}

export interface ScenarioInfo {
  name: string;
  description: string;
}

export interface ClockState {
  speed: number;
  paused: boolean;
  now: number | null;
}

/** A session (API.md v2 "Sessions"): a private simulation addressed with `?session=`. */
export interface SessionInfo {
  id: string;
  /** ISO time it expires unless used before then. */
  expiresAt: string | null;
  seed: number | null;
  subjects: readonly string[];
  scenario: string | null;
  paused: boolean | null;
  ttlS: number | null;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  parameter: string | null;
}

type Json = Record<string, unknown>;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Parses an ISO 8601 time as API.md writes it into epoch ms; no offset means UTC. */
export function parseTime(text: unknown): number | null {
  if (typeof text !== 'string' || !ISO_TIME.test(text.trim())) return null;
  const trimmed = text.trim();
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) ? trimmed : `${trimmed}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? null : ms;
}

function parseJson(data: string): Parsed<unknown> {
  try {
    return ok(JSON.parse(data) as unknown);
  } catch {
    return fail('not JSON');
  }
}

/** Validates one sample object in the `native` format. */
export function toSample(raw: unknown): Parsed<Sample> {
  if (!isObject(raw)) return fail('not an object');
  const { id, type, value, timestamp, unit, subject, start, scenario, event } = raw;
  if (!isId(id)) return fail('id is not a positive safe integer');
  if (typeof type !== 'string' || type === '') return fail('type is missing');
  if (typeof value !== 'string' && finite(value) === null) {
    return fail(`value of ${type} is neither a number nor a string`);
  }
  const time = parseTime(timestamp);
  if (time === null) return fail(`timestamp of ${type} is not an ISO 8601 time`);
  if (unit !== undefined && unit !== null && typeof unit !== 'string') {
    return fail(`unit of ${type} is not a string`);
  }
  let startMs: number | null = null;
  if (start !== undefined && start !== null) {
    startMs = parseTime(start);
    if (startMs === null) return fail(`start of ${type} is not an ISO 8601 time`);
  }
  return ok({
    id,
    type,
    value: value as number | string,
    timestamp: time,
    unit: typeof unit === 'string' ? unit : null,
    subject: typeof subject === 'string' && subject !== '' ? subject : 'default',
    start: startMs,
    scenario: optionalString(scenario),
    event: optionalString(event),
  });
}

/** Parses the data of one stream `message` event. */
export function parseSample(data: string): Parsed<Sample> {
  const json = parseJson(data);
  return json.ok ? toSample(json.value) : fail(json.error);
}

function nullableId(value: unknown): number | null {
  return isId(value) ? value : null;
}

/** Parses the data of a `reset` event: `{reason, oldest_id, newest_id}`. */
export function parseReset(data: string): Parsed<ResetInfo> {
  const json = parseJson(data);
  if (!json.ok) return fail(json.error);
  if (!isObject(json.value) || typeof json.value.reason !== 'string') {
    return fail('reset event without a reason');
  }
  return ok({
    reason: json.value.reason,
    oldestId: nullableId(json.value.oldest_id),
    newestId: nullableId(json.value.newest_id),
  });
}

/** Parses a `/api/history` page; the items are validated one by one by the caller. */
export function parseHistoryPage(raw: unknown): Parsed<HistoryPage> {
  if (!isObject(raw) || !Array.isArray(raw.items)) return fail('history without items');
  const next = raw.next_after_id;
  if (next !== null && next !== undefined && !isId(next)) return fail('bad next_after_id');
  return ok({ items: raw.items, nextAfterId: isId(next) ? next : null });
}

/** Parses `/api/stats`. */
export function parseStats(raw: unknown): Parsed<Stats> {
  if (!isObject(raw)) return fail('stats is not an object');
  const buffer = isObject(raw.buffer) ? raw.buffer : {};
  const subscribers = finite(raw.subscribers);
  const size = finite(buffer.size);
  const capacity = finite(buffer.capacity);
  if (subscribers === null || size === null || capacity === null) {
    return fail('stats without subscribers or buffer');
  }
  return ok({
    subscribers,
    published: finite(raw.published),
    delivered: finite(raw.delivered),
    droppedSlow: finite(raw.dropped_slow),
    bufferSize: size,
    bufferCapacity: capacity,
    oldestId: nullableId(buffer.oldest_id),
    newestId: nullableId(buffer.newest_id),
    uptimeS: finite(raw.uptime_s),
  });
}

/** A list answer: a bare array, or the first array-valued field of an object. */
function listOf(raw: unknown, keys: readonly string[]): unknown[] | null {
  if (Array.isArray(raw)) return raw;
  if (!isObject(raw)) return null;
  for (const key of keys) {
    const value = raw[key];
    if (Array.isArray(value)) return value;
    // A mapping of name -> details is as good as a list of named objects.
    if (isObject(value))
      return Object.entries(value).map(([name, v]) => ({ name, ...(isObject(v) ? v : {}) }));
  }
  return null;
}

function nameOf(item: unknown, keys: readonly string[]): string | null {
  if (typeof item === 'string') return item;
  if (!isObject(item)) return null;
  for (const key of keys) {
    const value = item[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

/** Parses `/api/types`. */
export function parseTypes(raw: unknown): Parsed<TypeInfo[]> {
  const list = listOf(raw, ['types', 'items']);
  if (list === null) return fail('types is not a list');
  const types: TypeInfo[] = [];
  for (const item of list) {
    const name = nameOf(item, ['name']);
    if (name === null || !isObject(item)) continue;
    // `[low, high]` or `{"low": .., "high": ..}`.
    const range = item.normal_range;
    const lo = Array.isArray(range) ? finite(range[0]) : isObject(range) ? finite(range.low) : null;
    const hi = Array.isArray(range) ? finite(range[1]) : isObject(range) ? finite(range.high) : null;
    types.push({
      name,
      unit: optionalString(item.unit),
      kind: optionalString(item.kind) ?? 'quantity',
      normalRange: lo !== null && hi !== null ? [lo, hi] : null,
      cadenceS: finite(item.cadence_s),
    });
  }
  return ok(types);
}

/** Parses `/api/subjects`. */
export function parseSubjects(raw: unknown): Parsed<SubjectInfo[]> {
  const list = listOf(raw, ['subjects', 'items']);
  if (list === null) return fail('subjects is not a list');
  const subjects: SubjectInfo[] = [];
  for (const item of list) {
    const name = nameOf(item, ['name', 'id', 'subject']);
    if (name === null) continue;
    subjects.push({ name, scenario: isObject(item) ? optionalString(item.scenario) : null });
  }
  return ok(subjects);
}

/** Parses `/api/scenarios`. */
export function parseScenarios(raw: unknown): Parsed<ScenarioInfo[]> {
  const list = listOf(raw, ['scenarios', 'items']);
  if (list === null) return fail('scenarios is not a list');
  const scenarios: ScenarioInfo[] = [];
  for (const item of list) {
    const name = nameOf(item, ['name', 'id', 'scenario']);
    if (name === null) continue;
    const description = isObject(item) ? (optionalString(item.description) ?? '') : '';
    scenarios.push({ name, description });
  }
  return ok(scenarios);
}

/** Parses `/api/clock`. */
export function parseClock(raw: unknown): Parsed<ClockState> {
  if (!isObject(raw)) return fail('clock is not an object');
  const speed = finite(raw.speed);
  if (speed === null || typeof raw.paused !== 'boolean') return fail('clock without speed or paused');
  return ok({ speed, paused: raw.paused, now: parseTime(raw.now) });
}

/** Reads API.md's error shape, `{"error": {"code", "message", "parameter"}}`. */
export function parseApiError(raw: unknown): ApiErrorBody | null {
  if (!isObject(raw) || !isObject(raw.error)) return null;
  const { code, message, parameter } = raw.error;
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  return { code, message, parameter: optionalString(parameter) };
}

/** Parses one session object (`POST /api/sessions`, `GET /api/sessions/{id}`). */
export function parseSession(raw: unknown): Parsed<SessionInfo> {
  if (!isObject(raw) || typeof raw.id !== 'string' || raw.id === '') return fail('session without an id');
  const subjects = Array.isArray(raw.subjects)
    ? raw.subjects.map((s) => nameOf(s, ['name', 'id'])).filter((s): s is string => s !== null)
    : [];
  return ok({
    id: raw.id,
    expiresAt: optionalString(raw.expires_at),
    seed: finite(raw.seed),
    subjects,
    scenario: optionalString(raw.scenario),
    paused: typeof raw.paused === 'boolean' ? raw.paused : null,
    ttlS: finite(raw.ttl_s),
  });
}

/** Parses `GET /api/sessions`: `{"items": [<session>, ...]}`; unreadable items are left out. */
export function parseSessions(raw: unknown): Parsed<SessionInfo[]> {
  const list = listOf(raw, ['items', 'sessions']);
  if (list === null) return fail('sessions is not a list');
  const sessions: SessionInfo[] = [];
  for (const item of list) {
    const parsed = parseSession(item);
    if (parsed.ok) sessions.push(parsed.value);
  }
  return ok(sessions);
}
