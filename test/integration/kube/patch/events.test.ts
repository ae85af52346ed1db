// Events go to events.k8s.io/v1; repeats become one Event with a growing series count.
import { KubeEventRecorder } from '../../../../src/kube/patch/events';
import { ConfigMapKind, EventsV1Kind } from '../../../../src/kube/client/resource';
import type { KubeObject } from '../../../../src/kube/meta/object';
import { configMap, createConfigMap, createNamespace, testClient } from '../helpers';

interface EventV1 extends KubeObject {
  reason?: string;
  note?: string;
  type?: string;
  regarding?: { name?: string; kind?: string; uid?: string };
  series?: { count: number };
  reportingController?: string;
}

const client = testClient();

it('records an event and aggregates repeats into a series', async () => {
  const namespace = await createNamespace(client, 'kube-events');
  const subject = await createConfigMap(client, configMap(namespace, 'subject', {}));
  subject.apiVersion = 'v1';
  subject.kind = 'ConfigMap';
  const recorder = new KubeEventRecorder(client, 'talos-capi-test');
  recorder.event(subject, 'Warning', 'ConfigInvalid', 'the config is invalid');
  recorder.event(subject, 'Warning', 'ConfigInvalid', 'the config is invalid');
  recorder.event(subject, 'Warning', 'ConfigInvalid', 'the config is invalid');
  recorder.event(subject, 'Normal', 'Rendered', 'rendered bootstrap data');
  await recorder.flush();

  const { items } = await client.list<EventV1>(EventsV1Kind, { namespace });
  const byReason = Object.fromEntries(items.map((e) => [e.reason, e]));
  expect(items).toHaveLength(2);
  expect(byReason.ConfigInvalid).toMatchObject({
    type: 'Warning', note: 'the config is invalid', reportingController: 'talos-capi-test',
    regarding: { kind: 'ConfigMap', name: 'subject', uid: subject.metadata.uid }, series: { count: 3 },
  });
  expect(byReason.Rendered?.series).toBeUndefined();
});

it('never throws when an event cannot be recorded', async () => {
  const recorder = new KubeEventRecorder(client, 'talos-capi-test');
  const ghost = { ...configMap('no-such-namespace-xyz', 'ghost', {}), kind: ConfigMapKind.kind, apiVersion: 'v1' };
  expect(() => recorder.event(ghost, 'Normal', 'Anything', 'goes nowhere')).not.toThrow();
  await expect(recorder.flush()).resolves.toBeUndefined();
});
