/*
 * netns (aarch64 Linux, static, no libc, position-independent)
 *
 * The same program as netns-x86_64.S (see there): join the user namespace at
 * fd 7, unshare the network namespace, bring lo up, write the namespace's
 * inode (8 bytes) to stdout, wait until stdin ends. Exit code 126 and a line
 * on stderr when a step fails.
 */
	/* ioctl(socket in x19, request, &ifreq at sp), on to .Lfailed when it fails. */
	.macro	lo_ioctl request
	mov	x0, x19
	mov	x1, #\request
	mov	x2, sp
	mov	x8, #29			/* ioctl */
	svc	#0
	cbnz	x0, .Lfailed
	.endm

	.text
	.globl	_start
_start:
	mov	x0, #7
	mov	x1, #0x10000000		/* CLONE_NEWUSER */
	mov	x8, #268		/* setns */
	svc	#0
	cbnz	x0, .Lfailed
	mov	x0, #7
	mov	x8, #57			/* close */
	svc	#0
	mov	x0, #0x40000000		/* CLONE_NEWNET */
	mov	x8, #97			/* unshare */
	svc	#0
	cbnz	x0, .Lfailed

	/* lo up: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP, on a datagram socket. */
	mov	x0, #2			/* AF_INET */
	mov	x1, #2			/* SOCK_DGRAM */
	mov	x2, #0
	mov	x8, #198		/* socket */
	svc	#0
	tbnz	x0, #63, .Lfailed
	mov	x19, x0
	sub	sp, sp, #160		/* struct ifreq (40 bytes), later struct stat (128) */
	stp	xzr, xzr, [sp]
	stp	xzr, xzr, [sp, #16]
	str	xzr, [sp, #32]
	mov	w9, #0x6f6c		/* ifr_name "lo" */
	strh	w9, [sp]
	lo_ioctl 0x8913			/* SIOCGIFFLAGS */
	ldrh	w9, [sp, #16]
	orr	w9, w9, #1		/* ifr_flags |= IFF_UP */
	strh	w9, [sp, #16]
	lo_ioctl 0x8914			/* SIOCSIFFLAGS */
	mov	x0, x19
	mov	x8, #57			/* close */
	svc	#0

	/* The namespace's inode: newfstatat(AT_FDCWD, "/proc/self/ns/net", &stat, 0). */
	mov	x0, #-100		/* AT_FDCWD */
	adr	x1, net_path
	mov	x2, sp
	mov	x3, #0
	mov	x8, #79			/* newfstatat */
	svc	#0
	cbnz	x0, .Lfailed
	mov	x0, #1
	add	x1, sp, #8		/* st_ino */
	mov	x2, #8
	mov	x8, #64			/* write */
	svc	#0
	cmp	x0, #8
	b.ne	.Lfailed

	/* Hold the namespace until stdin ends (or brings a byte). */
	mov	x0, #0
	mov	x1, sp
	mov	x2, #1
	mov	x8, #63			/* read */
	svc	#0
	mov	x0, #0
	mov	x8, #93			/* exit */
	svc	#0

.Lfailed:
	mov	x0, #2
	adr	x1, failed_message
	mov	x2, #(failed_message_end - failed_message)
	mov	x8, #64			/* write */
	svc	#0
	mov	x0, #126
	mov	x8, #93			/* exit */
	svc	#0

net_path:
	.asciz	"/proc/self/ns/net"
failed_message:
	.ascii	"bunker netns: cannot make a network namespace in the setup namespace (fd 7)\n"
failed_message_end:
