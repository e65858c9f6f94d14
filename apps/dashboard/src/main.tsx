import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { isApiRequestError } from './lib/api-client.js';
import { App } from './ui/app.js';
import './styles.css';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // 4xx answers (a removed service, a revoked token) do not get better by asking again.
      retry: (count, err) => count < 2 && !(isApiRequestError(err) && err.status >= 400 && err.status < 500),
      refetchOnWindowFocus: false,
    },
    mutations: { retry: false },
  },
});

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
