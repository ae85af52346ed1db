// REST descriptions of the Cluster API core kinds we read.
import type { ResourceKind } from '../../../kube/client/resource';
import { GROUP, VERSION } from './types';

const kind = (name: string, plural: string): ResourceKind => ({ group: GROUP, version: VERSION, kind: name, plural, namespaced: true });

export const ClusterKind = kind('Cluster', 'clusters');
export const MachineKind = kind('Machine', 'machines');
export const MachinePoolKind = kind('MachinePool', 'machinepools');
