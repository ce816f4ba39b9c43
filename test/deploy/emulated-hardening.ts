/**
 * The file-system, user and capability hardening of deploy/bunker.service, rebuilt without systemd
 * (which is not PID 1 on the test machines) from unshare(1), mount(8) and setpriv(1), so that a
 * real bunker and a real bwrap can be run under it. The seccomp-based settings are not rebuilt;
 * the unit test checks those against the system calls bwrap needs instead.
 */

/** The unit settings this emulation stands for; the test checks the unit sets each of them. */
export const EMULATED_SETTINGS: Record<string, string> = {
  PrivateTmp: "yes",
  PrivateDevices: "yes",
  ProtectHome: "yes",
  ProtectSystem: "strict",
  NoNewPrivileges: "yes",
  CapabilityBoundingSet: "",
};

/** The service user of the emulation: nobody, since the unit's own user need not exist here. */
export const EMULATED_UID = 65534;

/** Where the emulated StateDirectory is (inside the private /tmp), writable by the service user only. */
export const EMULATED_STATE_DIRECTORY = "/tmp/state";

/**
 * Run as `unshare --mount --propagation private -- sh -c SCRIPT sh PROGRAM ARGS...` by root: sets
 * up the mounts in the new mount namespace, then execs the program as the service user.
 */
export const EMULATION_SCRIPT = `set -eu
# A checkout under /tmp, /home or /root (a CI clone, say) would vanish below the mounts that hide
# those: keep it aside on /mnt and put it back at the same path afterwards.
repo="\${BUNKER_TEST_REPO:-}"
case "$repo" in /tmp/*|/home/*|/root/*) mount --bind "$repo" /mnt ;; *) repo="" ;; esac
# PrivateTmp=yes
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
# StateDirectory=bunker, StateDirectoryMode=0700
mkdir -m 0700 ${EMULATED_STATE_DIRECTORY} && chown ${EMULATED_UID}:${EMULATED_UID} ${EMULATED_STATE_DIRECTORY}
# PrivateDevices=yes: the pseudo-devices only, and a devpts of its own
mkdir /tmp/.dev && mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /tmp/.dev
for node in null zero full random urandom tty; do touch "/tmp/.dev/$node"; mount --bind "/dev/$node" "/tmp/.dev/$node"; done
mkdir /tmp/.dev/pts /tmp/.dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /tmp/.dev/pts
ln -s pts/ptmx /tmp/.dev/ptmx
mount --move /tmp/.dev /dev
# ProtectHome=yes
mount -t tmpfs -o ro,mode=0755 tmpfs /home
mount -t tmpfs -o ro,mode=0700 tmpfs /root
if [ -n "$repo" ]; then
  top="/$(echo "$repo" | cut -d/ -f2)"
  mount -o remount,rw "$top"
  mkdir -p "$repo" && mount --bind /mnt "$repo"
  [ "$top" = /tmp ] || mount -o remount,ro "$top"
fi
# ProtectSystem=strict: the root file system read-only (/proc, /sys, /dev and /tmp as above)
mount -o remount,bind,ro /
# User=, NoNewPrivileges=yes, CapabilityBoundingSet= (empty)
exec setpriv --reuid ${EMULATED_UID} --regid ${EMULATED_UID} --clear-groups --no-new-privs --bounding-set -all --inh-caps -all -- "$@"
`;
