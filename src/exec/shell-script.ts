/**
 * What a persistent shell is told, as pure functions: the bash it runs, the script it gets once at
 * start, and the one line each command becomes. See shell-driver.ts for how the output is read.
 */

/** The shell: no profile or rc file, so that nothing but our script shapes it. Needs bash 4.1 or later. */
export const SHELL_ARGV: readonly string[] = ["bash", "--noprofile", "--norc"];

/** Whether a process's argv is our shell's (the sandbox may have resolved `bash` to a full path). */
export function isShellArgv(argv: readonly string[]): boolean {
  const [program, ...args] = argv;
  const [wanted, ...wantedArgs] = SHELL_ARGV;
  return (program === wanted || program?.endsWith(`/${wanted}`) === true) && args.length === wantedArgs.length && args.every((arg, index) => arg === wantedArgs[index]);
}

/** Random bytes in each command's marker. */
const MARKER_RANDOM_BYTES = 16;

/** The trap SIGINT has between commands: it only notes that one came (see buildShellCommandLine). */
const IDLE_INT_TRAP = "'__bunker_interrupted=1'";
/** The trap SIGINT has while a command runs: it also ends the whole command (the `.` that runs it). */
const RUNNING_INT_TRAP = "'__bunker_interrupted=1; return 130 2>/dev/null'";

/**
 * Sent once, before the first command. The markers go to copies of the shell's own stdout and stderr
 * (fds 10 and up), so that a command's `exec >file` does not swallow them. SIGINT is trapped, so that
 * it ends the running command and not the shell; children start with SIGINT at its default again,
 * and background jobs ignore it (bash does that for asynchronous commands without job control).
 * Last, `readyMarker` on stdout says that the trap is set: a SIGINT before it would end the shell.
 */
export function buildShellInitScript(readyMarker: string): string {
  return [
    "if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 1))); then",
    '  builtin echo "bunker: a persistent shell needs bash 4.1 or later, not $BASH_VERSION" >&2; builtin exit 2',
    "fi",
    "exec {__bunker_out}>&1 {__bunker_err}>&2",
    "__bunker_status=0 __bunker_interrupted=0",
    // Restores xtrace and the previous command's $? just before the next command starts (called as
    // `__bunker_resume ... && :`, so that a non-zero $? does not trip `set -e`).
    '__bunker_resume() { [[ $1 == *x* ]] && builtin set -x; return "$2"; }',
    `builtin trap ${IDLE_INT_TRAP} INT`,
    `builtin printf '${printfEscape(readyMarker)}' >&"$__bunker_out"`,
    "",
  ].join("\n");
}

/** A fresh marker: 32 hex digits from a CSPRNG, never derived from anything a command has seen. */
export function createShellMarker(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(MARKER_RANDOM_BYTES));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Writes each byte of an ASCII string as `\xHH`, for a printf format that prints the string itself. */
function printfEscape(ascii: string): string {
  let escaped = "";
  for (let index = 0; index < ascii.length; index++) escaped += `\\x${ascii.charCodeAt(index).toString(16).padStart(2, "0")}`;
  return escaped;
}

/**
 * A bash ANSI-C string (`$'...'`) of the UTF-8 bytes of `text`. `\`, `'` and every byte outside
 * printable ASCII are written as `\xHH`, so that the result is one line of printable ASCII that bash
 * reads back exactly, in any locale. Printable ASCII stays as it is: bash reads its script from a
 * pipe one byte per read(2), so escaping every byte would make a large command four times slower to
 * send. Callers make sure `text` holds no NUL (`\x00` would cut the string short).
 */
export function encodeAnsiCString(text: string): string {
  let out = "$'";
  for (const byte of new TextEncoder().encode(text)) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x27) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `${out}'`;
}

/**
 * The line that runs one command.
 *
 * The command's text goes into a here-string on a fresh fd, and `.` runs it from there: bash writes
 * the whole text before `.` reads it, so that no signal can cut it short (a process substitution's
 * writer would die of SIGINT, and `.` would run the part it got). Sourcing in the shell itself,
 * not in a function, means that `cd`, variables (`declare` too) and functions persist as at a prompt,
 * and a syntax error ends the `.` with status 2 and leaves the shell as it was. Its stdin is
 * /dev/null, so that it cannot read the lines meant for the shell.
 *
 * SIGINT: during the command the trap `return`s from the `.`, which ends the whole command (after
 * the child that got the same SIGINT died). A SIGINT that came before the command began is kept in
 * `__bunker_interrupted`, and the command is skipped; `resetInterrupt` clears one that was meant for
 * the previous command but came after it had ended.
 *
 * Then, on the saved fds, stdout gets `marker status NUL $PWD NUL` and stderr gets `marker`. The
 * marker is written with printf escapes, so that the line (which `set -v` echoes) never holds the
 * bytes that are printed. Our own steps run with xtrace off and their traces sent to /dev/null.
 */
export function buildShellCommandLine(cmd: string, marker: string, resetInterrupt: boolean): string {
  const printed = printfEscape(marker);
  return [
    `{ ${resetInterrupt ? "__bunker_interrupted=0; " : ""}__bunker_options=$-; builtin set +x; builtin unset -v __bunker_source;` +
      ` exec {__bunker_source}<<< ${encodeAnsiCString(cmd)}; __bunker_file=/dev/fd/$__bunker_source;` +
      ` builtin trap ${RUNNING_INT_TRAP} INT; ((__bunker_interrupted)) && __bunker_file=/dev/null;` +
      ` __bunker_resume "$__bunker_options" "$__bunker_status" && :; } 2>/dev/null`,
    `builtin . "$__bunker_file" </dev/null`,
    `{ __bunker_status=$?; ((__bunker_interrupted)) && __bunker_status=130; __bunker_interrupted=0 __bunker_options=$-;` +
      ` builtin set +x; builtin trap ${IDLE_INT_TRAP} INT; exec {__bunker_source}<&-;` +
      ` builtin printf '${printed}%d\\0%s\\0' "$__bunker_status" "$PWD" >&"$__bunker_out";` +
      ` builtin printf '${printed}' >&"$__bunker_err"; } 2>/dev/null`,
    `[[ $__bunker_options == *x* ]] && builtin set -x\n`,
  ].join("; ");
}
