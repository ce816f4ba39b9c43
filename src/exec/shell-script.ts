/**
 * What a persistent shell is told, as pure functions: the bash it runs, the script it gets once at
 * start, and the record each command becomes. See shell-driver.ts for how the output is read.
 */

/** Whether a process's argv is our shell's (the sandbox may have resolved `bash` to a full path). */
export function isShellArgv(argv: readonly string[]): boolean {
  const [program, ...args] = argv;
  const [wanted, ...wantedArgs] = SHELL_ARGV;
  return (program === wanted || program?.endsWith(`/${wanted}`) === true) && args.length === wantedArgs.length && args.every((arg, index) => arg === wantedArgs[index]);
}

/** Random bytes in each command's marker. */
const MARKER_RANDOM_BYTES = 16;

/**
 * The signal that asks the shell to end its command if its SIGINT trap sees (or saw) the SIGINT
 * that came with it (see RUNNING_INT_TRAP): SIGURG, which nothing else sends a shell, and which is
 * ignored where it has no trap (before the shell is ready, between commands).
 */
export const SHELL_END_SIGNAL = "SIGURG" satisfies NodeJS.Signals;
/** Its name as bash's `trap` takes it. */
const END_SIGNAL_TRAP_NAME = SHELL_END_SIGNAL.slice("SIG".length);

/** The trap SIGINT has between commands: it only notes that one came (see buildShellCommandRecord). */
const IDLE_INT_TRAP = "'__bunker_interrupted=1'";
/**
 * The trap SHELL_END_SIGNAL has between commands: nothing. Every `:` of ours is `builtin :`: a
 * command may define a function named `:` (the fork bomb does), which is the command's own.
 */
const IDLE_END_TRAP = "'builtin :'";

/** `text` as one bash word, for a trap's text inside another's. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * 1 from the moment a command is over, 0 while it is unwound: UNWIND_TRAP reads it to know where to
 * stop. The loop sets it in a redirection of its first group, before that group's first command,
 * for which bash already runs the DEBUG trap: `${-:(var = 1):0}` assigns in the offset of a
 * substring of length 0, which adds nothing to the file's name whatever a command put in the
 * variable. `$BASH_COMMAND` would not do: bash stops updating it for good once a SIGINT trap of the
 * command's own that reset itself has left a function by `return`.
 */
const COMMAND_OVER = "__bunker_over";

/**
 * The DEBUG trap while a command is unwound (see END_COMMAND). bash runs it before each simple
 * command (and `for`, `case`, `[[`, `((`), before expanding it. In a function, it returns from that
 * function, before the command runs. At the command's top level, `continue` of the loop that runs
 * commands leaves the `eval`, and the non-zero status makes bash (under extdebug) skip the command
 * it was about to run: without extdebug, that command ran before the `continue` took effect. Once
 * the command is over (COMMAND_OVER), the trap takes itself away.
 */
const UNWIND_TRAP =
  `{ if ((${COMMAND_OVER})); then builtin trap - DEBUG;` +
  " elif [[ ${FUNCNAME-} ]]; then builtin return 0; else ! builtin continue 99999; fi; } 2>/dev/null";

/**
 * Unwinds the command from inside one of its functions, as the last step of the trap that ends it:
 * notes the options it changes and sets UNWIND_TRAP, which takes each function in turn when it runs
 * its next command, and then the rest of the `eval`. The trap itself does not `return`: the DEBUG
 * trap then ran for that `return`, inside the SIGINT trap, and bash was left believing it still ran
 * a trap (`$BASH_COMMAND` frozen; seen in a stress test). The SIGINT and SHELL_END_SIGNAL traps do
 * nothing meanwhile (` `, which runs no command: the DEBUG trap runs inside other traps too); the
 * loop sets them again for the next command. A DEBUG trap of the command's own is replaced, not
 * saved: reading it takes `$(trap -p)`, a fork, which a sandbox out of processes makes bash retry
 * for seconds and then leave.
 */
const START_UNWINDING =
  "__bunker_unwinding=1 __bunker_saved_flags=$- __bunker_saved_extdebug=0; builtin shopt -q extdebug && __bunker_saved_extdebug=1;" +
  ` ${COMMAND_OVER}=0; builtin trap ' ' INT; builtin trap ' ' ${END_SIGNAL_TRAP_NAME};` +
  ` builtin shopt -s extdebug; builtin trap -- ${quoted(UNWIND_TRAP)} DEBUG`;

/**
 * Puts back the options START_UNWINDING changed, in the loop once the command is over: extdebug,
 * then `set -T` and `set -E`, which turning extdebug on or off sets alike.
 */
