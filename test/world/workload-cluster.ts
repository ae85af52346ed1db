// A workload cluster's control plane for the simulated world: its own etcd, a real
// kube-apiserver at the endpoint the infrastructure provider allocated, serving a certificate
// from the cluster's Kubernetes CA (the one in the machine config) and trusting the client
// certificates it signs, and a real kube-controller-manager running only the node lifecycle
// controller, so that a Node whose kubelet stops heartbeating goes NotReady the way a real
// cluster decides it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isIPv4 } from 'node:net';
import { createSigningKey, issueCertificate, loadCertificateAuthority, type CertificateAuthority } from '../testbed/pki';
import {
  buildTestbedBinaries,
  freePort,
  httpsGet,
  isAlive,
  kubeconfigYaml,
  startProcess,
  stopProcess,
  waitFor,
  type ClientCredentials,
  type ProcessRecord,
} from '../testbed/testbed';

export interface WorkloadClusterOptions {
  /** State and logs folder for this workload cluster (created). */
  dir: string;
  /** For logs. */
  name: string;
  /** Where the apiserver must listen (host is 127.x.x.x). */
  endpoint: { host: string; port: number };
  /** The cluster's Kubernetes CA from the machine config (`cluster.ca`), PEM. */
  kubernetesCa: { certPem: string; keyPem: string };
  /** Default 10.96.0.0/12, as Talos. */
  serviceCidr?: string;
  /** How long a Node may go without a heartbeat before it is NotReady. Default 8. */
  nodeMonitorGracePeriodSeconds?: number;
}

export interface WorkloadCluster {
  /** https://host:port */
  server: string;
  /** An admin (system:masters) client certificate signed by the Kubernetes CA. */
  adminKubeconfigPath: string;
  /** etcd, kube-apiserver, kube-controller-manager. */
  processes: ProcessRecord[];
  /** Seconds spent on each phase of the start, for notes and benchmarks. */
  timings: Record<string, number>;
  /** Stops exactly these processes. */
  stop(): Promise<void>;
  /** Stops kube-apiserver only, like a crash (etcd and the controller manager keep running). */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again with the same flags and waits for /readyz. */
  startApiserver(): Promise<void>;
}

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_SECONDS = 8;
/** KCM's identity; the bootstrap RBAC policy binds its role to this user. */
const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';

/** The first address of an IPv4 range: the `kubernetes` Service's ClusterIP, named in the serving certificate. */
export function firstServiceAddress(cidr: string): string {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 30) {
    throw new Error(`service CIDR ${cidr}: the simulated world supports one IPv4 range with a prefix of at most /30`);
  }
  const value = base.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const first = ((value & mask) >>> 0) + 1;
  return [24, 16, 8, 0].map((shift) => (first >>> shift) & 0xff).join('.');
}

/** Names the apiserver's serving certificate carries: the endpoint, loopback and the in-cluster names. */
export function servingCertificateNames(host: string, serviceCidr: string): { dnsNames: string[]; ipAddresses: string[] } {
  const ipAddresses = [...new Set([host, '127.0.0.1', firstServiceAddress(serviceCidr)])];
  const dnsNames = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  return { dnsNames, ipAddresses };
}

export interface ApiserverArgsInput {
  endpoint: { host: string; port: number };
  etcdUrl: string;
  pkiDir: string;
  serviceCidr: string;
}

export function workloadApiserverArgs({ endpoint, etcdUrl, pkiDir, serviceCidr }: ApiserverArgsInput): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${pkiDir}`,
    `--tls-cert-file=${join(pkiDir, 'apiserver.crt')}`,
    `--tls-private-key-file=${join(pkiDir, 'apiserver.key')}`,
    `--client-ca-file=${join(pkiDir, 'ca.crt')}`,
    `--secure-port=${endpoint.port}`,
    `--bind-address=${endpoint.host}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    '--allow-privileged=true',
    // Node authorizer + NodeRestriction: a kubelet's certificate may only touch its own Node and Lease.
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    // No token controller runs, so pods could not get their service-account token mounted.
    '--disable-admission-plugins=ServiceAccount',
    `--service-account-issuer=https://${endpoint.host}:${endpoint.port}/`,
    `--service-account-key-file=${join(pkiDir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(pkiDir, 'sa.key')}`,
    // One apiserver on loopback: nothing to reconcile into the kubernetes Service's endpoints.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(kubeconfigPath: string, gracePeriodSeconds: number): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    // Only what decides Node health: Ready=Unknown after the grace period without heartbeats.
    '--controllers=node-lifecycle-controller',
    `--node-monitor-grace-period=${gracePeriodSeconds}s`,
    '--node-monitor-period=1s',
    // Each controller gets its own service account token (TokenRequest), as Talos runs it:
    // the bootstrap RBAC policy grants the node lifecycle controller's permissions to that account.
    '--use-service-account-credentials=true',
    '--leader-elect=false',
    // No serving: nothing probes it and it saves a port and the delegated-auth round trips.
    '--secure-port=0',
  ];
}

