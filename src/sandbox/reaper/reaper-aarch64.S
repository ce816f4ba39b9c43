/*
 * reap PROGRAM ARGS... (aarch64 Linux, static, no libc, position-independent)
 *
 * bwrap execs this program as pid 1 of the sandbox's PID namespace (--as-pid-1),
 * as a child of the outer bwrap. bwrap turns "killed by signal N" into exit code
 * 128+N, which a real `exit 137` also produces, so this program forks, execs the
 * command, waits for it and writes the true wait status to fd 4 as 8-byte
 * records: u32 kind, i32 value (little-endian).
 *   kind 1: the command could not be started; value = errno (positive)
 *   kind 2: the command ended; value = raw wait status
 * Exit code: the command's exit code, 128+signal if it was signaled, 127 if it
 * could not be started, 137 if nobody is left to read fd 4.
 *
 * Fds 9 and 10, when open, become the command's stdout and stderr.
 *
 * Being pid 1 makes this program the sandbox's lifetime. Once the command has
 * ended it kills and reaps every other process of the namespace (daemons and
 * `sleep 100 &` go), writes its record and exits; until then it reaps every
 * orphan the kernel re-parents to it, and it exits early when the server is
 * gone: when the outer bwrap dies (PR_SET_PDEATHSIG), or when the other end of
 * fd 4, which only the server holds, is closed (the lifeline). Branches are
 * PC-relative and data lives on the stack, so it runs wherever it is loaded.
 * Same logic as reaper-x86_64.S, which has the longer comments.
 *
 * Stack frame below the initial stack (192 bytes, keeps sp 16-byte aligned):
 *   [sp]      all-ones signal mask, later {SIGCHLD}   [sp, #8]  saved signal mask
 *   [sp, #16] record kind     [sp, #20] record value (wait4 writes the status here)
 *   [sp, #24] struct pollfd[2]: fd 4, then the signalfd
 *   [sp, #40] struct timespec 0    [sp, #56] 128 bytes for a signalfd_siginfo
 */
	/* Two syscalls made more than once: dup3(from, to, 0) and close(fd). Their results are not looked at. */
	.macro	dup_onto from, to
	mov	x0, #\from
	mov	x1, #\to
	mov	x2, #0
	mov	x8, #24			/* dup3 */
	svc	#0
	.endm
	.macro	close_fd fd
	mov	x0, #\fd
	mov	x8, #57			/* close */
	svc	#0
	.endm

	.text
	.globl	_start
_start:
	/* SIGKILL when the outer bwrap dies; set after our own execve, so that no
	 * credential change can clear it. Only as pid 1 (under bwrap): under
	 * --sandbox none the lifeline ends us instead, and we take the command's
	 * process group with us (see reaper-x86_64.S). */
	mov	x8, #172		/* getpid */
	svc	#0
	cmp	x0, #1
	b.ne	.Lpdeath_set
	mov	x0, #1			/* PR_SET_PDEATHSIG */
	mov	x1, #9			/* SIGKILL */
	mov	x8, #167		/* prctl */
	svc	#0
