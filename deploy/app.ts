// The CDK app `cdk deploy` runs (deploy/cdk.json): the CLI passes context and the output folder
// through the environment, which `new App()` reads.
import { App } from 'aws-cdk-lib';
import { guardianStackFromContext } from './stack-from-context.ts';

const app = new App();
guardianStackFromContext(app);
app.synth();
