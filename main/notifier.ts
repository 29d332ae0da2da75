import { Notification } from 'electron';
import type { Notifier } from '../app/health/notifier.js';

/** A desktop notification when a health check changes state (the monitor never calls it otherwise). */
export const desktopNotifier: Notifier = {
  notify({ id, from, to, result }) {
    if (!Notification.isSupported()) return;
    const title = to === 'ok' ? `ComfyUI: ${id} is OK again` : `ComfyUI: ${id} is ${to === 'fail' ? 'failing' : to}`;
    new Notification({ title, body: `${result.message}${to !== 'ok' && result.fix ? `\nFix: ${result.fix.text}` : ''} (was ${from})`, silent: to === 'ok' }).show();
  },
};
