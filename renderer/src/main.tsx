import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './api/client.js';
import { ClientContext } from './api/hooks.js';
import { App } from './App.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ClientContext.Provider value={createClient()}>
      <App />
    </ClientContext.Provider>
  </StrictMode>,
);
