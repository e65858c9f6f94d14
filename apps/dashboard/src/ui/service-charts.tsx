import { memo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { usePoints } from '../hooks/use-history.js';
import { maxOf, valueScale } from '../lib/chart-scale.js';
import { formatClock, formatLatency, formatRate, timeTicks } from '../lib/format.js';
import type { ServicePoint } from '../lib/rates.js';

interface ChartSpec {
  title: string;
  value: (p: ServicePoint) => number | null;
  format: (v: number) => string;
  color: string;
}

const CHARTS: ChartSpec[] = [
  { title: 'Requests per second', value: (p) => p.requestsPerSec, format: (v) => formatRate(v), color: '#2563eb' },
  { title: 'Errors per second', value: (p) => p.errorsPerSec, format: (v) => formatRate(v), color: '#dc2626' },
  { title: 'Retries per second', value: (p) => p.retriesPerSec, format: (v) => formatRate(v), color: '#d97706' },
  { title: 'p99 latency', value: (p) => p.p99Ms, format: (v) => formatLatency(v), color: '#7c3aed' },
];

const SmallChart = memo(function SmallChart({ spec, points }: { spec: ChartSpec; points: readonly ServicePoint[] }) {
  const data = points.map((p) => ({ at: p.at, value: spec.value(p) }));
  const last = data.at(-1)?.value ?? null;
  const from = data[0]?.at ?? 0;
  const to = data.at(-1)?.at ?? 0;
  const y = valueScale(maxOf(data.map((d) => d.value)));
  return (
    <figure className="chart card">
      <figcaption>
        {spec.title} <strong>{last === null ? '–' : spec.format(last)}</strong>
      </figcaption>
      {data.length < 2 ? (
        <p className="muted chart-empty">Collecting data…</p>
      ) : (
        <div aria-hidden="true" className="chart-body">
          <ResponsiveContainer width="100%" height={120}>
            <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
              <XAxis dataKey="at" type="number" domain={[from, to]} ticks={timeTicks(from, to)} tickFormatter={formatClock} tick={{ fontSize: 11 }} />
              <YAxis width={52} domain={[0, y.top]} ticks={y.ticks} interval={0} tick={{ fontSize: 11 }} tickFormatter={(v: number) => spec.format(v)} />
              <Tooltip labelFormatter={(v) => formatClock(Number(v))} formatter={(v) => [typeof v === 'number' ? spec.format(v) : '–', spec.title]} />
              <Line type="linear" dataKey="value" stroke={spec.color} dot={false} isAnimationActive={false} strokeWidth={2} connectNulls={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
});

/**
 * The service's last five minutes: req/s, errors/s, retries/s and p99. The chart library is most of
 * the page's code: this file is loaded on the first service page (lazy-service-charts.tsx), not with the page.
 */
export function ServiceCharts({ name }: { name: string }) {
  const points = usePoints(name);
  return (
    <section aria-label="Charts of the last 5 minutes" className="charts">
      {CHARTS.map((spec) => (
        <SmallChart key={spec.title} spec={spec} points={points} />
      ))}
    </section>
  );
}
