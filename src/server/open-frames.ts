/**
 * What an open session does with each client frame other than `hello`: answer pings,
 * record acks, run the subscription and request hooks, replay streams on `resume`, and
 * always reply.
 *
 * Hooks are application code: whatever they throw becomes a `reply` with a safe,
 * generic message (PROTOCOL.md §5), is logged, and leaves the session open.
 */
import {
  CHANNEL_STREAM_PREFIX,
  EMPTY_EPOCH,
  MAX_NAME_LENGTH,
  ReplyErrorCode,
  channelOfStream,
  channelStream,
  encodeServerFrame,
  type AckFrame,
  type ClientFrame,
  type HelloFrame,
  type PublishFrame,
  type RequestFrame,
  type ResumeFrame,
  type StreamPosition,
  type SubscribeFrame,
  type UnsubscribeFrame,
} from '../protocol/index.js';
import type { Profile } from './session-context.js';
import type { Session } from './session.js';
import { ForbiddenError, PublishError } from './types.js';

type OpenFrame = Exclude<ClientFrame, HelloFrame>;

/** Reply messages clients may show; never internal error text. */
export const REPLY_MESSAGE: Readonly<Record<ReplyErrorCode, string>> = {
  [ReplyErrorCode.BAD_REQUEST]: 'The request is not valid.',
  [ReplyErrorCode.FORBIDDEN]: 'Not allowed.',
  [ReplyErrorCode.NOT_SUPPORTED]: 'This gateway does not answer requests.',
  [ReplyErrorCode.HANDLER_ERROR]: 'The request could not be handled.',
};

function replyError(session: Session, id: string, code: ReplyErrorCode, message?: string): void {
  session.send({
    type: 'reply',
    id,
    ok: false,
    error: { code, message: message ?? REPLY_MESSAGE[code] },
  });
}

function replyOk(session: Session, id: string): boolean {
  return session.send({ type: 'reply', id, ok: true });
}

function profileOf(session: Session): Profile {
  const profile = session.profile;
  if (profile === undefined) throw new Error('frame handled on a session that never opened');
  return profile;
}

export function handleOpenFrame(session: Session, frame: OpenFrame): void {
  switch (frame.type) {
    case 'ping':
      session.send(frame.t === undefined ? { type: 'pong' } : { type: 'pong', t: frame.t });
      return;
    case 'ack':
      ack(session, frame);
      return;
    case 'subscribe':
      session.serial(() => subscribe(session, frame));
      return;
    case 'unsubscribe':
      // Serialized too: an unsubscribe must not overtake the subscribe before it.
      session.serial(() => Promise.resolve(unsubscribe(session, frame)));
      return;
    case 'resume':
      // Serialized with subscriptions: a resume must see the channels subscribed before it.
      session.serial(() => resume(session, frame));
      return;
    case 'request':
    case 'publish':
      // Requests are independent of each other and may be answered out of order.
      request(session, frame).catch((error: unknown) =>
        session.fail(error, 'unexpected error while answering a request'),
      );
      return;
  }
}

/** Whether the session receives `stream`: its user's inbox or a channel it subscribed to. */
function receives(session: Session, profile: Profile, stream: string): boolean {
  if (stream === profile.userStream) return true;
  const channel = channelOfStream(stream);
  return channel !== undefined && session.channels.has(channel);
}

function ack(session: Session, frame: AckFrame): void {
  const profile = profileOf(session);
  // Only streams this session receives are recorded, so a client cannot grow the store
  // with made-up stream names.
  const positions = frame.positions.filter((p) => receives(session, profile, p.stream));
  if (positions.length === 0) return;
  const consumer = { userId: profile.userId, tenantId: profile.tenantId, device: profile.device };
  session.context.options.ackStore
    .ack(consumer, positions)
    .catch((error: unknown) => session.fail(error, 'could not record an ack'));
}

/** Ask `authorizeSubscribe`; on refusal or failure, reply and resolve false. */
async function authorize(session: Session, id: string, channel: string): Promise<boolean> {
  const hook = session.context.options.authorizeSubscribe;
  if (hook === undefined) return true;
  try {
    // Anything but `true` refuses: a hook that forgets to return must not open a channel.
    if ((await hook(session.info(), channel)) === true) return true;
    replyError(session, id, ReplyErrorCode.FORBIDDEN);
  } catch (error) {
    if (error instanceof ForbiddenError) {
      replyError(session, id, ReplyErrorCode.FORBIDDEN);
    } else {
      session.report(error, 'authorizeSubscribe failed');
      replyError(session, id, ReplyErrorCode.HANDLER_ERROR);
    }
  }
  return false;
}

