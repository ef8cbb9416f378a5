/**
 * The blacklist where the URL is final: git inside the container. A system git config sends every
 * http(s)/ftp(s) remote, and the ssh/git spellings of each blacklisted repository, to a remote helper
 * (`git-remote-klong`, through `url.<base>.insteadOf`). The helper normalises the URL git is about to
 * fetch (case, percent-escapes, `//`, trailing dots, `.git`, www., the raw/codeload/api doors),
 * refuses a blacklisted repository with a message, and hands every other URL to git's own helper.
 * However a command spells the URL, git sees it spelled out; pip and uv fetch `git+https://` through git.
 */
import type { Blacklist, BlacklistSource } from './blacklist';

/** Files for the sandbox to install (as root): see installGitGuard in src/sandbox/git-guard.ts. */
export interface GitGuardFiles {
  /** Included from /etc/gitconfig. */
  gitconfig: string;
  /** The remote helper `git-remote-klong` (a bash script). */
  helper: string;
}

export const GUARD_SCHEME = 'klong';

export function refusalReason(source: BlacklistSource): string {
  return source === 'paper'
    ? "the paper's official code"
    : source === 'paperbench'
      ? "on the paper's PaperBench blacklist"
      : 'blocked by the user';
}

/** The message git prints (through the helper) for a refused repository. */
export function guardMessage(repo: string, source: BlacklistSource): string {
  return `KLong: ${repo} is ${refusalReason(source)} and is off limits (PaperBench rules). Reproduce the paper without it.`;
}

const shq = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
const cfgq = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** ssh and git:// spellings of host/path that git accepts (scp-like with and without a user, ssh://, git://). */
function sshPrefixes(host: string, path: string): string[] {
  const out: string[] = [];
  for (const h of [host, `${host}.`])
    out.push(
      `git@${h}:${path}`,
      `${h}:${path}`,
      `ssh://git@${h}/${path}`,
      `ssh://${h}/${path}`,
      `ssh://git@${h}:22/${path}`,
      `git+ssh://git@${h}/${path}`,
      `ssh+git://git@${h}/${path}`,
      `git://${h}/${path}`,
    );
  return out;
}

