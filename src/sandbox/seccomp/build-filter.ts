import { AUDIT_ARCH, X32_SYSCALL_BIT, type SeccompArch } from "./arch.ts";
import { SECCOMP_RET_ALLOW, seccompReturnFor, type DenyAction } from "./actions.ts";
import { and, assembleBpf, jump, label, loadWord, NEXT, ret, type BpfLine } from "./bpf-assembler.ts";
import { SECCOMP_ABI_RULES, SECCOMP_RULES, type ArgumentCondition, type SeccompAbiRule, type SeccompRule } from "./rules.ts";
import { argumentLowWordOffset, OFFSET_ARCH, OFFSET_NR } from "./seccomp-data.ts";
import { syscallNumberOn, type SyscallName } from "./syscall-numbers.ts";

const DENY_ACTIONS: readonly DenyAction[] = ["kill-process", "EPERM", "ENOSYS"];
/** The shared return of each deny action is labelled with the action's name. */
const actionLabel = (action: DenyAction): string => action;
/** The block that tests the `index`th conditional rule of `name`. */
const conditionLabel = (name: SyscallName, index: number): string => `when:${name}:${index}`;

function abiAction(name: SeccompAbiRule["name"]): DenyAction {
  const rule = SECCOMP_ABI_RULES.find((candidate) => candidate.name === name);
  if (!rule) throw new Error(`no seccomp abi rule ${JSON.stringify(name)}`);
  return rule.action;
}

const conditionsOf = (rule: SeccompRule): readonly ArgumentCondition[] => (rule.when === undefined ? [] : "arg" in rule.when ? [rule.when] : rule.when);

/** Each named syscall with its rules in table order. Throws when an unconditional rule shares its syscall. */
function rulesBySyscall(): Map<SyscallName, SeccompRule[]> {
  const bySyscall = new Map<SyscallName, SeccompRule[]>();
  for (const rule of SECCOMP_RULES) {
    for (const name of rule.syscalls) bySyscall.set(name, [...(bySyscall.get(name) ?? []), rule]);
  }
  for (const [name, rules] of bySyscall) {
    if (rules.length > 1 && rules.some((rule) => conditionsOf(rule).length === 0)) {
      throw new Error(`seccomp: ${name} is in an unconditional rule and in others: ${rules.map((rule) => rule.name).join(", ")}`);
    }
  }
  return bySyscall;
}

/**
 * Tests one condition on the current call: falls through when it holds, jumps to `fail` when not.
 * Each block loads its argument afresh, so conditions need not share one.
 */
function conditionLines(condition: ArgumentCondition, fail: string, holds: string): BpfLine[] {
  const load = [loadWord(argumentLowWordOffset(condition.arg))];
  const loadMasked = condition.test === "any-bit" || condition.mask === undefined ? load : [...load, and(condition.mask)];
  switch (condition.test) {
    case "one-of": {
      const last = condition.values.length - 1;
      return [...loadMasked, ...condition.values.map((value, index) => (index < last ? jump("jeq", value, holds) : jump("jeq", value, NEXT, fail))), label(holds)];
    }
    case "none-of":
      return [...loadMasked, ...condition.values.map((value) => jump("jeq", value, fail))];
    case "any-bit":
      return [...loadMasked, jump("jset", condition.bits, NEXT, fail)];
    default: {
      const unknown: never = condition;
      throw new Error(`unknown argument condition ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The blocks of a syscall's conditional rules, one after the other: each denies as its rule says
 * when all its conditions hold, else goes on to the next; after the last, the call is allowed.
 */
function conditionBlocks(name: SyscallName, rules: readonly SeccompRule[]): BpfLine[] {
  const allowed = `${conditionLabel(name, rules.length)}:allowed`;
  return [
    ...rules.flatMap((rule, index) => {
      const fail = index + 1 < rules.length ? conditionLabel(name, index + 1) : allowed;
      const conditions = conditionsOf(rule).flatMap((condition, at) => conditionLines(condition, fail, `${conditionLabel(name, index)}:${at}:holds`));
      return [label(conditionLabel(name, index)), ...conditions, ret(seccompReturnFor(rule.action))];
    }),
    label(allowed),
    ret(SECCOMP_RET_ALLOW),
  ];
}

/**
 * Builds the seccomp filter for `arch` as the bytes of a struct sock_filter array, the format
 * bwrap's `--seccomp FD` reads. Order: the arch check (a foreign ABI is killed), on x86_64 the x32
 * check, then one comparison per listed syscall (those the architecture has); whatever is not listed
 * is allowed. A syscall with conditions jumps ahead to blocks that test its arguments; the shared
 * deny returns come last, since classic BPF only jumps forward.
 */
export function buildSeccompFilter(arch: SeccompArch): Uint8Array {
  const bySyscall = [...rulesBySyscall()].filter(([name]) => syscallNumberOn(arch, name) !== undefined);
  const conditional = (rules: readonly SeccompRule[]) => conditionsOf(rules[0]!).length > 0;
  return assembleBpf([
    loadWord(OFFSET_ARCH),
    jump("jeq", AUDIT_ARCH[arch], NEXT, actionLabel(abiAction("foreign-arch"))),
    loadWord(OFFSET_NR),
    ...(arch === "x86_64" ? [jump("jge", X32_SYSCALL_BIT, actionLabel(abiAction("x32")))] : []),
    ...bySyscall.map(([name, rules]) => jump("jeq", syscallNumberOn(arch, name)!, conditional(rules) ? conditionLabel(name, 0) : actionLabel(rules[0]!.action))),
    ret(SECCOMP_RET_ALLOW),
    ...bySyscall.flatMap(([name, rules]) => (conditional(rules) ? conditionBlocks(name, rules) : [])),
    ...DENY_ACTIONS.flatMap((action) => [label(actionLabel(action)), ret(seccompReturnFor(action))]),
  ]);
}
