import { lazy, Suspense } from 'react';

// recharts is over half of the page's code and only the service page draws charts: loaded on demand.
const ServiceCharts = lazy(() => import('./service-charts.js').then((m) => ({ default: m.ServiceCharts })));

/** The service's charts, with a section of the same size while their code loads. */
export function LazyServiceCharts({ name }: { name: string }) {
  return (
    <Suspense
      fallback={
        <section aria-label="Charts of the last 5 minutes" className="charts" aria-busy="true">
          <p className="muted chart-loading">Loading charts…</p>
        </section>
      }
    >
      <ServiceCharts name={name} />
    </Suspense>
  );
}
