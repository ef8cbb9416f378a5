/**
 * zod's tree-shakable build (zod/mini: a small fraction of the full build in the engine bundle), with
 * the English messages it does not load by default; rubric and judge errors show them. Import it as
 * `import * as z from './zod'` and only use `z.name` statically, or bundling keeps all of zod.
 */

import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
