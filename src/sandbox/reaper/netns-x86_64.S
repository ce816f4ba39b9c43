/*
 * netns (x86_64 Linux, static, no libc, position-independent)
 *
 * Makes the network namespace that a session's commands share (network.ts):
 * joins bunker's setup user namespace, open at fd 7 (the namespace is then
 * owned by it, as are the sandboxes that join it, which get no capability
 * over it), unshares its network namespace, brings the loopback interface up
 * (the kernel gives it 127.0.0.1 and ::1), writes the new namespace's inode
 * (8 bytes, from /proc/self/ns/net) to stdout and waits until stdin ends, so
 * that the server opens /proc/<pid>/ns/net meanwhile and can tell it is this
 * namespace. Exit code 126 and a line on stderr when a step fails. The code
 * addresses only the stack and, relative to itself, its strings.
 */
	/* ioctl(socket in %r12d, request, &ifreq at the stack), on to .Lfailed when it fails. */
	.macro	lo_ioctl request
	mov	%r12d, %edi
	mov	$\request, %esi
	mov	%rsp, %rdx
	mov	$16, %eax		/* ioctl */
	syscall
	test	%eax, %eax
	jnz	.Lfailed
	.endm

	.text
	.globl	_start
_start:
	mov	$7, %edi
	mov	$0x10000000, %esi	/* CLONE_NEWUSER */
	mov	$308, %eax		/* setns */
	syscall
	test	%eax, %eax
	jnz	.Lfailed
	mov	$7, %edi
	mov	$3, %eax		/* close */
	syscall
	mov	$0x40000000, %edi	/* CLONE_NEWNET */
	mov	$272, %eax		/* unshare */
	syscall
	test	%eax, %eax
	jnz	.Lfailed

	/* lo up: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP, on a datagram socket. */
	mov	$2, %edi		/* AF_INET */
	mov	$2, %esi		/* SOCK_DGRAM */
	xor	%edx, %edx
	mov	$41, %eax		/* socket */
	syscall
	test	%eax, %eax
	js	.Lfailed
	mov	%eax, %r12d
	sub	$160, %rsp		/* struct ifreq (40 bytes), later struct stat (144) */
	xor	%eax, %eax
	mov	%rax, (%rsp)
	mov	%rax, 8(%rsp)
	mov	%rax, 16(%rsp)
	mov	%rax, 24(%rsp)
	mov	%rax, 32(%rsp)
	movw	$0x6f6c, (%rsp)		/* ifr_name "lo" */
	lo_ioctl 0x8913			/* SIOCGIFFLAGS */
	orw	$1, 16(%rsp)		/* ifr_flags |= IFF_UP */
	lo_ioctl 0x8914			/* SIOCSIFFLAGS */
	mov	%r12d, %edi
	mov	$3, %eax		/* close */
	syscall

	/* The namespace's inode: newfstatat(AT_FDCWD, "/proc/self/ns/net", &stat, 0). */
	mov	$-100, %edi		/* AT_FDCWD */
	lea	net_path(%rip), %rsi
	mov	%rsp, %rdx
	xor	%r10d, %r10d
	mov	$262, %eax		/* newfstatat */
	syscall
	test	%eax, %eax
	jnz	.Lfailed
	mov	$1, %edi
	lea	8(%rsp), %rsi		/* st_ino */
	mov	$8, %edx
	mov	$1, %eax		/* write */
	syscall
	cmp	$8, %eax
	jne	.Lfailed

	/* Hold the namespace until stdin ends (or brings a byte). */
	xor	%edi, %edi
	mov	%rsp, %rsi
	mov	$1, %edx
	xor	%eax, %eax		/* read */
	syscall
	xor	%edi, %edi
	mov	$60, %eax		/* exit */
	syscall

.Lfailed:
	mov	$2, %edi
	lea	failed_message(%rip), %rsi
	mov	$(failed_message_end - failed_message), %edx
	mov	$1, %eax		/* write */
	syscall
	mov	$126, %edi
	mov	$60, %eax		/* exit */
	syscall

net_path:
	.asciz	"/proc/self/ns/net"
failed_message:
	.ascii	"bunker netns: cannot make a network namespace in the setup namespace (fd 7)\n"
failed_message_end:
