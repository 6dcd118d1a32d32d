/**
 * The view as a link: subject, compared subjects, types, window, time zone
 * and the inspector live in the page's query string, so a copied address
 * reproduces the view. Other parameters (`backend`, and later the transport
 * and session) are kept as they are.
 */
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
}

export const DEFAULT_VIEW: ViewState = {
  subject: null,
  compare: [],
  types: null,
  windowS: null,
  zone: 'utc',
  inspector: false,
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
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
