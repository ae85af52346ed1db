import type { KubeClient } from '../../../../src/kube/client/client';
import type { ResourceKind } from '../../../../src/kube/client/resource';
import { reconcileInFrame, type StatusObject } from '../../../../src/kube/controller/reconcile-frame';
import type { ReconcileContext } from '../../../../src/kube/controller/reconciler';
import { silentLogger } from '../../../../src/kube/log/logger';

interface Widget extends StatusObject {
  status?: { observedGeneration?: number; phase?: string; summary?: string };
}

const kind: ResourceKind = { group: 'example.com', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

function recordingClient(fail = false) {
  const patches: { subresource?: string; body: Record<string, unknown> }[] = [];
  const client = {
    patch: async (_kind: ResourceKind, _ns: string, _name: string, body: Record<string, unknown>, _type: string, options: { subresource?: string } = {}) => {
      patches.push({ subresource: options.subresource, body });
      if (fail) throw new Error('apiserver down');
      return { metadata: { name: 'w', namespace: 'ns', resourceVersion: '2' }, ...body };
    },
  } as unknown as KubeClient;
  return { client, patches };
}

const widget = (extra: Partial<Widget['metadata']> = {}): Widget => ({
  apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns', generation: 3, resourceVersion: '1', ...extra }, status: {},
});

function context(signal = new AbortController().signal): ReconcileContext & { errors: unknown[] } {
  const errors: unknown[] = [];
  const log = silentLogger();
  log.error = ((obj: unknown) => { errors.push(obj); }) as typeof log.error;
  return { log, signal, controller: 'widget', errors };
}

const frame = (client: KubeClient, obj: Widget, ctx: ReconcileContext) => ({ client, kind, obj, ctx, ownedConditions: [] });

describe('reconcileInFrame', () => {
  it('after a success: summary, observedGeneration and the story’s changes in one status patch, and the story’s result', async () => {
    const { client, patches } = recordingClient();
    const obj = widget();
    const result = await reconcileInFrame(frame(client, obj, context()), {
      run: async () => { obj.status!.phase = 'Ready'; return { requeueAfter: 5 }; },
      summarize: () => { obj.status!.summary = `phase ${obj.status!.phase}`; },
    });
    expect(result).toEqual({ requeueAfter: 5 });
    expect(patches).toEqual([{ subresource: 'status', body: { status: { phase: 'Ready', summary: 'phase Ready', observedGeneration: 3 } } }]);
  });

  it('a pass that leaves the spec alone (paused): its changes written, observedGeneration not moved', async () => {
    const { client, patches } = recordingClient();
    const obj = widget();
    obj.status = { observedGeneration: 2 };
    await reconcileInFrame(frame(client, obj, context()), { ignoresSpec: true, run: async () => { obj.status!.phase = 'Paused'; } });
    expect(patches).toEqual([{ subresource: 'status', body: { status: { phase: 'Paused' } } }]);
  });

  it('a failure to retry: what the story did before it is still written, without observedGeneration, and the error is rethrown', async () => {
    const { client, patches } = recordingClient();
    const obj = widget();
    await expect(reconcileInFrame(frame(client, obj, context()), {
      run: async () => { obj.status!.phase = 'Half'; throw new Error('node unreachable'); },
      failed: () => { obj.status!.summary = 'failed'; return { retry: true }; },
    })).rejects.toThrow('node unreachable');
    expect(patches).toEqual([{ subresource: 'status', body: { status: { phase: 'Half', summary: 'failed' } } }]);
  });

  it('a failure the story settles: its result, and the generation counts as observed', async () => {
    const { client, patches } = recordingClient();
    const obj = widget();
    const result = await reconcileInFrame(frame(client, obj, context()), {
      run: async () => { throw new Error('bad input'); },
      failed: () => ({ retry: false, result: { requeueAfter: 30_000 } }),
    });
    expect(result).toEqual({ requeueAfter: 30_000 });
    expect(patches[0]!.body).toEqual({ status: { observedGeneration: 3 } });
  });

  it('an aborted reconcile writes nothing and does not report', async () => {
    const { client, patches } = recordingClient();
    const controller = new AbortController();
    const obj = widget();
    let reported = false;
    await expect(reconcileInFrame(frame(client, obj, context(controller.signal)), {
      run: async () => { obj.status!.phase = 'Half'; controller.abort(); throw new Error('aborted'); },
      failed: () => { reported = true; return { retry: true }; },
    })).rejects.toThrow('aborted');
    expect(reported).toBe(false);
    expect(patches).toEqual([]);
  });

  it('a deleting object gets no summary and no observedGeneration', async () => {
    const { client, patches } = recordingClient();
    const obj = widget({ deletionTimestamp: '2026-12-03T00:00:00Z', finalizers: ['example.com/f'] });
    let summarized = false;
    await reconcileInFrame(frame(client, obj, context()), {
      run: async () => { obj.metadata.finalizers = []; },
      summarize: () => { summarized = true; },
    });
    expect(summarized).toBe(false);
    expect(patches).toHaveLength(1);
    expect(patches[0]!.subresource).toBeUndefined();
    expect(patches[0]!.body).toMatchObject({ metadata: { finalizers: [] } });
  });

  it('a patch that fails after a story failure is logged; the story’s error is the one thrown', async () => {
    const { client } = recordingClient(true);
    const obj = widget();
    const ctx = context();
    await expect(reconcileInFrame(frame(client, obj, ctx), {
      run: async () => { obj.status!.phase = 'Half'; throw new Error('story broke'); },
    })).rejects.toThrow('story broke');
    expect(ctx.errors).toEqual([{ err: 'apiserver down' }]);
  });

  it('only the written part is compared and sent, and the server’s answer is handed back', async () => {
    const { client, patches } = recordingClient();
    const obj = widget();
    let answered: Widget | undefined;
    await reconcileInFrame({
      ...frame(client, obj, context()),
      written: (o) => ({ ...o, status: { observedGeneration: o.status?.observedGeneration } }),
      onPatched: (w) => { answered = w; },
    }, { run: async () => { obj.status!.phase = 'not sent'; } });
    expect(patches).toEqual([{ subresource: 'status', body: { status: { observedGeneration: 3 } } }]);
    expect(answered?.metadata.resourceVersion).toBe('2');
  });
});