export function gitGuardFiles(blacklist: Blacklist): GitGuardFiles {
  const cfg = [
    '# Written by KLong (blacklist guard); rewritten each time the sandbox is opened.',
    '# Every http(s)/ftp(s) remote goes through git-remote-klong, which refuses the blacklisted',
    "# repositories and hands the others to git's own helper.",
    `[protocol ${cfgq(GUARD_SCHEME)}]`,
    '\tallow = always',
  ];
  for (const scheme of ['https', 'http', 'ftps', 'ftp'])
    cfg.push(`[url ${cfgq(`${GUARD_SCHEME}::${scheme}://`)}]`, `\tinsteadOf = ${cfgq(`${scheme}://`)}`);
  for (const e of blacklist.entries) {
    const [host, ...rest] = e.pattern.split('/');
    const path = rest.join('/');
    if (!host || !path) continue;
    // insteadOf compares prefixes as written: the lower-case form and the entry's own capitalisation.
    const asWritten = /[/:]([^/:].*)$/.exec(e.raw.replace(/^[a-z+]+:\/\//i, '').replace(/\.git$/i, ''))?.[1];
    const paths = [...new Set([path, ...(asWritten && asWritten.toLowerCase() === path ? [asWritten] : [])])];
    const prefixes = [...new Set(paths.flatMap((p) => sshPrefixes(host, p)))];
    cfg.push(`[url ${cfgq(`${GUARD_SCHEME}::ssh://git@${host}/${path}`)}]`);
    for (const p of prefixes) cfg.push(`\tinsteadOf = ${cfgq(p)}`);
  }
  const rules = blacklist.entries.map((e) => `${shq(e.pattern)} ${shq(guardMessage(e.pattern, e.source))}`);
  return { gitconfig: `${cfg.join('\n')}\n`, helper: helperScript(rules) };
}

function helperScript(rules: string[]): string {
  return `#!/usr/bin/env bash
# git-remote-klong, installed by KLong (blacklist guard). /etc/klong/gitconfig rewrites every http(s)
# and ftp(s) remote, and the ssh/git spellings of the blacklisted repositories, to klong::<url>, so git
# runs this helper with the URL it is about to fetch. Blacklisted repositories are refused; other URLs
# go on to git's own helper.
url=$2
rules=(
${rules.map((r) => `  ${r}`).join('\n')}
)

# host/path: lower case, no scheme, user or port, no trailing dots on the host, no www., one slash
# at a time, no .git, no query; GitHub's raw/codeload/api hosts are GitHub.
norm() {
  local n=$1 auth p port
  n=\${n//\\\\//}
  n=$(printf '%b' "\${n//%/\\\\x}")
  n=\${n,,}
  n=\${n#git+}
  case $n in *://*) n=\${n#*://} ;; esac
  auth=\${n%%/*}
  p=\${n:\${#auth}}
  auth=\${auth##*@}
  if [[ $auth == *:* ]]; then
    port=\${auth#*:}
    auth=\${auth%%:*}
    [[ $port =~ ^[0-9]*$ ]] || p="/$port$p"
  fi
  while [[ $auth == *. ]]; do auth=\${auth%.}; done
  auth=\${auth#www.}
  p=\${p%%[?#]*}
  while [[ $p == *//* ]]; do p=\${p//\\/\\//\\/}; done
  p=\${p#/}
  while [[ $p == */ || $p == *. ]]; do p=\${p%[/.]}; done
  p=\${p/.git\\//\\/}
  p=\${p%.git}
  case $auth in
    raw.githubusercontent.com | codeload.github.com | ssh.github.com) auth=github.com ;;
    api.github.com) [[ $p == repos/* ]] && { auth=github.com; p=\${p#repos/}; } ;;
  esac
  printf '%s/%s' "$auth" "$p"
}

key=$(norm "$url")
i=0
while (( i < \${#rules[@]} )); do
  pat=\${rules[i]}
  if [[ $key == "$pat" || $key == "$pat"/* ]]; then
    echo "\${rules[i+1]}" >&2
    exit 1
  fi
  i=$((i + 2))
done

exec_path=$(git --exec-path 2>/dev/null || echo /usr/lib/git-core)
case \${url,,} in
  https://*) exec "$exec_path/git-remote-https" "$@" ;;
  http://*) exec "$exec_path/git-remote-http" "$@" ;;
  ftps://*) exec "$exec_path/git-remote-ftps" "$@" ;;
  ftp://*) exec "$exec_path/git-remote-ftp" "$@" ;;
esac
echo "KLong: $url is refused: it starts like the ssh address of a blacklisted repository. Use https:// for other repositories." >&2
exit 1
`;
}

const TAMPERING =
  /GIT_CONFIG_(?:NOSYSTEM|SYSTEM)\b|\/etc\/klong\b|git-remote-klong|protocol\.klong\b|\bklong::|insteadof|include\.path|(?:>|\brm\b|\bmv\b|\bcp\b|\btee\b|\bsed\s+-i\b|\bchmod\b|\bln\b)[^;&|\n]*\/etc\/gitconfig/i;

/**
 * Refusal for a command that would switch the guard off (git's system config ignored or rewritten,
 * the helper replaced, URL rewrites of its own), or undefined. The guard is root-owned but the agent
 * often runs as root: this keeps an honest agent from breaking it by accident and makes an attack
 * take more than one obvious line.
 */
export function guardTampering(command: string): string | undefined {
  const m = TAMPERING.exec(command);
  if (!m) return undefined;
  return `Refused: the command touches KLong's blacklist guard for git (${m[0].trim()}). Leave git's system configuration and URL rewrites as they are; fetch other repositories by their usual https:// URL.`;
}
