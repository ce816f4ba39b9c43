/*
 * enter PROGRAM ARGS... (x86_64 Linux, static, no libc, position-independent)
 *
 * Starts bwrap inside bunker's setup namespace (setup-namespace.ts): joins the
 * user namespace open at fd 7, then the mount namespace open at fd 8 (the
 * mount namespace's owner must be joined first, for the capability to join
 * it), closes both, and executes PROGRAM with ARGS and the environment it was
 * given. Credentials stay as they are (nsenter's --preserve-credentials).
 * Given `-n` first (enter -n PROGRAM ARGS...), it also joins the network
 * namespace open at fd 11 (a session's, network.ts; its owner is the setup
 * user namespace, joined first) and closes it; without `-n` it joins none.
 * The flag, not whether fd 11 is open, says so: a namespace asked for and
 * not joined must fail the exec, never leave it on the host's network.
 * This is all nsenter(1) did for us; nsenter is a dynamically linked program
 * that also sets up a locale, and cost ~0.7 ms per exec here, this ~0.
 * Exit code 126 and a line on stderr when a namespace cannot be joined, 127
 * when PROGRAM cannot be executed. The code addresses only the stack and,
 * relative to itself, its messages, so it runs wherever it is loaded.
 */
	/* setns(fd, type), on to .Lsetns_failed when it fails. */
	.macro	join fd, type
	mov	$\fd, %edi
	mov	$\type, %esi
	mov	$308, %eax		/* setns */
	syscall
	test	%eax, %eax
	jnz	.Lsetns_failed
	.endm

	.text
	.globl	_start
_start:
	join	7, 0x10000000		/* CLONE_NEWUSER */
	join	8, 0x00020000		/* CLONE_NEWNS */
	mov	$7, %edi
	mov	$3, %eax		/* close */
	syscall
	mov	$8, %edi
	mov	$3, %eax		/* close */
	syscall

	/* At entry: argc at 0(%rsp), argv[0] at 8(%rsp), NULL after argv, then envp. */
	mov	(%rsp), %r12		/* argc */
	lea	16(%rsp), %r13		/* argv + 1: PROGRAM and its arguments */
	lea	16(%rsp,%r12,8), %r14	/* envp = argv + argc + 1 */
	cmp	$2, %r12
	jl	.Lexec_failed
	mov	(%r13), %rdi		/* argv[1] */
	cmpw	$0x6e2d, (%rdi)		/* "-n" */
	jne	.Lexec
	cmpb	$0, 2(%rdi)
	jne	.Lexec
	cmp	$3, %r12
	jl	.Lexec_failed
	join	11, 0x40000000		/* CLONE_NEWNET */
	mov	$11, %edi
	mov	$3, %eax		/* close */
	syscall
	add	$8, %r13		/* PROGRAM is the next argument */
.Lexec:
	mov	(%r13), %rdi
	mov	%r13, %rsi
	mov	%r14, %rdx
	mov	$59, %eax		/* execve */
	syscall

.Lexec_failed:
	lea	exec_message(%rip), %rsi
	mov	$(exec_message_end - exec_message), %edx
	mov	$127, %ebx
	jmp	.Lfail
.Lsetns_failed:
	lea	setns_message(%rip), %rsi
	mov	$(setns_message_end - setns_message), %edx
	mov	$126, %ebx
.Lfail:
	mov	$2, %edi
	mov	$1, %eax		/* write */
	syscall
	mov	%ebx, %edi
	mov	$60, %eax		/* exit */
	syscall

setns_message:
	.ascii	"bunker enter: cannot join the setup namespace (setns on fd 7 or 8) or the session's network namespace (fd 11)\n"
setns_message_end:
exec_message:
	.ascii	"bunker enter: cannot execute the program (execve)\n"
exec_message_end:
