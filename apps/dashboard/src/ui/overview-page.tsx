import { useServices } from '../hooks/use-services.js';
import { useCanOperate } from '../hooks/session-context.js';
import { errorMessage } from '../lib/api-client.js';
import { plural } from '../lib/format.js';
import { serviceProblems } from '../lib/service-health.js';
import { ServiceRow } from './service-row.js';

export function OverviewPage() {
  const services = useServices();
  const operator = useCanOperate();
  const list = services.data;

  const troubled = list?.filter((s) => serviceProblems(s).length > 0).length ?? 0;
  const pods = list?.reduce((n, s) => n + s.peers.length, 0) ?? 0;

  return (
    <>
      <div className="page-head">
        <h1>Services</h1>
        {list !== undefined && (
          <p className="muted">
            {plural(list.length, 'service')}, {plural(pods, 'pod')}
            {troubled > 0 && <strong className="warn-text"> · {troubled} need attention</strong>}
          </p>
        )}
      </div>
      {services.isError && (
        <div role="alert" className="alert">
          Could not load the services: {errorMessage(services.error)}
        </div>
      )}
      {list === undefined ? (
        <p aria-busy="true">Loading services…</p>
      ) : list.length === 0 ? (
        <p>
          No services yet.
          {operator && (
            <>
              {' '}
              Add one with <a href="#/add">the form</a>.
            </>
          )}
        </p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Services" className="data">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Pods</th>
                <th scope="col" className="num">
                  req/s
                </th>
                <th scope="col" className="num">
                  Errors
                </th>
                <th scope="col" className="num">
                  Retries/s
                </th>
                <th scope="col" className="num">
                  p99
                </th>
                <th scope="col">DNS</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <ServiceRow key={s.name} service={s} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
