"""No git history in a sandbox: the repository holds base_commit's tree and nothing else.

An image's repository may hold the fix: later commits on other branches or tags, the reflog,
stashes, packed refs, unreachable objects (SWE-bench issue 465). Before the agent's first
command, every backend replaces the repository's `.git` with a fresh one fetched from it at depth 1:
one commit (base_commit, shallow), on the branch HEAD was on, no reflog, no other object.
Moving HEAD to base_commit first when it is elsewhere is safe then: the agent has not run yet.
"""

from __future__ import annotations

# bash: SCRUB_HISTORY BASE_COMMIT REPO; exit 92 when the repository has no such commit.
SCRUB_HISTORY = r"""
__srl_scrub_history() (
  set -e
  base=$1 repo=$2
  cd "$repo"
  git rev-parse -q --verify "$base^{commit}" >/dev/null || exit 92
  [ "$(git rev-parse -q --verify HEAD)" = "$base" ] || git reset -q --hard "$base"
  branch=$(git symbolic-ref -q HEAD || true)
  fresh=$(mktemp -d)
  git init -q "$fresh"
  git -C "$fresh" fetch -q --depth 1 "file://$repo" "$base"
  if [ -n "$branch" ]; then
    git -C "$fresh" update-ref "$branch" "$base" && git -C "$fresh" symbolic-ref HEAD "$branch"
  else
    git -C "$fresh" update-ref --no-deref HEAD "$base"
  fi
  rm -rf "$fresh/.git/FETCH_HEAD" "$fresh/.git/logs" "$fresh/.git/hooks" "$repo/.git"
  mv "$fresh/.git" "$repo/.git"
  rmdir "$fresh"
  git read-tree HEAD && git update-index -q --refresh >/dev/null || true
)
"""
