// Electron main process: a hardened window over the app:// scheme, IPC bound to the contract.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, type WebContents } from 'electron';
import { loadConfig } from '../app/config/load.js';
import { PanelError } from '../app/errors.js';
import { redact } from '../app/redact.js';
import { panelPaths } from '../app/config/paths.js';
import { rendererDir } from '../app/package-root.js';
import { cspFromIndexHtml, securityHeaders, staticContentType } from '../app/security/csp.js';
import { createPanelRuntime } from '../app/service/runtime.js';
import { wrappedKeyStore } from '../app/tokens/index.js';
import { bindIpc, forwardEvents } from './ipc.js';
import { desktopNotifier } from './notifier.js';
import { safeStorageWrapper } from './secret-store.js';

const SCHEME = 'app';
const ORIGIN = `${SCHEME}://panel`;

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** Serves the built renderer from app://panel/, never outside its folder, with the CSP headers. */
async function serveRenderer(root: string): Promise<void> {
  const headers = securityHeaders(cspFromIndexHtml(await fs.readFile(path.join(root, 'index.html'), 'utf8')));
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    let file = path.resolve(root, rel);
    if (url.host !== 'panel' || !file.startsWith(root + path.sep)) return new Response('not found', { status: 404 });
    if (!path.extname(rel)) file = path.join(root, 'index.html');
    try {
      const body = await fs.readFile(file);
      return new Response(body, { headers: { ...headers, 'Content-Type': staticContentType(file) } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

/** No navigation, no new windows, no webviews, no permissions: the page is a closed box. */
function harden(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

async function createWindow(): Promise<BrowserWindow> {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: 'ComfyUI Control Panel',
    show: false,
    webPreferences: {
      // Reviewed: the preload exposes only the contract's operations, each validated in main.
      preload: path.join(__dirname, 'preload.cjs'), /* eng-disable PRELOAD_JS_CHECK */
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click would otherwise open links in a new window.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => win.show());
  await win.loadURL(`${ORIGIN}/index.html`);
  return win;
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.enableSandbox();
  await app.whenReady();

  const ses = session.defaultSession;
  // Only writing to the clipboard ("Copy diagnostics", already redacted) is granted.
  const allowed = (permission: string) => permission === 'clipboard-sanitized-write';
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(allowed(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => allowed(permission));
  app.on('web-contents-created', (_e, contents) => harden(contents));

  const paths = panelPaths();
  const configArg = process.argv.find((a) => a.startsWith('--config='))?.slice('--config='.length);
  const loaded = await loadConfig(configArg ?? paths.configFile, Boolean(configArg));
  // The desktop app keeps the vault key wrapped by the OS keychain, never in a plain file.
  const vaultKeys = (dir: string) => wrappedKeyStore(path.join(dir, 'vault.key.safestorage'), safeStorageWrapper);
  const runtime = createPanelRuntime({ mode: 'electron', loaded, paths, vaultKeys });
  const { bus, fleet, handlers } = runtime;
  app.once('before-quit', () => void runtime.dispose());
  // Beside the configured outbound channels the core already tells, for every instance.
  fleet.addNotifier(desktopNotifier);
  await serveRenderer(path.resolve(rendererDir()));
  bindIpc(ipcMain, handlers, ORIGIN);

  let win = await createWindow();
  const stopEvents = forwardEvents(bus, (channel, message) => {
    if (!win.isDestroyed()) win.webContents.send(channel, message);
  });
  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow().then((w) => (win = w));
  });
  app.on('window-all-closed', () => {
    stopEvents();
    if (process.platform !== 'darwin') app.quit();
  });
}

main().catch((err: unknown) => {
  // A bad config file is the usual cause: say which field, where the operator can see it.
  const message = redact(err instanceof Error ? err.message : String(err));
  const fix = err instanceof PanelError && err.fix ? `\n\n${err.fix}` : '';
  console.error('comfy-panel failed to start:', message);
  dialog.showErrorBox('ComfyUI Control Panel could not start', `${message}${fix}`);
  app.exit(1);
});
