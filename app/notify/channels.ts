import { hostname } from 'node:os';
import type { NotificationChannel, PanelConfig } from '../config/schema.js';
import { checkTitles } from '../contract/names.js';
import type { CheckStatus, NotifyDelivery } from '../contract/ops/health.js';
import { withDeadline } from '../deadline.js';
import { errorMessage } from '../errors.js';
import type { Notifier, StateChange } from '../health/notifier.js';
import { redact } from '../redact.js';

/** What every channel is told about one change: the check, old and new state, the message and the fix. */
export interface NotificationMessage {
  event: 'health.changed' | 'test';
  check: { id: string; title: string };
  from: CheckStatus | null;
  to: CheckStatus;
  message: string;
  fix?: string;
  /** What is wrong and why it matters (the troubleshooting explanation), when known. */
  explanation?: string;
  at: string;
  /** Which panel sent it (the host name or the configured instance). */
  source: string;
}

/** How notifications name the panel that sent them. */
export const panelSource = (): string => `ComfyUI Control Panel on ${hostname()}`;

const WORD: Record<CheckStatus, string> = { ok: 'OK', warn: 'Warning', fail: 'FAILING', unknown: 'Unknown' };

/** The change as the channels get it; every text passes redact(), so no token or password can leave. */
export function messageOf(change: StateChange, source: string): NotificationMessage {
  const fix = change.to !== 'ok' ? change.result.fix : undefined;
  return {
    event: 'health.changed',
    check: { id: change.id, title: checkTitles[change.id] ?? change.id },
    from: change.from,
    to: change.to,
    message: redact(change.result.message),
    ...(fix ? { fix: redact(fix.text) } : {}),
    ...(fix?.explanation ? { explanation: redact(fix.explanation) } : {}),
    at: change.result.checkedAt,
    source,
  };
}

export function testMessage(source: string, at = new Date()): NotificationMessage {
  return {
    event: 'test',
    check: { id: 'test', title: 'Test notification' },
    from: null,
    to: 'ok',
    message: 'This is a test from the ComfyUI Control Panel: this channel receives its notifications.',
    at: at.toISOString(),
    source,
  };
}

const headline = (m: NotificationMessage) =>
  m.event === 'test' ? `${m.source}: test notification` : `${m.source}: ${m.check.title} ${m.from ? `${WORD[m.from]} → ` : ''}${WORD[m.to]}`;

const lines = (m: NotificationMessage) => [m.message, ...(m.fix ? [`Fix: ${m.fix}`] : []), ...(m.event === 'test' ? [] : [`(${m.check.id}, ${m.at})`])];

/** The HTTP request each kind expects. */
export function requestFor(kind: NotificationChannel['kind'], m: NotificationMessage): { body: string; headers: Record<string, string> } {
  switch (kind) {
    case 'webhook':
      return { body: JSON.stringify(m), headers: { 'content-type': 'application/json' } };
    case 'ntfy':
      // ntfy's plain publish: the body is the message, the title and priority are headers (ASCII only).
      return {
        body: lines(m).join('\n'),
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: headline(m).replace(/→/g, '->').replace(/[^\x20-\x7e]/g, '?'),
          priority: m.to === 'fail' ? 'high' : 'default',
          tags: m.event === 'test' ? 'test_tube' : m.to === 'ok' ? 'white_check_mark' : m.to === 'fail' ? 'rotating_light' : 'warning',
        },
      };
    case 'slack':
      return { body: JSON.stringify({ text: `*${headline(m)}*\n${lines(m).join('\n')}` }), headers: { 'content-type': 'application/json' } };
    case 'discord':
      // Discord caps content at 2000 characters.
      return { body: JSON.stringify({ content: `**${headline(m)}**\n${lines(m).join('\n')}`.slice(0, 2000) }), headers: { 'content-type': 'application/json' } };
  }
}

/** The channel's URL as the panel may show it: scheme and host, never the path or query (a Slack or Discord URL is its secret). */
export function channelWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/** Posts one message to one channel; the outcome says how it went without repeating the URL or a secret. */
export async function deliver(channel: NotificationChannel, m: NotificationMessage, timeoutMs: number): Promise<NotifyDelivery> {
  const started = performance.now();
  const { body, headers } = requestFor(channel.kind, m);
  const base = { channel: channel.name, kind: channel.kind, where: channelWhere(channel.url) };
  try {
    const res = await withDeadline(timeoutMs, async (signal) => {
      const r = await fetch(channel.url, { method: 'POST', body, headers: { ...headers, ...channel.headers }, redirect: 'error', signal });
      await r.body?.cancel();
      return r;
    });
    const ms = Math.round(performance.now() - started);
    return res.ok ? { ...base, ok: true, status: res.status, ms } : { ...base, ok: false, status: res.status, ms, error: `the channel answered HTTP ${res.status}` };
  } catch (e) {
    // fetch errors may quote the URL: keep only the cause's words.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const words = cause?.code ?? cause?.message ?? errorMessage(e);
    const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : redact(words.split(channel.url).join(channelWhere(channel.url)));
    return { ...base, ok: false, ms: Math.round(performance.now() - started), error: reason };
  }
}

/** Sends to every enabled channel (or the one named) at once. */
export async function deliverAll(config: PanelConfig['notifications'], m: NotificationMessage, only?: string): Promise<NotifyDelivery[]> {
  const channels = config.channels.filter((c) => (only === undefined ? c.enabled : c.name === only));
  return Promise.all(channels.map((c) => deliver(c, m, config.timeoutMs)));
}

/**
 * The monitor's notifier for the configured channels (read at each change, so a saved config
 * applies at once). `onDelivery` hears each outcome (the panel log); a failure never throws.
 */
export function channelsNotifier(config: () => PanelConfig['notifications'], source: string, onDelivery?: (d: NotifyDelivery) => void): Notifier {
  return {
    async notify(change) {
      const results = await deliverAll(config(), messageOf(change, source));
      results.forEach((r) => onDelivery?.(r));
    },
  };
}