const STOP_UNWINDING =
  "if ((__bunker_unwinding)); then builtin shopt -u extdebug; ((__bunker_saved_extdebug)) && builtin shopt -s extdebug;" +
  " if [[ $__bunker_saved_flags == *T* ]]; then builtin set -T; else builtin set +T; fi;" +
  " if [[ $__bunker_saved_flags == *E* ]]; then builtin set -E; else builtin set +E; fi; __bunker_unwinding=0; fi";

/**
 * Ends the whole command, from a trap, as a prompt's SIGINT does. At the command's top level that
 * is `continue` of the loop that runs commands (which skips the rest of the `eval`). Inside a
 * function of the command, `continue` would not leave it (bash counts loops per function), and
 * START_UNWINDING takes over. `__bunker_cmd` is emptied for a trap that runs in our own steps just
 * before the `eval`.
 */
const END_COMMAND =
  "__bunker_interrupted=1 __bunker_saw_int=0 __bunker_end_asked=0 __bunker_cmd=;" +
  ` if [[ \${FUNCNAME-} ]]; then ${START_UNWINDING}; else builtin continue 99999; fi`;

/**
 * Whether the last program of the job bash waited for died of the SIGINT, by `jobs -l`. For a
 * pipeline bash gives the SIGINT trap the status of its first program, not the pipeline's: in
 * `true | sleep 100; echo next`, `$?` was 0, and the trap let `echo next` run after `sleep` died of
 * it (found by a test of a function last in a pipeline; 6 rounds of 6). `jobs -l` lists each
 * program of the job with how it ended (`Interrupt`), on a line that starts with its pid, the
 * status left out where it is the one before's; the last status listed is the last program's. A
 * compound command's text goes on over further lines (`while read l; do` / `sleep 3; done`),
 * which start with no pid and are skipped. Read without a fork (a fork in a trap is
 * what a sandbox out of processes makes bash retry for seconds): into a file of the shell's own,
 * opened at its start (buildShellInitScript) in its TMPDIR (the sandbox's own /tmp under bwrap, the
 * session's `.tmp` otherwise), by a random name and with noclobber, and reopened through /dev/fd to
 * truncate and read it. Made without a fork too: mktemp and rm cost a new shell's first command
 * ~4 ms (measured). IFS is set for the `read`s: the command may have changed it. Without that file
 * (no /proc: /dev/fd duplicates there instead of reopening; or no TMPDIR), false: the trap decides
 * by `$?` alone, as before.
 */
const LAST_PROGRAM_INTERRUPTED =
  '{ [[ ${__bunker_jobs-} ]] && builtin jobs -l >"/dev/fd/$__bunker_jobs" && __bunker_job_state= &&' +
  ' while IFS= builtin read -r __bunker_line; do IFS=" " builtin read -r __bunker_a __bunker_b __bunker_c <<<"$__bunker_line";' +
  ' if [[ $__bunker_a == "["* ]]; then __bunker_job_state=${__bunker_c%% *}; elif [[ $__bunker_a && -z ${__bunker_a//[0-9]/} && $__bunker_b && $__bunker_b != "|"* ]]; then __bunker_job_state=$__bunker_b; fi;' +
  ' done <"/dev/fd/$__bunker_jobs" && [[ $__bunker_job_state == Interrupt ]]; } 2>/dev/null';

/**
 * The trap SIGINT has while a command runs. bash runs it once the program it waits for has ended,
 * with that program's status in `$?`, and, as bash does with a SIGINT it has no trap for, it ends the
 * command only when that program died of the SIGINT (130): a program that handled it and exited by
 * itself, or ignored it, lets the command go on, and the command's exit says how it really ended.
 * When bash was waiting for no program (it ran builtins: `while :; do :; done`), `$?` says nothing
 * of the SIGINT, and the server sends SHELL_END_SIGNAL with the SIGINT. Either may be taken first,
 * so each trap notes that it ran and the second ends the command. A command that set its own SIGINT
 * trap (`trap '' INT`, `trap 'cleanup' INT`) chose what a SIGINT does: SHELL_END_SIGNAL alone ends
 * nothing. It is not sent while bash waits for a program: bash 5.2 loses a trapped signal that came
 * meanwhile when it runs the SIGINT trap at that program's end.
 */
const RUNNING_INT_TRAP = quoted(
  `__bunker_int_status=$? __bunker_saw_int=1; ((__bunker_int_status != 130)) && ${LAST_PROGRAM_INTERRUPTED} && __bunker_int_status=130;` +
    ` if ((__bunker_int_status == 130 || __bunker_end_asked)); then ${END_COMMAND}; fi`,
);
/** The trap of SHELL_END_SIGNAL while a command runs (see RUNNING_INT_TRAP). */
const RUNNING_END_TRAP = quoted(`__bunker_end_asked=1; if ((__bunker_saw_int)); then ${END_COMMAND}; fi`);

