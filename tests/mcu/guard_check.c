/*
 * guard_check.c - proves the MPU guard of mcu_main.c: a recursion without
 * end must stop in the guard (exit code 99, "MPU guard hit"), not run on
 * into the memory below the stack. tests/mcu/run.py expects exactly that.
 */
#include <stdint.h>
#include <stdio.h>

static int deeper(volatile uint8_t *up, int n)
{
    volatile uint8_t frame[128];
    frame[0] = (uint8_t)n;
    if (n < 0) /* never: it only keeps the compiler from calling the recursion endless */
        return 0;
    frame[127] = up ? up[0] : 0;
    return deeper(frame, n + 1) + frame[127];
}

int main(void)
{
    printf("guard_check: recursing until the stack ends\n");
    return deeper(NULL, 0) == 12345 ? 0 : 3; /* never returns */
}
