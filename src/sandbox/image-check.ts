/**
 * First-run check of the sandbox: which image a workspace would use, whether the engine has it, and
 * how to get it (a pull, or a build of KLong's shipped default definition, as a session would).
 */
import { type DefaultBuildOptions, defaultSandboxImage, ensureDefaultSandboxImage } from './default-sandbox';
import { DEFAULT_IMAGE, findConfigFile } from './devcontainer';
import { connectDocker, dockerError } from './docker-client';

export type SandboxReadiness =
  | { kind: 'devcontainer'; configFile: string }
  | { kind: 'image'; image: string; present: true; sizeBytes: number }
  /** `build`: the image of KLong's default definition that a session would build instead (not there yet). */
  | { kind: 'image'; image: string; present: false; build?: string };

export interface ReadinessOptions {
  /** klong.docker.defaultImage / --default-image; unset = the offline image, else the default build. */
  defaultImage?: string | undefined;
  dockerHost?: string | undefined;
  /** Tests: an offline image name no engine has, and build options that need no internet. */
  offlineImage?: string;
  defaultBuild?: DefaultBuildOptions;
}

/** What a session in `workspace` would run in, and whether it is there already. */
export async function sandboxReadiness(
  workspace: string | undefined,
  o: ReadinessOptions = {},
): Promise<SandboxReadiness> {
  const configFile = workspace ? findConfigFile(workspace) : undefined;
  if (configFile) return { kind: 'devcontainer', configFile };
  const { docker, host } = connectDocker(o.dockerHost);
  const size = async (image: string): Promise<number | undefined> => {
    try {
      return ((await docker.getImage(image).inspect()) as { Size?: number }).Size ?? 0;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw dockerError(err, host);
    }
  };
  const offline = o.offlineImage ?? DEFAULT_IMAGE;
  const image = o.defaultImage ?? offline;
  const have = await size(image);
  if (have !== undefined) return { kind: 'image', image, present: true, sizeBytes: have };
  // Without the offline image a session builds the shipped definition (open.ts): so does this check.
  if (image !== offline) return { kind: 'image', image, present: false };
  const built = await defaultSandboxImage(o.defaultBuild);
  const builtSize = await size(built);
  if (builtSize !== undefined) return { kind: 'image', image: built, present: true, sizeBytes: builtSize };
  return { kind: 'image', image, present: false, build: built };
}

/**
 * Builds KLong's default sandbox image now, as the first session would (pull of the base, build
 * through the devcontainer CLI); returns its name. `signal` cancels the pull or kills the build.
 */
export async function buildDefaultSandbox(o: {
  dockerHost?: string | undefined;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
  defaultBuild?: DefaultBuildOptions;
}): Promise<string> {
  const { docker, host } = connectDocker(o.dockerHost);
  return ensureDefaultSandboxImage(
    {
      docker,
      host,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    },
    o.defaultBuild,
  );
}

/** `docker pull image`, reporting each layer's status; rejects with the registry's message. */
export async function pullImage(
  image: string,
  dockerHost?: string,
  onProgress?: (message: string) => void,
): Promise<void> {
  const { docker, host } = connectDocker(dockerHost);
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  } catch (err) {
    throw dockerError(err, host);
  }
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (e: { status?: string; progress?: string; error?: string }) => {
        if (e.error) reject(new Error(e.error));
        else if (e.status) onProgress?.(`${e.status}${e.progress ? ` ${e.progress}` : ''}`);
      },
    );
  });
}
