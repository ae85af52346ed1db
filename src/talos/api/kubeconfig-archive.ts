// The Kubeconfig RPC streams a gzip-compressed tar archive holding one file,
// "kubeconfig". This reads that file out (ustar headers; pax/GNU extension
// entries are skipped, the file name is short).
import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`tar header has a bad number "${text}"`);
  return text === '' ? 0 : parseInt(text, 8);
}

export interface TarEntry {
  name: string;
  type: string;
  content: Buffer;
}

export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const prefix = field(header, 345, 155);
    const base = field(header, 0, 100);
    const size = octal(header, 124, 12);
    const type = field(header, 156, 1) || '0';
    const start = offset + BLOCK;
    if (start + size > archive.length) throw new Error('tar archive is truncated');
    entries.push({ name: prefix ? `${prefix}/${base}` : base, type, content: archive.subarray(start, start + size) });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

/** The kubeconfig text inside the Kubeconfig RPC's .tar.gz. */
export function extractKubeconfig(tarGz: Buffer): string {
  let tar: Buffer;
  try {
    tar = gunzipSync(tarGz);
  } catch (err) {
    throw new Error(`kubeconfig archive is not gzip: ${(err as Error).message}`, { cause: err });
  }
  const file = readTar(tar).find((e) => (e.type === '0' || e.type === '7') && e.name.replace(/^\.\//, '') === 'kubeconfig');
  if (!file) throw new Error('kubeconfig archive holds no "kubeconfig" file');
  return file.content.toString('utf8');
}
