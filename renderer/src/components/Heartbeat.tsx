import type { HistoryPoint } from '../../../app/contract/index.js';

/** The last results of one check as a strip of bars, oldest first; each bar names its status and time. */
export function Heartbeat({ points, label }: { points: HistoryPoint[]; label: string }) {
  const counts = points.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.status]: (acc[p.status] ?? 0) + 1 }), {});
  const summary = Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return (
    <div className="heartbeat" role="img" aria-label={`${label}: last ${points.length} results: ${summary || 'none yet'}`}>
      {points.map((p, i) => (
        <span key={`${p.checkedAt}${i}`} className={`beat beat-${p.status}`} title={`${p.status} at ${new Date(p.checkedAt).toLocaleString()}`} />
      ))}
    </div>
  );
}
