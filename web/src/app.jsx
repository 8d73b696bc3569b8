// The app shell: header with the pages, the node's network, and the page of the current path.
import { lazy, Suspense } from 'react';
import { Link, useRoute } from './lib/router.jsx';
import Explorer from './pages/explorer/Explorer.jsx';
import Monitor from './pages/monitor/Monitor.jsx';

// The wallet pulls libsodium's Argon2id build in only when it is opened.
const Wallet = lazy(() => import('./pages/wallet/Wallet.jsx'));
const Patient = lazy(() => import('./pages/patient/Patient.jsx'));
const Exchange = lazy(() => import('./pages/exchange/Exchange.jsx'));
const Designer = lazy(() => import('./pages/designer/Designer.jsx'));
const Store = lazy(() => import('./pages/store/Store.jsx'));
const Directory = lazy(() => import('./pages/directory/Directory.jsx'));

const PAGES = [
  { path: '/wallet', name: 'Wallet' },
  { path: '/explorer', name: 'Explorer' },
  { path: '/directory', name: 'Directory' },
  { path: '/exchange', name: 'Exchange' },
  { path: '/patient', name: 'Patient portal' },
  { path: '/designer', name: 'Designer' },
  { path: '/store', name: 'Store' },
  { path: '/monitor', name: 'Monitoring' },
];

export default function App() {
  const path = useRoute();
  const top = '/' + (path.split('/')[1] || '');
  let page;
  if (top === '/explorer') page = <Explorer path={path} />;
  else if (top === '/monitor') page = <Monitor />;
  else if (top === '/directory') page = <Directory path={path} />;
  else if (top === '/patient') page = <Patient />;
  else if (top === '/exchange') page = <Exchange path={path} />;
  else if (top === '/designer') page = <Designer />;
  else if (top === '/store') page = <Store path={path} />;
  else page = <Wallet />;
  const current = top === '/' ? '/wallet' : top;
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header>
        <span className="brand">LEBEN</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <Link key={p.path} to={p.path} aria-current={current === p.path ? 'page' : undefined}>{p.name}</Link>))}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 className="sr-only">{PAGES.find((p) => p.path === current)?.name || 'LEBEN'}</h1>
        <Suspense fallback={<p>Loading…</p>}>{page}</Suspense>
      </main>
    </>
  );
}
