/* atrest: entry point (skeleton; the command line lands with the agent). */
#include "config.h"

#include <stdio.h>

int main(void)
{
	puts(PACKAGE_STRING);
	return 0;
}
