import { Writable } from 'node:stream';
import { createLogger } from '../../../../src/kube/log/logger';
import { REDACTED, redactSecrets, redactText } from '../../../../src/kube/log/redact';

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

function logSink(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { lines, log: createLogger({ destination, level: 'debug' }) };
}

const TOKEN = 'abc123.0123456789abcdef';
const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('logger', () => {
  it('writes JSON lines without key material', () => {
    const { lines, log } = logSink();
    log.child({ controller: 'x' }).info({ object: { spec: { bundle: { key: 'SECRET-KEY' } } }, token: 't0ken', err: new Error(PEM) }, 'hello');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 30, msg: 'hello', controller: 'x', token: REDACTED });
    expect(entry.object.spec.bundle.key).toBe(REDACTED);
    expect(lines[0]).not.toContain('SECRET-KEY');
    expect(lines[0]).not.toContain('MHcCAQEEIBLAH');
  });
});

describe('logger: secrets in any string, Secret names kept', () => {
  it('keeps Secret names under `secret`, but not a Talos bundle\'s base64 cluster secret', () => {
    const { lines, log } = logSink();
    log.info({ secret: 'default/cluster-a-talosconfig', bundle: { cluster: { id: 'x', secret: 'q0Ha3Ik+XkuZ8mEwbz5nL1W7S8Y7Ie8dP1bU0pQm9Mw=' } } }, 'wrote');
    const entry = JSON.parse(lines[0]!);
    expect(entry.secret).toBe('default/cluster-a-talosconfig');
    expect(entry.bundle.cluster).toEqual({ id: 'x', secret: REDACTED });
  });

  it('catches bootstrap tokens and base64 PEM keys in messages, bindings, free text and at any base64 alignment', () => {
    const { lines, log } = logSink();
    const encodedKey = base64(PEM);
    const talosconfigYaml = `context: a\ncontexts:\n  a:\n    key: ${encodedKey}\n`;
    log.child({ note: `joined with ${TOKEN}` }).warn(`token ${TOKEN} and key ${encodedKey}`);
    log.info({ detail: `blob ${base64(`xy${PEM}`)} end`, nested: { data: { talosconfig: base64(talosconfigYaml) } }, plain: 'node-1.example.org' }, 'msg %s', TOKEN);
    const text = lines.join('');
    expect(lines).toHaveLength(2);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(encodedKey.slice(0, 40));
    expect(text).not.toContain('MHcCAQEEIBLAH');
    expect(text).not.toContain(base64(talosconfigYaml).slice(0, 40));
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({ msg: `token ${REDACTED} and key ${REDACTED}`, note: `joined with ${REDACTED}` });
    expect(second).toMatchObject({ msg: `msg ${REDACTED}`, detail: `blob ${REDACTED} end`, plain: 'node-1.example.org' });
  });

  it('leaves base64 that holds no key (certificates, plain data) and ordinary names alone', () => {
    const certificate = base64('-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIRAJ\n-----END CERTIFICATE-----');
    expect(redactText(`ca ${certificate}`)).toBe(`ca ${certificate}`);
    expect(redactText('machine cp-0.abcdefghij and v1.13.6')).toBe('machine cp-0.abcdefghij and v1.13.6');
  });
});
