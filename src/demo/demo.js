// The Lifeline demo page: one client, its live state and transport, the messages it
// receives with their positions and acknowledgements, and forms to publish and subscribe.
// Plain DOM code; every text from the network goes through `textContent`, never HTML.
/* global document, window, location */
import * as Lifeline from '/lifeline.js';

const $ = (id) => document.getElementById(id);

const ui = {
  notice: $('notice'),
  connectForm: $('connect-form'),
  user: $('user'),
  state: $('state'),
  transport: $('transport'),
  stateDetail: $('state-detail'),
  close: $('close'),
  reconnect: $('reconnect'),
  subscribeForm: $('subscribe-form'),
  channel: $('channel'),
  subscribe: $('subscribe'),
  channels: $('channels'),
  publishForm: $('publish-form'),
  targetKind: $('target-kind'),
  targetName: $('target-name'),
  payload: $('payload'),
  publishResult: $('publish-result'),
  messages: $('messages'),
  messageCount: $('message-count'),
  acks: $('acks'),
  log: $('log'),
};

/** Most messages, acks and log lines kept on the page. */
const MAX_ROWS = 200;
/** Ack status is asked of the gateway this long after the client's ack window closed, in ms. */
const ACK_CHECK_MARGIN_MS = 1500;
/** Then again at this interval while it is not acknowledged, in ms. */
const ACK_CHECK_INTERVAL_MS = 2000;
/** Status requests per stream before the page stops asking (the next message asks again). */
const MAX_ACK_CHECKS = 5;
/** `?fallback=` values the page passes on to the client. */
const FALLBACK_MODES = ['auto', 'immediate', 'never'];

let config = null;
let client = null;
let unsubscribers = [];
/** Channel name → the client's subscription handle. */
const subscriptions = new Map();
let countdown = null;
let messageCount = 0;
/** Stream → { rows: messages not yet known acked, timer, checks }. */
const unacked = new Map();
/** Sessions the current client has had: the message status names the one that got each message. */
const sessions = new Set();
let currentUser = '';

// ------------------------------------------------------------------ server endpoints

async function loadConfig() {
  const res = await fetch('/dev/config', { cache: 'no-store' });
  if (!res.ok) {
    throw new Error('this page needs a server started with `lifeline serve --dev`');
  }
  config = await res.json();
  return config;
}

async function fetchToken(user) {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.message ?? `token request failed (${res.status})`);
  return body.token;
}

/** A request to the HTTP API with the dev server's key; a 401 reloads the key once. */
async function api(path, init = {}) {
  const send = () =>
    fetch(path, {
      ...init,
      cache: 'no-store',
      headers: { ...init.headers, authorization: `Bearer ${config?.apiKey ?? ''}` },
    });
  let res = await send();
  if (res.status === 401) {
    // A restarted dev server generates a new API key: fetch it once and try again.
    await loadConfig();
    res = await send();
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.message ?? `${path} failed (${res.status})`);
  return body;
}

function publish(to, data) {
  return api('/api/publish', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to, data }),
  });
}

function messageStatus(id) {
  return api(`/api/messages/${encodeURIComponent(id)}`);
}

// ------------------------------------------------------------------ rendering

function addRow(list, row) {
  list.prepend(row);
  while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
}

