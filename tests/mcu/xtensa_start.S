/* xtensa_start.S - reset entry of the xtensa smoke program (at the reset
 * vector: a jump past the literals to _start): a stack, then
 * smoke_main (CALL0 ABI, as lx106 code uses), then the semihosting exit
 * call with its result as the exit code. */
    .section .text.reset, "ax"
    .global _reset
_reset:
    j       _start

    .section .text.start, "ax"
    .literal_position
    .literal .Lstack, _stack_top
    .global _start
    .align 4
_start:
    l32r    a1, .Lstack
    call0   smoke_main
    mov     a3, a2
    movi    a2, 1           /* SYS_exit */
    simcall
1:  j       1b
