import type { Distro } from "./diagnose-facts.ts";

/** Prefixes `sudo` for users who are not root: every fix the doctor suggests changes the system. */
export function asRoot(command: string, uid: number | undefined): string {
  return uid === 0 ? command : `sudo ${command}`;
}

function isLike(distro: Distro | undefined, ids: readonly string[]): boolean {
  return distro !== undefined && [distro.id, ...distro.idLike].some((id) => ids.includes(id));
}

/**
 * The command that installs `name` with this distribution's package manager; apt-get where the
 * distribution is unknown. bubblewrap and util-linux have those names on every one of them.
 */
export function installPackageCommand(distro: Distro | undefined, name: string): string {
  if (isLike(distro, ["fedora", "rhel", "centos"])) return `dnf install ${name}`;
  if (isLike(distro, ["arch"])) return `pacman -S ${name}`;
  if (isLike(distro, ["alpine"])) return `apk add ${name}`;
  if (isLike(distro, ["suse", "opensuse"])) return `zypper install ${name}`;
  return `apt-get install ${name}`;
}
