import { AUDIT_ARCH, X32_SYSCALL_BIT, type SeccompArch } from "./arch.ts";
import { SECCOMP_RET_ALLOW, seccompReturnFor, type DenyAction } from "./actions.ts";
import { and, assembleBpf, jump, label, loadWord, NEXT, ret, type BpfLine } from "./bpf-assembler.ts";
import { SECCOMP_ABI_RULES, SECCOMP_RULES, type SeccompAbiRule, type SeccompRule } from "./rules.ts";
import { argumentLowWordOffset, OFFSET_ARCH, OFFSET_NR } from "./seccomp-data.ts";
import { SYSCALL_NUMBERS } from "./syscall-numbers.ts";

const DENY_ACTIONS: readonly DenyAction[] = ["kill-process", "EPERM", "ENOSYS"];
/** The shared return of each deny action is labelled with the action's name. */
const actionLabel = (action: DenyAction): string => action;
const conditionLabel = (rule: SeccompRule): string => `when:${rule.name}`;

function abiAction(name: SeccompAbiRule["name"]): DenyAction {
  const rule = SECCOMP_ABI_RULES.find((candidate) => candidate.name === name);
  if (!rule) throw new Error(`no seccomp abi rule ${JSON.stringify(name)}`);
  return rule.action;
}

/** Tests the rule's condition on the current call: returns allow, or denies as the rule says. */
function conditionBlock(rule: SeccompRule): BpfLine[] {
  const condition = rule.when;
  if (!condition) return [];
  const deny = actionLabel(rule.action);
  const load = [loadWord(argumentLowWordOffset(condition.arg))];
  const loadMasked = condition.test === "any-bit" || condition.mask === undefined ? load : [...load, and(condition.mask)];
  const allow = ret(SECCOMP_RET_ALLOW);
  const body = ((): BpfLine[] => {
    switch (condition.test) {
      case "one-of":
        return [...condition.values.map((value) => jump("jeq", value, deny)), allow];
      case "none-of": {
        const allowed = `${conditionLabel(rule)}:allowed`;
        return [...condition.values.map((value) => jump("jeq", value, allowed)), ret(seccompReturnFor(rule.action)), label(allowed), allow];
      }
      case "any-bit":
        return [jump("jset", condition.bits, deny), allow];
      default: {
        const unknown: never = condition;
        throw new Error(`unknown argument condition ${JSON.stringify(unknown)}`);
      }
    }
  })();
  return [label(conditionLabel(rule)), ...loadMasked, ...body];
}

/**
 * Builds the seccomp filter for `arch` as the bytes of a struct sock_filter array, the format
 * bwrap's `--seccomp FD` reads. Order: the arch check (a foreign ABI is killed), on x86_64 the x32
 * check, then one comparison per listed syscall; whatever is not listed is allowed. A syscall with
 * a condition jumps ahead to a block that tests its argument; the shared deny returns come last,
 * since classic BPF only jumps forward.
 */
export function buildSeccompFilter(arch: SeccompArch): Uint8Array {
  const numbers = SYSCALL_NUMBERS[arch];
  return assembleBpf([
    loadWord(OFFSET_ARCH),
    jump("jeq", AUDIT_ARCH[arch], NEXT, actionLabel(abiAction("foreign-arch"))),
    loadWord(OFFSET_NR),
    ...(arch === "x86_64" ? [jump("jge", X32_SYSCALL_BIT, actionLabel(abiAction("x32")))] : []),
    ...SECCOMP_RULES.flatMap((rule) =>
      rule.syscalls.map((name) => jump("jeq", numbers[name], rule.when ? conditionLabel(rule) : actionLabel(rule.action))),
    ),
    ret(SECCOMP_RET_ALLOW),
    ...SECCOMP_RULES.flatMap(conditionBlock),
    ...DENY_ACTIONS.flatMap((action) => [label(actionLabel(action)), ret(seccompReturnFor(action))]),
  ]);
}
