/*
 * mcu_main.c - the start of every MCU test program (tests/mcu): runs the
 * test's own main (renamed mcu_test_main at compile time) on a stack of
 * its own, with
 *   - an MPU guard: the lowest MCU_GUARD bytes of that stack are a
 *     no-access region, so an overflow faults (MemManage) instead of
 *     running silently into other memory. The test runs on the process
 *     stack (PSP); the fault handler runs on the main stack, prints
 *     "MPU guard hit" and exits with MCU_EXIT_GUARD;
 *   - the high-water mark by painting: the stack is filled with a pattern
 *     before the test, and the deepest byte changed afterwards gives the
 *     peak use, printed as "mcu: peak stack N of M bytes".
 * It also prints the size of the SDK's state structs on this target.
 * The exit code (semihosting) is 0 when every test passed, 1 when some
 * failed, MCU_EXIT_GUARD on a stack overflow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "haas_fw.h"
#include "haas_upgrade.h"

#ifndef MCU_STACK_SIZE
#define MCU_STACK_SIZE 32768u
#endif
#define MCU_GUARD 256u /* the MPU's region size; the stack is aligned to it */
#define MCU_PAINT 0xa5u
#define MCU_EXIT_GUARD 99

int mcu_test_main(void);

static uint8_t test_stack[MCU_STACK_SIZE] __attribute__((aligned(MCU_GUARD)));

#define REG(a) (*(volatile uint32_t *)(a))
#define SCB_SHCSR REG(0xe000ed24u)
#define MPU_TYPE REG(0xe000ed90u)
#define MPU_CTRL REG(0xe000ed94u)
#define MPU_RNR REG(0xe000ed98u)
#define MPU_RBAR REG(0xe000ed9cu)
#define MPU_RASR REG(0xe000eda0u)

/* Region 0: [base, base + MCU_GUARD) no access, never executed. Returns 0,
 * or -1 when the core has no MPU. */
static int guard(uintptr_t base)
{
    if (((MPU_TYPE >> 8) & 0xffu) == 0)
        return -1;
    MPU_RNR = 0;
    MPU_RBAR = (uint32_t)base;
    /* XN, AP = 000 (no access), SIZE = log2(256) - 1 = 7, ENABLE */
    MPU_RASR = (1u << 28) | (0u << 24) | (7u << 1) | 1u;
    MPU_CTRL = (1u << 2) | 1u; /* PRIVDEFENA: the rest of memory as without an MPU; ENABLE */
    SCB_SHCSR |= 1u << 16;     /* MemManage faults get their own handler */
    __asm volatile("dsb\n isb" ::: "memory");
    return 0;
}

/* Runs fn with the stack pointer at top (thread mode, process stack). */
__attribute__((naked, noinline)) static int call_on_stack(int (*fn)(void) __attribute__((unused)), void *top __attribute__((unused)))
{
    __asm volatile("push {r4, lr}\n"
                   "msr psp, r1\n"
                   "mrs r4, control\n"
                   "orr r2, r4, #2\n"
                   "msr control, r2\n"
                   "isb\n"
                   "blx r0\n"
                   "msr control, r4\n"
                   "isb\n"
                   "pop {r4, pc}\n");
}

/* Replaces picolibc's weak handler: runs on the main stack. */
void arm_memmanage_isr(void)
{
    printf("mcu: MPU guard hit: stack overflow below %p\n", (void *)(test_stack + MCU_GUARD));
    exit(MCU_EXIT_GUARD);
}

int main(void)
{
    if (guard((uintptr_t)test_stack) != 0) {
        printf("mcu: no MPU on this core\n");
        return 2;
    }
    for (size_t i = MCU_GUARD; i < sizeof test_stack; i++)
        test_stack[i] = MCU_PAINT;
    int failures = call_on_stack(mcu_test_main, test_stack + sizeof test_stack);
    size_t low = MCU_GUARD;
    while (low < sizeof test_stack && test_stack[low] == MCU_PAINT)
        low++;
    printf("mcu: peak stack %u of %u bytes\n", (unsigned)(sizeof test_stack - low),
           (unsigned)(sizeof test_stack - MCU_GUARD));
    printf("mcu: state haas_upgrade %u bytes, haas_fw %u bytes\n", (unsigned)sizeof(haas_upgrade),
           (unsigned)sizeof(haas_fw));
    return failures ? 1 : 0;
}
