// Entry point of the image: the operator with the process's flags. Nothing else lives here.
import { createLogger } from './kube/log/logger';
import { runOperator } from './operator';

runOperator(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    createLogger().fatal({ err: error }, 'talos-capi failed');
    process.exit(1);
  },
);
