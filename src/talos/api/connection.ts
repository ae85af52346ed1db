// Channels to apid: one per endpoint, mutual TLS with the talosconfig's CA and
// client certificate.
//
// Server identity: apid's certificate is issued by the OS CA and carries the
// node's addresses as IP SANs (plus hostname/certSANs as DNS SANs), so the
// default check — chain to the talosconfig CA, then the endpoint host against
// the SANs (IP endpoints against IP SANs) — is what talosctl does too. For an
// endpoint that is not in the certificate (a load balancer not listed in
// machine.certSANs) `serverName` checks another name instead, and
// `verifyServerName: false` keeps only the chain check.
//
// ALPN: grpc-js offers "h2" but does not require the server to pick it, so
// apid before Talos 1.9 (which negotiated no ALPN) works without the
// GRPC_ENFORCE_ALPN_ENABLED=false switch Go clients need. A test pins this.
import { checkServerIdentity as tlsCheckServerIdentity, type PeerCertificate } from 'node:tls';
import {
  connectivityState,
  credentials,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { endpointAddress, type Endpoint } from './endpoints';
import { toNodeKeyPem } from './pem';

export interface TlsSettings {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Name to verify the server certificate against instead of the endpoint host. */
  serverName?: string;
  /** false: trust any certificate the CA issued, whatever its names. Default true. */
  verifyServerName?: boolean;
}

export function serverIdentityCheck(
  settings: Pick<TlsSettings, 'serverName' | 'verifyServerName'>,
): (host: string, cert: PeerCertificate) => Error | undefined {
  if (settings.verifyServerName === false) return () => undefined;
  const serverName = settings.serverName;
  return (host, cert) => tlsCheckServerIdentity(serverName ?? host, cert);
}

export function channelCredentials(settings: TlsSettings): ChannelCredentials {
  return credentials.createSsl(
    Buffer.from(settings.caPem),
    Buffer.from(toNodeKeyPem(settings.keyPem)),
    Buffer.from(settings.certPem),
    { checkServerIdentity: serverIdentityCheck(settings) },
  );
}

/** Channel defaults: apid's 32 MiB message limit, and quick reconnects so a rebooted node is seen soon. */
export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': 32 * 1024 * 1024,
  'grpc.max_send_message_length': 32 * 1024 * 1024,
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 5000,
};

export interface EndpointChannel {
  endpoint: Endpoint;
  address: string;
  client: Client;
}

export function openChannels(
  ctor: ServiceClientConstructor,
  endpoints: readonly Endpoint[],
  creds: ChannelCredentials,
  options: ChannelOptions,
): EndpointChannel[] {
  return endpoints.map((endpoint) => {
    const address = endpointAddress(endpoint);
    return { endpoint, address, client: new ctor(address, creds, { ...DEFAULT_CHANNEL_OPTIONS, ...options }) };
  });
}

type Settled = 'ready' | 'failed' | 'timeout';

/**
 * Waits until a channel's connection attempt has an outcome: READY, or
 * TRANSIENT_FAILURE (which grpc-js keeps reporting, while it reconnects in the
 * background, until a connection succeeds — so a later call finds out at once).
 */
export function settleChannel(client: Client, deadline: number): Promise<Settled> {
  const channel = client.getChannel();
  return new Promise((resolve) => {
    const step = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve('ready');
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) return resolve('failed');
      if (Date.now() >= deadline) return resolve('timeout');
      channel.watchConnectivityState(state, deadline, (err) => (err ? resolve('timeout') : step()));
    };
    step();
  });
}

/**
 * The channel to send a call on: the first endpoint to connect wins. When none
 * connects, the first endpoint is returned anyway: the call then fails fast with
 * the transport's reason (TLS refusal, connection refused) without being sent.
 * Nothing is sent while choosing, so this is safe for calls that change a node.
 */
export async function pickChannel(channels: readonly EndpointChannel[], deadline: number): Promise<EndpointChannel> {
  const first = channels[0];
  if (!first) throw new Error('no channels');
  if (channels.length === 1) {
    await settleChannel(first.client, deadline);
    return first;
  }
  return new Promise((resolve) => {
    let pending = channels.length;
    for (const channel of channels) {
      // settleChannel never rejects: each channel reports once, and the first ready one wins.
      void settleChannel(channel.client, deadline).then((outcome) => {
        pending -= 1;
        if (outcome === 'ready') resolve(channel);
        else if (pending === 0) resolve(first);
      });
    }
  });
}
