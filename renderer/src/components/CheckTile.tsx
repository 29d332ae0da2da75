import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { CheckSummary } from '../../../app/contract/index.js';
import { checkTitle, incidents, latencyStats } from '../lib/health.js';
import { ago, duration, ms } from './format.js';
import { Heartbeat, Sparkline } from './Heartbeat.js';
import { Modal } from './Modal.js';
import { StatusLight } from './StatusLight.js';
import { Table } from './Card.js';

const uptimeText = (u: number | null) => (u === null ? '—' : `${u.toFixed(1)} %`);

/** Whether the element's text is cut by its line clamp (checked again whenever it resizes). */
function useClamped<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [clamped, setClamped] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setClamped(el.scrollHeight > el.clientHeight + 1));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, clamped] as const;
}

/**
 * One check as a fixed-size tile: human title with the id in small print, the message clamped to
 * two lines (More shows all of it and the explanation), the fix, the strip of the last results with
 * their latency under it, the core's 24 h uptime, and the history behind a button.
 */
export function CheckTile({ check, now, fix }: { check: CheckSummary; now: number; fix: ReactNode }) {
  const title = checkTitle(check.id);
  const [expanded, setExpanded] = useState(false);
  const [history, setHistory] = useState(false);
  const [messageRef, clamped] = useClamped<HTMLParagraphElement>();
  const headingId = useId();
  const failing = check.status !== 'ok' && check.fix;
  const stats = latencyStats(check.history);
  return (
    <article
      className={`check check-${check.status}${expanded ? ' expanded' : ''}`}
      aria-labelledby={headingId}
      data-testid={`check-${check.id}`}
      data-status={check.status}
      tabIndex={-1}
    >
      <header className="check-head">
        <h3 id={headingId} title={title}>
          {title}
        </h3>
        <div className="check-sub">
          <span className="check-when" title={`${check.id}, checked ${new Date(check.checkedAt).toLocaleString()}`}>
            <code className="check-id">{check.id}</code> · <time dateTime={check.checkedAt}>{ago(check.checkedAt, now)}</time>
          </span>
          <StatusLight status={check.status} label={title} />
        </div>
      </header>
      <div className="check-body">
        <p className="check-message" ref={messageRef} title={expanded ? undefined : check.message}>
          {check.message}
        </p>
        {expanded && check.fix?.explanation && check.status !== 'ok' ? <p className="check-explanation">{check.fix.explanation}</p> : null}
        {failing ? (
          <div className="check-fix">
            <p className="fix-text">
              <strong>Fix:</strong> {check.fix!.text}
            </p>
            {fix}
          </div>
        ) : null}
      </div>
      <div className="check-foot">
        <Heartbeat points={check.history} label={`${title} history`} />
        <Sparkline points={check.history} label={stats ? `${title} latency: median ${ms(stats.median)}, max ${ms(stats.max)}` : `${title} latency: no result yet`} />
        <div className="check-meta">
          <span>
            <span title="Share of OK and Warning among the results of the last 24 hours (Unknown not counted)">24 h {uptimeText(check.uptime24h)}</span> · <span title="How long the last run took">{ms(check.latencyMs)}</span>
          </span>
          <span className="check-links">
            {clamped || expanded || (check.fix?.explanation && check.status !== 'ok') ? (
              <button className="link" aria-expanded={expanded} onClick={() => setExpanded((e) => !e)} aria-label={`${expanded ? 'Less' : 'More'} about ${title}`}>
                {expanded ? 'Less' : 'More'}
              </button>
            ) : null}
            <button className="link" onClick={() => setHistory(true)} aria-label={`History of ${title}`}>
              History
            </button>
          </span>
        </div>
      </div>
      {history ? <CheckHistory check={check} now={now} onClose={() => setHistory(false)} /> : null}
    </article>
  );
}

/** A check's recent history: the strip and latency large, and each stretch of failures with how it ended. */
function CheckHistory({ check, now, onClose }: { check: CheckSummary; now: number; onClose: () => void }) {
  const title = checkTitle(check.id);
  const list = incidents(check.history);
  const stats = latencyStats(check.history);
  const since = check.history[0]?.checkedAt;
  return (
    <Modal
      wide
      testId="check-history"
      title={
        <>
          {title} <code className="check-id">{check.id}</code>
        </>
      }
      onClose={onClose}
      footer={({ initialFocus }) => (
        <button id={initialFocus} onClick={onClose}>
          Close
        </button>
      )}
    >
      <p>
        <StatusLight status={check.status} label={title} /> {check.message}
      </p>
      {check.status !== 'ok' && check.fix ? (
        <div className={`detail-fix detail-fix-${check.status}`}>
          {check.fix.explanation ? <p>{check.fix.explanation}</p> : null}
          <p>
            <strong>Fix:</strong> {check.fix.text}
          </p>
        </div>
      ) : null}
      <dl className="facts">
        <dt>Uptime, 24 h</dt>
        <dd>
          {uptimeText(check.uptime24h)} <span className="muted">OK and Warning count as up, Failing as down, Unknown not at all</span>
        </dd>
        <dt>Results kept</dt>
        <dd>
          the last {check.history.length}
          {since ? `, since ${new Date(since).toLocaleString()} (${ago(since, now)})` : ''}
        </dd>
        <dt>Latency</dt>
        <dd>{stats ? `median ${ms(stats.median)}, max ${ms(stats.max)}, last ${ms(check.latencyMs)}` : '—'}</dd>
      </dl>
      <div className="history-strip">
        <Heartbeat points={check.history} label={`${title} history`} />
        <Sparkline points={check.history} height={40} label={stats ? `${title} latency: median ${ms(stats.median)}, max ${ms(stats.max)}` : `${title} latency`} />
      </div>
      <h3 className="section-title">Incidents</h3>
      {list.length === 0 ? (
        <p className="muted">No failure among these {check.history.length} results.</p>
      ) : (
        <Table head={['Went red', 'For', 'What it said', 'How it ended']} testId="incidents">
          {list.map((i) => (
            <tr key={i.from}>
              <td>
                {new Date(i.from).toLocaleString()}
                <div className="muted">{ago(i.from, now)}</div>
              </td>
              <td>
                {duration((i.to ? Date.parse(i.to) : now) - Date.parse(i.from))}
                {i.to ? '' : ' so far'}
                <div className="muted">{i.results} failing result(s)</div>
              </td>
              <td>{i.message}</td>
              <td>{i.endedBy ? `${i.endedBy.status === 'ok' ? 'OK' : i.endedBy.status}: ${i.endedBy.message}` : <strong>still failing</strong>}</td>
            </tr>
          ))}
        </Table>
      )}
      <p className="muted">The panel keeps the last {check.history.length} results of each check; older incidents are not listed.</p>
    </Modal>
  );
}
