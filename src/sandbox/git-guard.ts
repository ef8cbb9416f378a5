/**
 * Installs the blacklist guard (src/paper/blacklist/guard.ts) in a container, as root: the remote
 * helper in /usr/local/bin and git's exec path, its config in /etc/klong/gitconfig, included from
 * /etc/gitconfig (git's system config, read by every git command whatever the user). Idempotent: run
 * on every open, reattach or re-creation of a sandbox, and in the final run's fresh container.
 */
import type Docker from 'dockerode';
import { bashScript } from './exec';

export interface GitGuard {
  gitconfig: string;
  helper: string;
}

const INSTALL = `set -e
mkdir -p /etc/klong /usr/local/bin
printf '%s' "$1" > /etc/klong/gitconfig
printf '%s' "$2" > /usr/local/bin/git-remote-klong
chmod 0644 /etc/klong/gitconfig
chmod 0755 /usr/local/bin/git-remote-klong
touch /etc/gitconfig
# git's exec path is searched before PATH: a PATH without /usr/local/bin still finds the helper.
if command -v git >/dev/null 2>&1; then
  ln -sf /usr/local/bin/git-remote-klong "$(git --exec-path)/git-remote-klong"
  git config --system --get-all include.path 2>/dev/null | grep -qx /etc/klong/gitconfig ||
    git config --system --add include.path /etc/klong/gitconfig
else
  # git installed later reads /etc/gitconfig too.
  grep -qx '	path = /etc/klong/gitconfig' /etc/gitconfig ||
    printf '[include]\\n\\tpath = /etc/klong/gitconfig\\n' >> /etc/gitconfig
fi
`;

export async function installGitGuard(container: Docker.Container, guard: GitGuard): Promise<void> {
  const r = await bashScript(container, INSTALL, [guard.gitconfig, guard.helper], { user: 'root' });
  if (r.exitCode !== 0)
    throw new Error(`Installing the blacklist guard in the container failed: ${r.stderr.trim()}`);
}
