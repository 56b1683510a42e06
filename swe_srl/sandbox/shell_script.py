"""The bash side of a persistent shell session: the framing shell, and the bash each command runs in.

The session talks to one *framing shell* per transport. Commands travel to it as one line each,
`$'...'`-quoted with a nonce the session draws afresh for the command. The framing shell never
runs the agent's code itself: each command runs in a child bash of its own (`CHILD`), with stdin
from /dev/null, in the directory and with the variables, functions and shell options saved after
the previous command. The child is started as soon as the previous command has ended (while the
agent thinks) and waits on a pipe for its command; the init commands' state is made once per
framing shell, ahead of need, for every fresh start. When the child has ended, the framing shell prints the marker: NUL,
the nonce, `D`, the exit status, how many processes the fork-bomb check swept, whether the child
saved its state (0 when it ended early: `exit`, `exec`, a signal, `set -e`), NUL. The child never
sees the nonce (it is in no variable, argument, file or environment it inherits), so it cannot
print a marker, and nothing it redefines (`eval`, aliases, traps, `set -x`) runs in the framing
shell. On docker the framing shell is root and drops to the agent's uid for each child (`setpriv`),
so the agent can neither signal it nor open its pipes; elsewhere (the local backend, where the
sandbox has no other uid) it is the agent's own uid: the agent can kill it (the session then starts
a new one, shell.py), and though it cannot open the framing shell's pipes, it can read its memory
(/proc/PID/mem), so a process left running that scans it could learn a later command's nonce while
that command runs and end it early (a framing shell of another uid would need a second uid in the
bubblewrap namespace).

State travels as data, never as code a later command would run: the child writes NUL-separated
records (`kind`, `name`, `value`) to a file the framing shell hands it; the next child gets the
exported variables and functions through its environment (bash imports a function only when the
value is one definition and nothing more) and reads the rest (plain variables, set -o and shopt
options, arrays, the umask, the directory) with builtins before any of the agent's code runs. A
function named like a builtin or keyword is not carried over (so `eval() { :; }` lasts one
command), nor are traps, aliases, open file descriptors, readonly variables, empty arrays, resource
limits, or the options that would stop later commands from running at all (errexit, noexec, onecmd).

A session that runs only our own commands (the docker backend's root control shell) uses
`inline=True`: they are eval'd in the framing shell itself, so the fork-bomb sweep (`__srl_sweep`)
runs with builtins only, with no fork, even when a fork bomb has used up the process limit.

Containing runaway processes (`__srl_sweep`) uses bash builtins only: it SIGSTOPs every process
of a uid but the ones it keeps, round after round until no new one appears (a stopped process
cannot fork), then SIGKILLs them all. Before each command the framing shell checks the cgroup's
process count and sweeps the agent's stray background processes when it is near the limit, or
when a fork failed on the limit since the last command and the cgroup is still half full (a
bomb's count swings as its forks fail, so "near the limit" alone can miss it), so the command can fork.
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

# Variables never carried over: bash's own (set afresh in every shell) and those bash reads at
# startup or that steer the saving itself (a saved BASH_ENV or SHELLOPTS would run before any command).
UNSAVED = ("BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_CMDS BASH_COMMAND BASH_COMPAT "
           "BASH_ENV BASH_EXECUTION_STRING BASH_LINENO BASH_LOADABLES_PATH BASH_REMATCH BASH_SOURCE BASH_SUBSHELL "
           "BASH_VERSINFO BASH_VERSION BASH_XTRACEFD COMP_WORDBREAKS DIRSTACK ENV EPOCHREALTIME EPOCHSECONDS EUID "
           "EXECIGNORE FUNCNAME GLOBIGNORE GROUPS HISTCMD HOSTNAME HOSTTYPE IFS LINENO MACHTYPE OPTERR OPTIND OSTYPE "
           "PIPESTATUS POSIXLY_CORRECT PPID PS4 PWD RANDOM SECONDS SHELLOPTS SHLVL SRANDOM TMOUT UID _")
# Options that would make every later command a no-op or end it at once: they last one command.
UNSAVED_OPTIONS = "errexit noexec onecmd"
_SKIP = "(" + " ".join(f"[{name}]=1" for name in UNSAVED.split()) + ")"  # an associative array's value

# The bash one command runs in, as the agent. fd 3: the command; fd 4: the saved state; fd 197
# and 196: a scratch file, written then read back (no fork, so saving works when a fork bomb holds
# every process slot); fd 198: the new state. One `{ }` group, parsed whole before the agent's
# code runs, so no alias it defines can reach it. The options are restored inside the eval'd
# string, so a restored `set -x` traces the agent's commands and never the framing. After the
# command everything goes to the state file or /dev/null (a trap or trace the command set prints
# nothing of the saving); POSIX mode makes the special builtins win over functions, and the other
# builtins used are unset as functions.
CHILD = r"""{
declare -A __srl_skip=@SKIP@
__srl_o= __srl_x=
mapfile -d '' -t __srl_r <&4 2>/dev/null; exec 4<&-
for ((__srl_i = 0; __srl_i + 2 < ${#__srl_r[@]}; __srl_i += 3)); do
  __srl_k=${__srl_r[__srl_i]} __srl_n=${__srl_r[__srl_i + 1]} __srl_v=${__srl_r[__srl_i + 2]}
  case $__srl_k in
    v) [[ $__srl_n =~ ^[A-Za-z_][A-Za-z0-9_]*$ && ! -v __srl_skip[$__srl_n] ]] && declare -g -- "$__srl_n=$__srl_v" ;;
    m) [[ $__srl_v =~ ^[0-7]{1,4}$'\n'$ ]] && umask "${__srl_v%$'\n'}" ;;
    a|A)  # one element: "<length of the key>:<key><value>"; an assignment expands the key once, never twice
      [[ $__srl_n =~ ^[A-Za-z_][A-Za-z0-9_]*$ && ! -v __srl_skip[$__srl_n] && $__srl_v =~ ^([0-9]+): ]] || continue
      __srl_j=${BASH_REMATCH[1]} __srl_v=${__srl_v#*:}
      [[ -v $__srl_n ]] || declare -g"$__srl_k" "$__srl_n"
      __srl_u=${__srl_v:0:__srl_j} __srl_v=${__srl_v:__srl_j}
      if [[ $__srl_k == a ]]; then [[ $__srl_u =~ ^[0-9]+$ ]] && eval "$__srl_n[$__srl_u]=\$__srl_v"
      else eval "$__srl_n[\$__srl_u]=\$__srl_v"; fi ;;
    o|s)
      if [[ $__srl_k == o ]]; then __srl_n=$SHELLOPTS __srl_k="set -o" __srl_u="set +o"
      else __srl_n=$BASHOPTS __srl_k="shopt -s" __srl_u="shopt -u"; fi
      for __srl_j in ${__srl_n//:/ }; do
        [[ :$__srl_v: == *:$__srl_j:* ]] || __srl_o+="$__srl_u $__srl_j"$'\n'
      done
      for __srl_j in ${__srl_v//:/ }; do
        [[ $__srl_j =~ ^[a-z0-9_-]+$ && " @OPTIONS@ " != *" $__srl_j "* && :$__srl_n: != *:$__srl_j:* ]] || continue
        case $__srl_j in
          xtrace|verbose) __srl_x+="set -o $__srl_j"$'\n' ;;
          *) __srl_o+="$__srl_k $__srl_j"$'\n' ;;
        esac
      done ;;
  esac
done 2>/dev/null
unset __srl_r __srl_i __srl_j __srl_k __srl_n __srl_v __srl_u
IFS= read -r -d '' __srl_c <&3; exec 3<&-
eval "$__srl_o$__srl_x${__srl_c%$'\n'}"
{
  __srl_s=$? __srl_so=$SHELLOPTS __srl_bo=$BASHOPTS
  POSIXLY_CORRECT=y
  trap - DEBUG RETURN ERR EXIT
  set +xveu
  unset -f builtin command declare printf read exit compgen mapfile umask
  __srl_d=(o SHELLOPTS "$__srl_so" s BASHOPTS "$__srl_bo")
  compgen -v >&197
  mapfile -t __srl_r <&196
  for __srl_n in "${__srl_r[@]}"; do
    [[ -v __srl_skip[$__srl_n] || $__srl_n == __srl_* ]] && continue
    __srl_a=${!__srl_n@a}
    [[ $__srl_a == *[nr]* ]] && continue
    if [[ $__srl_a == *[aA]* ]]; then
      declare -n __srl_ref=$__srl_n
      __srl_k=${__srl_a//[^aA]/}
      for __srl_i in "${!__srl_ref[@]}"; do
        __srl_d+=("$__srl_k" "$__srl_n" "${#__srl_i}:$__srl_i${__srl_ref[$__srl_i]}")
      done
      unset -n __srl_ref
      continue
    fi
    [[ $__srl_a == *x* ]] && __srl_k=x || __srl_k=v
    __srl_d+=("$__srl_k" "$__srl_n" "${!__srl_n}")
  done
  printf '%s\0' "${__srl_d[@]}"
  declare -F >&197
  mapfile -t __srl_r <&196
  for __srl_n in "${__srl_r[@]}"; do
    __srl_n=${__srl_n#declare -f* }
    printf 'f\0%s\0' "$__srl_n"; declare -f -- "$__srl_n"; printf '\0'
  done
  printf 'm\0umask\0'; umask; printf '\0'
  printf 'd\0PWD\0%s\0E\0END\0\0' "$PWD"
  exit "$__srl_s"
} 2>/dev/null >&198
}""".replace("@SKIP@", _SKIP).replace("@OPTIONS@", UNSAVED_OPTIONS)

# The framing shell's own part: how it runs one command (in a child, or inline) and prints the
# marker. The session's state is in one of two files (`.a`, `.b`) or, after a fresh start, the
# init commands' (`.init.PID`); `.cur` names which, so a command's new state is taken with no fork
# and a spare framing shell finds it. The child's
# environment is the saved exported variables and functions, nothing of the framing shell's
# (whose variables are never exported); `$__srl_as` drops to the agent's uid.
FRAME = r"""
__srl_slots() {  # the current state file (the pointer names it) and the one the next command writes
  local cur=a
  read -r cur 2>/dev/null < "$__srl_base.cur"
  [[ $cur =~ ^(a|b|init\.[0-9]+)$ ]] || cur=a
  __srl_state=$__srl_base.$cur __srl_next=$__srl_base.a __srl_other=a
  [[ $cur == a ]] && __srl_next=$__srl_base.b __srl_other=b
}
__srl_spawn() {  # start the next command's child: it restores the state now, then waits for its command
  __srl_slots
  __srl_launch "$@"
}
__srl_launch() {  # a child restoring $__srl_state and saving to $__srl_next; $1: where its output goes
  local r=() i n cwd= env=() out=$1
  if [[ -s $__srl_state ]]; then
    env=(env -i)
    mapfile -d '' -t r < "$__srl_state"
    for ((i = 0; i + 2 < ${#r[@]}; i += 3)); do
      n=${r[i + 1]}
      case ${r[i]} in
        x) [[ $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ && ! -v __srl_skip[$n] ]] && env+=("$n=${r[i + 2]}") ;;
        f) [[ ! -v __srl_builtin[$n] && $n != *[=/%[:space:]]* && ${r[i + 2]} == *$'\n{'* ]] &&
             env+=("BASH_FUNC_$n%%=() {${r[i + 2]#*$'\n{'}") ;;
        d) cwd=${r[i + 2]} ;;
      esac
    done
  fi
  : >| "$__srl_next"; : >| "$__srl_scratch"
  coproc __srl_co {
    [[ -n $cwd ]] && cd -- "$cwd" 2>/dev/null && env+=("PWD=$cwd")
    [[ -n $out ]] && exec 9>"$out"
    exec $__srl_as "${env[@]}" bash --norc --noprofile -c "$__srl_code" 3<&0 </dev/null >&9 2>&1 9>&- \
      4<"$__srl_state" 197>"$__srl_scratch" 196<"$__srl_scratch" 198>"$__srl_next"
  }
  __srl_pid=$__srl_co_PID __srl_in=${__srl_co[1]}
}
__srl_child() {  # run one command in the ready child (started now if there is none); its exit status
  [[ -n $__srl_pid ]] && kill -0 "$__srl_pid" 2>/dev/null || __srl_spawn "$2"
  printf '%s' "$1" >&"$__srl_in"
  exec {__srl_in}>&-
  wait "$__srl_pid"
  local status=$?
  __srl_pid=
  return "$status"
}
__srl_ahead() {  # the next child, started while the agent thinks, unless a fork bomb may be filling the cgroup
  local n=0
  [[ -n $__srl_pids_file ]] && read -r n 2>/dev/null < "$__srl_pids_file" && (( n >= __srl_half )) && return
  __srl_spawn
}
__srl_complete() {  # whether the child saved its state to the end
  local r=()
  mapfile -d '' -t r < "$__srl_next"
  (( ${#r[@]} % 3 == 0 && ${#r[@]} >= 3 )) && [[ ${r[-3]} == E ]]
}
__srl_saved() {  # whether the child saved its state; then that state is the session's
  __srl_complete && printf '%s\n' "$__srl_other" >| "$__srl_base.cur"
}
__srl_run() {
  local nonce=$1 cmd=$2 status saved=1
  shift 2
  __srl_pre "$@" $__srl_pid 2>/dev/null
  if [[ -n $__srl_inline ]]; then
    eval "$cmd" </dev/null 2>&1
    status=$?
  else
    __srl_child "$cmd"
    status=$?
    __srl_saved || saved=0
  fi
  printf '\0%s D %d %d %d\0' "$nonce" "$status" "$__srl_swept" "$saved"
  [[ -n $__srl_inline ]] || __srl_ahead
}
__srl_prepare() {  # the state the init commands make, kept for every fresh start (made ahead of need)
  __srl_state=/dev/null __srl_next=$__srl_base.init.$$
  __srl_launch /dev/null
  __srl_child "$__srl_init"
  __srl_complete && __srl_ready=1
}
__srl_fresh() {  # forget the saved state: the next command starts from the init commands' state
  [[ -n $__srl_inline ]] && return
  [[ -n $__srl_pid ]] && kill -KILL "$__srl_pid" 2>/dev/null && wait "$__srl_pid"
  __srl_pid=
  [[ -n $__srl_ready ]] || __srl_prepare
  printf '%s\n' "init.$$" >| "$__srl_base.cur"
  __srl_ahead
}
"""


def bootstrap(token: str, state_file: str, init: str = "", pid_guard: bool = True, *, inline: bool = False,
              run_as: str = "") -> str:
    """The script a fresh framing shell reads first; it ends by printing the ready marker with its pid.

    `token`: this shell's ready marker (never seen by a command). `pid_guard`: sweep the agent's
    stray processes before a command when the cgroup is near its process limit. `inline`: eval
    commands in this shell (only for our own, trusted ones). `run_as`: "UID:GID" each command's
    child drops to (this shell being root), else it keeps this shell's identity.
    """
    guard = "/sys/fs/cgroup/pids/pids.current /sys/fs/cgroup/pids.current" if pid_guard else ""
    uid, _, gid = run_as.partition(":")
    drop = f"setpriv --reuid={uid} --regid={gid} --init-groups --" if run_as else ""
    return "\n".join([
        "exec 2>&1",
        f"__srl_base={shlex.quote(state_file)}",
        '__srl_scratch=$__srl_base.scratch.$$',
        f"declare -A __srl_skip={_SKIP} __srl_builtin",
        f"__srl_inline={'1' if inline else ''} __srl_as={shlex.quote(drop)} __srl_uid={shlex.quote(uid)}",
        f"__srl_init={shlex.quote(init)}",
        f"__srl_code={shlex.quote(CHILD)}",
        'for __srl_f in $(compgen -b; compgen -k); do __srl_builtin[$__srl_f]=1; done',
        "__srl_pid= __srl_in= __srl_ready= __srl_swept=0 __srl_killed=0 __srl_pids_file= __srl_high=0 __srl_half=0 __srl_fails=0",
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
        '  __srl_sweep "${__srl_uid:-$UID}" "$@"; __srl_swept=$__srl_killed',
        "}",
        FRAME,
        '[[ -z $__srl_as ]] || type -P setpriv >/dev/null || { echo "setpriv (util-linux) is missing"; exit 90; }',
        "exec 9>&1 2>/dev/null",  # fd 9: the children's output; bash's own notes (`Killed`) are framing too
        "" if inline else "__srl_prepare",
        f"printf '\\0%s R %d\\0' {shlex.quote(token)} \"$$\"",
        "",
    ])


def command_line(command: str, nonce: str, keep: tuple[int, ...] = ()) -> bytes:
    """One framed command: its nonce, the command quoted, the pids the fork-bomb check keeps."""
    quoted = "$'" + command.translate(_QUOTE) + "'"
    keep_args = " ".join(str(pid) for pid in keep)
    return f"__srl_run {nonce} {quoted} {keep_args}\n".encode("utf-8", "surrogateescape")


FRESH_LINE = b"__srl_fresh\n"  # forget the saved state: the next command starts from the init commands'
