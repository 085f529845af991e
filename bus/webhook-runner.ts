import { listAllSubscriptions, listDueDeliveries, nextDueAt } from '../store/subscriptions.ts';
import { type DispatchDeps, SENDS_PER_SUBSCRIPTION, openLane, sendDue, sendsAtOnce } from './webhook-dispatcher.ts';

export interface WebhookRunnerOptions extends DispatchDeps {
  /** how often every subscription is looked at (deliveries a crash left claimed, retries of another process) */
  passMs: number;
  /** sends of one subscription at once (one while its attempts fail): a slow receiver holds its own lane, never another's */
  perSubscription?: number;
  /** sends of this process at once */
  maxInFlight?: number;
  /** of those, sends of failing subscriptions at once (default: half): the rest stays free for receivers that answer */
  failingInFlight?: number;
}

interface Lane {
  tenantId: string;
  /** sends of this subscription under way */
  inFlight: number;
  /** its last attempt failed, as last read: one send at a time, from the failing share of the process's */
  failing: boolean;
  /** looking for due deliveries now */
  filling: boolean;
  /** asked to look again once the current look ends */
  again: boolean;
  timer?: NodeJS.Timeout;
}

/** setTimeout's ceiling (about 24.8 days); later retries are found by a pass anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The local dispatcher: one lane per subscription, kept full — up to `perSubscription` sends at
 * once, a free slot taking the next due delivery as soon as a send ends. A lane is looked at when
 * its events are queued (the publisher tells it), when a send ends, when its soonest retry is due
 * (a timer), and on a periodic pass over every subscription of the hub (what a restart or a crash
 * left). The process sends at most `maxInFlight` at once, first come first served, except that
 * the sends of failing subscriptions (their last attempt failed) take one slot per subscription
 * and together at most `failingInFlight` of them: however many receivers hang, the rest of the
 * process's slots stay free for those that answer. So a slow or dead receiver holds its own lane
 * only: it delays neither ingest nor other subscriptions or tenants.
 */
export class WebhookRunner {
  readonly #lanes = new Map<string, Lane>();
  readonly #waiting: { failing: boolean; admit: () => void }[] = [];
  #inFlight = 0;
  #failingInFlight = 0;
  #stopped = true;
  #pass: NodeJS.Timeout | undefined;
  #passing = false;

  constructor(private readonly options: WebhookRunnerOptions) {}

  start(): void {
    this.#stopped = false;
    this.#pass = setInterval(() => void this.kickAll(), this.options.passMs);
    this.#pass.unref();
    void this.kickAll();
  }

