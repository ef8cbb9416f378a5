/**
 * A stand-in for github.com inside a test container (network none): bare repositories served over
 * git's dumb HTTP protocol by python3 on 127.0.0.1:80, with github.com pointed there in /etc/hosts.
 * Without KLong's blacklist guard, `git clone http://github.com/owner/repo` really gets the
 * repository; its README says "repo sources", so a copy is easy to find. Run as root in the container (in a subshell: a persistent shell keeps its cwd and options).
 */
export const FAKE_GITHUB = `(
set -e
mk() {
  git init -q /srv/src/$2 && cd /srv/src/$2
  echo "$2 sources" > README && git add README
  git -c user.name=t -c user.email=t@t commit -qm init
  git clone -q --bare /srv/src/$2 /srv/git/$1.git
  git -C /srv/git/$1.git update-server-info
  ln -s $(basename $1).git /srv/git/$1
}
mk owner/repo repo
mk owner/other other
mk owner/repo-fork fork
echo '127.0.0.1 github.com www.github.com codeload.github.com' >> /etc/hosts
cd /srv/git && nohup python3 -m http.server 80 --bind 127.0.0.1 >/tmp/http.log 2>&1 &
for i in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null && break
  sleep 0.1
done
echo fake github ready
)`;

/** What a copy of the blacklisted repository contains. */
export const REPO_MARK = 'repo sources';
