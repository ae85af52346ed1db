// The one place where controllers join the manager. Later issues add the TalosConfig and
// TalosControlPlane controllers here; with none registered the manager still runs (probes,
// metrics, leader lease).
import type { Manager } from './kube/manager/manager';
import type { OperatorFlags } from './operator-flags';
import { setupBootstrapController } from './bootstrap/controller';
import { setupControlPlaneController } from './controlplane/controller';

export type ControllerSetup = (manager: Manager, flags: OperatorFlags) => void;

export const controllerSetups: ControllerSetup[] = [
  (manager, flags) => setupBootstrapController(manager, { machinePools: flags.featureGates.MachinePool === true }),
  (manager) => setupControlPlaneController(manager),
];

export function registerControllers(manager: Manager, flags: OperatorFlags): void {
  for (const setup of controllerSetups) setup(manager, flags);
}
