import { useEffect, useRef } from 'react';
import { useHashRoute } from '../hooks/use-hash-route.js';
import { useLiveFeed } from '../hooks/use-live-feed.js';
import { useSession } from '../hooks/session-context.js';
import { routeHref, type Route } from '../lib/hash-route.js';
import { AddServicePage } from './add-service-page.js';
import { EjectedPage } from './ejected-page.js';
import { EventsPage } from './events-page.js';
import { FleetBanner } from './fleet-banner.js';
import { InstanceBar } from './instance-bar.js';
import { InstancesPage } from './instances-page.js';
import { LiveStatus } from './live-status.js';
import { OverviewPage } from './overview-page.js';
import { ServicePage } from './service-page.js';

const NAV: { page: Route['page']; href: string; label: string; operatorOnly: boolean }[] = [
  { page: 'overview', href: '#/', label: 'Overview', operatorOnly: false },
  { page: 'ejected', href: '#/ejected', label: 'Ejected peers', operatorOnly: false },
  { page: 'events', href: '#/events', label: 'Events', operatorOnly: false },
  { page: 'instances', href: '#/instances', label: 'Instances', operatorOnly: false },
  { page: 'add', href: '#/add', label: 'Add service', operatorOnly: true },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'service':
      return <ServicePage name={route.name} />;
    case 'ejected':
      return <EjectedPage />;
    case 'events':
      return <EventsPage />;
    case 'instances':
      return <InstancesPage />;
    case 'add':
      return <AddServicePage />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{route.path}</code>. <a href="#/">Back to the overview</a>.
          </p>
        </>
      );
  }
}

export function Shell() {
  const session = useSession();
  const route = useHashRoute();
  const feed = useLiveFeed(session.token, session.history);
  const main = useRef<HTMLElement>(null);
  const operator = session.role === 'operator';

  // After navigating, focus moves to the page so keyboard and screen reader users start there.
  const routeKey = routeHref(route);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [routeKey]);

  return (
    <div className="shell">
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <div className="shell-head">
        <header className="topbar">
          <span className="brand">podgate</span>
          <nav aria-label="Main">
            <ul>
              {NAV.filter((n) => operator || !n.operatorOnly).map((n) => {
                // A service page is none of these: the overview is one click back, not where the page is.
                const current = route.page === n.page;
                return (
                  <li key={n.page}>
                    <a href={n.href} aria-current={current ? 'page' : undefined}>
                      {n.label}
                    </a>
                  </li>
                );
              })}
            </ul>
          </nav>
          <div className="topbar-end">
            <LiveStatus status={feed.status} detail={feed.detail} />
            <span className="role" title="Your token's name and role" data-testid="session-role">
              {session.name} · {session.role}
            </span>
            <button type="button" onClick={session.signOut}>
              Sign out
            </button>
          </div>
        </header>
        <InstanceBar />
        <FleetBanner />
      </div>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
    </div>
  );
}
