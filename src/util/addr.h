/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Address formatting. */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* family 4: the first 4 bytes of addr; 6: all 16. "?" for anything else. */
void addr_format(uint8_t family, const uint8_t addr[16], char *buf, size_t len);
/* ::ffff:a.b.c.d: the IPv4 address a dual-stack (IPV6_V6ONLY off) IPv6
 * socket sees an IPv4 peer as; its packets are IPv4. */
int addr_is_v4mapped(uint8_t family, const uint8_t addr[16]);
/* "127.0.0.1:9000", "[::1]:9000"; an IPv4-mapped IPv6 address in its IPv4
 * form, "127.0.0.1:9000" (the text renderers; JSON keeps the socket's own) */
void endpoint_format(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf, size_t len);

#endif /* ADDR_H */
