// Kubernetes Events for the objects we reconcile. events.k8s.io/v1 first, core/v1 if that group is
// unavailable. Repeats of the same event are aggregated into one object (series count / count)
// instead of creating a new Event each time. Sending is fire-and-forget: an event never fails a reconcile.
import { hostname } from 'node:os';
import { isNotFound } from '../client/api-error';
import type { KubeClient } from '../client/client';
import { type Logger, silentLogger } from '../log/logger';
import type { KubeObject } from '../meta/object';
import { CoreEventKind, EventsV1Kind } from '../client/resource';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  event(obj: KubeObject, type: EventType, reason: string, message: string, action?: string): void;
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

interface SentEvent {
  name: string;
  namespace: string;
  api: 'events.k8s.io/v1' | 'v1';
  count: number;
}

const MAX_NOTE_BYTES = 1024;
const MAX_AGGREGATED = 4096;

/** MicroTime as the API serialises it: RFC 3339 with six fractional digits. */
export function microTime(now: Date = new Date()): string {
  return now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function truncateNote(message: string): string {
  if (Buffer.byteLength(message) <= MAX_NOTE_BYTES) return message;
  let cut = message.slice(0, MAX_NOTE_BYTES - 3);
  while (Buffer.byteLength(cut) > MAX_NOTE_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

export function referenceTo(obj: KubeObject): ObjectReference {
  const { name, namespace, uid, resourceVersion } = obj.metadata;
  return { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid, resourceVersion };
}

/** Events with the same object, type, reason, action and message are one series. */
export function aggregationKey(obj: KubeObject, type: string, reason: string, action: string, message: string): string {
  const m = obj.metadata;
  return [obj.kind, m.namespace, m.name, m.uid, type, reason, action, message].join('\u0000');
}

export class KubeEventRecorder implements EventRecorder {
  private readonly sent = new Map<string, SentEvent>();
  private useCoreApi = false;
  private pending: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly instance: string;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    options: { logger?: Logger; instance?: string } = {},
  ) {
    this.log = (options.logger ?? silentLogger()).child({ component: 'events' });
    this.instance = options.instance ?? `${component}-${hostname()}`;
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string, action = reason): void {
    // Serialised so that repeats of one event see the name of the first.
    this.pending = this.pending.then(() =>
      this.send(obj, type, reason, truncateNote(message), action).catch((error: unknown) =>
        this.log.warn({ err: error, reason, object: obj.metadata.name }, 'could not record event'),
      ),
    );
  }

  /** Resolves when all events recorded so far were sent (or failed). */
  flush(): Promise<void> {
    return this.pending;
  }

  private async send(obj: KubeObject, type: EventType, reason: string, note: string, action: string): Promise<void> {
    const key = aggregationKey(obj, type, reason, action, note);
    const previous = this.sent.get(key);
    if (previous) {
      try {
        await this.bump(previous);
        return;
      } catch (error) {
        // The Event expired (TTL) or was deleted: start a new series.
        if (!isNotFound(error)) throw error;
        this.sent.delete(key);
      }
    }
    const created = await this.create(obj, type, reason, note, action);
    if (this.sent.size >= MAX_AGGREGATED) this.sent.delete(this.sent.keys().next().value!);
    this.sent.set(key, created);
  }

  private async bump(event: SentEvent): Promise<void> {
    event.count += 1;
    const now = new Date();
    if (event.api === 'events.k8s.io/v1') {
      const patch = { series: { count: event.count, lastObservedTime: microTime(now) } };
      await this.client.patch(EventsV1Kind, event.namespace, event.name, patch, 'merge');
    } else {
      await this.client.patch(CoreEventKind, event.namespace, event.name, { count: event.count, lastTimestamp: now.toISOString() }, 'merge');
    }
  }

  private async create(obj: KubeObject, type: EventType, reason: string, note: string, action: string): Promise<SentEvent> {
    const now = new Date();
    const namespace = obj.metadata.namespace || 'default';
    // client-go's naming: object name plus a hex timestamp, unique enough per object.
    const name = `${obj.metadata.name ?? 'object'}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    const regarding = referenceTo(obj);
    if (!this.useCoreApi) {
      try {
        await this.client.create(EventsV1Kind, {
          apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name, namespace },
          eventTime: microTime(now), reportingController: this.component, reportingInstance: this.instance,
          action, reason, regarding, note, type,
        });
        return { name, namespace, api: 'events.k8s.io/v1', count: 1 };
      } catch (error) {
        if (!isNotFound(error) || !(await this.eventsApiMissing())) throw error;
        this.useCoreApi = true;
        this.log.info('events.k8s.io/v1 unavailable; recording core/v1 Events');
      }
    }
    await this.client.create(CoreEventKind, {
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace }, involvedObject: regarding, reason,
      message: note, type, source: { component: this.component }, firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(), count: 1, reportingComponent: this.component, reportingInstance: this.instance,
      action,
    });
    return { name, namespace, api: 'v1', count: 1 };
  }

  // A 404 on create means the namespace is gone, or the API group is missing; only the latter switches APIs.
  private async eventsApiMissing(): Promise<boolean> {
    try {
      await this.client.request('GET', '/apis/events.k8s.io/v1');
      return false;
    } catch (error) {
      return isNotFound(error);
    }
  }
}
