/**
 * The `klong` executable. esbuild bundles the CLI's code into dist/engine.js with the engine the
 * extension loads, so a .vsix ships that code once; this entry point only runs it.
 */
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`klong: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
