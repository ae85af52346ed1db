// The pure parts of a workload cluster's start: flags and serving-certificate names.
import {
  controllerManagerArgs,
  firstServiceAddress,
  servingCertificateNames,
  workloadApiserverArgs,
} from '../../world/workload-cluster';

describe('firstServiceAddress', () => {
  test.each([
    ['10.96.0.0/12', '10.96.0.1'],
    ['10.96.5.7/12', '10.96.0.1'],
    ['192.168.1.128/25', '192.168.1.129'],
    ['172.16.0.0/16', '172.16.0.1'],
  ])('%s → %s', (cidr, address) => expect(firstServiceAddress(cidr)).toBe(address));

  test.each(['fd00::/108', '10.96.0.0', '10.96.0.0/31', '10.96.0.0/12,fd00::/108'])('rejects %s', (cidr) =>
    expect(() => firstServiceAddress(cidr)).toThrow(/one IPv4 range/),
  );
});

test('the serving certificate names the endpoint, loopback and the kubernetes Service', () => {
  const names = servingCertificateNames('127.0.0.7', '10.96.0.0/12');
  expect(names.ipAddresses).toEqual(['127.0.0.7', '127.0.0.1', '10.96.0.1']);
  expect(names.dnsNames).toEqual(expect.arrayContaining(['kubernetes', 'kubernetes.default', 'kubernetes.default.svc']));
  expect(servingCertificateNames('127.0.0.1', '10.96.0.0/12').ipAddresses).toEqual(['127.0.0.1', '10.96.0.1']);
});

test('the apiserver listens at the endpoint with the Node authorizer and NodeRestriction', () => {
  const args = workloadApiserverArgs({
    endpoint: { host: '127.0.0.7', port: 6443 },
    etcdUrl: 'http://127.0.0.1:2379',
    pkiDir: '/w/pki',
    serviceCidr: '10.96.0.0/12',
  });
  expect(args).toEqual(
    expect.arrayContaining([
      '--bind-address=127.0.0.7',
      '--secure-port=6443',
      '--etcd-servers=http://127.0.0.1:2379',
      '--client-ca-file=/w/pki/ca.crt',
      '--service-cluster-ip-range=10.96.0.0/12',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
    ]),
  );
});

test('the controller manager runs only the node lifecycle controller with the grace period given', () => {
  const args = controllerManagerArgs('/w/kcm.kubeconfig', 8);
  expect(args).toEqual(
    expect.arrayContaining([
      '--kubeconfig=/w/kcm.kubeconfig',
      '--controllers=node-lifecycle-controller',
      '--node-monitor-grace-period=8s',
      '--leader-elect=false',
      '--secure-port=0',
    ]),
  );
});
