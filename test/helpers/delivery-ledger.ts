/**
 * Bookkeeping for delivery tests: what the gateway acknowledged publishing (stream,
 * epoch, offset, and the test's own sequence number), and what each receiving
 * application saw. {@link DeliveryLedger.verify} compares the two per receiver and per
 * stream and describes every difference: a duplicate, a gap, a message out of order, a
 * message missing or not addressed to the receiver, an epoch that changed.
 *
 * A publish whose answer was lost (the gateway died while handling it) is *uncertain*: it
 * may or may not be stored. {@link DeliveryLedger.settle} decides from the deliveries: if
 * any recipient got it, it is stored at that one position and every recipient must have
 * it; if none did, it was not stored — and since offsets must be contiguous and every
 * stream ends with an acknowledged message, a stored message nobody got shows as a gap.
 */

/** One message as the application received it. `seq` is absent for untracked messages. */
export interface Delivery {
  readonly stream: string;
  readonly epoch: string;
  readonly offset: number;
  readonly seq: number | undefined;
}

/** A receiving application: the streams it must get, and what it got, in arrival order. */
export interface Receiver {
  readonly name: string;
  readonly streams: readonly string[];
  readonly deliveries: readonly Delivery[];
}

interface Logged {
  readonly epoch: string;
  readonly offset: number;
  readonly seq: number;
}

export interface Verdict {
  /** Tracked deliveries that were checked and found right. */
  readonly verified: number;
  /** Streams of the receiver that were checked. */
  readonly streams: number;
  /** Every difference found, one sentence each. */
  readonly problems: readonly string[];
}

/** What {@link DeliveryLedger.settle} found out about the uncertain publishes. */
export interface Settlement {
  /** (message, stream) pairs found stored: delivered to at least one recipient. */
  readonly stored: number;
  /** (message, stream) pairs no recipient received: not stored. */
  readonly absent: number;
  readonly problems: readonly string[];
}

export class DeliveryLedger {
  // stream → the tracked messages acknowledged on it, by offset.
  readonly #streams = new Map<string, Map<number, Logged>>();
  // seq → the streams an uncertain publish was addressed to.
  readonly #uncertain = new Map<number, readonly string[]>();

  /** Record a publish the gateway acknowledged: `seq` was stored at each of `positions`. */
  published(
    seq: number,
    positions: readonly { stream: string; epoch: string; offset: number }[],
  ): void {
    for (const { stream, epoch, offset } of positions) {
      let logged = this.#streams.get(stream);
      if (logged === undefined) this.#streams.set(stream, (logged = new Map()));
      const before = logged.get(offset);
      if (before !== undefined) {
        throw new Error(
          `the gateway acknowledged seq ${seq} and seq ${before.seq} at ${stream}@${offset}`,
        );
      }
      logged.set(offset, { epoch, offset, seq });
    }
  }

  /** Record a publish whose outcome is unknown: `seq` may or may not be on `streams`. */
  uncertain(seq: number, streams: readonly string[]): void {
    this.#uncertain.set(seq, streams);
  }

  /**
   * Decide every uncertain publish from what `receivers` got (call once, after the
   * deliveries are complete and before {@link verify}). A stored one becomes expected
   * like an acknowledged one, at the position where it was delivered.
   */
  settle(receivers: readonly Receiver[]): Settlement {
    const problems: string[] = [];
    let stored = 0;
    let absent = 0;
    for (const [seq, streams] of this.#uncertain) {
      for (const stream of streams) {
        const found = new Map<string, { epoch: string; offset: number; who: string[] }>();
        for (const r of receivers) {
          for (const d of r.deliveries) {
            if (d.stream !== stream || d.seq !== seq) continue;
            const key = `${d.epoch}@${d.offset}`;
            const at = found.get(key) ?? { epoch: d.epoch, offset: d.offset, who: [] };
            at.who.push(r.name);
            found.set(key, at);
          }
        }
        const [first, ...others] = [...found.values()];
        if (first === undefined) {
          absent++;
          continue;
        }
        stored++;
        if (others.length > 0) {
          const where = [...found.entries()].map(([k, v]) => `${k} (${v.who.join(', ')})`);
          problems.push(
            `${stream}: uncertain seq ${seq} delivered at several positions: ${where.join('; ')}`,
          );
          continue;
        }
        try {
          this.published(seq, [{ stream, epoch: first.epoch, offset: first.offset }]);
        } catch (error) {
          problems.push(`${stream}: uncertain seq ${seq}: ${(error as Error).message}`);
        }
      }
    }
    this.#uncertain.clear();
    return { stored, absent, problems };
  }

