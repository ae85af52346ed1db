import { decodeEventPayload, toTalosEvent } from '../../../src/talos/api/events';
import { machineDefinition } from '../../../src/talos/api/proto';
import type { WireEvent } from '../../../src/talos/api/wire';

const events = (machineDefinition()['machine.MachineService'] as unknown as Record<string, {
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}>).Events!;

/** Encodes an Event the way a node sends it and decodes it the way our client receives it. */
const overTheWire = (event: object): WireEvent => events.responseDeserialize(events.responseSerialize(event)) as WireEvent;

describe('machine events', () => {
  it('decodes a SequenceEvent carried in Any with its talos/runtime type URL', () => {
    const wire = overTheWire({
      id: 'ev-1',
      actorId: 'actor-7',
      data: { '@type': 'talos/runtime/machine.SequenceEvent', sequence: 'boot', action: 'STOP', error: { code: 'FATAL', message: 'boom' } },
    });
    expect(toTalosEvent(wire)).toEqual({
      id: 'ev-1',
      actorId: 'actor-7',
      typeUrl: 'talos/runtime/machine.SequenceEvent',
      payload: { kind: 'sequence', sequence: 'boot', action: 'STOP', error: { code: 'FATAL', message: 'boom' } },
    });
  });

  it('decodes service state, machine status and config validation events', () => {
    const service = overTheWire({
      data: { '@type': 'talos/runtime/machine.ServiceStateEvent', service: 'etcd', action: 'RUNNING', message: 'ok', health: { healthy: true } },
    });
    expect(toTalosEvent(service).payload).toEqual({
      kind: 'serviceState',
      service: 'etcd',
      action: 'RUNNING',
      message: 'ok',
      health: { unknown: false, healthy: true, lastMessage: '' },
    });
    const status = overTheWire({
      data: { '@type': 'talos/runtime/machine.MachineStatusEvent', stage: 'BOOTING', status: { ready: false, unmetConditions: [{ name: 'etcd', reason: 'not bootstrapped' }] } },
    });
    expect(toTalosEvent(status).payload).toEqual({ kind: 'machineStatus', stage: 'BOOTING', ready: false, unmetConditions: [{ name: 'etcd', reason: 'not bootstrapped' }] });
    const invalid = overTheWire({ data: { '@type': 'talos/runtime/machine.ConfigValidationErrorEvent', error: 'bad' } });
    expect(toTalosEvent(invalid).payload).toEqual({ kind: 'configValidationError', error: 'bad' });
  });

  it('keeps an event of a type outside our protos as unknown with its type URL', () => {
    const wire = overTheWire({ data: { type_url: 'talos/runtime/machine.FutureEvent', value: Buffer.from([8, 1]) } });
    expect(toTalosEvent(wire).payload).toEqual({ kind: 'unknown', typeUrl: 'talos/runtime/machine.FutureEvent' });
  });

  it('treats an event without data as unknown', () => {
    expect(decodeEventPayload(null)).toEqual({ typeUrl: '', payload: { kind: 'unknown', typeUrl: '' } });
  });
});
