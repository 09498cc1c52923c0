import type { BuildOptions } from 'esbuild';

/** Internal member names the browser bundles shorten besides `name_` ones. */
export declare const INTERNAL_PROPS: readonly string[];

/** esbuild options of a production browser bundle; `extra` adds entry, output and overrides. */
export declare function browserBundleOptions(extra?: BuildOptions): BuildOptions;

/** terser's pass over a production bundle built by esbuild in `format`. */
export declare function finishBundle(
  code: string,
  options: { format: 'esm' | 'iife' | 'cjs'; ecma?: 2017 | 2020 },
): Promise<string>;
