/**
 * A recording stand-in for the globals SST gives sst.config.ts and infra/ (`$config`, `$app`,
 * `sst.aws.*`, `aws.*`, `$interpolate`, `$jsonStringify`). Running the real config against it
 * "synthesizes" the app without AWS or Pulumi: every component created, with the arguments it
 * got and the subscriptions made on it. Outputs are plain strings naming where they come from.
 */

export interface Recorded {
  kind: string;
  name: string;
  args: any;
}

export interface Subscription {
  on: Recorded;
  method: 'subscribe' | 'subscribeQueue';
  name: string;
  subscriber: any;
  args: any;
}

export const createFakeSst = (stage: string) => {
  const components: Recorded[] = [];
  const subscriptions: Subscription[] = [];

  const component = (kind: string) =>
    class {
      readonly recorded: Recorded;
      constructor(name: string, args: any = {}) {
        this.recorded = { kind, name, args };
        components.push(this.recorded);
      }
      get arn() {
        return `${this.recorded.name}.arn`;
      }
      get name() {
        return `${this.recorded.name}.name`;
      }
      get url() {
        return `${this.recorded.name}.url`;
      }
      /** the underlying resources of a component (`sst.aws.Queue` → `nodes.queue`) */
      get nodes() {
        return { queue: { name: `${this.recorded.name}.queueName` } };
      }
      /** `Dynamo.subscribe(name, subscriber, args)`, `Bus.subscribe(name, subscriber, args)`; a queue takes no name: `Queue.subscribe(subscriber, args)` */
      subscribe(...params: any[]) {
        const [name, subscriber, args = {}] = kind === 'sst.aws.Queue' ? [`${this.recorded.name}Subscriber`, params[0], params[1] ?? {}] : params;
        subscriptions.push({ on: this.recorded, method: 'subscribe', name, subscriber, args });
        return { name };
      }
      subscribeQueue(name: string, queue: any, args: any = {}) {
        subscriptions.push({ on: this.recorded, method: 'subscribeQueue', name, subscriber: queue, args });
        return { name };
      }
    };

  const globals = {
    $app: { name: 'tributary', stage },
    $config: (config: unknown) => config,
    $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) => strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), ''),
    $jsonStringify: (value: unknown) => JSON.stringify(value),
    sst: {
      Secret: component('sst.Secret'),
      aws: {
        Dynamo: component('sst.aws.Dynamo'),
        Bus: component('sst.aws.Bus'),
        Queue: component('sst.aws.Queue'),
        Function: component('sst.aws.Function'),
        Cron: component('sst.aws.Cron'),
      },
    },
    aws: {
      cloudwatch: { EventArchive: component('aws.cloudwatch.EventArchive'), MetricAlarm: component('aws.cloudwatch.MetricAlarm') },
      sqs: { QueuePolicy: component('aws.sqs.QueuePolicy') },
      sns: { Topic: component('aws.sns.Topic') },
    },
  };

  return {
    components,
    subscriptions,
    install() {
      Object.assign(globalThis, globals);
    },
    uninstall() {
      for (const key of Object.keys(globals)) delete (globalThis as Record<string, unknown>)[key];
    },
    one(kind: string, name: string): Recorded {
      const found = components.filter((c) => c.kind === kind && c.name === name);
      if (found.length !== 1) throw new Error(`expected one ${kind} named ${name}, found ${found.length}`);
      return found[0]!;
    },
    subscription(name: string): Subscription {
      const found = subscriptions.find((s) => s.name === name);
      if (!found) throw new Error(`no subscription named ${name}`);
      return found;
    },
  };
};

/** Applies a component's `transform` callback to an empty argument object, as SST does, and returns what it set. */
export const applyTransform = (transform: unknown, base: Record<string, unknown> = {}): Record<string, any> => {
  const args = structuredClone(base);
  if (typeof transform === 'function') transform(args, {}, 'name');
  else if (transform) Object.assign(args, transform);
  return args;
};
