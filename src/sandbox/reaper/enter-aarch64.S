/*
 * enter PROGRAM ARGS... (aarch64 Linux, static, no libc, position-independent)
 *
 * The same program as enter-x86_64.S (see there): join the user namespace at
 * fd 7, then the mount namespace at fd 8, close both, with `-n` first also
 * join the network namespace at fd 11 and close it, execute PROGRAM. Exit
 * code 126 and a line on stderr when a namespace cannot be joined, 127 when
 * PROGRAM cannot be executed.
 */
	/* setns(fd, type), on to .Lsetns_failed when it fails. */
	.macro	join fd, type
	mov	x0, #\fd
	mov	x1, #\type
	mov	x8, #268		/* setns */
	svc	#0
	cbnz	x0, .Lsetns_failed
	.endm

	.text
	.globl	_start
_start:
	join	7, 0x10000000		/* CLONE_NEWUSER */
	join	8, 0x20000		/* CLONE_NEWNS */
	mov	x0, #7
	mov	x8, #57			/* close */
	svc	#0
	mov	x0, #8
	mov	x8, #57			/* close */
	svc	#0

	/* At entry: argc at [sp], argv[0] at [sp, #8], NULL after argv, then envp. */
	ldr	x20, [sp]		/* argc */
	add	x21, sp, #16		/* argv + 1: PROGRAM and its arguments */
	add	x22, sp, x20, lsl #3
	add	x22, x22, #16		/* envp = argv + argc + 1 */
	cmp	x20, #2
	b.lt	.Lexec_failed
	ldr	x9, [x21]		/* argv[1] */
	ldrh	w10, [x9]
	mov	w11, #0x6e2d		/* "-n" */
	cmp	w10, w11
	b.ne	.Lexec
	ldrb	w10, [x9, #2]
	cbnz	w10, .Lexec
	cmp	x20, #3
	b.lt	.Lexec_failed
	join	11, 0x40000000		/* CLONE_NEWNET */
	mov	x0, #11
	mov	x8, #57			/* close */
	svc	#0
	add	x21, x21, #8		/* PROGRAM is the next argument */
.Lexec:
	ldr	x0, [x21]
	mov	x1, x21
	mov	x2, x22
	mov	x8, #221		/* execve */
	svc	#0

.Lexec_failed:
	adr	x1, exec_message
	mov	x2, #(exec_message_end - exec_message)
	mov	x19, #127
	b	.Lfail
.Lsetns_failed:
	adr	x1, setns_message
	mov	x2, #(setns_message_end - setns_message)
	mov	x19, #126
.Lfail:
	mov	x0, #2
	mov	x8, #64			/* write */
	svc	#0
	mov	x0, x19
	mov	x8, #93			/* exit */
	svc	#0

setns_message:
	.ascii	"bunker enter: cannot join the setup namespace (setns on fd 7 or 8) or the session's network namespace (fd 11)\n"
setns_message_end:
exec_message:
	.ascii	"bunker enter: cannot execute the program (execve)\n"
exec_message_end:
