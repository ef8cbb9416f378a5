/** The shared fixtures (real papers, PaperBench rubrics) in ../shared next to the repo: absent on some machines. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, '..', '..', '..', 'shared', 'fixtures');

/** The node:test `skip` for tests that read `dir`: the reason when it is absent, else false. */
export function fixturesSkip(dir: string): string | false {
  return existsSync(dir) ? false : `fixtures absent: ${dir}`;
}
