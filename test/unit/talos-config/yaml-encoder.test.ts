import { encodeConfig, parseConfig } from '../../../src/talos/config';
import { emitDocument, emitDocuments } from '../../../src/talos/config/yaml/emitter';
import { compareGoKeys } from '../../../src/talos/config/yaml/key-order';

const sortedGoKeys = (keys: string[]): string[] => [...keys].sort(compareGoKeys);
import { formatGoFloat } from '../../../src/talos/config/yaml/scalars';
import { at } from './helpers';

describe('YAML emitter (go-yaml layout)', () => {
  it('indents nested collections to the next multiple of four, sequence items by two', () => {
    const text = emitDocument({
      config: { resources: [{ providers: [{ secretbox: { keys: [{ name: 'key2', secret: 's' }] } }], resources: ['secrets'] }] },
    });
    expect(text).toBe(
      [
        'config:',
        '    resources:',
        '        - providers:',
        '            - secretbox:',
        '                keys:',
        '                    - name: key2',
        '                      secret: s',
        '          resources:',
        '            - secrets',
        '',
      ].join('\n'),
    );
  });

  it('writes empty collections inline and multi-line strings as literal blocks', () => {
    expect(emitDocument({ a: {}, b: [], c: 'x\ny\n', d: ['p\nq\n'], e: 'no newline\nat end' })).toBe(
      ['a: {}', 'b: []', 'c: |', '    x', '    y', 'd:', '    - |', '      p', '      q', 'e: |-', '    no newline', '    at end', ''].join('\n'),
    );
  });

  it.each([
    ['', '""'],
    ['true', '"true"'],
    ['123', '"123"'],
    ['1.5', '"1.5"'],
    ['off', "'off'"],
    ['yes', "'yes'"],
    ['10:30', "'10:30'"],
    ['- a', "'- a'"],
    ['a: b', "'a: b'"],
    [' lead', "' lead'"],
    ['tab\there', '"tab\\there"'],
    ['v1.28.0', 'v1.28.0'],
    ['https://discovery.talos.dev/', 'https://discovery.talos.dev/'],
    ['168h0m0s', '168h0m0s'],
  ])('quotes %j the way go-yaml does', (value, written) => {
    expect(emitDocument({ k: value })).toBe(`k: ${written}\n`);
  });

  it('writes numbers like Go', () => {
    expect(formatGoFloat(7445)).toBe('7445');
    expect(formatGoFloat(0.5)).toBe('0.5');
    expect(formatGoFloat(1234567.5)).toBe('1.2345675e+06');
    expect(formatGoFloat(0.00001)).toBe('1e-05');
  });

  it('separates documents with --- lines', () => {
    expect(emitDocuments([{ a: 1 }, { b: 2 }])).toBe('a: 1\n---\nb: 2\n');
  });
});

describe('map key order (go-yaml natural order)', () => {
  it('compares digit runs as numbers and puts non-letters first', () => {
    expect(sortedGoKeys(['b', 'a10', 'a9', 'A', '_x', '-x', 'a-b', 'a.b', 'ab'])).toEqual(['-x', '_x', 'A', 'a-b', 'a.b', 'a9', 'a10', 'ab', 'b']);
  });

  it('orders the node labels Talos writes', () => {
    expect(sortedGoKeys(['node.kubernetes.io/exclude-from-external-load-balancers', 'node-role.kubernetes.io/control-plane'])).toEqual([
      'node-role.kubernetes.io/control-plane',
      'node.kubernetes.io/exclude-from-external-load-balancers',
    ]);
  });
});

describe('canonical documents', () => {
  it('puts fields in Talos order and sorts map keys, whatever order they were written in', () => {
    const [doc] = parseConfig(
      'cluster:\n  network: {serviceSubnets: [10.96.0.0/12], podSubnets: [10.244.0.0/16], dnsDomain: cluster.local}\nmachine:\n  sysctls: {b: "1", a: "2"}\n  token: t\n  type: worker\nversion: v1alpha1\n',
    );
    expect(encodeConfig([doc!])).toBe(
      [
        'version: v1alpha1',
        'machine:',
        '    type: worker',
        '    token: t',
        '    certSANs: []',
        '    sysctls:',
        '        a: "2"',
        '        b: "1"',
        'cluster:',
        '    network:',
        '        dnsDomain: cluster.local',
        '        podSubnets:',
        '            - 10.244.0.0/16',
        '        serviceSubnets:',
        '            - 10.96.0.0/12',
        '',
      ].join('\n'),
    );
  });

  it('drops empty optional fields and writes nil non-optional ones like Go', () => {
    const [doc] = parseConfig('version: v1alpha1\nmachine:\n  type: worker\n  token: t\n  install: {disk: /dev/sda, image: ""}\n');
    expect(doc).toEqual({
      version: 'v1alpha1',
      machine: { type: 'worker', token: 't', certSANs: [], install: { disk: '/dev/sda', wipe: null } },
      cluster: null,
    });
  });

  it('normalises durations, disk sizes, addresses and prefixes as Talos does', () => {
    const docs = parseConfig(
      [
        'apiVersion: v1alpha1',
        'kind: FilesystemTrimConfig',
        'interval: 90m',
        '---',
        'version: v1alpha1',
        'machine: {type: worker, token: t, disks: [{device: /dev/sdb, partitions: [{size: 100GB, mountpoint: /var/x}]}]}',
        '---',
        'apiVersion: v1alpha1',
        'kind: KubeNetworkConfig',
        'podSubnets: ["FD00:0:0:0:0:0:0:0/56"]',
      ].join('\n'),
    );
    expect(docs[0]).toMatchObject({ interval: '1h30m0s' });
    expect(docs[1]).toMatchObject({ machine: { disks: [{ partitions: [{ size: '100 GB' }] }] } });
    expect(docs[2]).toMatchObject({ podSubnets: ['fd00::/56'] });
  });

  it('reads leading-zero integers as octal, as go-yaml does (file permissions)', () => {
    const [doc] = parseConfig('version: v1alpha1\nmachine:\n  type: worker\n  token: t\n  files:\n    - {content: x, permissions: 0644, path: /var/f, op: create}\n');
    expect(at(doc, 'machine.files.[0].permissions')).toBe(0o644);
  });

  it('refuses unknown keys, unknown kinds and wrongly typed values', () => {
    expect(() => parseConfig('version: v1alpha1\nmachine: {type: worker, tokn: x}\n')).toThrow(
      'document v1alpha1: unknown keys found during decoding: machine.tokn',
    );
    expect(() => parseConfig('apiVersion: v1alpha1\nkind: NoSuchConfig\n')).toThrow('"NoSuchConfig" "v1alpha1": not registered');
    expect(() => parseConfig('apiVersion: v1alpha1\nkind: KubePrismConfig\nport: seven\n')).toThrow('port: cannot use string "seven" as an integer');
    expect(() => parseConfig('kind: HostnameConfig\n')).toThrow('missing apiVersion');
  });
});
