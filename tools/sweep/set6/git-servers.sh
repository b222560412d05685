# git's servers on loopback: git daemon (git://) for clone, fetch and a
# push, and smart HTTP through git http-backend behind python's CGI
# server; then gc, fsck, bundle and worktrees on the clone.
export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@b
export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
git init -q -b main src && cd src
for i in $(seq 30); do seq $((i * 100)) >f$i; git add f$i; git commit -qm "c$i"; done
cd ..
git clone -q --bare src srv/r.git && git -C srv/r.git config daemon.receivepack true
git daemon --reuseaddr --listen=127.0.0.1 --port=19418 --base-path="$PWD/srv" --export-all --enable=receive-pack "$PWD/srv" 2>daemon.log &
d=$!
for _ in $(seq 300); do git ls-remote git://127.0.0.1:19418/r.git >/dev/null 2>&1 && break; sleep 0.2; done
git clone -q git://127.0.0.1:19418/r.git c1 && git -C c1 rev-parse HEAD
echo new >c1/new && git -C c1 add new && git -C c1 commit -qm new && git -C c1 push -q origin main 2>&1
git -C srv/r.git log --oneline | wc -l
mkdir -p cgi/cgi-bin && cat >cgi/cgi-bin/git <<S
#!/bin/sh
# python runs CGI scripts as nobody: the repository is not its own.
export GIT_PROJECT_ROOT="$PWD/srv" GIT_HTTP_EXPORT_ALL=1 GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="*"
exec git http-backend
S
chmod +x cgi/cgi-bin/git
(cd cgi && exec python3 -W ignore -m http.server --cgi 18300 --bind 127.0.0.1 >/dev/null 2>&1) &
h=$!
for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:18300/ && break; sleep 0.2; done
git clone -q http://127.0.0.1:18300/cgi-bin/git/r.git c2 && git -C c2 log --oneline | wc -l
git -C c2 fetch -q origin && echo fetched
kill $h $d; wait $h $d 2>/dev/null
git -C c2 gc -q --aggressive && git -C c2 fsck --strict 2>&1 | wc -l
git -C c2 count-objects -v | grep -E '^(count|in-pack)'
git -C c2 bundle create ../r.bundle --all 2>/dev/null && git -C c2 bundle verify -q ../r.bundle 2>&1 | tail -1
git -C c2 worktree add -q ../wt HEAD~5 2>/dev/null && ls wt | wc -l
git -C c2 worktree list | wc -l
echo done
