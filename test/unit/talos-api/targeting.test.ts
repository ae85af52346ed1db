import { TalosClientConfigError } from '../../../src/talos/api/errors';
import { defaultReplyNode, targetMetadata } from '../../../src/talos/api/targeting';

describe('node targeting metadata', () => {
  it('sends nothing without a target (the endpoint answers for itself)', () => {
    expect(targetMetadata(undefined).getMap()).toEqual({});
  });

  it('sets a single-valued "node" for one-to-one proxying', () => {
    const md = targetMetadata({ node: ' 10.0.0.3 ' });
    expect(md.get('node')).toEqual(['10.0.0.3']);
    expect(md.get('nodes')).toEqual([]);
  });

  it('sends "nodes" as one metadata value per node, not one joined string', () => {
    const md = targetMetadata({ nodes: ['10.0.0.1', 'cp-2'] });
    expect(md.get('nodes')).toEqual(['10.0.0.1', 'cp-2']);
    expect(md.get('node')).toEqual([]);
  });

  it.each([
    [{ node: '' }, /invalid node ""/],
    [{ node: 'a,b' }, /invalid node "a,b"/],
    [{ nodes: ['a b'] }, /invalid node "a b"/],
    [{ nodes: [] }, /"nodes" is empty/],
    [{ nodes: ['a', 'a'] }, /lists a node twice/],
  ])('rejects %j', (target, message) => {
    expect(() => targetMetadata(target)).toThrow(TalosClientConfigError);
    expect(() => targetMetadata(target)).toThrow(message);
  });

  it('labels untagged replies with the targeted node, else the endpoint host', () => {
    expect(defaultReplyNode({ node: '10.0.0.3' }, '10.0.0.1')).toBe('10.0.0.3');
    expect(defaultReplyNode(undefined, '10.0.0.1')).toBe('10.0.0.1');
    expect(defaultReplyNode({ nodes: ['a', 'b'] }, '10.0.0.1')).toBe('10.0.0.1');
  });
});
