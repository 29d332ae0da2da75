import { useEffect, useRef, useState } from 'react';
import type { CheckResult, CheckStatus, NotifyDelivery } from '../../../app/contract/index.js';
import { useAction, useEvent, useOp } from '../api/hooks.js';
import { checkTitle } from '../lib/health.js';
import { Card, ErrorNote, OpStatus, Table } from './Card.js';

/** Set once the browser was asked for permission: the panel never asks a second time on its own. */
const ASKED_KEY = 'comfy-panel.notifications.asked';
const WORD: Record<CheckStatus, string> = { ok: 'OK', warn: 'Warning', fail: 'Failing', unknown: 'Unknown' };

/** Browser mode only: the desktop app's main process shows its own notifications. */
const browserCanNotify = () => !window.comfyPanel && 'Notification' in window;

/** Only scheme and host of a channel URL: a Slack or Discord webhook URL is its own secret. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Browser notifications for check state changes while the panel is open in a tab (granted once in
 * the Notifications card); mounted once for the whole app. A first result is no change.
 */
export function BrowserNotifier() {
  const status = useOp('healthStatus', {});
  const last = useRef(new Map<string, CheckStatus>());
  useEffect(() => {
    for (const c of status.data?.checks ?? []) if (!last.current.has(c.id)) last.current.set(c.id, c.status);
  }, [status.data]);
  useEvent('health', (r: CheckResult) => {
    const from = last.current.get(r.id);
    last.current.set(r.id, r.status);
    if (from === undefined || from === r.status || !browserCanNotify() || Notification.permission !== 'granted') return;
    const body = [r.message, ...(r.status !== 'ok' && r.fix ? [`Fix: ${r.fix.text}`] : [])].join('\n');
    new Notification(`${checkTitle(r.id)}: ${WORD[from]} → ${WORD[r.status]}`, { body, tag: `check-${r.id}`, silent: r.status === 'ok' });
  });
  return null;
}

function BrowserPermission() {
  const [permission, setPermission] = useState(() => (browserCanNotify() ? Notification.permission : undefined));
  const [asked, setAsked] = useState(() => localStorage.getItem(ASKED_KEY) === '1');
  if (permission === undefined) return <p className="muted">This window shows desktop notifications itself (the desktop app), or the browser has none.</p>;
  const ask = async () => {
    localStorage.setItem(ASKED_KEY, '1');
    setAsked(true);
    setPermission(await Notification.requestPermission());
  };
  if (permission === 'granted') return <p data-testid="browser-notifications">Browser notifications are on: a check that changes state shows one while this panel is open.</p>;
  if (permission === 'denied' || asked)
    return <p data-testid="browser-notifications">Browser notifications are off ({permission}). Allow them for this site in the browser's settings to get them.</p>;
  return (
    <p data-testid="browser-notifications">
      <button onClick={() => void ask()}>Enable browser notifications</button> <span className="muted">The browser asks once.</span>
    </p>
  );
}

function Deliveries({ deliveries }: { deliveries: NotifyDelivery[] }) {
  return (
    <ul className="facts-list" aria-label="Test deliveries" data-testid="notify-deliveries">
      {deliveries.map((d) => (
        <li key={d.channel}>
          <strong>{d.channel}</strong> ({d.kind}, {d.where}): {d.ok ? `delivered, HTTP ${d.status ?? ''} in ${d.ms} ms` : `not delivered: ${d.error ?? 'unknown error'}`}
        </li>
      ))}
    </ul>
  );
}

/**
 * Where state changes are sent: the browser (asked once) and the configured outbound channels
 * (config notifications.channels), each with a test send. Settings mounts it.
 */
export function NotificationsCard() {
  const config = useOp('configGet', {});
  const test = useAction('notifyTest');
  const [result, setResult] = useState<NotifyDelivery[]>();
  const channels = config.data?.config.notifications.channels ?? [];
  const send = async (channel?: string) => {
    setResult(undefined);
    const r = await test.run(channel === undefined ? {} : { channel });
    if (r) setResult(r.deliveries);
  };
  return (
    <Card
      title="Notifications"
      testId="notifications"
      wide
      actions={
        channels.length ? (
          <button onClick={() => void send()} disabled={test.busy}>
            {test.busy ? 'Sending…' : 'Send test to all'}
          </button>
        ) : null
      }
    >
      <BrowserPermission />
      <OpStatus state={config} what="channels" />
      {config.data && channels.length === 0 ? (
        <p className="muted">No outbound channel yet. Add a webhook, ntfy, Slack or Discord channel under notifications.channels in the configuration.</p>
      ) : null}
      {channels.length ? (
        <Table head={['Channel', 'Kind', 'Sends to', '']} testId="notify-channels">
          {channels.map((c) => (
            <tr key={c.name}>
              <td>
                {c.name}
                {c.enabled ? '' : ' (off)'}
              </td>
              <td>{c.kind}</td>
              <td>
                <code>{hostOf(c.url)}</code>
              </td>
              <td>
                <button onClick={() => void send(c.name)} disabled={test.busy} aria-label={`Send test to ${c.name}`}>
                  Send test
                </button>
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      {result ? <Deliveries deliveries={result} /> : null}
      {test.error ? <ErrorNote message={test.error} problem={test.problem} /> : null}
    </Card>
  );
}
