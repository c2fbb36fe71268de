/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The terminal colours the text renderers use (-c / a terminal). */
#ifndef ANSI_H
#define ANSI_H

#define C_RESET	 "\033[0m"
#define C_BOLD	 "\033[1m"
#define C_DIM	 "\033[2m"
#define C_RED	 "\033[31m"
#define C_GREEN	 "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN	 "\033[36m"

#endif /* ANSI_H */
