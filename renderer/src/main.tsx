import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './api/client.js';
import { ConfirmProvider, PanelProvider } from './api/hooks.js';
import { App } from './App.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PanelProvider client={createClient()}>
      <ConfirmProvider>
        <App />
      </ConfirmProvider>
    </PanelProvider>
  </StrictMode>,
);
