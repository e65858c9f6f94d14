import type { SocketLike } from '../lib/live-feed.js';

/** The browser's WebSocket as the live feed's SocketLike. */
export function openBrowserSocket(url: string, protocols: string[]): SocketLike {
  const ws = new WebSocket(url, protocols);
  const socket: SocketLike = {
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    close: (code, reason) => ws.close(code, reason),
  };
  ws.onopen = () => socket.onopen?.();
  ws.onmessage = (ev) => socket.onmessage?.({ data: ev.data });
  ws.onclose = (ev) => socket.onclose?.({ code: ev.code, reason: ev.reason });
  ws.onerror = () => socket.onerror?.();
  return socket;
}
