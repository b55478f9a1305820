# tests/mcu/mcu.mk - the SDK core's unit tests on emulated microcontrollers
# (included by the Makefile; `make test-mcu`).
#
# Each test of the core (tests/unit/test_*.c with the sources it lists in
# the Makefile) is built for a Cortex-M3 (qemu mps2-an385) and a Cortex-M4
# with its FPU (mps2-an386) with arm-none-eabi-gcc -Os and picolibc, with
# the cmocka, zlib and OpenSSL shims of tests/mcu/shim (digests and
# inflating by sdk/port/tiny), and run under qemu-system-arm through
# semihosting by tests/mcu/run.py, which also measures the core's size and
# its static worst-case stack (tests/mcu/stack_report.py).

MCU_CC := arm-none-eabi-gcc
MCU_TESTS := test_sdk_core test_tar_reader test_ota_msg test_upgrade test_fw_ota
MCU_CPUS := m3 m4
MCU_m3_FLAGS := -mcpu=cortex-m3 -mthumb
MCU_m4_FLAGS := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
MCU_LD := --specs=picolibc.specs --oslib=semihost --crt0=semihost \
          -Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x400000 \
          -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000 -Wl,--defsym=__stack_size=0x2000
MCU_CFLAGS := -std=gnu11 -Os -g $(WARN) -ffunction-sections -fdata-sections -DHAAS_MCU \
              -Itests/mcu/shim -Isdk/include -Isdk/src -Isdk/port/tiny
MCU_SUPPORT := tests/mcu/cmocka_shim.c tests/mcu/shim_host.c $(TINY_SRC)
MCU_SUPPORT_HDR := $(wildcard tests/mcu/shim/*.h tests/mcu/shim/openssl/*.h sdk/port/tiny/*.h)

MCU_ELFS := $(foreach c,$(MCU_CPUS),$(foreach t,$(MCU_TESTS) guard_check planted_failure,$(BUILD)/mcu/$(c)/$(t).elf))
MCU_CORE_LIBS := $(foreach c,$(MCU_CPUS),$(BUILD)/mcu/$(c)/libhaas_core.a)

define mcu_cpu_rules
$(BUILD)/mcu/$(1)/mcu_main.o: tests/mcu/mcu_main.c
	@mkdir -p $$(dir $$@)
	$(MCU_CC) $(MCU_$(1)_FLAGS) $(MCU_CFLAGS) --specs=picolibc.specs -c -o $$@ $$<
$(BUILD)/mcu/$(1)/%.elf: tests/unit/%.c $$$$(%_SRC) $(MCU_SUPPORT) $(MCU_SUPPORT_HDR) $(SDK_HDR) $(BUILD)/mcu/$(1)/mcu_main.o
	$(MCU_CC) $(MCU_$(1)_FLAGS) $(MCU_CFLAGS) -Dmain=mcu_test_main -Wl,--gc-sections -o $$@ \
	    $$< $$($$*_SRC) $(MCU_SUPPORT) $(BUILD)/mcu/$(1)/mcu_main.o $(MCU_LD)
$(BUILD)/mcu/$(1)/guard_check.elf: tests/mcu/guard_check.c $(BUILD)/mcu/$(1)/mcu_main.o
	$(MCU_CC) $(MCU_$(1)_FLAGS) $(MCU_CFLAGS) -O0 -Dmain=mcu_test_main -o $$@ $$< $(BUILD)/mcu/$(1)/mcu_main.o $(MCU_LD)
$(BUILD)/mcu/$(1)/planted_failure.elf: tests/mcu/planted_failure.c sdk/src/haas_util.c $(MCU_SUPPORT) $(MCU_SUPPORT_HDR) $(BUILD)/mcu/$(1)/mcu_main.o
	$(MCU_CC) $(MCU_$(1)_FLAGS) $(MCU_CFLAGS) -Dmain=mcu_test_main -Wl,--gc-sections -o $$@ \
	    $$< sdk/src/haas_util.c $(MCU_SUPPORT) $(BUILD)/mcu/$(1)/mcu_main.o $(MCU_LD)
# The core alone, as firmware links it: its size, and its stack use per
# function (.su) and call graph (.ci) for tests/mcu/stack_report.py.
$(BUILD)/mcu/$(1)/libhaas_core.a: $(SDK_SRC) $(SDK_HDR)
	@mkdir -p $(BUILD)/mcu/$(1)/core
	cd $(BUILD)/mcu/$(1)/core && for f in $(SDK_SRC); do \
	  $(MCU_CC) $(MCU_$(1)_FLAGS) -std=c99 -Os -ffreestanding -ffunction-sections $(WARN) -pedantic \
	    -fstack-usage -fcallgraph-info=su -I$(CURDIR)/sdk/include -I$(CURDIR)/sdk/src \
	    -c -o $$$$(basename $$$$f .c).o $(CURDIR)/$$$$f || exit 1; done
	rm -f $$@ && arm-none-eabi-ar rcs $$@ $(BUILD)/mcu/$(1)/core/*.o
endef
$(foreach c,$(MCU_CPUS),$(eval $(call mcu_cpu_rules,$(c))))

.PHONY: test-mcu mcu-build
mcu-build: $(MCU_ELFS) $(MCU_CORE_LIBS)
test-mcu: mcu-build
	@$(PYTHON) tests/mcu/run.py
