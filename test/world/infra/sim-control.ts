// The few simulator control calls the provider makes, against any simulator's control URL (its
// own or one a test started): boot a node, look at it, destroy it. test/support/talos-sim.ts
// owns the process; this only speaks HTTP, so it works for a simulator started elsewhere.
import type { BootOptions, SimNode } from '../../support/talos-sim';

export class SimControlError extends Error {
  constructor(readonly status: number, readonly simMessage: string) {
    super(`talos-sim: ${simMessage} (HTTP ${status})`);
    this.name = 'SimControlError';
  }
}

export interface SimNodes {
  /** The node, or undefined when the simulator has none with this ID. */
  inspect(id: string): Promise<SimNode | undefined>;
  /** Creates and boots a node; a config Talos rejects gives a node in state `failed`. */
  boot(configYaml: string, options: BootOptions & { id: string }): Promise<SimNode>;
  /** Destroys the node; a node that is already gone is fine. */
  destroy(id: string): Promise<void>;
}

export class SimControlClient implements SimNodes {
  constructor(readonly controlUrl: string) {}

  async inspect(id: string): Promise<SimNode | undefined> {
    const { status, body } = await this.call('GET', `/nodes/${encodeURIComponent(id)}`);
    return status === 404 ? undefined : (body as SimNode);
  }

  async boot(configYaml: string, options: BootOptions & { id: string }): Promise<SimNode> {
    const query = new URLSearchParams({ id: options.id });
    if (options.hostname) query.set('hostname', options.hostname);
    if (options.mode) query.set('mode', options.mode);
    if (options.bootDelayMs !== undefined) query.set('bootDelayMs', String(options.bootDelayMs));
    const { status, body } = await this.call('POST', `/nodes?${query.toString()}`, configYaml);
    // A node left by an earlier run of this process (same stable ID): take it over.
    if (status === 409) {
      const existing = await this.inspect(options.id);
      if (!existing) throw new SimControlError(status, (body as { error?: string } | undefined)?.error ?? 'conflict');
      return existing;
    }
    return body as SimNode;
  }

  async destroy(id: string): Promise<void> {
    await this.call('DELETE', `/nodes/${encodeURIComponent(id)}`);
  }

  private async call(method: string, path: string, body?: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(this.controlUrl + path, {
      method,
      body,
      headers: body === undefined ? undefined : { 'content-type': 'application/yaml' },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new SimControlError(response.status, `unparsable reply: ${text.slice(0, 200)}`);
    }
    if (response.ok || response.status === 404 || (response.status === 409 && method === 'POST')) {
      return { status: response.status, body: parsed };
    }
    throw new SimControlError(response.status, (parsed as { error?: string } | undefined)?.error ?? text);
  }
}
