import { Writable } from 'node:stream';
import { createLogger } from '../../../src/kube/logger';
import { REDACTED, redactSecrets, redactText } from '../../../src/kube/redact';

const PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBLAH\n-----END EC PRIVATE KEY-----';

describe('redactSecrets', () => {
  it('replaces secret fields at any depth and keeps the rest', () => {
    const input = {
      name: 'cluster-a',
      spec: { ca: { crt: 'CERTDATA', key: 'KEYDATA' }, nested: [{ token: 'abc.def', other: 1 }] },
      talosconfig: 'context: x',
      kubeconfig: 'apiVersion: v1',
      privateKey: 'pk',
      'tls.key': 'k',
    };
    expect(redactSecrets(input)).toEqual({
      name: 'cluster-a',
      spec: { ca: { crt: REDACTED, key: REDACTED }, nested: [{ token: REDACTED, other: 1 }] },
      talosconfig: REDACTED, kubeconfig: REDACTED, privateKey: REDACTED, 'tls.key': REDACTED,
    });
    expect(input.spec.ca.key).toBe('KEYDATA'); // the input is untouched
  });

  it('redacts every data value of a Secret and data.value of bootstrap data', () => {
    const secret = { kind: 'Secret', metadata: { name: 's' }, data: { 'tls.crt': 'A', value: 'B', format: 'C' } };
    expect(redactSecrets(secret)).toEqual({ kind: 'Secret', metadata: { name: 's' }, data: { 'tls.crt': REDACTED, value: REDACTED, format: REDACTED } });
    expect(redactSecrets({ data: { value: 'machine config', format: 'yaml' } })).toEqual({ data: { value: REDACTED, format: 'yaml' } });
  });

  it('removes PEM private keys from free text and errors, and survives cycles', () => {
    expect(redactText(`before ${PEM} after`)).toBe(`before ${REDACTED} after`);
    const error = new Error(`failed to parse ${PEM}`);
    const out = redactSecrets(error) as { message: string; stack: string };
    expect(out.message).toBe(`failed to parse ${REDACTED}`);
    expect(out.stack).not.toContain('MHcCAQEEIBLAH');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redactSecrets(cyclic)).toEqual({ a: 1, self: '[Circular]' });
  });
});

describe('logger', () => {
  it('writes JSON lines without key material', () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const log = createLogger({ destination, level: 'debug' });
    log.child({ controller: 'x' }).info({ object: { spec: { bundle: { key: 'SECRET-KEY' } } }, token: 't0ken', err: new Error(PEM) }, 'hello');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 30, msg: 'hello', controller: 'x', token: REDACTED });
    expect(entry.object.spec.bundle.key).toBe(REDACTED);
    expect(lines[0]).not.toContain('SECRET-KEY');
    expect(lines[0]).not.toContain('MHcCAQEEIBLAH');
  });
});
