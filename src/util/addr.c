// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"

/* "a.b.c.d" by hand: inet_ntop goes through sprintf, and every event
 * prints two addresses. */
static void ipv4_format(const uint8_t a[4], char *buf)
{
	char *p = buf;

	for (int i = 0; i < 4; i++) {
		unsigned int v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

void addr_format(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	if (!len)
		return;
	if (family == 4 && len >= 16) {
		ipv4_format(addr, buf);
		return;
	}
	if (!inet_ntop(family == 4 ? AF_INET :
		       family == 6 ? AF_INET6 :
				     AF_UNSPEC,
		       addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

int addr_is_v4mapped(uint8_t family, const uint8_t addr[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return family == 6 && !memcmp(addr, prefix, 12);
}

void endpoint_format(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	if (addr_is_v4mapped(family, addr)) {
		uint8_t v4[16] = { 0 };

		memcpy(v4, addr + 12, 4);
		addr_format(4, v4, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
		return;
	}
	addr_format(family, addr, a, sizeof(a));
	snprintf(buf, len, family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}