  /** Stops looking for work and waits for the sends under way (each ends within its 15 s). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pass);
    for (const lane of this.#lanes.values()) clearTimeout(lane.timer);
    while (this.size > 0 || this.#passing) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Lanes sending, looking for work, or asked to (how tests wait for the dispatcher to settle). */
  get size(): number {
    return [...this.#lanes.values()].filter((l) => l.inFlight > 0 || l.filling || l.again).length;
  }

  /** Looks for a subscription's due deliveries as soon as possible. */
  kick(tenantId: string, subscriptionId: string): void {
    if (this.#stopped) return;
    const lane = this.#lanes.get(subscriptionId) ?? { tenantId, inFlight: 0, failing: false, filling: false, again: false };
    this.#lanes.set(subscriptionId, lane);
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (lane.filling) {
      lane.again = true;
      return;
    }
    void this.#fill(subscriptionId, lane);
  }

  /** A pass over every subscription of the hub. */
  async kickAll(): Promise<void> {
    if (this.#stopped || this.#passing) return;
    this.#passing = true;
    try {
      for (const { tenantId, subscriptionId } of await listAllSubscriptions(this.options.db)) this.kick(tenantId, subscriptionId);
    } catch (error) {
      this.options.log.warn('webhook dispatcher: the pass over subscriptions failed, the next one retries', { error: String(error) });
    } finally {
      this.#passing = false;
    }
  }

  get #max(): number {
    return this.options.maxInFlight ?? 32;
  }

  get #maxFailing(): number {
    return this.options.failingInFlight ?? Math.max(1, Math.floor(this.#max / 2));
  }

  /** A slot of the process's sends; a failing subscription's from the failing share. Released by calling what it resolves. */
  #acquire = (failing: boolean): Promise<() => void> =>
    new Promise((resolve) => {
      this.#waiting.push({
        failing,
        admit: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.#inFlight--;
            if (failing) this.#failingInFlight--;
            this.#admit();
          });
        },
      });
      this.#admit();
    });

  /** Admits waiting sends in the order they came while slots are free; a failing one waits only for the failing share. */
  #admit(): void {
    for (let i = 0; i < this.#waiting.length && this.#inFlight < this.#max; ) {
      const waiter = this.#waiting[i]!;
      if (waiter.failing && this.#failingInFlight >= this.#maxFailing) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#inFlight++;
      if (waiter.failing) this.#failingInFlight++;
      waiter.admit();
    }
  }

  /** Takes due deliveries into the lane's free slots; with nothing due and nothing under way, sets a timer for the soonest retry. */
  async #fill(subscriptionId: string, lane: Lane): Promise<void> {
    lane.filling = true;
    let idle = false;
    try {
      do {
        lane.again = false;
        const perSubscription = this.options.perSubscription ?? SENDS_PER_SUBSCRIPTION;
        if ((lane.failing ? 1 : perSubscription) - lane.inFlight <= 0) break;
        const stored = await openLane(this.options, lane.tenantId, subscriptionId);
        if (!stored) break;
        lane.failing = stored.health.failingSince !== undefined;
        const free = sendsAtOnce(stored.health, perSubscription) - lane.inFlight;
        if (free <= 0) break;
        const due = await listDueDeliveries(this.options.db, subscriptionId, this.options.clock(), free);
        for (const key of due) {
          lane.inFlight++;
          void this.#send(subscriptionId, lane, lane.failing, () => sendDue(this.options, stored, key));
        }
        idle = due.length === 0 && lane.inFlight === 0;
      } while (lane.again && !this.#stopped);
    } catch (error) {
      this.options.log.warn('webhook dispatcher: a lane failed, the next pass retries it', { subscriptionId, error: String(error) });
    } finally {
      lane.filling = false;
    }
    if (this.#stopped) {
      // A look asked for while this one ran is not taken after a stop: `stop` waits for no lane that only asked.
      lane.again = false;
      return;
    }
    if (lane.again) return this.kick(lane.tenantId, subscriptionId);
    if (idle) await this.#sleepUntilDue(subscriptionId, lane);
  }

  async #send(subscriptionId: string, lane: Lane, failing: boolean, send: () => Promise<unknown>): Promise<void> {
    const release = await this.#acquire(failing);
    try {
      await send();
    } catch (error) {
      // The claim lapses and the delivery is due again: nothing is lost.
      this.options.log.warn('webhook delivery could not be recorded, it is sent again after its claim lapses', { subscriptionId, error: String(error) });
    } finally {
      release();
      lane.inFlight--;
      // A free slot: the next due delivery, or a timer for the soonest retry.
      this.kick(lane.tenantId, subscriptionId);
    }
  }

  async #sleepUntilDue(subscriptionId: string, lane: Lane): Promise<void> {
    const next = await nextDueAt(this.options.db, subscriptionId).catch(() => undefined);
    if (!next || this.#stopped || lane.filling || lane.inFlight > 0 || lane.timer) return;
    // Due already, yet nothing was listed (another dispatcher holds it, or the index lags): not a busy loop.
    const wait = Math.max(1_000, Date.parse(next) - this.options.clock().getTime() + 10);
    lane.timer = setTimeout(() => this.kick(lane.tenantId, subscriptionId), Math.min(wait, MAX_TIMER_MS));
    lane.timer.unref();
  }
}
