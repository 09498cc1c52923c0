// The Lifeline demo page: one client, its live state, the messages it receives, and forms
// to publish and subscribe. Plain DOM code; every text from the network goes through
// `textContent`, never through HTML.
/* global document, window, location */
import * as Lifeline from '/lifeline.js';

const $ = (id) => document.getElementById(id);

const ui = {
  notice: $('notice'),
  connectForm: $('connect-form'),
  user: $('user'),
  state: $('state'),
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
  log: $('log'),
};

/** Most messages and log lines kept on the page. */
const MAX_ROWS = 200;

let config = null;
let client = null;
let unsubscribers = [];
/** Channel name → the client's subscription handle. */
const subscriptions = new Map();
let countdown = null;
let messageCount = 0;

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

async function publish(to, data) {
  const send = () =>
    fetch('/api/publish', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${config?.apiKey ?? ''}`,
      },
      body: JSON.stringify({ to, data }),
    });
  let res = await send();
  if (res.status === 401) {
    // A restarted dev server generates a new API key: fetch it once and try again.
    await loadConfig();
    res = await send();
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.message ?? `publish failed (${res.status})`);
  return body;
}

// ------------------------------------------------------------------ rendering

function addRow(list, row) {
  list.prepend(row);
  while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
}

function log(text, isError = false) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
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
  ui.stateDetail.textContent = describeState(state);
  ui.close.disabled = client === null || state.kind === 'closed' || state.kind === 'idle';
  ui.reconnect.disabled = client === null;
  ui.subscribe.disabled = client === null;
  // While waiting to reconnect, count down to the next attempt.
  if (state.kind === 'reconnecting') countdown = window.setTimeout(renderState, 250);
}

function renderMessage(message) {
  const li = document.createElement('li');
  li.dataset.stream = message.stream;
  const meta = document.createElement('div');
  meta.className = 'meta';
  for (const text of [
    message.stream,
    `offset ${message.offset}`,
    new Date(message.publishedAt).toLocaleTimeString(),
    `id ${message.id}`,
  ]) {
    const span = document.createElement('span');
    span.textContent = text;
    meta.append(span);
  }
  const data = document.createElement('pre');
  data.className = 'data';
  data.textContent =
    typeof message.data === 'string' ? message.data : JSON.stringify(message.data, null, 2);
  li.append(meta, data);
  addRow(ui.messages, li);
  messageCount += 1;
  ui.messageCount.textContent = String(messageCount);
}

function renderChannel(channel) {
  const li = document.createElement('li');
  const name = document.createElement('span');
  name.textContent = channel;
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
  li.append(name, remove);
  ui.channels.append(li);
}

// ------------------------------------------------------------------ client lifecycle

async function disposeClient() {
  for (const off of unsubscribers) off();
  unsubscribers = [];
  const old = client;
  client = null;
  subscriptions.clear();
  ui.channels.replaceChildren();
  if (old !== null) await old.close();
}

async function connect(user) {
  await disposeClient();
  const { path } = config ?? (await loadConfig());
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  client = Lifeline.createClient({
    url: `${scheme}://${location.host}${path}`,
    // Called before every attempt, so a restarted server's new secret is picked up.
    token: () => fetchToken(user),
    // Short waits keep the demo lively when the server restarts.
    maxReconnectDelayMs: 5000,
  });
  unsubscribers.push(
    client.on('state', ({ to }) => {
      log(`state → ${to.kind}${to.kind === 'open' ? '' : ` ${describeState(to)}`}`);
      renderState();
    }),
    client.on('message', renderMessage),
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
      ui.publishResult.textContent = `${result.id}: delivered to ${result.delivered} session(s)`;
    })
    .catch((error) => {
      ui.publishResult.textContent = error.message;
    });
});

// Close on purpose when the page goes away, so the gateway stops pushing at once.
window.addEventListener('pagehide', () => {
  client?.close();
});

loadConfig().then(
  () => showNotice(''),
  (error) => showNotice(`Lifeline: ${error.message}.`),
);
renderState();
