/**
 * The WebSocket emulation over a SocketTask, on its own: readyState, the order of events,
 * and the platform differences it smooths over.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { socketTaskWebSocket } from '../../src/platforms/socket-task.js';
import type { WebSocketLike } from '../../src/client/transports/websocket.js';
import { UnsupportedError } from '../../src/protocol/index.js';
import { FakeMiniProgram, type Quirks } from './fake-socket-task.js';

type Event = [string, ...unknown[]];

function setup(kind: 'wx' | 'uni' = 'wx', quirks: Quirks = {}) {
  const host = new FakeMiniProgram({ kind, quirks });
  const WebSocket = socketTaskWebSocket(host.api().connectSocket, {
    platform: kind,
    header: { 'X-App': 'shop' },
  });
  const events: Event[] = [];
  const socket = (protocols?: string | string[]): WebSocketLike => {
    const s = new WebSocket('wss://push.example.com/ws', protocols);
    s.onopen = () => events.push(['open', s.readyState]);
    s.onmessage = (e) => events.push(['message', e.data]);
    s.onerror = (e) => events.push(['error', (e as { message?: string }).message]);
    s.onclose = (e) => events.push(['close', e.code, e.reason, s.readyState]);
    return s;
  };
  return { host, socket, events };
}

describe('socketTaskWebSocket', () => {
  it('emulates readyState and the WebSocket events over one task', async () => {
    const { host, socket, events } = setup();
    const s = socket('lifeline.v1');
    const task = host.last();
    assert.equal(s.readyState, 0);
    assert.equal(task.options.url, 'wss://push.example.com/ws');
    assert.deepEqual(task.options.protocols, ['lifeline.v1']);
    assert.deepEqual(task.options.header, { 'X-App': 'shop' });

    task.open();
    await host.settle();
    assert.equal(s.readyState, 1);
    s.send('{"type":"ping"}');
    task.receive('{"type":"pong"}');
    await host.settle();
    assert.deepEqual(task.sent, ['{"type":"ping"}']);

    s.close(4004, 'heartbeat timeout');
    assert.equal(s.readyState, 2);
    s.send('dropped on a closing socket');
    await host.settle();
    assert.equal(s.readyState, 3);
    assert.deepEqual(task.closeCalls, [{ code: 4004, reason: 'heartbeat timeout' }]);
    assert.deepEqual(task.sent, ['{"type":"ping"}']);
    assert.deepEqual(events, [
      ['open', 1],
      ['message', '{"type":"pong"}'],
      ['close', 4004, 'heartbeat timeout', 3],
    ]);
  });

  it('throws on a send while connecting and on close arguments a browser refuses', () => {
    const { socket } = setup();
    const s = socket();
    assert.throws(() => s.send('too early'), { name: 'InvalidStateError' });
    assert.throws(() => s.close(1001), { name: 'InvalidAccessError' });
    assert.throws(() => s.close(1000, 'x'.repeat(124)), { name: 'SyntaxError' });
    assert.equal(s.readyState, 0);
  });

  it('an error is followed by exactly one close 1006, whether or not the runtime sends one', async () => {
    for (const errorWithoutClose of [false, true]) {
      const { host, socket, events } = setup('wx', { errorWithoutClose });
      const s = socket();
      host.last().open();
      await host.settle();
      host.last().fail('net::ERR_CONNECTION_RESET');
      await host.settle();
      assert.equal(s.readyState, 3);
      assert.deepEqual(events, [
        ['open', 1],
        ['error', 'net::ERR_CONNECTION_RESET'],
        ['close', 1006, 'net::ERR_CONNECTION_RESET', 3],
      ]);
      assert.equal(host.last().closeCalls.length, 1, 'the task is released');
    }
  });

  it('a failed send is a socket error: error, close 1006, task released', async () => {
    const { host, socket, events } = setup();
    const s = socket();
    const task = host.last();
    task.open();
    await host.settle();
    task.failSends('socket is closing');
    s.send('lost');
    await host.settle();
    assert.equal(s.readyState, 3);
    assert.deepEqual(events.slice(1), [
      ['error', 'sendSocketMessage:fail socket is closing'],
      ['close', 1006, 'sendSocketMessage:fail socket is closing', 3],
    ]);
    assert.equal(task.closeCalls.length, 1);
  });

  it('a task that could not be created reports error and close after the handlers are set', async () => {
    const { host, socket, events } = setup();
    host.refuseNextConnect = 'url not in domain list';
    const s = socket();
    await host.settle();
    assert.equal(s.readyState, 3);
    assert.deepEqual(events, [
      ['error', 'connectSocket:fail url not in domain list'],
      ['close', 1006, 'connectSocket:fail url not in domain list', 3],
    ]);
  });

  it('close() while connecting closes the task once it opens, if the runtime refused earlier', async () => {
    const { host, socket, events } = setup('wx', { refuseCloseWhileConnecting: true });
    const s = socket();
    const task = host.last();
    s.close(1000, 'normal closure');
    await host.settle();
    assert.equal(s.readyState, 2);
    task.open();
    await host.settle();
    assert.deepEqual(task.closeCalls, [
      { code: 1000, reason: 'normal closure' },
      { code: 1000, reason: 'normal closure' },
    ]);
    assert.deepEqual(events, [['close', 1000, 'normal closure', 3]], 'no open event');
  });

  it('ignores events after the end and passes binary messages on for the transport to refuse', async () => {
    const { host, socket, events } = setup();
    socket();
    const task = host.last();
    task.open();
    task.receive(new ArrayBuffer(2));
    task.serverClose(4102, 'replaced by a newer session');
    task.receive('late');
    await host.settle();
    assert.equal(events.length, 3);
    assert.ok(events[1]?.[1] instanceof ArrayBuffer);
    assert.deepEqual(events[2], ['close', 4102, 'replaced by a newer session', 3]);
  });

  it('gets a task from uni.connectSocket, which returns a Promise to callers without callbacks', () => {
    const host = new FakeMiniProgram({ kind: 'uni' });
    assert.ok(host.connectSocket({ url: 'wss://x.test/' }) instanceof Promise);
    const WebSocket = socketTaskWebSocket(host.api().connectSocket, { platform: 'uni' });
    new WebSocket('wss://x.test/', 'lifeline.v1');
    assert.equal(host.tasks.length, 1);
  });

  it('refuses a connectSocket that returns no SocketTask', () => {
    const WebSocket = socketTaskWebSocket(() => undefined, { platform: 'wx' });
    assert.throws(() => new WebSocket('wss://x.test/'), UnsupportedError);
  });
});