/**
 * Ends the previous command, in the loop's condition: prints its marker (read now, after it ran),
 * status and directory (see buildShellInitScript). Inline, as are all the loop's steps but
 * `__bunker_resume`: a command that redefined or unset a function of ours stopped the shell. A
 * command ended by a SIGINT under `set -e` ends the shell with 130 instead, as an interactive bash
 * does: usually `set -e` does it itself, the program that died of the SIGINT having failed, but a
 * SIGINT taken among builtins (between `echo started` and `sleep` in a function) is ended by our
 * traps, and no command of the command's own failed (a fresh suite on a loaded machine, 1 run in 60
 * under load).
 */
const FINISH_STEPS =
  "if ((__bunker_pending)); then ((__bunker_interrupted)) && { __bunker_status=130; [[ $__bunker_options == *e* ]] && builtin exit 130; }; __bunker_interrupted=0 __bunker_pending=0;" +
  " builtin unset -n __bunker_marker; builtin unset -v __bunker_marker || builtin exit 1; IFS= builtin read -r __bunker_marker;" +
  " builtin printf '%s%d\\0%s\\0' \"$__bunker_marker\" \"$__bunker_status\" \"${PWD-}\" >&\"$__bunker_out\";" +
  ' builtin printf %s "$__bunker_marker" >&"$__bunker_err"; builtin unset -v __bunker_marker; fi';

/** Takes the next record (see buildShellCommandRecord) into `__bunker_cmd`; the shell ends when there is none. */
const NEXT_STEPS =
  "builtin unset -n __bunker_cmd; builtin unset -v __bunker_cmd || builtin exit 1; IFS= builtin read -r -d '' __bunker_cmd || builtin exit 1;" +
  " [[ ${__bunker_cmd:0:1} == 1 ]] && __bunker_interrupted=0; __bunker_cmd=${__bunker_cmd:1}";

/**
 * The script bash runs from `-c` (see SHELL_ARGV), one line. It reads the ready marker from stdin
 * first (buildShellReadyLine), then the commands. bash runs a loop that takes one command after
 * the other from stdin and `eval`s it at the shell's top level, as a prompt would: `cd`, variables
 * (`declare` too) and functions persist, and a syntax error ends the `eval` with status 2 and leaves
 * the shell as it was. bash names itself in its messages as `bash -c` does (`$0`, set to `bash` since
 * the sandbox runs it by its full path), and numbers the lines of `eval`'s text from the line the
 * `eval` is on; the script is one line, so that is line 1: `bash: line 1: nosuchcmd: command not
 * found`. (A `.` of the text from /dev/fd, as before, named that file instead.)
 *
 * Each command comes as a record (buildShellCommandRecord): a flag, the text and a NUL, taken by
 * `read -d ''`, then the marker on a line of its own, read only after the command has run: no
 * variable holds it while the command runs, so no `set` or `declare -p` prints it. It waits in the
 * shell's stdin meanwhile, which a command that goes looking can read (bash's saved copy of it, fd
 * 12 during the `eval`) to fake its own end, as it could read bash's memory: what only a command
 * does to itself, and no other command's report can be touched that way. The variables they are read into are unset first, so
 * that no attribute a command gave them (`declare -l`, `-i`, `-n`) changes either; one it made
 * readonly ends the shell. The loop's condition ends the previous command: it takes
 * its `$?` and prints, on copies of the shell's own stdout and stderr (fds 10 and up, so that a
 * command's `exec >file` does not swallow them), `marker status NUL $PWD NUL` on stdout and `marker`
 * on stderr. The `eval`'s stdin is /dev/null, so that a command cannot read the records meant for
 * the shell. Our own steps run with xtrace off and their traces sent to /dev/null; xtrace and the
 * previous command's `$?` are restored just before the `eval` (`__bunker_resume ... && builtin :`, so that a
 * non-zero `$?` does not trip `set -e`).
 *
 * SIGINT is trapped, so that it ends the running command (RUNNING_INT_TRAP) and not the shell;
 * children start with SIGINT at its default again, and background jobs ignore it (bash does that for
 * asynchronous commands without job control). A SIGINT between commands is kept in
 * `__bunker_interrupted`, and the next command is skipped unless its record says the SIGINT was
 * meant for the one before. SHELL_END_SIGNAL is ignored between commands.
 *
 * The `for` around the `eval` takes a `break` or `continue` that is outside any loop of the command
 * (at a prompt, an error): the command ends there. One that leaves more loops than that (`break 2`)
 * leaves the loop that runs commands too, and the shell exits, since what bash would read next is
 * the next record, which must not run as script. Last, the ready marker (the first line read, held
 * only until then) on stdout says that the trap is set: a SIGINT before it would end the shell.
 *
 * A command's traps are set SHELL_END_SIGNAL's first: the server sends SIGINT, then
 * SHELL_END_SIGNAL, and bash takes them in that order. A SIGINT taken while SIGINT's trap is still
 * the idle one skips the command (`__bunker_interrupted`, checked after both are set); one taken
 * after finds SHELL_END_SIGNAL's running trap already set, for the second signal to end the
 * command. Set the other way round, a SIGINT taken between the two set only `__bunker_saw_int`, and
 * the SHELL_END_SIGNAL that followed met the idle trap: a loop of builtins interrupted just as it
 * started ran on (a fresh CI clone on a loaded machine, once).
 */
