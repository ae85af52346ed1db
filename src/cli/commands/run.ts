// `talos-capi run [operator flags]`: the operator itself (both providers, webhooks, probes, metrics).
import { runOperator } from '../../operator';
import type { PassThroughCommand } from './command';

export const run: PassThroughCommand = {
  path: ['run'],
  summary: 'run the operator (see "talos-capi run --help" for its flags)',
  passThrough: true,
  run: (args, io) => runOperator(args, io),
};
