/**
 * `lifeline/vue`: Vue 3 composables over the Lifeline client. `vue` is an optional peer
 * dependency; the client itself comes from `lifeline/client` (or `lifeline/uniapp`).
 */
export {
  DEFAULT_MAX_MESSAGES,
  useChannel,
  useLifeline,
  useLifelineState,
  type UseChannelOptions,
  type UseLifelineOptions,
  type UseLifelineResult,
} from '../bindings/vue.js';
