// The one place where the two providers join the manager: each provider's controllers (and so the
// informers they open) and the webhooks it serves, so that `--controllers` runs one provider or both.
import type { Manager } from './kube/manager/manager';
import type { OperatorFlags, ProviderName } from './operator-flags';
import { setupBootstrapController } from './bootstrap/controller';
import { setupControlPlaneController } from './controlplane/controller';
import type { ValidatingWebhook } from './webhooks/admission';
import { bootstrapValidatingWebhooks, registerBootstrapConversions } from './webhooks/bootstrap';
import { ConversionRegistry } from './webhooks/conversion';
import { convertTalosControlPlane } from './api/controlplane/conversion';
import { CONTROLPLANE_GROUP, TALOS_CONTROL_PLANE_KIND } from './api/controlplane/group';
import type { WebhookRoutes } from './webhooks/server';

interface Provider {
  setup(manager: Manager, flags: OperatorFlags): void;
  registerConversions(registry: ConversionRegistry): ConversionRegistry;
  validators(): ValidatingWebhook[];
}

const PROVIDER_PARTS: Record<ProviderName, Provider> = {
  bootstrap: {
    setup: (manager, flags) => setupBootstrapController(manager, { machinePools: flags.featureGates.MachinePool === true }),
    registerConversions: registerBootstrapConversions,
    validators: bootstrapValidatingWebhooks,
  },
  // TalosControlPlane needs no admission checks CEL cannot express: its only webhook is conversion.
  controlplane: {
    setup: (manager) => setupControlPlaneController(manager),
    registerConversions: (registry) => registry.register(CONTROLPLANE_GROUP, TALOS_CONTROL_PLANE_KIND, convertTalosControlPlane),
    validators: () => [],
  },
};

/** The conversion and validating webhooks the given providers serve. */
export function webhookRoutesFor(providers: readonly ProviderName[]): WebhookRoutes {
  const conversions = new ConversionRegistry();
  for (const provider of providers) PROVIDER_PARTS[provider].registerConversions(conversions);
  return { conversions, validators: providers.flatMap((provider) => PROVIDER_PARTS[provider].validators()) };
}

/** Registers the controllers of the providers `--controllers` chose; returns the webhooks those providers serve. */
export function registerControllers(manager: Manager, flags: OperatorFlags): WebhookRoutes {
  for (const provider of flags.controllers) PROVIDER_PARTS[provider].setup(manager, flags);
  return webhookRoutesFor(flags.controllers);
}
