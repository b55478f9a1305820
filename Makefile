# haas-emu: local HaaS Cloud app-upgrade emulator and device SDK.
#
#   make          build everything into build/
#   make run      start the emulator (HTTP 127.0.0.1:8080, data in ./var)
#   make test     every test suite; ends with "N passed, N failed"
#   make bench    benchmarks, each next to its floor (nginx, raw mosquitto)
#   make bench-100k  100,000 devices on one machine (about 10 minutes)
#
# On Debian the first `make run` / `make test` installs the packages listed
# in server/debian-packages.txt (and tests/debian-packages.txt for tests).

CC      ?= gcc
PYTHON  ?= /usr/bin/python3
BUILD   := build
WARN    := -Wall -Wextra -Werror
CFLAGS_SERVER := -std=c11 -D_GNU_SOURCE $(WARN) -g
OPT     := -O2
SAN     := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SERVER_LIBS := -lmicrohttpd -lsqlite3 -lcjson -larchive -lz -lcrypto -lpthread
PLUGIN_LIBS := -lsqlite3 -lcrypto

SERVER_SRC := $(wildcard server/src/*.c)
# The protocol module: identifiers and topics (linked into haas-emu and the
# plugin), Alink envelopes (haas-emu only: it needs cJSON).
PROTO_SRC := $(wildcard server/protocol/*.c)
PLUGIN_PROTO_SRC := server/protocol/identifiers.c server/protocol/topics.c
PROTO_HDR := $(wildcard server/protocol/*.h)
SERVER_HDR := $(wildcard server/src/*.h) $(PROTO_HDR)
PLUGIN_SRC := $(wildcard server/plugin/*.c)
PLUGIN_HDR := $(wildcard server/plugin/*.h) $(PROTO_HDR)
MIGRATIONS := $(sort $(wildcard schema/migrations/*.sql))
GEN_MIGRATIONS := $(BUILD)/gen/migrations.c

SDK_SRC := $(wildcard sdk/src/*.c)
SDK_HDR := $(wildcard sdk/src/*.h sdk/include/*.h sdk/include/private/*.h)
# The package rules (server/src/package_check.h) are one list with one
# implementation where it takes code: haas-emu links the SDK's tar reader and
# manifest reader and checks uploads with them.
PKG_RULES_SRC := sdk/src/tar_reader.c sdk/src/manifest.c sdk/src/json_scan.c sdk/src/haas_util.c
PORT_SRC := $(wildcard sdk/port/posix/*.c)
PORT_HDR := $(wildcard sdk/port/posix/*.h)
SDK_CFLAGS := -std=c99 $(WARN) -pedantic -g -Isdk/include -Isdk/src
PORT_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -Isdk/include -Isdk/src -Isdk/port/posix
PORT_LIBS := -lmosquitto -lcurl -lz -lcrypto -lpthread
XTENSA_CC := xtensa-lx106-elf-gcc

TARGETS := $(BUILD)/haas-emu $(BUILD)/libhaas_upgrade.a
ifneq ($(PLUGIN_SRC),)
TARGETS += $(BUILD)/haas_auth.so
endif
ifneq ($(PORT_SRC),)
TARGETS += $(BUILD)/haas-device
endif

.PHONY: all deps test-deps run test bench bench-100k clean asan unit-tests sdk-cross fuzz
all: $(TARGETS)

deps:
	@sh server/install-deps.sh server/debian-packages.txt

test-deps:
	@sh server/install-deps.sh server/debian-packages.txt tests/debian-packages.txt

$(GEN_MIGRATIONS): $(MIGRATIONS) server/gen-migrations.sh
	@mkdir -p $(dir $@)
	sh server/gen-migrations.sh $@ $(MIGRATIONS)

SERVER_OBJ := $(patsubst server/src/%.c,$(BUILD)/obj/server/%.o,$(SERVER_SRC)) $(BUILD)/obj/server/migrations.o \
              $(patsubst server/protocol/%.c,$(BUILD)/obj/protocol/%.o,$(PROTO_SRC)) \
              $(patsubst sdk/src/%.c,$(BUILD)/obj/sdk/%.o,$(PKG_RULES_SRC))
SERVER_INC := -Iserver/src -Iserver/protocol
SERVER_ASAN_OBJ := $(patsubst $(BUILD)/obj/%,$(BUILD)/asan/obj/%,$(SERVER_OBJ))
PKG_CHECK_OBJ := $(BUILD)/obj/server/package_check.o $(BUILD)/asan/obj/server/package_check.o
$(PKG_CHECK_OBJ): SERVER_INC += -Isdk/src -Isdk/include
$(PKG_CHECK_OBJ): $(SDK_HDR)

$(BUILD)/obj/server/%.o: server/src/%.c $(SERVER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(OPT) $(SERVER_INC) -c -o $@ $<
$(BUILD)/obj/server/migrations.o: $(GEN_MIGRATIONS) server/src/db.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(OPT) $(SERVER_INC) -c -o $@ $<
$(BUILD)/obj/protocol/%.o: server/protocol/%.c $(PROTO_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(OPT) $(SERVER_INC) -c -o $@ $<
$(BUILD)/asan/obj/protocol/%.o: server/protocol/%.c $(PROTO_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(SAN) $(SERVER_INC) -c -o $@ $<
$(BUILD)/asan/obj/server/%.o: server/src/%.c $(SERVER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(SAN) $(SERVER_INC) -c -o $@ $<
$(BUILD)/asan/obj/server/migrations.o: $(GEN_MIGRATIONS) server/src/db.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(SAN) $(SERVER_INC) -c -o $@ $<
$(BUILD)/asan/obj/sdk/%.o: sdk/src/%.c $(SDK_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SDK_CFLAGS) $(SAN) -c -o $@ $<

$(BUILD)/haas-emu: $(SERVER_OBJ)
	$(CC) $(OPT) -o $@ $^ $(SERVER_LIBS)

$(BUILD)/haas_auth.so: $(PLUGIN_SRC) $(PLUGIN_HDR) $(PLUGIN_PROTO_SRC)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_SERVER) $(OPT) -Iserver/protocol -fPIC -shared -o $@ $(PLUGIN_SRC) $(PLUGIN_PROTO_SRC) $(PLUGIN_LIBS)

# The same programs built with AddressSanitizer and UBSan, for the tests.
$(BUILD)/asan/haas-emu: $(SERVER_ASAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(SERVER_LIBS)

$(BUILD)/asan/haas_auth.so: $(PLUGIN_SRC) $(PLUGIN_HDR) $(PLUGIN_PROTO_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(SAN) -Iserver/protocol -fPIC -shared -o $@ $(PLUGIN_SRC) $(PLUGIN_PROTO_SRC) $(PLUGIN_LIBS)

asan: $(BUILD)/asan/haas-emu $(if $(PLUGIN_SRC),$(BUILD)/asan/haas_auth.so) $(if $(PORT_SRC),$(BUILD)/asan/haas-device)

# ---- device SDK: portable core, Linux port, simulator ----
SDK_OBJ := $(patsubst sdk/src/%.c,$(BUILD)/obj/sdk/%.o,$(SDK_SRC))
PORT_OBJ := $(patsubst sdk/port/posix/%.c,$(BUILD)/obj/port/%.o,$(PORT_SRC))
$(BUILD)/obj/sdk/%.o: sdk/src/%.c $(SDK_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SDK_CFLAGS) $(OPT) -c -o $@ $<
$(BUILD)/obj/port/%.o: sdk/port/posix/%.c $(PORT_HDR) $(SDK_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(PORT_CFLAGS) $(OPT) -c -o $@ $<
$(BUILD)/libhaas_upgrade.a: $(SDK_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libhaas_port_posix.a: $(PORT_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/haas-device: sdk/tools/haas_device.c $(BUILD)/libhaas_upgrade.a $(BUILD)/libhaas_port_posix.a $(SDK_HDR) $(PORT_HDR)
	$(CC) $(PORT_CFLAGS) $(OPT) -o $@ $< $(BUILD)/libhaas_port_posix.a $(BUILD)/libhaas_upgrade.a $(PORT_LIBS)
$(BUILD)/asan/haas-device: sdk/tools/haas_device.c $(SDK_SRC) $(PORT_SRC) $(SDK_HDR) $(PORT_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(PORT_CFLAGS) $(SAN) -o $@ $< $(SDK_SRC) $(PORT_SRC) $(PORT_LIBS)

# The core must build for a microcontroller with no C library at all, and
# LINK there: the xtensa smoke program (tests/mcu/xtensa_smoke.c, run by
# make test-mcu under qemu-system-xtensa) references every public call, so
# a libgcc helper Debian's lx106 libgcc lacks is a link error here.
sdk-cross:
	@mkdir -p $(BUILD)/xtensa
	@for f in $(SDK_SRC); do \
	  $(XTENSA_CC) -std=c99 -Os -ffreestanding $(WARN) -Isdk/include -Isdk/src -c -o $(BUILD)/xtensa/$$(basename $$f .c).o $$f || exit 1; \
	done
	@xtensa-lx106-elf-size -t $(BUILD)/xtensa/*.o | tail -1 | \
	  awk '{print "SDK core code size (xtensa-lx106-elf-gcc -Os): " $$1 " bytes text, " $$2 " data, " $$3 " bss"}'
	@$(XTENSA_CC) -std=c99 -Os -ffreestanding $(WARN) -Isdk/include -Isdk/src -nostdlib -T tests/mcu/xtensa_sim.ld \
	  -Wl,--no-warn-rwx-segments -o $(BUILD)/xtensa/haas-smoke.elf tests/mcu/xtensa_start.S tests/mcu/xtensa_smoke.c \
	  $(BUILD)/xtensa/*.o -lgcc
	@echo "SDK core linked for xtensa-lx106 with libgcc alone (no __udivdi3, __umoddi3, __muldi3, __udivsi3 needed): $(BUILD)/xtensa/haas-smoke.elf"

# C unit tests (cmocka), built with the sanitizers; tests/run.py runs every
# build/tests/test_* it finds. Each lists the sources it tests.
UNIT_CFLAGS := $(CFLAGS_SERVER) $(SAN) -Iserver/plugin -Iserver/src -Iserver/protocol -Isdk/include -Isdk/src -Isdk/port/posix
UNIT_LIBS := -lcmocka -lmosquitto -lcurl -lz -lcrypto -lsqlite3 -larchive -lcjson
UNIT_TESTS := $(BUILD)/tests/test_clientid $(BUILD)/tests/test_topic_acl $(BUILD)/tests/test_server_units \
              $(BUILD)/tests/test_sdk_core $(BUILD)/tests/test_tar_reader $(BUILD)/tests/test_port_posix \
              $(BUILD)/tests/test_upgrade $(BUILD)/tests/test_auto_sub $(BUILD)/tests/test_protocol \
              $(BUILD)/tests/test_store $(BUILD)/tests/test_service
UNIT_TESTS += $(BUILD)/tests/test_ota_msg $(BUILD)/tests/test_fw_ota $(BUILD)/tests/test_ota_service $(BUILD)/tests/test_rollout_service
UNIT_TESTS += $(BUILD)/tests/test_port_tiny $(BUILD)/tests/test_secret_cache
UNIT_TESTS += $(BUILD)/tests/test_aliyun_sign $(BUILD)/tests/test_aliyun_service
UNIT_TESTS += $(BUILD)/tests/test_mqtt_packet $(BUILD)/tests/test_mqtt_link $(BUILD)/tests/test_db_checkpoint $(BUILD)/tests/test_db_reader
STORE_SRC := $(wildcard server/src/store_*.c) server/src/db.c server/src/db_checkpoint.c server/src/log.c server/src/clock.c $(GEN_MIGRATIONS) \
             tests/unit/store_fixture.c $(PROTO_SRC)
test_store_SRC := $(STORE_SRC)
test_db_checkpoint_SRC := $(STORE_SRC)
test_db_reader_SRC := $(STORE_SRC)
test_service_SRC := $(STORE_SRC) $(wildcard server/src/service_*.c) server/src/ids.c server/src/package_check.c \
                    server/src/package_file.c $(PKG_RULES_SRC)
test_ota_service_SRC := $(test_service_SRC)
test_rollout_service_SRC := $(test_service_SRC)
test_protocol_SRC := $(PROTO_SRC) server/plugin/clientid.c
test_auto_sub_SRC := server/plugin/auto_sub.c server/plugin/topic_acl.c server/plugin/clientid.c $(PLUGIN_PROTO_SRC)
test_clientid_SRC := server/plugin/clientid.c server/plugin/device_sign.c server/plugin/conn_track.c server/plugin/status_msg.c \
                     server/plugin/status_batch.c server/plugin/status_watch.c server/plugin/topic_acl.c \
                     $(PROTO_SRC)
test_topic_acl_SRC := server/plugin/topic_acl.c server/plugin/clientid.c $(PLUGIN_PROTO_SRC)
test_secret_cache_SRC := server/plugin/secret_cache.c
test_server_units_SRC := $(PROTO_SRC) server/src/oss_url.c server/src/timeline.c server/src/clock.c server/src/json_text.c
test_aliyun_sign_SRC := server/src/aliyun_sign.c
test_mqtt_packet_SRC := server/src/mqtt_packet.c
test_mqtt_link_SRC := server/src/mqtt_link.c server/src/mqtt_packet.c server/src/log.c server/src/clock.c $(PLUGIN_PROTO_SRC)
test_aliyun_service_SRC := $(test_service_SRC)
test_sdk_core_SRC := sdk/src/json_scan.c sdk/src/alink.c sdk/src/manifest.c sdk/src/haas_util.c
test_tar_reader_SRC := sdk/src/tar_reader.c sdk/src/haas_util.c
test_port_posix_SRC := $(PORT_SRC)
test_upgrade_SRC := sdk/src/upgrade.c sdk/src/journal.c sdk/src/alink.c sdk/src/json_scan.c sdk/src/tar_reader.c \
                    sdk/src/manifest.c sdk/src/haas_util.c
test_ota_msg_SRC := sdk/src/ota_msg.c sdk/src/json_scan.c sdk/src/haas_util.c
test_fw_ota_SRC := sdk/src/fw_ota.c sdk/src/fw_store.c sdk/src/ota_msg.c $(test_upgrade_SRC)
# The microcontroller port kit (small inflater, digests), against zlib and OpenSSL.
TINY_SRC := $(wildcard sdk/port/tiny/*.c)
test_port_tiny_SRC := $(TINY_SRC)
$(BUILD)/tests/test_port_tiny: UNIT_CFLAGS += -Isdk/port/tiny
$(BUILD)/tests/test_port_tiny: $(wildcard sdk/port/tiny/*.h)

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(%_SRC) $(PLUGIN_HDR) $(SERVER_HDR) $(SDK_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $($*_SRC) $(UNIT_LIBS)

unit-tests: $(UNIT_TESTS)

# The SDK core's unit tests on qemu Cortex-M3/M4 (make test-mcu). Optional:
# the image's build context (.dockerignore) has no tests/.
-include tests/mcu/mcu.mk

# Fuzz targets (libFuzzer, clang), run for a bounded time by tests/run.py.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -Isdk/include -Isdk/src -Iserver/plugin -Iserver/src \
               -Iserver/protocol
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_device_input $(BUILD)/fuzz/fuzz_broker_input $(BUILD)/fuzz/fuzz_package_check \
                $(BUILD)/fuzz/fuzz_link_input
$(BUILD)/fuzz/fuzz_device_input: tests/fuzz/fuzz_device_input.c $(SDK_SRC) $(SDK_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< sdk/src/json_scan.c sdk/src/alink.c sdk/src/tar_reader.c sdk/src/manifest.c \
	      sdk/src/haas_util.c
$(BUILD)/fuzz/fuzz_broker_input: tests/fuzz/fuzz_broker_input.c $(PLUGIN_SRC) $(PLUGIN_HDR) $(PLUGIN_PROTO_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< server/plugin/clientid.c server/plugin/topic_acl.c server/plugin/auto_sub.c $(PLUGIN_PROTO_SRC)
$(BUILD)/fuzz/fuzz_link_input: tests/fuzz/fuzz_link_input.c server/src/mqtt_packet.c server/src/mqtt_packet.h \
                                server/src/json_text.c server/src/json_text.h $(PLUGIN_PROTO_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< server/src/mqtt_packet.c server/src/json_text.c $(PLUGIN_PROTO_SRC)
$(BUILD)/fuzz/fuzz_package_check: tests/fuzz/fuzz_package_check.c server/src/package_check.c $(PKG_RULES_SRC) \
                                   $(SERVER_HDR) $(SDK_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< server/src/package_check.c $(PKG_RULES_SRC) -larchive -lz
fuzz: $(FUZZ_TARGETS)

# Load tools of the benchmarks (not part of `make`): one C file each in
# tests/bench/, with what they share (tests/bench/bench_tool.c), linked with
# libmosquitto and libcrypto.
BENCH_TOOLS := $(BUILD)/bench/mqtt_fleet $(BUILD)/bench/fleet_floor $(BUILD)/bench/mqtt_swarm
$(BUILD)/bench/%: tests/bench/%.c tests/bench/bench_tool.c tests/bench/bench_tool.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -o $@ $< tests/bench/bench_tool.c -lmosquitto -lcrypto

run: deps all
	$(BUILD)/haas-emu $(RUN_ARGS)

test: test-deps all asan unit-tests sdk-cross fuzz mcu-build $(BENCH_TOOLS)
	@$(PYTHON) tests/run.py

bench: test-deps all $(BENCH_TOOLS)
	@sh tests/bench/run.sh

# 100,000 devices on one machine (tests/bench/bench_100k.py): logins, push
# fan-out, memory and the REST API's latency, each next to its floor.
bench-100k: test-deps all $(BUILD)/bench/mqtt_swarm
	@$(PYTHON) tests/bench/bench_100k.py

clean:
	rm -rf $(BUILD)
