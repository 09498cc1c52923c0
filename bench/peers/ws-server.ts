/**
 * Raw `ws`: the practical limit of a Node WebSocket server. No protocol at all: the token
 * in the query string is the user id, every socket receives every broadcast, and a
 * broadcast is serialized once and the same string written to every socket.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_PATH } from '../protocol.js';
import { runPeerServer } from './host.js';
import type { PeerFactory } from './types.js';

const createWsPeer: PeerFactory = async (server) => {
  const wss = new WebSocketServer({ server, path: WS_PATH, perMessageDeflate: false });
  const users = new Map<string, WebSocket>();
  wss.on('connection', (ws, request) => {
    const user = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
    if (user === null || user === '') return ws.close(4100, 'authentication failed');
    users.set(user, ws);
    ws.on('error', () => {}); // a client that vanished; nothing to report
    ws.on('close', () => {
      if (users.get(user) === ws) users.delete(user);
    });
  });
  return {
    peer: 'ws',
    store: 'n/a',
    auth: 'token in query',
    count: () => users.size,
    broadcast(_channel, data) {
      const text = JSON.stringify(data);
      for (const ws of users.values()) ws.send(text);
    },
    push(user, data) {
      users.get(user)?.send(JSON.stringify(data));
    },
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
};

await runPeerServer(createWsPeer);
