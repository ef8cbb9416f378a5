/** Docker in tests: whether the engine and an image are there, and removal of the containers a test made. */
import { spawnSync } from 'node:child_process';

/** The scientific image (python3 + numpy/scipy/pandas/...): KLong's default sandbox image. */
export const FULL_IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python:bookworm';

/** Why Docker (and `image`, when given) cannot be used here, or false. */
export function dockerProblem(image?: string): string | false {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (info.status !== 0)
    return `Docker is not available here (\`docker info\` failed: ${(info.stderr || info.error?.message || '').trim().split('\n')[0]})`;
  if (image && spawnSync('docker', ['image', 'inspect', image]).status !== 0)
    return `Image ${image} is missing: run scripts/build-default-image.sh`;
  return false;
}

/** `why` as a skip reason; CI sets KLONG_REQUIRE_DOCKER=1, and there a missing engine or image is a failure. */
export function skipUnlessRequired(why: string | false): string | false {
  if (why && process.env.KLONG_REQUIRE_DOCKER === '1') throw new Error(`KLONG_REQUIRE_DOCKER=1 but ${why}`);
  return why;
}

/** Ids of the containers (running or not) with this label. */
export function containerIds(label: string): string[] {
  const out = spawnSync('docker', ['ps', '-aq', '--filter', `label=${label}`], {
    encoding: 'utf8',
  }).stdout.trim();
  return out ? out.split('\n') : [];
}

/** Remove the containers with this label (only ones the test created carry it). */
export function removeContainers(label: string): void {
  const ids = containerIds(label);
  if (ids.length) spawnSync('docker', ['rm', '-f', ...ids]);
}

/** Containers with this label, by the value of another label. */
export function containersBy(label: string, show: string): string[] {
  const out = spawnSync(
    'docker',
    ['ps', '-a', '--filter', `label=${label}`, '--format', `{{.Label "${show}"}}`],
    {
      encoding: 'utf8',
    },
  ).stdout.trim();
  return out ? out.split('\n') : [];
}
