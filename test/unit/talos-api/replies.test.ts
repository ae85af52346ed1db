import { status } from '@grpc/grpc-js';
import { TalosApiError, TalosMultiNodeError } from '../../../src/talos/api/errors';
import { failures, splitReplies, unwrapAll, unwrapSingle } from '../../../src/talos/api/replies';
import type { WireMetadata, WireReplyMessage } from '../../../src/talos/api/wire';

interface Msg extends WireReplyMessage {
  value: string;
}
const meta = (hostname: string, error = '', code?: number): WireMetadata => ({
  hostname,
  error,
  status: code === undefined ? null : { code, message: error },
});
const context = { method: 'ServiceList', fallbackNode: '10.0.0.1', endpoint: '10.0.0.1:50000' };

describe('per-node reply splitting', () => {
  it('labels an untagged single reply with the fallback node', () => {
    const results = splitReplies<Msg, string>([{ metadata: null, value: 'v' }], context, (m) => m.value);
    expect(results).toEqual([{ node: '10.0.0.1', ok: true, value: 'v' }]);
  });

  it('keeps every node of a fan-out reply, failures included, in order', () => {
    const messages: Msg[] = [
      { metadata: meta('cp-1'), value: 'a' },
      { metadata: meta('cp-2', 'rpc error: connection refused', status.UNAVAILABLE), value: '' },
      { metadata: meta('cp-3'), value: 'c' },
    ];
    const results = splitReplies(messages, context, (m) => m.value);
    expect(results.map((r) => [r.node, r.ok])).toEqual([
      ['cp-1', true],
      ['cp-2', false],
      ['cp-3', true],
    ]);
    const failed = failures(results);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBeInstanceOf(TalosApiError);
    expect(failed[0]).toMatchObject({ code: status.UNAVAILABLE, node: 'cp-2', method: 'ServiceList', details: 'rpc error: connection refused' });
  });

  it('reports an error text without a status as UNKNOWN', () => {
    const [result] = splitReplies<Msg, string>([{ metadata: meta('cp-1', 'boom'), value: '' }], context, (m) => m.value);
    expect(result).toMatchObject({ ok: false, error: { code: status.UNKNOWN, details: 'boom' } });
  });

  it('uses the status message when the error text is empty', () => {
    const message: Msg = { metadata: { hostname: 'cp-1', error: '', status: { code: status.PERMISSION_DENIED, message: 'not allowed' } }, value: '' };
    const [result] = splitReplies(message ? [message] : [], context, (m) => m.value);
    expect(result).toMatchObject({ ok: false, error: { code: status.PERMISSION_DENIED, details: 'not allowed' } });
  });

  it('does not treat hostname-only metadata or an OK status as a failure', () => {
    const messages: Msg[] = [
      { metadata: meta('cp-1'), value: 'a' },
      { metadata: { hostname: 'cp-2', error: '', status: { code: status.OK, message: '' } }, value: 'b' },
    ];
    expect(splitReplies(messages, context, (m) => m.value).every((r) => r.ok)).toBe(true);
  });

  it('unwrapAll returns values, throws a single failure as is and several as TalosMultiNodeError', () => {
    const ok = splitReplies<Msg, string>([{ metadata: meta('a'), value: '1' }, { metadata: meta('b'), value: '2' }], context, (m) => m.value);
    expect(unwrapAll(ok)).toEqual(['1', '2']);

    const oneBad = splitReplies<Msg, string>([{ metadata: meta('a'), value: '1' }, { metadata: meta('b', 'x', 14), value: '' }], context, (m) => m.value);
    expect(() => unwrapAll(oneBad)).toThrow(TalosApiError);

    const twoBad = splitReplies<Msg, string>([{ metadata: meta('a', 'x', 14), value: '' }, { metadata: meta('b', 'y', 13), value: '' }], context, (m) => m.value);
    try {
      unwrapAll(twoBad);
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(TalosMultiNodeError);
      expect((err as TalosMultiNodeError).failures.map((f) => f.node)).toEqual(['a', 'b']);
    }
  });

  it('unwrapSingle insists on exactly one reply', () => {
    expect(unwrapSingle([{ node: 'a', ok: true, value: 1 }], 'Version')).toBe(1);
    expect(() => unwrapSingle([], 'Version')).toThrow(/expected one reply, got 0/);
  });
});