async function writePki(pkiDir: string, ca: CertificateAuthority, host: string, serviceCidr: string) {
  const [serving, admin, controllerManager, signer] = await Promise.all([
    issueCertificate(ca, { commonName: 'kube-apiserver', ...servingCertificateNames(host, serviceCidr), usage: 'server' }),
    issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' }),
    issueCertificate(ca, { commonName: CONTROLLER_MANAGER_USER, usage: 'client' }),
    createSigningKey(),
  ]);
  mkdirSync(pkiDir, { recursive: true });
  writeFileSync(join(pkiDir, 'ca.crt'), ca.certPem);
  writeFileSync(join(pkiDir, 'apiserver.crt'), serving.certPem);
  writeFileSync(join(pkiDir, 'apiserver.key'), serving.keyPem, { mode: 0o600 });
  writeFileSync(join(pkiDir, 'sa.key'), signer.privatePem, { mode: 0o600 });
  writeFileSync(join(pkiDir, 'sa.pub'), signer.publicPem);
  const credentials = (leaf: { certPem: string; keyPem: string }): ClientCredentials => ({ ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem });
  return { admin: credentials(admin), controllerManager: credentials(controllerManager) };
}

export async function startWorkloadCluster(options: WorkloadClusterOptions): Promise<WorkloadCluster> {
  const dir = resolve(options.dir);
  const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const { host, port } = options.endpoint;
  const server = `https://${host}:${port}`;
  const timings: Record<string, number> = {};
  const started = Date.now();
  const mark = (phase: string, since: number) => (timings[phase] = (Date.now() - since) / 1000);
  mkdirSync(dir, { recursive: true });

  const [build, ca, etcdClientPort, etcdPeerPort] = await Promise.all([
    buildTestbedBinaries(),
    loadCertificateAuthority(options.kubernetesCa.certPem, options.kubernetesCa.keyPem),
    freePort(),
    freePort(),
  ]);
  const pkiDir = join(dir, 'pki');
  const pkiStarted = Date.now();
  const identities = await writePki(pkiDir, ca, host, serviceCidr);
  mark('pki', pkiStarted);
  const adminKubeconfigPath = join(dir, 'admin.kubeconfig');
  const controllerManagerKubeconfig = join(dir, 'kube-controller-manager.kubeconfig');
  writeFileSync(adminKubeconfigPath, kubeconfigYaml(server, identities.admin, 'admin'), { mode: 0o600 });
  writeFileSync(controllerManagerKubeconfig, kubeconfigYaml(server, identities.controllerManager, CONTROLLER_MANAGER_USER), { mode: 0o600 });

  const processes: ProcessRecord[] = [];
  const stop = async () => {
    // Reverse start order: the controller manager and apiserver first, etcd (their store) last.
    for (const record of [...processes].reverse()) await stopProcess(record, 5_000);
  };
  const APISERVER = 1;
  const waitReady = () =>
    waitFor(
      `kube-apiserver of ${options.name}`,
      async () => (await httpsGet(`${server}/readyz`, identities.admin)).status === 200,
      processes[APISERVER]!,
    );
  // An apiserver holding open watches can take its whole shutdown delay on SIGTERM: a short grace, then SIGKILL.
  const stopApiserver = () => stopProcess(processes[APISERVER]!, 3_000);
  const startApiserver = async () => {
    const { pid, binary, args, log } = processes[APISERVER]!;
    if (isAlive(pid)) return;
    processes[APISERVER] = startProcess(binary, args, log);
    await waitReady();
  };
  try {
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdStarted = Date.now();
    const etcd = startProcess(
      join(build.binDir, 'etcd'),
      [`--data-dir=${join(dir, 'etcd-data')}`, `--listen-client-urls=${etcdUrl}`, `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`],
      join(dir, 'etcd.log'),
    );
    processes.push(etcd);
    await waitFor(`etcd of ${options.name}`, async () => (await fetch(`${etcdUrl}/health`)).ok, etcd);
    mark('etcd', etcdStarted);

    const apiserverStarted = Date.now();
    processes.push(
      startProcess(
        join(build.binDir, 'kube-apiserver'),
        workloadApiserverArgs({ endpoint: options.endpoint, etcdUrl, pkiDir, serviceCidr }),
        join(dir, 'kube-apiserver.log'),
      ),
    );
    await waitReady();
    mark('apiserver', apiserverStarted);

    // Started once the apiserver is healthy: it gives up if /healthz is not OK within 10 s,
    // which a loaded machine can exceed. Its own start-up (a few seconds) overlaps the caller's work.
    processes.push(
      startProcess(
        join(build.binDir, 'kube-controller-manager'),
        controllerManagerArgs(controllerManagerKubeconfig, options.nodeMonitorGracePeriodSeconds ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_SECONDS),
        join(dir, 'kube-controller-manager.log'),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  mark('total', started);
  return { server, adminKubeconfigPath, processes, timings, stop, stopApiserver, startApiserver };
}