  /** Tracked messages acknowledged on `stream`, in offset order. */
  expected(stream: string): Logged[] {
    const logged = this.#streams.get(stream);
    return logged === undefined ? [] : [...logged.values()].sort((a, b) => a.offset - b.offset);
  }

  /** Tracked messages acknowledged in total (a message on two streams counts twice). */
  get total(): number {
    let n = 0;
    for (const logged of this.#streams.values()) n += logged.size;
    return n;
  }

  /**
   * Acknowledged messages `receiver` should have and has not received yet. Only deliveries
   * of an acknowledged message at its own position count: an uncertain publish that was
   * stored after all arrives as one more tracked delivery, and counting deliveries would
   * let it stand in for a message still on its way.
   */
  outstanding(receiver: Receiver): number {
    const got = new Map<string, Set<number>>();
    for (const d of receiver.deliveries) {
      if (d.seq === undefined || this.#streams.get(d.stream)?.get(d.offset)?.seq !== d.seq) {
        continue;
      }
      let offsets = got.get(d.stream);
      if (offsets === undefined) got.set(d.stream, (offsets = new Set()));
      offsets.add(d.offset);
    }
    let missing = 0;
    for (const stream of receiver.streams) {
      missing += (this.#streams.get(stream)?.size ?? 0) - (got.get(stream)?.size ?? 0);
    }
    return missing;
  }

  /**
   * Check one receiver. Per stream it must hold: one epoch, the one the gateway
   * acknowledged; offsets increasing by exactly one from the first delivery (no duplicate,
   * no gap); each tracked message at the offset the gateway acknowledged for it; the
   * tracked sequence numbers exactly those published to the stream, in publish order.
   */
  verify(receiver: Receiver): Verdict {
    const problems: string[] = [];
    const byStream = new Map<string, Delivery[]>();
    for (const d of receiver.deliveries) {
      let list = byStream.get(d.stream);
      if (list === undefined) byStream.set(d.stream, (list = []));
      list.push(d);
    }
    const who = receiver.name;
    for (const stream of byStream.keys()) {
      if (!receiver.streams.includes(stream)) {
        problems.push(`${who} received messages of ${stream}, which was not addressed to it`);
      }
    }
    let verified = 0;
    for (const stream of receiver.streams) {
      const got = byStream.get(stream) ?? [];
      const expected = this.expected(stream);
      const at = `${who} ${stream}`;
      const before = problems.length;
      if (got.length === 0) {
        problems.push(`${at}: nothing received (${expected.length} expected)`);
        continue;
      }
      const epoch = expected[0]?.epoch ?? got[0]?.epoch;
      for (const [i, d] of got.entries()) {
        if (d.epoch !== epoch) {
          problems.push(`${at}: delivery #${i} has epoch ${d.epoch}, the stream's is ${epoch}`);
        }
        const prev = got[i - 1];
        if (prev !== undefined && d.offset !== prev.offset + 1) {
          const what = d.offset <= prev.offset ? 'duplicate or reordered' : 'gap';
          problems.push(`${at}: offset ${prev.offset} was followed by ${d.offset} (${what})`);
        }
        if (d.seq === undefined) continue;
        const logged = this.#streams.get(stream)?.get(d.offset);
        if (logged?.seq !== d.seq) {
          problems.push(
            `${at}: offset ${d.offset} carried seq ${d.seq}, the gateway acknowledged ` +
              (logged === undefined ? 'no tracked message there' : `seq ${logged.seq}`),
          );
        }
      }
      const seqs = got.flatMap((d) => (d.seq === undefined ? [] : [d.seq]));
      const seen = new Set<number>();
      for (const [i, seq] of seqs.entries()) {
        const prev = seqs[i - 1];
        if (seen.has(seq)) problems.push(`${at}: seq ${seq} delivered more than once`);
        else if (prev !== undefined && seq < prev) {
          problems.push(`${at}: seq ${seq} delivered after seq ${prev}`);
        }
        seen.add(seq);
      }
      const wanted = new Set(expected.map((m) => m.seq));
      const missing = expected.filter((m) => !seen.has(m.seq));
      if (missing.length > 0) {
        const shown = missing.slice(0, 10).map((m) => `${m.seq}@${m.offset}`);
        problems.push(
          `${at}: ${missing.length} of ${expected.length} missing, first seq@offset: ${shown.join(', ')}`,
        );
      }
      const stray = [...seen].filter((seq) => !wanted.has(seq));
      if (stray.length > 0) {
        problems.push(
          `${at}: ${stray.length} not published to it: ${stray.slice(0, 10).join(', ')}`,
        );
      }
      if (problems.length === before) verified += seqs.length;
    }
    return { verified, streams: receiver.streams.length, problems };
  }
}