function time(ms = Date.now()) {
  const d = new Date(ms);
  return `${d.toLocaleTimeString()}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function log(text, isError = false) {
  const li = document.createElement('li');
  li.textContent = `${time()}  ${text}`;
  if (isError) li.className = 'error';
  addRow(ui.log, li);
}

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = text === '';
}

function describeState(state) {
  switch (state.kind) {
    case 'connecting':
      return `attempt ${state.attempt} over ${state.transport}`;
    case 'open':
      return `session ${state.session.id} as ${state.session.user} over ${state.transport}`;
    case 'reconnecting': {
      const seconds = Math.max(0, (state.retryAt - Date.now()) / 1000);
      const why = state.lastError?.message ?? '';
      return `attempt ${state.attempt} in ${seconds.toFixed(1)} s — ${why}`;
    }
    case 'closed':
      return state.reason?.initiator === 'server'
        ? `by the server: ${state.reason.error?.message ?? state.reason.code}`
        : 'by this page';
    case 'failed':
      return state.error?.message ?? '';
    default:
      return '';
  }
}

function stopCountdown() {
  if (countdown !== null) window.clearTimeout(countdown);
  countdown = null;
}

function renderState() {
  stopCountdown();
  const state = client?.state ?? { kind: 'idle' };
  ui.state.dataset.kind = state.kind;
  ui.state.textContent = state.kind;
  // The transport in use, or being tried; none between attempts.
  const transport = state.kind === 'open' || state.kind === 'connecting' ? state.transport : '';
  ui.transport.dataset.transport = transport;
  ui.transport.textContent = transport === '' ? '—' : transport;
  ui.stateDetail.textContent = describeState(state);
  ui.close.disabled = client === null || state.kind === 'closed' || state.kind === 'idle';
  ui.reconnect.disabled = client === null;
  ui.subscribe.disabled = client === null;
  // While waiting to reconnect, count down to the next attempt.
  if (state.kind === 'reconnecting') countdown = window.setTimeout(renderState, 250);
}

function span(text, className) {
  const element = document.createElement('span');
  element.textContent = text;
  if (className !== undefined) element.className = className;
  return element;
}

function renderMessage(message) {
  const li = document.createElement('li');
  li.dataset.stream = message.stream;
  li.dataset.offset = String(message.offset);
  li.dataset.id = message.id;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const ack = span('not acked yet', 'ack');
  ack.dataset.ack = 'pending';
  meta.append(
    span(message.stream, 'stream'),
    span(`offset ${message.offset}`, 'offset'),
    span(`epoch ${message.epoch.slice(0, 8)}`),
    span(time(message.publishedAt)),
    ack,
  );
  meta.title = `message ${message.id}`;
  const data = document.createElement('pre');
  data.className = 'data';
  data.textContent =
    typeof message.data === 'string' ? message.data : JSON.stringify(message.data, null, 2);
  li.append(meta, data);
  addRow(ui.messages, li);
  messageCount += 1;
  ui.messageCount.textContent = String(messageCount);
  awaitAck(message, ack);
}

function renderChannel(channel) {
  const li = document.createElement('li');
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'link';
  remove.textContent = '×';
  remove.title = `Unsubscribe from ${channel}`;
  remove.addEventListener('click', () => {
    const subscription = subscriptions.get(channel);
    subscriptions.delete(channel);
    li.remove();
    subscription
      ?.unsubscribe()
      .then(() => log(`unsubscribed from ${channel}`))
      .catch((error) => log(`unsubscribe ${channel}: ${error.message}`, true));
  });
  li.append(span(channel), remove);
  ui.channels.append(li);
}

// ------------------------------------------------------------------ acknowledgements
//
// The client acknowledges a message once the page has it, cumulatively per stream and in
// windows (`ackDelayMs`, longer for channels). The gateway records when each ack arrived
// and reports it in `GET /api/messages/:id`; acking offset n covers everything before it,
// so the page asks only about the newest unacknowledged message of each stream.

function awaitAck(message, badge) {
  let entry = unacked.get(message.stream);
  if (entry === undefined) {
    entry = { rows: [], timer: null, checks: 0 };
    unacked.set(message.stream, entry);
  }
  entry.rows.push({ message, badge });
  entry.checks = 0;
  const windowMs = message.stream.startsWith('channel:')
    ? Lifeline.DEFAULT_CHANNEL_ACK_DELAY_MS
    : Lifeline.DEFAULT_ACK_DELAY_MS;
  scheduleAckCheck(message.stream, entry, windowMs + ACK_CHECK_MARGIN_MS);
}

function scheduleAckCheck(stream, entry, delayMs) {
  if (entry.timer !== null) window.clearTimeout(entry.timer);
  entry.timer = window.setTimeout(() => {
    entry.timer = null;
    checkAck(stream, entry).catch((error) => log(`ack status: ${error.message}`, true));
  }, delayMs);
}

/**
 * This page's entry among a message's recipients: one of its sessions, or (channels, whose
 * deliveries are not recorded) its user without a device.
 */
function ownReceipt(status, stream) {
  return status.recipients.find(
    (r) =>
      r.stream === stream &&
      r.acked &&
      (sessions.has(r.session) ||
        (r.session === undefined && r.device === undefined && r.user === currentUser)),
  );
}

async function checkAck(stream, entry) {
  const newest = entry.rows.at(-1);
  if (newest === undefined) return;
  entry.checks += 1;
  const status = await messageStatus(newest.message.id);
  const receipt = ownReceipt(status, stream);
  if (receipt === undefined) {
    if (entry.checks < MAX_ACK_CHECKS) scheduleAckCheck(stream, entry, ACK_CHECK_INTERVAL_MS);
    else for (const { badge } of entry.rows) badge.textContent = 'no ack seen';
    return;
  }
  // Everything up to the newest row of this epoch is covered by the same cumulative ack.
  const { epoch, offset } = newest.message;
  const covered = entry.rows.filter((r) => r.message.epoch === epoch && r.message.offset <= offset);
  entry.rows = entry.rows.filter((r) => !covered.includes(r));
  const at = receipt.ackedAt === undefined ? 'acked' : `acked ${time(receipt.ackedAt)}`;
  for (const { badge } of covered) {
    badge.dataset.ack = 'acked';
    badge.textContent = at;
  }
  const first = covered[0]?.message.offset ?? offset;
  const range = first === offset ? `offset ${offset}` : `offsets ${first}–${offset}`;
  const li = document.createElement('li');
  li.dataset.stream = stream;
  li.textContent = `${receipt.ackedAt === undefined ? '' : time(receipt.ackedAt)}  ${stream} ${range}`;
  addRow(ui.acks, li);
}

function forgetAcks() {
  for (const entry of unacked.values()) {
    if (entry.timer !== null) window.clearTimeout(entry.timer);
  }
  unacked.clear();
}

// ------------------------------------------------------------------ client lifecycle

async function disposeClient() {
  for (const off of unsubscribers) off();
  unsubscribers = [];
  const old = client;
  client = null;
  subscriptions.clear();
  ui.channels.replaceChildren();
  forgetAcks();
  sessions.clear();
  if (old !== null) await old.close();
}

/** `?fallback=immediate` (or `never`) from the page address, else the client's default. */
function fallbackMode() {
  const wanted = new URLSearchParams(location.search).get('fallback');
  return FALLBACK_MODES.includes(wanted) ? wanted : undefined;
}

async function connect(user) {
  await disposeClient();
  currentUser = user;
  const { path } = config ?? (await loadConfig());
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const fallback = fallbackMode();
  client = Lifeline.createClient({
    url: `${scheme}://${location.host}${path}`,
    // Called before every attempt, so a restarted server's new secret is picked up.
    token: () => fetchToken(user),
    // Short waits keep the demo lively when the server restarts.
    maxReconnectDelayMs: 5000,
    ...(fallback === undefined ? {} : { fallback }),
  });
  let transport = '';
  unsubscribers.push(
    client.on('state', ({ to }) => {
      log(`state → ${to.kind}${to.kind === 'open' ? '' : ` ${describeState(to)}`}`);
      if (to.kind === 'open') sessions.add(to.session.id);
      if (to.kind === 'open' && to.transport !== transport) {
        if (transport !== '') log(`transport ${transport} → ${to.transport}`);
        transport = to.transport;
      }
      renderState();
    }),
    client.on('message', renderMessage),
    client.on('resync', (event) =>
      log(`resync ${event.stream} (${event.reason}): earlier messages are gone`, true),
    ),
    client.on('error', (error) => log(`${error.code ?? 'error'}: ${error.message}`, true)),
  );
  renderState();
  client.connect().catch((error) => log(`connect: ${error.message}`, true));
}

