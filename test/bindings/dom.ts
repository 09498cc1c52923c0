/**
 * A DOM for the binding tests (happy-dom on the global object). Import this module FIRST
 * in a test file: the test utilities look for `document` when they load.
 *
 * happy-dom brings its own timers and a `WebSocket`; tests pass the WebSocket and the clock
 * they mean explicitly, so nothing depends on which one is global.
 */
import { GlobalRegistrator } from '@happy-dom/global-registrator';

if (!GlobalRegistrator.isRegistered) GlobalRegistrator.register({ url: 'http://localhost/' });

/** Remove the DOM again (call from the test file's `after`). */
export async function unregisterDom(): Promise<void> {
  if (GlobalRegistrator.isRegistered) await GlobalRegistrator.unregister();
}
