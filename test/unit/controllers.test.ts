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

const BOOTSTRAP = {
  controllers: ['talosconfig'],
  kinds: ['clusters.cluster.x-k8s.io', 'machinepools.cluster.x-k8s.io', 'machines.cluster.x-k8s.io', 'talosconfigs.bootstrap.cluster.x-k8s.io'],
  validators: ['vtalosconfigtemplate.bootstrap.cluster.x-k8s.io'],
  convertsTalosConfig: true,
};

describe('--controllers', () => {
  it('bootstrap: only the TalosConfig controller, its informers and the bootstrap webhooks', () => {
    expect(register(['--controllers=bootstrap', '--feature-gates=MachinePool=true'])).toEqual(BOOTSTRAP);
  });

  it('controlplane: only the TalosControlPlane controller and its informers, no webhooks', () => {
    expect(register(['--controllers', 'controlplane', '--feature-gates=MachinePool=true'])).toEqual({
      controllers: ['taloscontrolplane'],
      kinds: ['clusters.cluster.x-k8s.io', 'machines.cluster.x-k8s.io', 'taloscontrolplanes.controlplane.cluster.x-k8s.io'],
      validators: [],
      convertsTalosConfig: false,
    });
  });

  it('all (the default): both providers', () => {
    const both = register(['--feature-gates=MachinePool=true']);
    expect(both).toEqual({ ...BOOTSTRAP, controllers: ['talosconfig', 'taloscontrolplane'], kinds: [...BOOTSTRAP.kinds, 'taloscontrolplanes.controlplane.cluster.x-k8s.io'] });
    expect(register(['--controllers=all', '--feature-gates=MachinePool=true'])).toEqual(both);
  });
});
