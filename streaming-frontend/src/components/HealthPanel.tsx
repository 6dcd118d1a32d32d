/** Per type: the cadence observed against the catalogue's, and whether it went quiet. */
import { memo } from 'react';
import { typeLabel } from '../lib/catalogue';
import { formatDuration } from '../lib/format';
import { observedCadence } from '../lib/health';
import type { SeriesState } from '../lib/store';

export interface HealthRow {
  type: string;
  series: SeriesState | undefined;
  cadenceS: number | null;
  staleForMs: number | null;
}

function seconds(s: number | null): string {
  return s === null ? '–' : formatDuration(s * 1000);
}

function HealthPanelImpl({
  rows,
  subject,
}: {
  rows: readonly HealthRow[];
  subject: string;
}): React.JSX.Element {
  return (
    <section className="panel health" aria-labelledby="health-title">
      <h2 id="health-title">Health · {subject}</h2>
      <table className="health-table" data-testid="health">
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col" title="The catalogue's cadence (GET /api/types), simulated time">
              Expected
            </th>
            <th scope="col" title="Median spacing of the newest samples, simulated time">
              Observed
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ type, series, cadenceS, staleForMs }) => {
            const observed = series === undefined ? null : observedCadence(series.view);
            // Two devices reporting the same type (watch and phone) halve the spacing: still fine.
            const off =
              observed !== null &&
              cadenceS !== null &&
              (observed > cadenceS * 1.5 || observed < cadenceS / 2.5);
            const status =
              series === undefined ? 'no data' : staleForMs !== null ? 'stale' : off ? 'irregular' : 'ok';
            return (
              <tr key={type} data-testid={`health-${type}`} className={`health-${status.replace(' ', '-')}`}>
                <th scope="row">{typeLabel(type)}</th>
                <td>{seconds(cadenceS)}</td>
                <td>{seconds(observed)}</td>
                <td>{status}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export const HealthPanel = memo(HealthPanelImpl);
