import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { Api, resolveBackend } from './lib/api';
import { type Counts, createStore } from './lib/store';
import './styles.css';

declare global {
  interface Window {
    /** Read-only inspection for tests and curious developers: `__biomock.ids()`. */
    __biomock?: {
      ids: () => number[];
      lastId: () => number | null;
      counts: () => Counts;
    };
  }
}

const store = createStore();
const api = new Api(
  resolveBackend(window.location.search, import.meta.env.VITE_BIOMOCK_BACKEND as string | undefined),
);
window.__biomock = {
  ids: () => store.ids(),
  lastId: () => store.lastId(),
  counts: () => store.totals(),
};

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App store={store} api={api} search={window.location.search} />
  </StrictMode>,
);
