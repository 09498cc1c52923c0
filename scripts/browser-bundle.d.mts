import type { BuildOptions } from 'esbuild';

/** Internal member names the browser bundles shorten besides `name_` ones. */
export declare const INTERNAL_PROPS: readonly string[];

/** esbuild options of a production browser bundle; `extra` adds entry, output and overrides. */
export declare function browserBundleOptions(extra?: BuildOptions): BuildOptions;
