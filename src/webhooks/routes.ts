// Every webhook this process serves. A provider adds its kinds here.
import { ConversionRegistry } from './conversion';
import { bootstrapValidatingWebhooks, registerBootstrapConversions } from './bootstrap';
import type { WebhookRoutes } from './server';

export function providerWebhookRoutes(): WebhookRoutes {
  return {
    conversions: registerBootstrapConversions(new ConversionRegistry()),
    validators: [...bootstrapValidatingWebhooks()],
  };
}
