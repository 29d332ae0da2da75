import { Notification } from 'electron';
import type { Notifier } from '../app/health/notifier.js';

/** A desktop notification when a health check changes state (the monitor never calls it otherwise). */
export const desktopNotifier: Notifier = {
  notify({ id, from, to, result, instance }) {
    if (!Notification.isSupported()) return;
    // In a fleet the title names the box: five "container is failing" would not say which.
    const where = instance ? `ComfyUI (${instance.label})` : 'ComfyUI';
    const title = to === 'ok' ? `${where}: ${id} is OK again` : `${where}: ${id} is ${to === 'fail' ? 'failing' : to}`;
    new Notification({ title, body: `${result.message}${to !== 'ok' && result.fix ? `\nFix: ${result.fix.text}` : ''} (was ${from})`, silent: to === 'ok' }).show();
  },
};
