import { etcdDataFound, etcdServiceHealthy, isMissingPath } from '../../../src/controlplane/etcd';
import type { FileInfo, NodeResult } from '../../../src/talos/api';
import { TalosApiError } from '../../../src/talos/api';

const entry = (error: string): NodeResult<FileInfo> => ({
  node: '127.0.0.2', ok: true,
  value: { name: '/var/lib/etcd/member', relativeName: 'member', size: 0n, mode: 0, modified: new Date(0), isDir: true, link: '', uid: 0, gid: 0, error },
});

describe('etcdDataFound', () => {
  it('is true when some node lists the member directory without an error', () => {
    expect(etcdDataFound([entry('lstat /var/lib/etcd/member: no such file or directory'), entry('')])).toBe(true);
  });

  it('is false when every node reports the directory missing, or failed, or nothing came back', () => {
    expect(etcdDataFound([entry('lstat /var/lib/etcd/member: no such file or directory')])).toBe(false);
    expect(etcdDataFound([{ node: '127.0.0.2', ok: false, error: new TalosApiError(14, 'down', { method: 'List' }) }])).toBe(false);
    expect(etcdDataFound([])).toBe(false);
  });
});

describe('isMissingPath', () => {
  it('recognises the error a node ends the List stream with when etcd has no data yet, and nothing else', () => {
    expect(isMissingPath(new TalosApiError(2, 'lstat /var/lib/etcd/member: no such file or directory', { method: 'List' }))).toBe(true);
    expect(isMissingPath(new TalosApiError(14, 'connection refused', { method: 'List' }))).toBe(false);
    expect(isMissingPath(new Error('no such file or directory'))).toBe(false);
  });
});

describe('etcdServiceHealthy', () => {
  const etcd = (state: string, healthy: boolean) => ({ id: 'etcd', state, health: { unknown: false, healthy, lastMessage: '' }, events: [] });
  it('is true only for a Running etcd service that passes its health check', () => {
    expect(etcdServiceHealthy([{ ...etcd('Running', true), id: 'kubelet' }, etcd('Running', true)])).toBe(true);
    expect(etcdServiceHealthy([etcd('Running', false)])).toBe(false);
    expect(etcdServiceHealthy([etcd('Preparing', false)])).toBe(false);
    expect(etcdServiceHealthy([{ ...etcd('Running', true), id: 'kubelet' }])).toBe(false);
  });
});