export function buildShellInitScript(): string {
  return [
    "IFS= builtin read -r __bunker_ready || builtin exit 2",
    "if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 1))); then" +
      ' builtin echo "bunker: a persistent shell needs bash 4.1 or later, not $BASH_VERSION" >&2; builtin exit 2; fi',
    // bash 4 has no BASH_ARGV0: it keeps the full path in its messages.
    "((BASH_VERSINFO[0] >= 5)) && BASH_ARGV0=bash",
    "exec {__bunker_out}>&1 {__bunker_err}>&2",
    // The file LAST_PROGRAM_INTERRUPTED reads `jobs -l` through (Linux: reopened through /dev/fd).
    '__bunker_jobs=; [[ -d /proc/self/fd ]] && { builtin set -C; { builtin exec {__bunker_jobs}>"${TMPDIR:-/tmp}/.bunker-jobs.$$.$RANDOM$RANDOM$RANDOM"; } 2>/dev/null; builtin set +C; }',
    `__bunker_status=0 __bunker_interrupted=0 __bunker_pending=0 __bunker_saw_int=0 __bunker_end_asked=0 __bunker_options= __bunker_cmd= __bunker_unwinding=0 ${COMMAND_OVER}=1`,
    '__bunker_resume() { [[ $1 == *x* ]] && builtin set -x; builtin return "$2"; }',
    `builtin trap ${IDLE_INT_TRAP} INT; builtin trap ${IDLE_END_TRAP} ${END_SIGNAL_TRAP_NAME}`,
    'builtin printf %s "$__bunker_ready" >&"$__bunker_out"; builtin unset -v __bunker_ready',
    `while { __bunker_status=$?; ${STOP_UNWINDING}; builtin trap ${IDLE_INT_TRAP} INT; builtin trap ${IDLE_END_TRAP} ${END_SIGNAL_TRAP_NAME}; __bunker_options=$-; builtin set +x; ${FINISH_STEPS}; } 2>/dev/null\${-:(${COMMAND_OVER} = 1):0}; builtin :; do` +
      ` { ${NEXT_STEPS}; __bunker_pending=1 __bunker_saw_int=0 __bunker_end_asked=0; builtin trap ${RUNNING_END_TRAP} ${END_SIGNAL_TRAP_NAME}; builtin trap ${RUNNING_INT_TRAP} INT;` +
      ' ((__bunker_interrupted)) && __bunker_cmd=; } 2>/dev/null; for __bunker_once in 1; do' +
      ' { __bunker_resume "$__bunker_options" "$__bunker_status" && builtin :; } 2>/dev/null; builtin eval -- "$__bunker_cmd" </dev/null; done; done',
    "builtin exit",
  ].join("; ");
}

/**
 * The shell: no profile or rc file, so that nothing but our script shapes it. Needs bash 4.1 or
 * later. The script is its `-c`, not a script on stdin: a command that breaks the loop
 * (`readonly __bunker_status`) makes bash abandon it, and bash then ends, where a script on stdin
 * went on to run whatever stdin held next (the record's marker line, later records) as script.
 */
export const SHELL_ARGV: readonly string[] = ["bash", "--noprofile", "--norc", "-c", buildShellInitScript()];

/** The first line the shell reads: the marker it prints on stdout once its traps are set. */
export function buildShellReadyLine(readyMarker: string): string {
  return `${readyMarker}\n`;
}

/** A fresh marker: 32 hex digits from a CSPRNG, never derived from anything a command has seen. */
export function createShellMarker(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(MARKER_RANDOM_BYTES));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * What the shell's loop reads for one command (see buildShellInitScript): `1` when a SIGINT that
 * came between commands was meant for the previous one and is to be forgotten (`0` otherwise), the
 * command's text as it is, a NUL, then the marker and a newline. Callers make sure `cmd` holds no
 * NUL (the shell's `read` would end the text there).
 */
export function buildShellCommandRecord(cmd: string, marker: string, resetInterrupt: boolean): string {
  return `${resetInterrupt ? "1" : "0"}${cmd}\0${marker}\n`;
}