.Lpdeath_set:

	/* Not dumpable, so that a command cannot write our memory through
	 * /proc/1/mem (see reaper-x86_64.S). */
	mov	x0, #4			/* PR_SET_DUMPABLE */
	mov	x1, #0
	mov	x8, #167		/* prctl */
	svc	#0

	/* fds 9 and 10, when open, become the command's stdout and stderr (see
	 * reaper-x86_64.S): held only inside the sandbox, they end when it does.
	 * Before the resource limits, which could make dup3 onto 1 or 2 fail. */
	dup_onto 9, 1
	dup_onto 10, 2
	close_fd 9
	close_fd 10

	ldr	x19, [sp]		/* argc */
	cmp	x19, #2
	b.lt	.Lexit127		/* nothing to run */
	add	x20, sp, #16		/* &argv[1]: the command's argv */
	add	x21, sp, x19, lsl #3
	add	x21, x21, #16		/* envp: past argv[argc-1] and its NULL */
	sub	sp, sp, #192

	/* reap -l CPU AS FSIZE NOFILE NPROC PROGRAM ARGS...: resource limits on
	 * ourselves first, inherited by the command (see reaper-x86_64.S). */
	ldr	x0, [x20]		/* argv[1] */
	ldrh	w1, [x0]
	mov	w2, #0x6c2d		/* "-l" */
	cmp	w1, w2
	b.ne	.Lnolimits
	ldrb	w1, [x0, #2]
	cbnz	w1, .Lnolimits
	cmp	x19, #8			/* reap -l 5 numbers PROGRAM */
	b.lt	.Lexit127
	movz	x22, #0x0900
	movk	x22, #0x0701, lsl #16
	movk	x22, #0x06, lsl #32	/* resources, low byte first: CPU 0, AS 9, FSIZE 1, NOFILE 7, NPROC 6 */
	add	x23, x20, #8		/* &argv[2] */
	mov	x24, #5
.Llimit:
	ldr	x1, [x23]
	mov	x0, #0
	mov	x3, #10
.Ldigit:
	ldrb	w2, [x1], #1
	cbz	w2, .Lparsed
	sub	w2, w2, #48
	madd	x0, x0, x3, x2
	b	.Ldigit
.Lparsed:
	stp	x0, x0, [sp, #56]	/* struct rlimit { cur, max } */
	and	x1, x22, #0xff
	bl	.Lsetlimit
	lsr	x22, x22, #8
	add	x23, x23, #8
	subs	x24, x24, #1
	b.ne	.Llimit
	stp	xzr, xzr, [sp, #56]
	mov	x1, #4			/* RLIMIT_CORE */
	bl	.Lsetlimit
	add	x20, x20, #48		/* &argv[7]: the command */
	b	.Lnolimits
.Lsetlimit:				/* prlimit64(0, x1, [sp, #56], NULL); sp is unchanged by bl */
	mov	x0, #0
	add	x2, sp, #56
	mov	x3, #0
	mov	x8, #261		/* prlimit64 */
	svc	#0
	tbnz	x0, #63, .Lfailed
	ret

.Lnolimits:
	/* The lifeline: run nothing if the server's end of fd 4 is closed
	 * already, and keep watching it while the command runs. */
	mov	x0, #4
	str	x0, [sp, #24]		/* pollfd[0]: fd 4, events none (errors and hangups always count) */
	stp	xzr, xzr, [sp, #40]	/* timespec 0: just look */
	add	x0, sp, #24
	mov	x1, #1
	add	x2, sp, #40
	mov	x3, #0			/* no signal mask change */
	mov	x4, #8
	mov	x8, #73			/* ppoll: aarch64 has no poll */
	svc	#0
	ldrh	w0, [sp, #30]		/* revents */
	tst	w0, #0x18		/* POLLERR | POLLHUP */
	b.ne	.Lorphaned
	tst	w0, #0x20		/* POLLNVAL: no fd 4 */
	b.eq	.Lblock
	mov	w0, #-1
	str	w0, [sp, #24]		/* ppoll skips a negative fd */

.Lblock:
	/* Block every signal before forking so that a SIGINT/SIGTERM sent to all
	 * processes of the namespace reaches the command and never kills the
	 * reaper: the reaper must live to report the status. (As pid 1 it would
	 * ignore them anyway unless they came from inside the namespace.) */
	mov	x0, #-1
	str	x0, [sp]
	mov	x0, #0			/* SIG_BLOCK */
	mov	x1, sp
	add	x2, sp, #8		/* keep the old mask for the child */
	mov	x3, #8			/* sizeof(kernel sigset_t) */
	mov	x8, #135		/* rt_sigprocmask */
	svc	#0

	/* aarch64 has no fork syscall: clone with only the exit signal is fork. */
	mov	x0, #17			/* SIGCHLD */
	mov	x1, #0
	mov	x2, #0
	mov	x3, #0
	mov	x4, #0
	mov	x8, #220		/* clone */
	svc	#0
	cmp	x0, #0
	b.lt	.Lfailed		/* -errno */
	b.eq	.Lchild
	mov	x22, x0			/* child pid */

	/* A queued SIGCHLD, read through a signalfd, wakes ppoll next to fd 4.
	 * Without a signalfd wait4 blocks instead. */
	mov	x0, #0x10000		/* 1 << (SIGCHLD - 1) */
	str	x0, [sp]
	mov	x0, #-1			/* a new signalfd */
	mov	x1, sp
	mov	x2, #8
	mov	x3, #0x0800		/* SFD_NONBLOCK */
	movk	x3, #0x8, lsl #16	/* | SFD_CLOEXEC */
	mov	x8, #74			/* signalfd4 */
	svc	#0
	mov	x25, #0			/* wait4 options: block */
	cmp	x0, #0
	b.lt	.Lwait
	str	w0, [sp, #32]		/* pollfd[1]: the signalfd */
	mov	w0, #1
	str	w0, [sp, #36]		/* events POLLIN, revents 0 */
	mov	x25, #1			/* WNOHANG: sleep in ppoll instead */

	/* As pid 1 we inherit every orphan of the namespace: reap them all, and
	 * stop at the command. */
.Lwait:
	mov	x0, #-1			/* any child */
	add	x1, sp, #20
	mov	x2, x25			/* no WUNTRACED: only termination is reported */
	mov	x3, #0
	mov	x8, #260		/* wait4 */
	svc	#0
	cmn	x0, #4			/* EINTR: cannot happen with all signals blocked, but cheap */
	b.eq	.Lwait
	cmp	x0, #0
	b.lt	.Lexit127		/* ECHILD: the command is gone unseen, nothing true to report */
	b.eq	.Lsleep			/* WNOHANG: no child has ended */
	cmp	x0, x22
	b.ne	.Lwait			/* an orphan, now reaped */
	ldr	w23, [sp, #20]
	and	w24, w23, #0x7f		/* WTERMSIG; 0 = exited */
	cmp	w24, #0x7f		/* stopped (only if traced): not the end yet */
	b.eq	.Lwait

	/* As pid 1, kill and reap the rest of the sandbox before the record;
	 * with the server's SIGTERM pending (the server ending the exec: si_code
	 * SI_USER from si_pid 0, outside the namespace, not a `kill 0` from
	 * inside), only reap: the rest have until the server's SIGKILL to clean
	 * up (see reaper-x86_64.S). */
	mov	x8, #172		/* getpid */
	svc	#0
	cmp	x0, #1
	b.ne	.Lreport
	mov	x0, #0x4000		/* {SIGTERM}: 1 << (SIGTERM - 1) */
	str	x0, [sp]
	stp	xzr, xzr, [sp, #40]	/* timespec 0: take a pending one, never wait */
	mov	x0, sp
	add	x1, sp, #56		/* its siginfo, in the scratch */
	add	x2, sp, #40
	mov	x3, #8
	mov	x8, #137		/* rt_sigtimedwait */
	svc	#0
	cmp	x0, #15			/* SIGTERM taken (else -EAGAIN: none pending) */
	b.ne	.Lkill_rest
	ldr	w0, [sp, #64]		/* si_code: SI_USER (0), a kill() */
	ldr	w1, [sp, #72]		/* si_pid: 0, from outside the namespace */
	orr	w0, w0, w1
	cbz	w0, .Lreap_rest
.Lkill_rest:
	mov	x0, #-1
	mov	x1, #9			/* SIGKILL */
	mov	x8, #129		/* kill */
	svc	#0
.Lreap_rest:
	mov	x0, #-1			/* any child */
	mov	x1, #0			/* no status wanted: w23 keeps the command's */
	mov	x2, #0x40000000		/* __WALL: clones too; blocking, until ECHILD */
	mov	x3, #0
	mov	x8, #260		/* wait4 */
	svc	#0
	cmn	x0, #4			/* EINTR */
	b.eq	.Lreap_rest
	cmp	x0, #0
	b.gt	.Lreap_rest

.Lreport:
	mov	w0, #2
	str	w0, [sp, #16]
	mov	x0, #4
	add	x1, sp, #16
	mov	x2, #8
	mov	x8, #64			/* write; a failure leaves nothing better to do */
	svc	#0
	/* The output ends now, not after the namespaces' teardown (see reaper-x86_64.S). */
	close_fd 1
	close_fd 2
	/* Exit at once. */
	cbnz	w24, .Lsignaled
	ubfx	w0, w23, #8, #8		/* WEXITSTATUS: bits 8..15 of the status */
	b	.Lexit
.Lsignaled:
	add	w0, w24, #128		/* the shell convention, as bwrap itself reports it */
	b	.Lexit

.Lsleep:				/* until a child ends or the lifeline breaks */
	add	x0, sp, #24
	mov	x1, #2
	mov	x2, #0			/* no timeout */
	mov	x3, #0
	mov	x4, #8
	mov	x8, #73			/* ppoll */
	svc	#0
	ldrh	w0, [sp, #30]
	tst	w0, #0x18		/* fd 4: POLLERR | POLLHUP */
	b.ne	.Lorphaned
	ldr	w0, [sp, #32]		/* consume the SIGCHLD; EAGAIN if there was none */
	add	x1, sp, #56
	mov	x2, #128
	mov	x8, #63			/* read */
	svc	#0
	b	.Lwait

.Lchild:
	/* The command must see only fds 0, 1, 2: fds 3 (bwrap's status) and 4
	 * (ours) are for the reaper. Fd 4 stays open until execve succeeds so
	 * that a failed execve can still be reported. close_range needs Linux 5.9;
	 * its failure is ignored: before 5.9 only fds above 4 that the spawner left
	 * open without close-on-exec would reach the command. */
	mov	x0, #5
	mov	w1, #-1			/* ~0U */
	mov	x2, #0
	mov	x8, #436		/* close_range */
	svc	#0
	mov	x0, #4
	mov	x1, #2			/* F_SETFD */
	mov	x2, #1			/* FD_CLOEXEC */
	mov	x8, #25			/* fcntl */
	svc	#0
	close_fd 3
	/* A fixed file-creation mask, 022 as a login starts with, not the
	 * server's own: a service run with UMask=0077 made every file its
	 * commands created private to their uid (found by a review). */
	mov	x0, #0x12		/* 022 */
	mov	x8, #166		/* umask */
	svc	#0
	/* Blocked signals survive execve: give the command the mask we inherited.
	 * The parent-death signal does not survive fork: the command has none. */
	mov	x0, #2			/* SIG_SETMASK */
	add	x1, sp, #8
	mov	x2, #0
	mov	x3, #8
	mov	x8, #135		/* rt_sigprocmask */
	svc	#0
	ldr	x0, [x20]		/* argv[1] as given: no PATH lookup */
	mov	x1, x20
	mov	x2, x21
	mov	x8, #221		/* execve; returns only on failure */
	svc	#0

.Lfailed:				/* fork or execve failed, x0 = -errno */
	neg	w0, w0
	str	w0, [sp, #20]
	mov	w1, #1
	str	w1, [sp, #16]
	mov	x0, #4
	add	x1, sp, #16
	mov	x2, #8
	mov	x8, #64			/* write */
	svc	#0
.Lexit127:
	mov	x0, #127
	b	.Lexit
.Lorphaned:
	/* The server is gone. Under bwrap the namespace dies with the reaper; under
	 * --sandbox none there is no namespace, so the command's process group goes
	 * first (kill(0): the caller's own group, the reaper included; as pid 1 of
	 * a namespace the reaper is immune to a signal from inside it). Only when
	 * we lead the group: a reaper started in someone else's group, as a test
	 * does, must not take that group down. */
	mov	x8, #172		/* getpid */
	svc	#0
	cmp	x0, #1			/* pid 1: the namespace goes with us, and its */
	b.eq	.Lorphan_exit		/* group may be one outside it (no kill there) */
	mov	x9, x0
	mov	x0, #0
	mov	x8, #155		/* getpgid(0) */
	svc	#0
	cmp	x0, x9
	b.ne	.Lorphan_exit
	mov	x0, #0			/* pid 0: our process group */
	mov	x1, #9			/* SIGKILL */
	mov	x8, #129		/* kill */
	svc	#0
.Lorphan_exit:
	mov	x0, #137		/* as if the parent-death SIGKILL had come in time */
.Lexit:
	mov	x8, #94			/* exit_group */
	svc	#0
