"""The bash side of a persistent shell session: its bootstrap, and how one command is framed.

Commands travel as one line each, `$'...'`-quoted and run by `eval` in the top-level shell (so
`cd` and `export` persist), with stdin from /dev/null. An unbalanced quote or a syntax error stays
inside the quoted string: eval reports it and the session goes on. After each command the shell
saves its exported variables and directory to a state file (so a restarted shell can take them
back) and prints a marker: NUL, the session token, the exit code, NUL.

Containing runaway processes (`__srl_sweep`) uses bash builtins only, so it still works when a
fork bomb has used up the process limit: it SIGSTOPs every process of a uid but the ones it
keeps, round after round until no new one appears (a stopped process cannot fork), then SIGKILLs
them all. Before each command the agent's own shell checks the cgroup's process count and sweeps
its stray background processes when it is near the limit, or when a fork failed on the limit
since the last command and the cgroup is still half full (a bomb's count swings as its forks fail,
so "near the limit" alone can miss it), so the next command can fork.
"""

from __future__ import annotations

import shlex

_QUOTE = {ord("\\"): "\\\\", ord("'"): "\\'", ord("\n"): "\\n", ord("\t"): "\\t", 0: ""}
_QUOTE.update({c: f"\\x{c:02x}" for c in (*range(1, 32), 127) if c not in _QUOTE})

SWEEP = r"""
__srl_sweep() {
  local uid=$1 keep=" 1 $$ $BASHPID ${*:2} " stopped=" " p pid k u rest round new
  __srl_killed=0
  [[ $uid == [1-9]* ]] || return 3  # never root's processes
  for round in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    new=0
    for p in /proc/[0-9]*; do
      pid=${p#/proc/}
      [[ $keep == *" $pid "* || $stopped == *" $pid "* ]] && continue
      u=
      while read -r k u rest; do [[ $k == Uid: ]] && break; done 2>/dev/null < "$p/status"
      [[ $u == "$uid" ]] || continue
      kill -STOP "$pid" 2>/dev/null && { stopped+="$pid "; new=1; }
    done
    [[ $new == 1 ]] || break
  done
  for pid in $stopped; do kill -KILL "$pid" 2>/dev/null && __srl_killed=$((__srl_killed + 1)); done
  return 0
}
"""


def bootstrap(token: str, state_file: str, init: str = "", pid_guard: bool = True) -> str:
    """The script a fresh bash reads first; it ends by printing the ready marker with its pid.

    `pid_guard`: sweep this shell's user's stray processes before a command when the cgroup is
    near its process limit (for the agent's shell; never for a root control shell).
    """
    guard = "/sys/fs/cgroup/pids/pids.current /sys/fs/cgroup/pids.current" if pid_guard else ""
    return "\n".join([
        "exec 2>&1",
        f"__srl_token={shlex.quote(token)}",
        f"__srl_state={shlex.quote(state_file)}",
        "__srl_swept=0 __srl_killed=0 __srl_pids_file= __srl_high=0 __srl_half=0 __srl_fails=0",
        # The cgroup's process counter: v1 layout, then v2; absent outside a container.
        f"for __srl_f in {guard}; do",
        '  [ -r "$__srl_f" ] || continue',
        '  __srl_m=; read -r __srl_m 2>/dev/null < "${__srl_f%.current}.max"',
        '  case $__srl_m in ""|max) ;; *) __srl_pids_file=$__srl_f; __srl_high=$((__srl_m - __srl_m / 8)); __srl_half=$((__srl_m / 2));; esac',
        "  break",
        "done",
        "unset __srl_f __srl_m",
        # How many forks the limit has refused so far ("max N", the first line of pids.events).
        "__srl_refused() {",
        '  local k=; __srl_n=0; read -r k __srl_n 2>/dev/null < "${__srl_pids_file%.current}.events" || __srl_n=0',
        "}",
        '[[ -n $__srl_pids_file ]] && { __srl_refused; __srl_fails=$__srl_n; }',
        SWEEP,
        "__srl_pre() {",
        "  __srl_swept=0",
        '  [[ -n $__srl_pids_file ]] || return 0',
        '  local n=0; read -r n 2>/dev/null < "$__srl_pids_file" || return 0',
        '  __srl_refused; local hit=$((__srl_n > __srl_fails)); __srl_fails=$__srl_n',
        '  [[ $n -ge $__srl_high ]] || (( hit && n >= __srl_half )) || return 0',
        '  __srl_sweep "$UID" "$@"; __srl_swept=$__srl_killed',
        "}",
        "__srl_done() {",
        '  { export -p; printf "cd -- %q\\n" "$PWD"; } 2>/dev/null >| "$__srl_state"',
        "  printf '\\0%s D %d %d\\0' \"$__srl_token\" \"$1\" \"$__srl_swept\"",
        "}",
        init,
        "printf '\\0%s R %d\\0' \"$__srl_token\" \"$$\"",
        "",
    ])


def command_line(command: str, keep: tuple[int, ...] = ()) -> bytes:
    """One framed command: check the process limit, eval the command, print the marker."""
    quoted = "$'" + command.translate(_QUOTE) + "'"
    keep_args = " ".join(str(pid) for pid in keep)
    # No `{ ...; }` groups on this line: after an eval'd string ends inside a quote, bash 5.2's
    # parser mis-reads a later `}` on the same line as a syntax error and the shell exits.
    line = f"__srl_pre {keep_args} 2>/dev/null; eval {quoted} </dev/null; __srl_done $? 2>/dev/null\n"
    return line.encode("utf-8", "surrogateescape")


def restore_line(state_file: str) -> bytes:
    """Take back the exported variables and directory a previous shell saved."""
    return f". {shlex.quote(state_file)} >/dev/null 2>&1\n".encode()


def forget_line(state_file: str) -> bytes:
    """Empty the saved state, so a later restart does not bring back what a reset dropped."""
    return f": >| {shlex.quote(state_file)} 2>/dev/null\n".encode()
