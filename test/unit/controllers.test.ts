import { KubeClient } from '../../src/kube/client/client';
import { accessFor } from '../../src/kube/client/kubeconfig';
import type { ResourceKind } from '../../src/kube/client/resource';
import { Manager } from '../../src/kube/manager/manager';
import { registerControllers } from '../../src/controllers';
import { parseOperatorFlags } from '../../src/operator-flags';
import { fullV1alpha3 } from './api/bootstrap-fixtures';

/** What registering the controllers chosen by these flags adds to a manager that is never started. */
function register(args: string[]) {
  const manager = new Manager({ client: new KubeClient(accessFor({ server: 'http://127.0.0.1:1' }, {})) });
  const informer = jest.spyOn(manager, 'informer');
  const registerController = jest.spyOn(manager, 'register');
  const routes = registerControllers(manager, parseOperatorFlags(args));
  const kinds = [...new Set(informer.mock.calls.map(([kind]: [ResourceKind]) => `${kind.plural}.${kind.group}`))].sort();
  const converts = (() => {
    try {
      routes.conversions.convert(fullV1alpha3(), 'bootstrap.cluster.x-k8s.io/v1beta1');
      return true;
    } catch {
      return false;
    }
  })();
  return {
    controllers: registerController.mock.calls.map(([controller]) => controller.name),
    kinds,
    validators: routes.validators.map((webhook) => webhook.name),
    convertsTalosConfig: converts,
  };
}

describe('--controllers', () => {
  const gates = '--feature-gates=MachinePool=true';

  it('bootstrap: only the TalosConfig controller, its informers and the bootstrap webhooks', () => {
    const bootstrap = register(['--controllers=bootstrap', gates]);
    expect(bootstrap).toMatchObject({ controllers: ['talosconfig'], validators: ['vtalosconfigtemplate.bootstrap.cluster.x-k8s.io'], convertsTalosConfig: true });
    expect(bootstrap.kinds).toEqual(expect.arrayContaining(['talosconfigs.bootstrap.cluster.x-k8s.io', 'machinepools.cluster.x-k8s.io']));
    expect(bootstrap.kinds).not.toContain('taloscontrolplanes.controlplane.cluster.x-k8s.io');
  });

  it('controlplane: only the TalosControlPlane controller and its informers, no webhooks', () => {
    const controlPlane = register(['--controllers', 'controlplane', gates]);
    expect(controlPlane).toMatchObject({ controllers: ['taloscontrolplane'], validators: [], convertsTalosConfig: false });
    expect(controlPlane.kinds).toContain('taloscontrolplanes.controlplane.cluster.x-k8s.io');
    expect(controlPlane.kinds).not.toContain('machinepools.cluster.x-k8s.io');
  });

  it('all (the default): both providers, each informer once', () => {
    const bootstrap = register(['--controllers=bootstrap', gates]);
    const controlPlane = register(['--controllers=controlplane', gates]);
    const both = register([gates]);
    expect(both).toEqual({
      controllers: ['talosconfig', 'taloscontrolplane'],
      kinds: [...new Set([...bootstrap.kinds, ...controlPlane.kinds])].sort(),
      validators: bootstrap.validators,
      convertsTalosConfig: true,
    });
    expect(register(['--controllers=all', gates])).toEqual(both);
  });
});
