/*
 * enter PROGRAM ARGS... (aarch64 Linux, static, no libc, position-independent)
 *
 * The same program as enter-x86_64.S (see there): join the user namespace at
 * fd 7, then the mount namespace at fd 8, close both, execute PROGRAM. Exit
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
	ldr	x9, [sp]
	cmp	x9, #2
	b.lt	.Lexec_failed
	add	x1, sp, #16		/* argv + 1 */
	ldr	x0, [x1]		/* argv[1] */
	add	x2, sp, x9, lsl #3
	add	x2, x2, #16		/* envp = argv + argc + 1 */
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
	.ascii	"bunker enter: cannot join the setup namespace (setns on fd 7 or 8)\n"
setns_message_end:
exec_message:
	.ascii	"bunker enter: cannot execute the program (execve)\n"
exec_message_end:
