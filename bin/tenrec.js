#!/usr/bin/env node
// The `tenrec` command: TypeScript run through tsx, no build step. The CLI is imported after
// tsx is registered (a static import would be loaded first) and by a path relative to this
// file, so `npx tenrec`, `npm run tenrec --` and `node bin/tenrec.js` work from any directory.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
