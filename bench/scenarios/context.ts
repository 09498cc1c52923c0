/** What every scenario gets, and the loop that alternates peers within each round. */
import type { BenchConfig } from '../config.js';
import type { PeerName } from '../protocol.js';
import { addSample, type Sample, type Table } from '../report.js';

export interface Context {
  readonly config: BenchConfig;
  /** Absolute time (Date.now()) after which no new measurement starts. */
  readonly deadline: number;
  /** Progress, on stderr (stdout carries the tables). */
  log(message: string): void;
}

export type Scenario = (ctx: Context) => Promise<Table[]>;

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * Round 1: ws, socketio, lifeline; round 2: the same again… One failed run is recorded
 * in the table and the others go on; once the time budget is spent, the rest is skipped.
 */
export async function alternate(
  ctx: Context,
  tables: readonly Table[],
  run: (peer: PeerName, round: number) => Promise<(Sample | undefined)[]>,
): Promise<void> {
  for (let round = 1; round <= ctx.config.rounds; round++) {
    for (const peer of ctx.config.peers) {
      if (Date.now() > ctx.deadline) {
        for (const t of tables)
          t.errors.push(`${peer}, round ${round}: skipped, time budget spent`);
        continue;
      }
      ctx.log(`${tables[0]?.id ?? ''}: ${peer}, round ${round}/${ctx.config.rounds}`);
      try {
        const samples = await run(peer, round);
        samples.forEach((sample, i) => {
          if (sample !== undefined && tables[i] !== undefined) addSample(tables[i], peer, sample);
        });
      } catch (error) {
        ctx.log(`  failed: ${message(error)}`);
        for (const t of tables) t.errors.push(`${peer}, round ${round}: ${message(error)}`);
      }
    }
  }
}
