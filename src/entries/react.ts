/**
 * `lifeline/react`: React hooks over the Lifeline client, built on
 * `useSyncExternalStore`. `react` is an optional peer dependency; the client itself comes
 * from `lifeline/client` (or `lifeline/wechat`).
 */
export {
  DEFAULT_MAX_MESSAGES,
  useChannel,
  useLifeline,
  useLifelineState,
  useMessages,
  type UseChannelOptions,
  type UseLifelineResult,
  type UseMessagesOptions,
} from '../bindings/react.js';
