/** First-run check of the sandbox: which image a workspace would use, whether the engine has it, and a pull. */
import { DEFAULT_IMAGE, findConfigFile } from './devcontainer';
import { connectDocker, dockerError } from './docker-client';

export type SandboxReadiness =
  | { kind: 'devcontainer'; configFile: string }
  | { kind: 'image'; image: string; present: true; sizeBytes: number }
  | { kind: 'image'; image: string; present: false };

/** What a session in `workspace` would run in, and whether it is there already. */
export async function sandboxReadiness(
  workspace: string | undefined,
  defaultImage = DEFAULT_IMAGE,
  dockerHost?: string,
): Promise<SandboxReadiness> {
  const configFile = workspace ? findConfigFile(workspace) : undefined;
  if (configFile) return { kind: 'devcontainer', configFile };
  const { docker, host } = connectDocker(dockerHost);
  try {
    const info = (await docker.getImage(defaultImage).inspect()) as { Size?: number };
    return { kind: 'image', image: defaultImage, present: true, sizeBytes: info.Size ?? 0 };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404)
      return { kind: 'image', image: defaultImage, present: false };
    throw dockerError(err, host);
  }
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
