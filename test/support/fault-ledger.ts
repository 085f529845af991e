import { onTestFinished } from 'vitest';

/** What a fault case did and what came of it; see docs/faults.md for each case's unit. */
export interface LedgerCounts {
  /** HTTP deliveries sent, every copy and retry included */
  sent: number;
  /** distinct units the hub answered 2xx for (`accepted` or `duplicate`) */
  acked: number;
  /** acknowledged units whose effect the index shows */
  indexed: number;
  /** acknowledged units whose events reached the bus */
  published: number;
  /** acknowledged units missing from the index, or (when publication is tracked) from the bus */
  lost: number;
  /** units applied more than once: one change under several event ids, or one id published again where once is required */
  duplicated: number;
}

export interface LedgerOptions {
  /** whether an acknowledged unit needs to be in the index not to count as lost (default true; `false`: the case checks answers only) */
  tracksIndex?: boolean;
  /** whether an acknowledged unit also needs its events on the bus not to count as lost (default true) */
  tracksPublication?: boolean;
  /**
   * `once`: an event id on the bus twice is a duplicate (the bus outage case, nothing crashes).
   * `at-least-once`: an id may come again after a crash between the bus and the outbox removal;
   * only a change published under two different ids is a duplicate.
   */
  publication?: 'once' | 'at-least-once';
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

/**
 * Counts sent / acknowledged / indexed / published per unit of work, derives lost and duplicated,
 * and prints one table line when the test finishes (also when it fails: the line says what went
 * wrong before the assertion does). Units are whatever the case names: deliveries, updates, items.
 */
export class FaultLedger {
  #sent = 0;
  readonly #acked = new Set<string>();
  readonly #indexed = new Set<string>();
  /** unit → change → event ids published for it; id → times it was published */
  readonly #idsByUnit = new Map<string, Map<string, Set<string>>>();
  readonly #timesById = new Map<string, number>();
  readonly #doubles = new Set<string>();
  readonly #options: Required<LedgerOptions>;
  #note = '';

  constructor(
    readonly name: string,
    options: LedgerOptions = {},
  ) {
    const tracksIndex = options.tracksIndex ?? true;
    this.#options = { tracksIndex, tracksPublication: tracksIndex && (options.tracksPublication ?? true), publication: options.publication ?? 'once' };
  }

  sent(count = 1): void {
    this.#sent += count;
  }

  acked(unit: string): void {
    this.#acked.add(unit);
  }

  indexed(unit: string): void {
    this.#indexed.add(unit);
  }

  /**
   * One publication on the bus of event `id`, caused by `unit`: call it once per event as the bus
   * carried it (an id the bus carried twice is reported twice). `change` tells a unit's events
   * apart (a delivery that adds two links publishes two events); one change under two ids is a
   * change applied twice.
   */
  published(unit: string, id: string, change = ''): void {
    const changes = this.#idsByUnit.get(unit) ?? new Map<string, Set<string>>();
    changes.set(change, (changes.get(change) ?? new Set()).add(id));
    this.#idsByUnit.set(unit, changes);
    this.#timesById.set(id, (this.#timesById.get(id) ?? 0) + 1);
  }

  /** Case-specific figures printed after the counts, e.g. `404×31 403×6`. */
  note(text: string): void {
    this.#note = text;
  }

  /** A unit the case found applied twice by its own measure (e.g. an item version beyond its updates). */
  appliedTwice(unit: string): void {
    this.#doubles.add(unit);
  }

  counts(): LedgerCounts {
    const acked = [...this.#acked];
    const indexed = acked.filter((u) => this.#indexed.has(u));
    const published = acked.filter((u) => this.#idsByUnit.has(u));
    const lost = this.lostUnits();
    const duplicated = new Set(this.#doubles);
    for (const [unit, changes] of this.#idsByUnit) {
      for (const ids of changes.values()) {
        if (ids.size > 1) duplicated.add(unit);
        if (this.#options.publication === 'once' && [...ids].some((id) => this.#timesById.get(id)! > 1)) duplicated.add(unit);
      }
    }
    return {
      sent: this.#sent,
      acked: acked.length,
      indexed: this.#options.tracksIndex ? indexed.length : 0,
      published: this.#options.tracksPublication ? published.length : 0,
      lost: lost.length,
      duplicated: duplicated.size,
    };
  }

  /** The units acknowledged so far. */
  ackedUnits(): string[] {
    return [...this.#acked];
  }

  /** The units counted as lost, for an assertion message that names them. */
  lostUnits(): string[] {
    if (!this.#options.tracksIndex) return [];
    return [...this.#acked].filter((u) => !this.#indexed.has(u) || (this.#options.tracksPublication && !this.#idsByUnit.has(u)));
  }

  line(): string {
    const c = this.counts();
    const publishedCell = this.#options.tracksPublication ? pad(c.published, 6) : pad('—', 6);
    const indexedCell = this.#options.tracksIndex ? pad(c.indexed, 6) : pad('—', 6);
    return `fault case │ ${this.name.padEnd(66)} │ sent ${pad(c.sent, 6)} │ acked ${pad(c.acked, 6)} │ indexed ${indexedCell} │ published ${publishedCell} │ lost ${pad(c.lost, 4)} │ duplicated ${pad(c.duplicated, 4)}${this.#note ? ` │ ${this.#note}` : ''}`;
  }
}

/**
 * A ledger for the running test; its line is printed when the test finishes, pass or fail.
 * Call inside `it(…)`.
 */
export const faultLedger = (name: string, options?: LedgerOptions): FaultLedger => {
  const ledger = new FaultLedger(name, options);
  onTestFinished(() => {
    process.stdout.write(`${ledger.line()}\n`);
  });
  return ledger;
};
