/**
 * Socket.IO 4, WebSocket transport only. Auth middleware reads the token (the user id);
 * every socket joins its user's room, and `sub` joins a channel room with an ack.
 */
import { Server } from 'socket.io';
import { runPeerServer } from './host.js';
import type { PeerFactory } from './types.js';

const createSocketIoPeer: PeerFactory = async (server) => {
  const io = new Server(server, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
  });
  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth['token'];
    if (typeof token === 'string' && token !== '') {
      socket.data = { user: token };
      next();
    } else next(new Error('authentication failed'));
  });
  io.on('connection', (socket) => {
    void socket.join(`user:${(socket.data as { user: string }).user}`);
    socket.on('sub', (channel: unknown, ack: unknown) => {
      if (typeof channel === 'string') void socket.join(channel);
      if (typeof ack === 'function') (ack as (ok: boolean) => void)(true);
    });
  });
  return {
    peer: 'socketio',
    store: 'n/a',
    auth: 'middleware (token = user id)',
    count: (channel) =>
      channel === undefined
        ? io.of('/').sockets.size
        : (io.of('/').adapter.rooms.get(channel)?.size ?? 0),
    broadcast(channel, data) {
      io.to(channel).emit('m', data);
    },
    push(user, data) {
      io.to(`user:${user}`).emit('m', data);
    },
    close: () =>
      new Promise((resolve) => {
        io.disconnectSockets(true);
        void io.close(() => resolve());
      }),
  };
};

await runPeerServer(createSocketIoPeer);