// ------------------------------------------------------------------ forms and buttons

ui.connectForm.addEventListener('submit', (event) => {
  event.preventDefault();
  connect(ui.user.value.trim()).catch((error) => log(error.message, true));
});

ui.close.addEventListener('click', () => {
  client?.close().catch((error) => log(error.message, true));
});

ui.reconnect.addEventListener('click', () => {
  client?.reconnect();
});

ui.subscribeForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const channel = ui.channel.value.trim();
  if (client === null || channel === '' || subscriptions.has(channel)) return;
  try {
    // Kept across reconnects by the client; a refusal arrives on the `error` event.
    subscriptions.set(channel, client.subscribe(channel));
  } catch (error) {
    log(`subscribe ${channel}: ${error.message}`, true);
    return;
  }
  renderChannel(channel);
  log(`subscribed to ${channel}`);
});

ui.targetKind.addEventListener('change', () => {
  ui.targetName.value = ui.targetKind.value === 'user' ? ui.user.value : ui.channel.value;
});

ui.publishForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = ui.targetName.value.trim();
  const to = ui.targetKind.value === 'user' ? { user: name } : { channel: name };
  let data;
  try {
    data = JSON.parse(ui.payload.value);
  } catch {
    data = ui.payload.value;
  }
  ui.publishResult.textContent = 'publishing…';
  publish(to, data)
    .then((result) => {
      const where = result.positions.map((p) => `${p.stream} offset ${p.offset}`).join(', ');
      ui.publishResult.textContent = `stored at ${where}; delivered to ${result.delivered} session(s)`;
    })
    .catch((error) => {
      ui.publishResult.textContent = error.message;
    });
});

loadConfig().then(
  () => showNotice(''),
  (error) => showNotice(`Lifeline: ${error.message}.`),
);
renderState();
