import { gzipSync } from 'node:zlib';
import { extractKubeconfig, readTar } from '../../../src/talos/api/kubeconfig-archive';

/** A minimal ustar writer (the inverse of what is under test). */
function tarEntry(name: string, content: string, type = '0', prefix = ''): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'utf8');
  header.write('0000600\0', 100);
  header.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
  header.write(type, 156);
  header.write('ustar\0' + '00', 257);
  header.write(prefix, 345);
  const body = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
  body.write(content);
  return Buffer.concat([header, body]);
}
const tar = (...entries: Buffer[]): Buffer => Buffer.concat([...entries, Buffer.alloc(1024)]);

describe('kubeconfig archive', () => {
  it('extracts the kubeconfig file from the tar.gz Talos streams', () => {
    const text = 'apiVersion: v1\nkind: Config\n' + 'x'.repeat(700);
    expect(extractKubeconfig(gzipSync(tar(tarEntry('kubeconfig', text))))).toBe(text);
  });

  it('skips other entries (pax headers, directories) and accepts ./kubeconfig', () => {
    const archive = tar(tarEntry('PaxHeaders/kubeconfig', '30 mtime=1700000000.000000000\n', 'x'), tarEntry('./', '', '5'), tarEntry('./kubeconfig', 'kc'));
    expect(extractKubeconfig(gzipSync(archive))).toBe('kc');
  });

  it('joins the ustar prefix with the name', () => {
    expect(readTar(tar(tarEntry('file', 'a', '0', 'dir'))).map((e) => e.name)).toEqual(['dir/file']);
  });

  it('explains a missing file, a non-gzip body and a truncated archive', () => {
    expect(() => extractKubeconfig(gzipSync(tar(tarEntry('other', 'x'))))).toThrow('kubeconfig archive holds no "kubeconfig" file');
    expect(() => extractKubeconfig(Buffer.from('plain'))).toThrow(/not gzip/);
    expect(() => extractKubeconfig(gzipSync(tarEntry('kubeconfig', 'x'.repeat(600)).subarray(0, 700)))).toThrow('tar archive is truncated');
  });
});
