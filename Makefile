# TCP2 Mail - top-level build.
#
#   make            userspace into build/bin/ (and tcp2.ko when kernel headers exist;
#                   the tray app tcp2-tray when the GTK dev files are present)
#   make gui        the tray app build/bin/tcp2-tray (GTK 3, Ayatana AppIndicator)
#   make check      install test dependencies (as root), build with ASan/UBSan, run all tests
#   make demo       the network demo world, as root (see README); KEEP=1
#                   leaves it up.  make demo-offline: the same on files
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make bench      benchmarks, printed as ratios against baselines of the same run
#   make kmod       kmod/tcp2.ko against KDIR (W=1, C=1 are passed to Kbuild)
#
#   make install    binaries, systemd unit, config, man pages, DKMS source;
#                   make uninstall removes them (see docs/INSTALL.md)
#
# Variables: BUILD (output dir), SAN=1 (sanitizers), CC, FUZZ_SECONDS, KEEP,
# KDIR (kernel build tree: the running kernel's, else the newest Debian
# /usr/src/linux-headers-*-amd64; empty when there are none);
# for install: DESTDIR, PREFIX (default /usr/local; packages use /usr).

BUILD	?= build
SAN	?= 0
CC	?= cc

PKGS	:= libgcrypt libsodium json-c libmnl libnetfilter_queue libnl-genl-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lgcrypt -lgpg-error -lsodium -ljson-c)

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
	     $(BUILD)/obj/daemon/tcp2d_release.o \
	     $(BUILD)/obj/daemon/ctl/ctl.o $(BUILD)/obj/daemon/config.o

.PHONY: all gui userspace check test-build fuzz bench demo demo-offline clean deps kmod
.PHONY: kmod-tools install uninstall

BINS += $(BUILD)/bin/tcp2ctl

