// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include "addr.h"

void addr_format(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	if (!len)
		return;
	if (!inet_ntop(family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

void endpoint_format(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	addr_format(family, addr, a, sizeof(a));
	snprintf(buf, len, family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}
