# TCP2 Mail - top-level build.
#
#   make            userspace into build/bin/ (and tcp2.ko when kernel headers exist)
#   make check      install test dependencies (as root), build with ASan/UBSan, run all tests
#   make demo       the network demo world, as root (see README); KEEP=1
#                   leaves it up.  make demo-offline: the same on files
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make bench      benchmarks, printed as ratios against baselines of the same run
#   make kmod       kmod/tcp2.ko against KDIR (W=1, C=1 are passed to Kbuild)
#
# Variables: BUILD (output dir), SAN=1 (sanitizers), CC, FUZZ_SECONDS, KEEP,
# KDIR (kernel build tree: the running kernel's, else the newest Debian
# /usr/src/linux-headers-*-amd64; empty when there are none).

BUILD	?= build
SAN	?= 0
CC	?= cc

PKGS	:= libgcrypt json-c libmnl libnetfilter_queue libnl-genl-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lgcrypt -lgpg-error -ljson-c)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wvla
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Iinclude/uapi -Idaemon/core -Idaemon/net
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(PKG_CFLAGS)
LDLIBS	+= $(PKG_LIBS) -pthread

ifeq ($(SAN),1)
CFLAGS	:= $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS)) -O1 \
	   -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
endif

CORE_SRC := $(sort $(wildcard daemon/core/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CORE_LIB := $(BUILD)/lib/libtcp2core.a
NET_SRC  := $(sort $(wildcard daemon/net/*.c))
NET_OBJ  := $(NET_SRC:%.c=$(BUILD)/obj/%.o)
NET_LIB  := $(BUILD)/lib/libtcp2net.a
CTL_SRC  := daemon/ctl/ctl.c
CTL_OBJ  := $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
CTL_LIB  := $(BUILD)/lib/libtcp2ctl.a

TEST_SUPPORT := tests/unit/harness.c tests/unit/vectors.c
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o)

BINS := $(BUILD)/bin/tcp2-mail $(BUILD)/bin/tcp2d
TCP2D_OBJ := $(BUILD)/obj/daemon/tcp2d.o $(BUILD)/obj/daemon/tcp2d_ctl.o \
	     $(BUILD)/obj/daemon/ctl/ctl.o

.PHONY: all userspace check test-build fuzz bench demo demo-offline clean deps kmod \
	kmod-tools dkms-src

BINS += $(BUILD)/bin/tcp2ctl

KDIR	?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	   $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1))

all: userspace $(if $(KDIR),kmod)

# Kbuild writes its objects beside the sources in kmod/.
kmod:
	@test -n '$(KDIR)' || { echo 'make kmod: no kernel headers (KDIR)' >&2; exit 1; }
	$(MAKE) -C '$(KDIR)' M='$(CURDIR)' modules

userspace: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(NET_LIB): $(NET_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(CTL_LIB): $(CTL_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/tcp2-mail: $(BUILD)/obj/daemon/tools/tcp2-mail.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/tcp2d: $(TCP2D_OBJ) $(NET_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/daemon/tcp2d.o $(BUILD)/obj/daemon/tcp2d_ctl.o: CPPFLAGS += -Idaemon/ctl

$(BUILD)/bin/tcp2ctl: $(BUILD)/obj/daemon/ctl/tcp2ctl.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(CTL_LIB) $(NET_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/tests/unit/test_ctl.o: CPPFLAGS += -Idaemon/ctl

$(BUILD)/obj/tests/%.o: CPPFLAGS += -Itests/unit

test-build: $(BINS) $(TEST_BIN) kmod-tools

# The genetlink test tool of tests/kmod (run inside the QEMU guest).
kmod-tools: $(BUILD)/tests/tcp2kctl

$(BUILD)/tests/tcp2kctl: $(BUILD)/obj/tests/kmod/tcp2kctl.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The test run uses its own sanitizer build so that `make` stays fast.
check:
	@scripts/install-deps.sh
	$(MAKE) --no-print-directory BUILD=build/san SAN=1 test-build
	$(MAKE) --no-print-directory BUILD=build userspace kmod-tools
	@TCP2_BUILD=build/san TCP2_FAST_BUILD=build tests/run

demo: userspace
	@KEEP='$(KEEP)' TCP2_BIN='$(abspath $(BUILD))/bin' scripts/demo.sh

demo-offline: userspace
	@TCP2_BIN='$(abspath $(BUILD))/bin' scripts/demo-offline.sh

fuzz:
	@tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

bench: userspace
	@tests/bench/run.sh

deps:
	@scripts/install-deps.sh

# DKMS: the module's sources under $(DKMS_SRC) with kmod/dkms.conf on top.
DKMS_SRC ?= /usr/src/tcp2-0.1
dkms-src:
	rm -rf '$(DKMS_SRC)'
	mkdir -p '$(DKMS_SRC)/kmod' '$(DKMS_SRC)/include/uapi/linux'
	cp Kbuild '$(DKMS_SRC)/'
	cp kmod/dkms.conf '$(DKMS_SRC)/dkms.conf'
	cp kmod/Kbuild kmod/*.c kmod/*.h '$(DKMS_SRC)/kmod/'
	cp include/uapi/linux/tcp2.h '$(DKMS_SRC)/include/uapi/linux/'

clean:
	rm -rf build
	$(if $(KDIR),$(MAKE) -C '$(KDIR)' M='$(CURDIR)' clean)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
