/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Network and task constants vmlinux.h does not carry (they are #defines in the kernel). */
#ifndef NET_CONSTS_BPF_H
#define NET_CONSTS_BPF_H

#define AF_INET	    2
#define AF_INET6    10
#define IPPROTO_TCP 6

/* include/net/tcp_states.h */
#define TCP_ESTABLISHED	 1
#define TCP_SYN_SENT	 2
#define TCP_SYN_RECV	 3
#define TCP_FIN_WAIT1	 4
#define TCP_FIN_WAIT2	 5
#define TCP_TIME_WAIT	 6
#define TCP_CLOSE	 7
#define TCP_CLOSE_WAIT	 8
#define TCP_LAST_ACK	 9
#define TCP_LISTEN	 10
#define TCP_CLOSING	 11
#define TCP_NEW_SYN_RECV 12

/* include/linux/sched.h */
#define PF_EXITING 0x00000004

/* include/net/tcp.h */
#define TCPHDR_FIN   0x01
#define TCPHDR_SYN   0x02
#define TCPHDR_ACK   0x10

#define NSEC_PER_SEC 1000000000ULL

#endif /* NET_CONSTS_BPF_H */
