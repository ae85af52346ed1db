import { endpointAddress, parseEndpoint, parseEndpoints } from '../../../src/talos/api/endpoints';
import { TalosClientConfigError } from '../../../src/talos/api/errors';

describe('endpoint normalisation', () => {
  it.each([
    ['10.5.0.2', '10.5.0.2', 50000, '10.5.0.2:50000'],
    ['10.5.0.2:50001', '10.5.0.2', 50001, '10.5.0.2:50001'],
    ['  node-1.example.com ', 'node-1.example.com', 50000, 'node-1.example.com:50000'],
    ['cp.example:443', 'cp.example', 443, 'cp.example:443'],
    ['fd00::1', 'fd00::1', 50000, '[fd00::1]:50000'],
    ['[fd00::1]', 'fd00::1', 50000, '[fd00::1]:50000'],
    ['[fd00::1]:6000', 'fd00::1', 6000, '[fd00::1]:6000'],
    ['::1', '::1', 50000, '[::1]:50000'],
  ])('%s → host %s, port %d, target %s', (text, host, port, address) => {
    const endpoint = parseEndpoint(text);
    expect(endpoint).toEqual({ host, port });
    expect(endpointAddress(endpoint)).toBe(address);
  });

  it.each([
    ['', /empty/],
    ['https://10.0.0.1:50000', /not a URL/],
    ['10.0.0.1:0', /invalid port/],
    ['10.0.0.1:65536', /invalid port/],
    ['10.0.0.1:http', /invalid port/],
    ['[10.0.0.1]:50000', /no IPv6 address in brackets/],
    ['[fd00::1]:', /invalid port/],
    ['bad host:1', /invalid host/],
    ['under_score..double', /invalid host/],
  ])('rejects %j', (text, message) => {
    expect(() => parseEndpoint(text)).toThrow(TalosClientConfigError);
    expect(() => parseEndpoint(text)).toThrow(message);
  });

  it('drops duplicates that normalise to the same target and keeps order', () => {
    expect(parseEndpoints(['10.0.0.2', '10.0.0.1:50000', '10.0.0.2:50000']).map(endpointAddress)).toEqual([
      '10.0.0.2:50000',
      '10.0.0.1:50000',
    ]);
  });

  it('needs at least one endpoint', () => {
    expect(() => parseEndpoints([])).toThrow('no endpoints to talk to');
  });
});
