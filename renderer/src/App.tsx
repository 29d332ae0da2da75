import { useCallback, useEffect, useState } from 'react';
import type { InstanceInfo } from '../../app/contract/index.js';
import { signOut } from './api/client.js';
import { InstanceContext, useEvent, useOp } from './api/hooks.js';
import { Loading } from './components/Card.js';
import { BrowserNotifier } from './components/NotificationsCard.js';
import { INSTANCE_PARAM, instanceHref, selectInstance } from './lib/fleet.js';
import { ClientsPage } from './pages/ClientsPage.js';
import { ContainerPage } from './pages/ContainerPage.js';
import { DashboardPage } from './pages/DashboardPage.js';
import { EnvPage } from './pages/EnvPage.js';
import { FleetPage } from './pages/FleetPage.js';
import { GeneratePage } from './pages/GeneratePage.js';
import { SettingsPage } from './pages/SettingsPage.js';
import { SetupPage, setupInProgress } from './pages/SetupPage.js';
import { TokensPage } from './pages/TokensPage.js';

const PAGES = [
  { id: 'dashboard', title: 'Dashboard', render: () => <DashboardPage /> },
  { id: 'container', title: 'Container', render: () => <ContainerPage /> },
  { id: 'tokens', title: 'Tokens', render: () => <TokensPage /> },
  { id: 'env', title: 'Env files', render: () => <EnvPage /> },
  { id: 'clients', title: 'Clients', render: () => <ClientsPage /> },
  { id: 'generate', title: 'Generate', render: () => <GeneratePage /> },
  { id: 'settings', title: 'Settings', render: () => <SettingsPage /> },
] as const;