# The tray app: built by default only where its libraries are installed
# (scripts/install-deps.sh installs them); `make gui` insists.  Their
# headers are system headers so that our warnings apply to our code only.
GUI_PKGS   := gtk+-3.0 ayatana-appindicator3-0.1 json-c
HAVE_GUI   := $(shell pkg-config --exists $(GUI_PKGS) 2>/dev/null && echo 1)
GUI_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(GUI_PKGS) 2>/dev/null))
GUI_LIBS   := $(shell pkg-config --libs $(GUI_PKGS) 2>/dev/null)
GUI_SRC    := $(sort $(wildcard gui/*.c))
GUI_OBJ    := $(GUI_SRC:%.c=$(BUILD)/obj/%.o)
ifeq ($(HAVE_GUI),1)
BINS += $(BUILD)/bin/tcp2-tray
endif

KDIR	?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	   $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1))

all: userspace $(if $(KDIR),kmod)

userspace: $(BINS)

# Kbuild writes its objects beside the sources in kmod/.
kmod:
	@test -n '$(KDIR)' || { echo 'make kmod: no kernel headers (KDIR)' >&2; exit 1; }
	$(MAKE) -C '$(KDIR)' M='$(CURDIR)' modules

$(GUI_OBJ): CFLAGS += $(GUI_CFLAGS)

$(BUILD)/bin/tcp2-tray: $(GUI_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(GUI_LIBS)

gui:
	@pkg-config --exists $(GUI_PKGS) || { echo "make gui: missing GTK 3 / Ayatana AppIndicator dev files (scripts/install-deps.sh)" >&2; exit 1; }
	$(MAKE) --no-print-directory $(BUILD)/bin/tcp2-tray

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

$(BUILD)/bin/tcp2-mail: $(BUILD)/obj/daemon/tools/tcp2-mail.o \
    $(BUILD)/obj/daemon/tools/sink.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/tcp2d: $(TCP2D_OBJ) $(NET_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/daemon/tcp2d.o $(BUILD)/obj/daemon/tcp2d_ctl.o \
    $(BUILD)/obj/daemon/tcp2d_release.o: CPPFLAGS += -Idaemon/ctl

$(BUILD)/bin/tcp2ctl: $(BUILD)/obj/daemon/ctl/tcp2ctl.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(CTL_LIB) $(NET_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/tests/unit/test_ctl.o: CPPFLAGS += -Idaemon/ctl

# A test-only control server (the real ctl.c, a canned handler), not tcp2d:
# tests/cli/t_tcp2ctl_echo.sh drives the real tcp2ctl against it.
CTL_ECHO := $(BUILD)/tests/ctl-echo-server
$(CTL_ECHO): $(BUILD)/obj/tests/unit/ctl_echo_server.o $(CTL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/tests/unit/ctl_echo_server.o: CPPFLAGS += -Idaemon/ctl

# The configuration parser lives with the daemon, not in a library.
$(BUILD)/tests/test_config: $(BUILD)/obj/daemon/config.o
$(BUILD)/obj/tests/unit/test_config.o: CPPFLAGS += -Idaemon

$(BUILD)/obj/tests/%.o: CPPFLAGS += -Itests/unit

# tests/e2e/reorder: the NFQUEUE reordering helper of t_e2e_impair.sh.
$(BUILD)/tests/reorder: $(BUILD)/obj/tests/e2e/reorder.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test-build: $(BINS) $(TEST_BIN) $(CTL_ECHO) $(BUILD)/tests/reorder kmod-tools

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

# ---- install ----
# Where things go.  The config stays in /etc and the module source in
# /usr/src (where DKMS looks) whatever PREFIX is; systemd, sysusers and
# tmpfiles also search /usr/local/lib.
VERSION	:= $(shell sed -n 's/^\#define TCP2D_VERSION[^"]*"\(.*\)"/\1/p' daemon/tcp2d.h)
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
DATADIR	?= $(PREFIX)/share
MANDIR	?= $(DATADIR)/man
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DKMSDIR	?= /usr/src/tcp2-$(VERSION)
INSTALL	?= install

# The tray app and the module are installed when they were built / exist.
TRAY	:= $(BUILD)/bin/tcp2-tray
D	 = $(DESTDIR)

install: userspace
	$(INSTALL) -d -m 0755 $(D)$(BINDIR) $(D)$(SBINDIR) $(D)$(MANDIR)/man1 \
	    $(D)$(MANDIR)/man5 $(D)$(MANDIR)/man8 $(D)$(UNITDIR) \
	    $(D)$(SYSUSERSDIR) $(D)$(TMPFILESDIR) $(D)$(SYSCONFDIR)/tcp2
	$(INSTALL) -m 0755 $(BUILD)/bin/tcp2d $(D)$(SBINDIR)/tcp2d
	$(INSTALL) -m 0755 $(BUILD)/bin/tcp2ctl $(BUILD)/bin/tcp2-mail \
	    $(D)$(BINDIR)/
	$(INSTALL) -m 0644 man/tcp2ctl.1 man/tcp2-mail.1 $(D)$(MANDIR)/man1/
	$(INSTALL) -m 0644 man/tcp2.conf.5 $(D)$(MANDIR)/man5/
	$(INSTALL) -m 0644 man/tcp2d.8 $(D)$(MANDIR)/man8/
	sed 's|^ExecStart=/usr/sbin/tcp2d|ExecStart=$(SBINDIR)/tcp2d|' \
	    dist/tcp2d.service >$(D)$(UNITDIR)/tcp2d.service
	chmod 0644 $(D)$(UNITDIR)/tcp2d.service
	$(INSTALL) -m 0644 dist/tcp2.sysusers $(D)$(SYSUSERSDIR)/tcp2.conf
	$(INSTALL) -m 0644 dist/tcp2.tmpfiles $(D)$(TMPFILESDIR)/tcp2.conf
	@# The operator's settings are never overwritten.
	[ -e $(D)$(SYSCONFDIR)/tcp2/tcp2.conf ] || \
	    $(INSTALL) -m 0644 dist/tcp2.conf $(D)$(SYSCONFDIR)/tcp2/tcp2.conf
	if [ -x $(TRAY) ]; then \
	    $(INSTALL) -d -m 0755 $(D)$(DATADIR)/applications \
	        $(D)$(SYSCONFDIR)/xdg/autostart && \
	    $(INSTALL) -m 0755 $(TRAY) $(D)$(BINDIR)/tcp2-tray && \
	    $(INSTALL) -m 0644 man/tcp2-tray.1 $(D)$(MANDIR)/man1/ && \
	    $(INSTALL) -m 0644 dist/tcp2-tray.desktop \
	        $(D)$(DATADIR)/applications/tcp2-tray.desktop && \
	    $(INSTALL) -m 0644 dist/tcp2-tray-autostart.desktop \
	        $(D)$(SYSCONFDIR)/xdg/autostart/tcp2-tray.desktop; \
	fi
	@# DKMS builds tcp2.ko from this copy for every installed kernel.
	if [ -f kmod/dkms.conf ]; then \
	    rm -rf $(D)$(DKMSDIR) && \
	    $(INSTALL) -d -m 0755 $(D)$(DKMSDIR) && \
	    $(INSTALL) -m 0644 Kbuild $(D)$(DKMSDIR)/ && \
	    sed 's/#MODULE_VERSION#/$(VERSION)/' kmod/dkms.conf \
	        >$(D)$(DKMSDIR)/dkms.conf && \
	    chmod 0644 $(D)$(DKMSDIR)/dkms.conf && \
	    for f in $$(find kmod include -type f \( -name '*.c' -o \
	        -name '*.h' -o -name Kbuild -o -name Makefile \) \
	        ! -name '*.mod.c' 2>/dev/null | sort); do \
	        $(INSTALL) -D -m 0644 $$f $(D)$(DKMSDIR)/$$f || exit 1; \
	    done; \
	elif [ -d kmod ]; then \
	    echo "install: kmod/dkms.conf missing, module source not installed"; \
	fi
	@[ -n "$(DESTDIR)" ] || echo "Installed.  Next, as root: systemd-sysusers;" \
	    "systemd-tmpfiles --create; systemctl daemon-reload;" \
	    "systemctl enable --now tcp2d (docs/INSTALL.md)"

uninstall:
	rm -f $(D)$(SBINDIR)/tcp2d $(D)$(BINDIR)/tcp2ctl \
	    $(D)$(BINDIR)/tcp2-mail $(D)$(BINDIR)/tcp2-tray \
	    $(addprefix $(D)$(MANDIR)/man1/,tcp2ctl.1 tcp2-mail.1 tcp2-tray.1) \
	    $(D)$(MANDIR)/man5/tcp2.conf.5 $(D)$(MANDIR)/man8/tcp2d.8 \
	    $(D)$(UNITDIR)/tcp2d.service $(D)$(SYSUSERSDIR)/tcp2.conf \
	    $(D)$(TMPFILESDIR)/tcp2.conf \
	    $(D)$(DATADIR)/applications/tcp2-tray.desktop \
	    $(D)$(SYSCONFDIR)/xdg/autostart/tcp2-tray.desktop
	rm -rf $(D)$(DKMSDIR)
	@# A changed config is the operator's: it stays.
	if cmp -s dist/tcp2.conf $(D)$(SYSCONFDIR)/tcp2/tcp2.conf; then \
	    rm -f $(D)$(SYSCONFDIR)/tcp2/tcp2.conf; \
	elif [ -e $(D)$(SYSCONFDIR)/tcp2/tcp2.conf ]; then \
	    echo "uninstall: kept $(D)$(SYSCONFDIR)/tcp2/tcp2.conf (changed)"; \
	fi
	rmdir $(D)$(SYSCONFDIR)/tcp2 2>/dev/null || true

clean:
	rm -rf build
	$(if $(KDIR),$(MAKE) -C '$(KDIR)' M='$(CURDIR)' clean)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