async function subscribe(session: Session, frame: SubscribeFrame): Promise<void> {
  const { id, channel, from } = frame;
  const stream = channelStream(channel);
  if (stream.length > MAX_NAME_LENGTH) {
    // A push names its stream, and stream names are capped on the wire.
    return replyError(
      session,
      id,
      ReplyErrorCode.BAD_REQUEST,
      `Channel names may have at most ${MAX_NAME_LENGTH - CHANNEL_STREAM_PREFIX.length} characters.`,
    );
  }
  if (session.channels.has(channel)) {
    replyOk(session, id);
    return;
  }
  if (!(await authorize(session, id, channel)) || !session.isOpen) return;
  // Without `from`, the subscription starts at the channel's head now: read before the
  // session joins the receivers and replayed from, so nothing appended in between is
  // missed; the reply tells the client, so its next reconnect resumes from here.
  const head =
    from === undefined ? await session.context.options.messageLog.head(stream) : undefined;
  if (!session.isOpen || session.channels.has(channel)) return void replyOk(session, id);
  const start =
    from ??
    (head === undefined
      ? { epoch: EMPTY_EPOCH, offset: 0 }
      : { epoch: head.epoch, offset: head.offset });
  session.addChannel(channel);
  session.context.registry.listen(session, stream);
  if (start !== undefined)
    session.beginCatchUp({ stream, epoch: start.epoch, offset: start.offset });
  const replied =
    from === undefined && start !== undefined
      ? session.send({ type: 'reply', id, ok: true, data: { position: { stream, ...start } } })
      : replyOk(session, id);
  if (!replied) return;
  if (start !== undefined) await session.runCatchUp(stream);
}

/**
 * Replay streams from the client's positions (a live gap, PROTOCOL.md §10.3), one after
 * another, then reply: when the reply is written, every replayed and held push is too.
 */
async function resume(session: Session, frame: ResumeFrame): Promise<void> {
  const profile = profileOf(session);
  const wanted = new Map<string, StreamPosition>();
  for (const p of frame.positions) {
    if (receives(session, profile, p.stream)) wanted.set(p.stream, p);
  }
  // Held from now on, all of them: a later stream's pushes wait while an earlier one replays.
  for (const position of wanted.values()) session.beginCatchUp(position);
  for (const stream of wanted.keys()) {
    if (!session.isOpen) return;
    await session.runCatchUp(stream);
  }
  replyOk(session, frame.id);
}

function unsubscribe(session: Session, frame: UnsubscribeFrame): void {
  const stream = channelStream(frame.channel);
  if (session.deleteChannel(frame.channel)) session.context.registry.unlisten(session, stream);
  session.endCatchUp(stream);
  replyOk(session, frame.id);
}

function encodeReplyError(id: string, code: ReplyErrorCode): string {
  return encodeServerFrame({
    type: 'reply',
    id,
    ok: false,
    error: { code, message: REPLY_MESSAGE[code] },
  });
}

/**
 * Requests are de-duplicated per user (and device, when the client names one) by id: a
 * client re-sends an unanswered request after reconnecting, on a new session, and the
 * handler must run once. The duplicate is answered with the original reply.
 */
async function request(session: Session, frame: RequestFrame | PublishFrame): Promise<void> {
  const { options } = session.context;
  const run = frame.type === 'request' ? options.onMessage : options.authorizePublish;
  if (run === undefined) {
    const code = frame.type === 'request' ? ReplyErrorCode.NOT_SUPPORTED : ReplyErrorCode.FORBIDDEN;
    return replyError(session, frame.id, code);
  }
  const { userStream, device } = profileOf(session);
  // Publishes share the request ids' de-duplication: a re-sent publish is stored once.
  const key = JSON.stringify([device ?? null, frame.id]);
  const text = await session.context.requests.run(userStream, key, () => answer(session, frame));
  session.sendEncoded(text);
}

/** A `publish` frame: ask `authorizePublish`, then publish as the gateway would. */
async function publishFrom(session: Session, frame: PublishFrame): Promise<unknown> {
  const allowed = await session.context.options.authorizePublish?.(
    session.info(),
    frame.to,
    frame.data,
  );
  if (allowed !== true) throw new ForbiddenError('publish refused by authorizePublish');
  const { tenantId } = profileOf(session);
  const to =
    'channel' in frame.to
      ? { channel: frame.to.channel }
      : tenantId === undefined
        ? { user: frame.to.user }
        : { user: frame.to.user, tenant: tenantId };
  const result = await session.context.publish({ to, data: frame.data });
  return { id: result.id, positions: result.positions };
}

/**
 * Run `onMessage` (or a client publish) and encode its reply frame; never rejects for the
 * hook's own errors.
 */
async function answer(session: Session, frame: RequestFrame | PublishFrame): Promise<string> {
  let data: unknown;
  try {
    data =
      frame.type === 'publish'
        ? await publishFrom(session, frame)
        : await session.context.options.onMessage?.(session.info(), frame.data);
  } catch (error) {
    if (error instanceof ForbiddenError)
      return encodeReplyError(frame.id, ReplyErrorCode.FORBIDDEN);
    if (error instanceof PublishError)
      return encodeReplyError(frame.id, ReplyErrorCode.BAD_REQUEST);
    session.report(error, frame.type === 'publish' ? 'client publish failed' : 'onMessage failed');
    return encodeReplyError(frame.id, ReplyErrorCode.HANDLER_ERROR);
  }
  try {
    return encodeServerFrame(
      data === undefined
        ? { type: 'reply', id: frame.id, ok: true }
        : { type: 'reply', id: frame.id, ok: true, data },
    );
  } catch (error) {
    session.report(error, 'onMessage returned a value that cannot be sent as JSON');
    return encodeReplyError(frame.id, ReplyErrorCode.HANDLER_ERROR);
  }
}
