import type { FeedMessage } from '@podgate/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { applyFeedMessage } from '../lib/feed-cache.js';
import type { ServiceHistory } from '../lib/history.js';
import { LiveFeed, wsUrl, type FeedStatus } from '../lib/live-feed.js';
import { openBrowserSocket } from './browser-socket.js';

/** Keeps the history in step with the feed (rates come from successive views). */
function recordHistory(history: ServiceHistory, message: FeedMessage, now: number): void {
  if (message.type === 'snapshot') {
    history.retain(new Set(message.services.map((s) => s.name)));
    for (const s of message.services) history.observe(s, now);
  } else if (message.type === 'changes') {
    for (const name of message.removed) history.remove(name);
    for (const s of message.services) history.observe(s, now);
  }
}

/** The feed's status and, while `refused`, the server's reason. */
export interface FeedState {
  status: FeedStatus;
  detail?: string;
}

/** Opens the live feed for the session and writes it into the query cache; returns its status. */
export function useLiveFeed(token: string, history: ServiceHistory): FeedState {
  const client = useQueryClient();
  const [state, setState] = useState<FeedState>({ status: 'reconnecting' });
  const status = state.status;

  useEffect(() => {
    const feed = new LiveFeed({
      url: wsUrl('/api/v1/live', window.location),
      token,
      openSocket: openBrowserSocket,
      onStatus: (next, detail) => setState(detail === undefined ? { status: next } : { status: next, detail }),
      onMessage: (message) => {
        applyFeedMessage(client, message);
        recordHistory(history, message, Date.now());
      },
    });
    feed.start();
    return () => feed.stop();
  }, [client, token, history]);

  useEffect(() => {
    // Points only while live: a dead feed would otherwise draw zeros that are not true.
    if (status !== 'live') return undefined;
    const timer = setInterval(() => history.tick(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [status, history]);

  return state;
}
