import { useEffect, useMemo, useState } from 'react';
import type { CheckResult, InstanceInfo, NotifyDelivery } from '../../../app/contract/index.js';
import { useAction, useEvent, useOp } from '../api/hooks.js';
import { CheckStates } from '../lib/health.js';
import { Card, ErrorNote, OpStatus, Table } from './Card.js';

/** Set once the browser was asked for permission: the panel never asks a second time on its own. */
const ASKED_KEY = 'comfy-panel.notifications.asked';

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

/** Shows a browser notification for each state change `states` finds in a pushed result. */
function useBrowserNotifications(states: CheckStates, labels?: ReadonlyMap<string, string>) {
  useEvent('health', (r: CheckResult, about) => {
    // With one instance the key is none: its events may still name it ("default").
    const instance = labels ? about : undefined;
    const change = states.change(instance, r, instance === undefined ? undefined : (labels?.get(instance) ?? instance));
    if (!change || !browserCanNotify() || Notification.permission !== 'granted') return;
    new Notification(change.title, { body: change.body, tag: change.tag, silent: change.silent });
  }, { everyInstance: labels !== undefined });
}

function OneInstanceNotifier() {
  const status = useOp('healthStatus', {});
  const [states] = useState(() => new CheckStates());
  useEffect(() => {
    if (status.data) states.seed(undefined, status.data.checks);
  }, [status.data, states]);
  useBrowserNotifications(states);
  return null;
}

/**
 * Every instance's changes, whichever one is shown, seeded from the fleet view's data when the
 * Fleet page read it. Never fetched for this: a fleet's rows cost requests to every instance, and
 * an instance page would otherwise refetch them at every state change (a first result then seeds).
 */
function FleetNotifier({ instances }: { instances: readonly InstanceInfo[] }) {
  const fleet = useOp('fleetStatus', {}, { enabled: false });
  const [states] = useState(() => new CheckStates());
  useEffect(() => {
    for (const row of fleet.data?.instances ?? []) states.seed(row.id, row.checks);
  }, [fleet.data, states]);
  const labels = useMemo(() => new Map(instances.map((i) => [i.id, i.label])), [instances]);
  useBrowserNotifications(states, labels);
  return null;
}

/**
 * Browser notifications for check state changes while the panel is open in a tab (granted once in
 * the Notifications card); mounted once for the whole app: in a fleet a change on any instance
 * notifies (not only on the one shown), its label in the title.
 */
export function BrowserNotifier({ instances }: { instances: readonly InstanceInfo[] }) {
  return instances.length > 1 ? <FleetNotifier instances={instances} /> : <OneInstanceNotifier />;
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
