import { stringify } from 'yaml';
import { TalosClientConfigError } from '../../../src/talos/api/errors';
import { loadTalosconfigContext } from '../../../src/talos/api/talosconfig';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const PEM = (label: string): string => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
const context = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  endpoints: ['10.0.0.1'],
  ca: b64(PEM('CERTIFICATE')),
  crt: b64(PEM('CERTIFICATE')),
  key: b64(PEM('ED25519 PRIVATE KEY')),
  ...extra,
});

describe('talosconfig parsing and context selection', () => {
  it('decodes the current context: endpoints, nodes and base64 PEM fields', () => {
    const text = stringify({ context: 'prod', contexts: { prod: context({ nodes: ['10.0.0.2'] }), dev: context() } });
    const ctx = loadTalosconfigContext(text);
    expect(ctx).toEqual({
      name: 'prod',
      endpoints: ['10.0.0.1'],
      nodes: ['10.0.0.2'],
      caPem: PEM('CERTIFICATE'),
      certPem: PEM('CERTIFICATE'),
      keyPem: PEM('ED25519 PRIVATE KEY'),
    });
  });

  it('selects a named context over the current one', () => {
    const text = stringify({ context: 'prod', contexts: { prod: context(), dev: context({ endpoints: ['dev.example'] }) } });
    expect(loadTalosconfigContext(text, 'dev')).toMatchObject({ name: 'dev', endpoints: ['dev.example'] });
  });

  it('uses the only context when no current context is named', () => {
    const text = stringify({ contexts: { solo: context() } });
    expect(loadTalosconfigContext(text).name).toBe('solo');
  });

  it('refuses to guess among several contexts without a current one', () => {
    const text = stringify({ contexts: { a: context(), b: context() } });
    expect(() => loadTalosconfigContext(text)).toThrow(/pick one of: a, b/);
  });

  it('names the missing context and the available ones', () => {
    const text = stringify({ context: 'x', contexts: { a: context() } });
    expect(() => loadTalosconfigContext(text)).toThrow('talosconfig has no context "x" (has: a)');
  });

  it('merges the deprecated target into endpoints, once', () => {
    const merged = loadTalosconfigContext(stringify({ context: 'c', contexts: { c: context({ target: '10.0.0.9' }) } }));
    expect(merged.endpoints).toEqual(['10.0.0.1', '10.0.0.9']);
    const same = loadTalosconfigContext(stringify({ context: 'c', contexts: { c: context({ target: '10.0.0.1' }) } }));
    expect(same.endpoints).toEqual(['10.0.0.1']);
  });

  it('treats absent endpoints as an empty list (Talos writes endpoints: [])', () => {
    const text = stringify({ context: 'c', contexts: { c: context({ endpoints: null }) } });
    expect(loadTalosconfigContext(text).endpoints).toEqual([]);
  });

  it('explains that only certificate auth is supported when crt/key are missing', () => {
    const text = stringify({ context: 'c', contexts: { c: { ...context(), crt: undefined, key: undefined, auth: { siderov1: { identity: 'me' } } } } });
    expect(() => loadTalosconfigContext(text)).toThrow(/has no "crt" \(only client-certificate authentication/);
  });

  it.each([
    ['not YAML', '{: nope', /not valid YAML/],
    ['a scalar', 'just text', /has no contexts/],
    ['no contexts', stringify({ context: 'a' }), /has no contexts/],
    ['only a context that is not a mapping', stringify({ contexts: { a: [] } }), /pick one of: \(none\)/],
  ])('rejects %s with a TalosClientConfigError', (_what, text, message) => {
    expect(() => loadTalosconfigContext(text)).toThrow(TalosClientConfigError);
    expect(() => loadTalosconfigContext(text)).toThrow(message);
  });

  it.each([
    ['a ca that is not base64', { ca: 'not base64!' }, /"ca" is not base64 of PEM text/],
    ['a key that is not PEM', { key: b64('hello') }, /"key" is not base64 of PEM text/],
    ['an empty ca', { ca: '' }, /has no "ca"$/],
  ])('rejects a context with %s', (_what, extra, message) => {
    const text = stringify({ context: 'c', contexts: { c: context(extra) } });
    expect(() => loadTalosconfigContext(text)).toThrow(message);
  });
});