/** The page the hash names (unknown or empty: the home page, chosen once the fleet's size is known). */
const hashPage = () => window.location.hash.replace(/^#\/?/, '');
const urlInstance = () => new URLSearchParams(window.location.search).get(INSTANCE_PARAM);

/**
 * The page and the instance shown, both in the URL (`?instance=b#/tokens`) so a reload and the
 * browser's Back keep them; `open` goes to an instance's page as one history entry.
 */
function useLocation() {
  const [where, setWhere] = useState(() => ({ page: hashPage(), instance: urlInstance() }));
  useEffect(() => {
    const read = () => setWhere({ page: hashPage(), instance: urlInstance() });
    window.addEventListener('hashchange', read);
    window.addEventListener('popstate', read);
    return () => {
      window.removeEventListener('hashchange', read);
      window.removeEventListener('popstate', read);
    };
  }, []);
  const open = useCallback((instance: string, page: string) => {
    window.history.pushState(null, '', instanceHref(window.location.href, instance, page));
    setWhere({ page, instance });
  }, []);
  return [where, open] as const;
}

/** Which instance the pages are about; shown only with two or more. */
function InstanceSwitcher({ instances, selected, onSelect }: { instances: readonly InstanceInfo[]; selected: string; onSelect: (id: string) => void }) {
  return (
    <label className="instance-pick">
      <span className="sr-only">Instance</span>
      <select value={selected} onChange={(e) => onSelect(e.target.value)} aria-label="Instance" data-testid="instance-switcher">
        {instances.map((i) => (
          <option key={i.id} value={i.id}>
            {i.label === i.id ? i.id : `${i.label} (${i.id})`}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The chosen theme; "system" follows the OS and is resolved here so the CSS defines dark colours once. */
function useTheme() {
  const [theme, setTheme] = useState<'light' | 'dark' | 'system'>(() => (localStorage.getItem('theme') as 'light' | 'dark' | null) ?? 'system');
  useEffect(() => {
    localStorage.setItem('theme', theme);
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => (document.documentElement.dataset.theme = theme === 'system' ? (media.matches ? 'dark' : 'light') : theme);
    apply();
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
  return [theme, setTheme] as const;
}

/** Says when the config file was reloaded after a change on disk (by hand, by the CLI), or why it was not. */
function ConfigReloadNotice() {
  const [notice, setNotice] = useState<{ text: string; error: boolean }>();
  useEvent('configReloaded', (e) =>
    setNotice(e.error ? { text: `The config file changed but is not valid, so the previous one stays in use: ${e.error}`, error: true } : { text: `Config reloaded from ${e.path}${e.changed.length ? ` (${e.changed.slice(0, 6).join(', ')}${e.changed.length > 6 ? ', …' : ''})` : ''}.`, error: false }),
  );
  if (!notice) return null;
  return (
    <div className={notice.error ? 'error-note' : 'notice'} role="status" data-testid="config-reloaded">
      {notice.text} <button onClick={() => setNotice(undefined)}>Dismiss</button>
    </div>
  );
}

export function App() {
  const [where, open] = useLocation();
  const [theme, setTheme] = useTheme();
  const info = useOp('appInfo', {});
  const instances = info.data?.instances ?? [];
  const instance = selectInstance(instances, where.instance);
  const openDashboard = useCallback((id: string) => open(id, 'dashboard'), [open]);
  // Two or more instances: the fleet view comes first and is the home page.
  const pages = instance === undefined ? PAGES : [{ id: 'fleet', title: 'Fleet', render: () => <FleetPage instances={instances} onOpen={openDashboard} /> }, ...PAGES];
  const active = pages.find((p) => p.id === where.page) ?? pages[0];
  // Until the fleet's size is known, no page asks for data (it would be for an instance not chosen yet).
  const known = info.data !== undefined || info.error !== undefined;
  // The wizard shows at first run, and stays (after a reload too) until it is finished or left.
  const [wizard, setWizard] = useState(setupInProgress);
  useEffect(() => {
    const open = () => setWizard(true);
    window.addEventListener('comfy-panel:setup', open);
    return () => window.removeEventListener('comfy-panel:setup', open);
  }, []);
  const unconfigured = info.data !== undefined && !info.data.configured;
  // First run: the wizard stays up after it saved the config, until the operator closes it.
  // (State adjusted while rendering, React's pattern for state derived from a change.)
  if (unconfigured && !wizard) setWizard(true);
  const firstRun = unconfigured || wizard;
  return (
    <InstanceContext.Provider value={instance}>
      <div className="app">
        <header className="topbar">
          <h1 className="brand" aria-label="ComfyUI Control Panel">
            <img src="icon.svg" alt="" />
            <span>
              ComfyUI<span className="brand-rest"> Control Panel</span>
            </span>
          </h1>
          <nav aria-label="Pages">
            <ul>
              {pages.map((p) => (
                <li key={p.id}>
                  <a href={`#/${p.id}`} aria-current={p.id === active.id ? 'page' : undefined}>
                    {p.title}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div className="topbar-end">
            {instance !== undefined ? <InstanceSwitcher instances={instances} selected={instance} onSelect={(id) => open(id, active.id)} /> : null}
            <span className="muted version" data-testid="app-version">
              {info.data ? `v${info.data.version} · ${info.data.mode}` : ''}
            </span>
            <label className="theme-pick">
              <span className="sr-only">Theme</span>
              <select value={theme} onChange={(e) => setTheme(e.target.value as typeof theme)} aria-label="Theme">
                <option value="system">System</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
            {info.data?.mode === 'browser' ? (
              <button type="button" onClick={() => void signOut()}>
                Sign out
              </button>
            ) : null}
          </div>
        </header>
        <ConfigReloadNotice />
        <main id="main" aria-label={active.title}>
          {firstRun ? (
            <SetupPage
              onDone={() => {
                setWizard(false);
                info.reload();
              }}
            />
          ) : known ? (
            active.render()
          ) : (
            <Loading what="the panel" />
          )}
        </main>
        {info.data?.configured ? <BrowserNotifier instances={instances} /> : null}
      </div>
    </InstanceContext.Provider>
  );
}
