// Bad input to the client fails at once with TalosClientConfigError, before
// any connection is made (constructing a client does not connect).
import { TalosClient } from '../../../src/talos/api/client';
import { TalosClientConfigError } from '../../../src/talos/api/errors';
import { makeClientCertificate, makeForeignOsCa, talosconfigYaml } from '../../support/talos-fixtures';

let talosconfig: string;
let parts: { caPem: string; certPem: string; keyPem: string };

beforeAll(async () => {
  const ca = await makeForeignOsCa();
  const admin = await makeClientCertificate(ca);
  parts = { caPem: ca.crt, certPem: admin.crt, keyPem: admin.key };
  talosconfig = talosconfigYaml({ contextName: 'c', endpoints: ['10.0.0.1', '[fd00::1]:6000'], ...parts });
});

describe('client construction and request checks', () => {
  it('takes endpoints from the context, normalised, and reads the certificate roles', () => {
    const client = TalosClient.fromTalosconfig(talosconfig);
    expect(client.endpoints).toEqual(['10.0.0.1:50000', '[fd00::1]:6000']);
    expect(client.identity.roles).toEqual(['os:admin']);
    client.close();
  });

  it('lets the caller replace the endpoints (as CACPPT does with Machine addresses)', () => {
    const client = TalosClient.fromTalosconfig(talosconfig, { endpoints: ['192.168.1.5'] });
    expect(client.endpoints).toEqual(['192.168.1.5:50000']);
    client.close();
  });

  it.each([
    ['no endpoints', { endpoints: [] }, /no endpoints/],
    ['a URL endpoint', { endpoints: ['https://10.0.0.1'] }, /not a URL/],
  ])('refuses %s', (_what, options, message) => {
    expect(() => TalosClient.fromTalosconfig(talosconfig, options)).toThrow(TalosClientConfigError);
    expect(() => TalosClient.fromTalosconfig(talosconfig, options)).toThrow(message);
  });

  it('refuses a key that does not match the certificate', async () => {
    const other = await makeClientCertificate({ crt: parts.caPem, key: (await makeForeignOsCa()).key });
    expect(() => new TalosClient({ ...parts, keyPem: other.key, endpoints: ['10.0.0.1'] })).toThrow(/does not belong/);
  });

  it.each([
    ['a member ID that is not a uint64', (c: TalosClient) => c.etcdRemoveMemberByID('-5'), /not an unsigned 64-bit integer/],
    ['an empty config', (c: TalosClient) => c.applyConfiguration({ config: '', mode: 'AUTO' }), /non-empty config/],
    ['an upgrade without image', (c: TalosClient) => c.upgrade({ image: ' ' }), /needs an image/],
    ['a negative try timeout', (c: TalosClient) => c.applyConfiguration({ config: 'x', mode: 'TRY', tryModeTimeoutMs: -1 }), /invalid duration/],
  ])('rejects %s before sending anything', async (_what, call, message) => {
    const client = TalosClient.fromTalosconfig(talosconfig);
    try {
      await expect(call(client)).rejects.toThrow(TalosClientConfigError);
      await expect(call(client)).rejects.toThrow(message);
    } finally {
      client.close();
    }
  });

  it('rejects a bad node target without sending anything', async () => {
    const client = TalosClient.fromTalosconfig(talosconfig);
    try {
      await expect(client.version({ target: { nodes: [] } })).rejects.toThrow(TalosClientConfigError);
    } finally {
      client.close();
    }
  });
});
