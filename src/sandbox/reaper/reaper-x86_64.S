/*
 * reap PROGRAM ARGS... (x86_64 Linux, static, no libc, position-independent)
 *
 * Runs as the first process bwrap starts in the sandbox. bwrap turns "killed by
 * signal N" into exit code 128+N, which a real `exit 137` also produces, so this
 * program forks, execs the command, waits for it and writes the true wait status
 * to fd 4 as 8-byte records: u32 kind, i32 value (little-endian).
 *   kind 1: the command could not be started; value = errno (positive)
 *   kind 2: the command ended; value = raw wait status
 * Exit code: the command's exit code, 128+signal if it was signaled, 127 if it
 * could not be started. The code only addresses the stack, never its own
 * addresses, so it runs wherever it is loaded.
 *
 * Stack frame below the initial stack (32 bytes):
 *   0(%rsp)  all-ones signal mask    8(%rsp)  saved signal mask
 *  16(%rsp)  record kind            20(%rsp)  record value (wait4 writes the status here)
 */
	.text
	.globl	_start
_start:
	mov	(%rsp), %rbx		/* argc */
	cmp	$2, %rbx
	jl	.Lexit127		/* nothing to run */
	lea	16(%rsp), %r12		/* &argv[1]: the command's argv */
	lea	16(%rsp,%rbx,8), %r13	/* envp: past argv[argc-1] and its NULL */
	sub	$32, %rsp

	/* Block every signal before forking so that a SIGINT/SIGTERM sent to all
	 * processes of the namespace reaches the command and never kills the
	 * reaper: the reaper must live to report the status. */
	movq	$-1, (%rsp)
	xor	%edi, %edi		/* SIG_BLOCK */
	mov	%rsp, %rsi
	lea	8(%rsp), %rdx		/* keep the old mask for the child */
	mov	$8, %r10d		/* sizeof(kernel sigset_t) */
	mov	$14, %eax		/* rt_sigprocmask */
	syscall

	mov	$57, %eax		/* fork */
	syscall
	test	%rax, %rax
	js	.Lfailed		/* -errno */
	jz	.Lchild
	mov	%rax, %r14		/* child pid */

.Lwait:
	mov	%r14, %rdi
	lea	20(%rsp), %rsi
	xor	%edx, %edx		/* no WUNTRACED: only termination is reported */
	xor	%r10d, %r10d
	mov	$61, %eax		/* wait4 */
	syscall
	cmp	$-4, %rax		/* EINTR: cannot happen with all signals blocked, but cheap */
	je	.Lwait
	test	%rax, %rax
	js	.Lexit127		/* no child to wait for: nothing true to report */
	mov	20(%rsp), %eax
	and	$0x7f, %eax		/* WTERMSIG; 0 = exited */
	cmp	$0x7f, %eax		/* stopped (only if traced): not the end yet */
	je	.Lwait

	movl	$2, 16(%rsp)
	mov	$4, %edi
	lea	16(%rsp), %rsi
	mov	$8, %edx
	mov	$1, %eax		/* write; a failure leaves nothing better to do */
	syscall
	mov	20(%rsp), %edi
	and	$0x7f, %edi
	jnz	.Lsignaled
	movzbl	21(%rsp), %edi		/* WEXITSTATUS: bits 8..15 of the status */
	jmp	.Lexit
.Lsignaled:
	add	$128, %edi		/* the shell convention, as bwrap itself reports it */
	jmp	.Lexit

.Lchild:
	/* The command must see only fds 0, 1, 2: fds 3 (bwrap's status) and 4
	 * (ours) are for the reaper. Fd 4 stays open until execve succeeds so
	 * that a failed execve can still be reported. close_range needs Linux 5.9;
	 * its failure is ignored: before 5.9 only fds above 4 that the spawner left
	 * open without close-on-exec would reach the command. */
	mov	$5, %edi
	mov	$-1, %esi		/* ~0U */
	xor	%edx, %edx
	mov	$436, %eax		/* close_range */
	syscall
	mov	$4, %edi
	mov	$2, %esi		/* F_SETFD */
	mov	$1, %edx		/* FD_CLOEXEC */
	mov	$72, %eax		/* fcntl */
	syscall
	mov	$3, %edi
	mov	$3, %eax		/* close */
	syscall
	/* Blocked signals survive execve: give the command the mask we inherited. */
	mov	$2, %edi		/* SIG_SETMASK */
	lea	8(%rsp), %rsi
	xor	%edx, %edx
	mov	$8, %r10d
	mov	$14, %eax		/* rt_sigprocmask */
	syscall
	mov	(%r12), %rdi		/* argv[1] as given: no PATH lookup */
	mov	%r12, %rsi
	mov	%r13, %rdx
	mov	$59, %eax		/* execve; returns only on failure */
	syscall

.Lfailed:				/* fork or execve failed, %rax = -errno */
	neg	%eax
	movl	$1, 16(%rsp)
	mov	%eax, 20(%rsp)
	mov	$4, %edi
	lea	16(%rsp), %rsi
	mov	$8, %edx
	mov	$1, %eax		/* write */
	syscall
.Lexit127:
	mov	$127, %edi
.Lexit:
	mov	$231, %eax		/* exit_group */
	syscall
