/**
 * The view as a link: subject, compared subjects, types, window, time zone,
 * the inspector, the transport and the faults on the dashboard's own stream
 * live in the page's query string, so a copied address reproduces the view.
 * The session (`?session=`) lives there too, next to them, but belongs to the
 * page rather than the view: switching it starts the dashboard over
 * (`readSession`, `writeSession`). Other parameters (`backend`) are kept as they are.
 */
import { type FaultSpec, NO_FAULTS, formatFaults, parseFaultSeed, parseFaults } from './faults';
import type { TimeZoneChoice } from './format';

export interface ViewState {
  subject: string | null;
  /** Further subjects overlaid on the charts. */
  compare: readonly string[];
  /** Null shows every type. */
  types: ReadonlySet<string> | null;
  windowS: number | null;
  zone: TimeZoneChoice;
  inspector: boolean;
  /** How samples arrive: Server-Sent Events (the default) or the WebSocket. */
  transport: Transport;
  /** Faults injected into the dashboard's own stream (`faults=`), and their seed (`fault_seed=`). */
  faults: FaultSpec;
  faultSeed: number | null;
}

export type Transport = 'sse' | 'ws';

export const DEFAULT_VIEW: ViewState = {
  subject: null,
  compare: [],
  types: null,
  windowS: null,
  zone: 'utc',
  inspector: false,
  transport: 'sse',
  faults: NO_FAULTS,
  faultSeed: null,
};

function list(value: string | null): string[] {
  return value === null ? [] : value.split(',').filter((part) => part !== '');
}

export function readView(search: string): ViewState {
  const params = new URLSearchParams(search);
  const windowText = params.get('window');
  const windowS = windowText !== null && /^\d+$/.test(windowText) ? Number(windowText) : null;
  return {
    subject: params.get('subject'),
    compare: list(params.get('compare')),
    types: params.has('types') ? new Set(list(params.get('types'))) : null,
    windowS: windowS !== null && windowS > 0 ? windowS : null,
    zone: params.get('tz') === 'local' ? 'local' : 'utc',
    inspector: params.get('inspector') === '1',
    transport: params.get('transport') === 'ws' ? 'ws' : 'sse',
    faults: parseFaults(params.get('faults')),
    faultSeed: parseFaultSeed(params.get('fault_seed')),
  };
}

/** `search` with the view written into it; parameters the view does not own are kept. */
export function writeView(search: string, view: ViewState): string {
  const params = new URLSearchParams(search);
  const set = (key: string, value: string | null): void => {
    if (value === null) params.delete(key);
    else params.set(key, value);
  };
  set('subject', view.subject);
  set('compare', view.compare.length > 0 ? view.compare.join(',') : null);
  set('types', view.types === null ? null : [...view.types].join(','));
  set('window', view.windowS === null ? null : String(view.windowS));
  set('tz', view.zone === 'utc' ? null : view.zone);
  set('inspector', view.inspector ? '1' : null);
  set('transport', view.transport === 'sse' ? null : view.transport);
  const faults = formatFaults(view.faults);
  set('faults', faults === '' ? null : faults);
  set('fault_seed', faults === '' || view.faultSeed === null ? null : String(view.faultSeed));
  return searchOf(params);
}

function searchOf(params: URLSearchParams): string {
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Session ids are opaque; anything longer than this is no id the server made. */
const MAX_SESSION_LENGTH = 200;

/** The session the page addresses (`?session=`); null for the default simulation. */
export function readSession(search: string): string | null {
  const id = new URLSearchParams(search).get('session')?.trim() ?? '';
  return id === '' || id.length > MAX_SESSION_LENGTH ? null : id;
}

/**
 * `search` addressing `session` (null: the default simulation). The subject
 * and compared subjects are dropped: another session has other people.
 */
export function writeSession(search: string, session: string | null): string {
  const params = new URLSearchParams(search);
  if (session === null) params.delete('session');
  else params.set('session', session);
  params.delete('subject');
  params.delete('compare');
  return searchOf(params);
}
