// Lets `node --import ./scripts/register-ts.mjs file.ts` run the TypeScript scripts (bench, demo).
import { register } from 'tsx/esm/api'
register()
