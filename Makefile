# htier top-level entry points: deps, all (default), test, unit-test, vm-test,
# bench, demo, deb, dkms.  See README.md.
#
# The guest kernels are pinned (guest-kmod/KERNELS: Debian's 6.1 and 6.12;
# the first is the default): their headers are installed from Debian, and
# each image (vmlinuz + modules) is unpacked from its .deb into .cache/ so
# that the QEMU guests boot exactly the kernel the module was built against.
# htier.ko is built for each into build/kmod/KVER/; `make KVER=...` builds
# and tests one kernel only.

KVERS       := $(shell cat $(CURDIR)/guest-kmod/KERNELS)
KVER        ?= $(firstword $(KVERS))
ifeq ($(origin KVER),command line)
KVERS       := $(KVER)
endif
KDIR        ?= /usr/src/linux-headers-$(KVER)
CACHE       ?= $(CURDIR)/.cache
GUEST_ROOT  := $(CACHE)/guest-kernel/$(KVER)
BUILD       ?= $(CURDIR)/build
JOBS        ?= $(shell nproc)
# The version, for the packages and DKMS alike: debian/changelog's top entry.
VERSION     := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DEB_OUT     ?= $(BUILD)/deb

export KVER KVERS KDIR CACHE GUEST_ROOT BUILD VERSION DEB_OUT

# prometheus-cpp-dev: htier-provisiond's metrics endpoint; prometheus:
# promtool, which the tests lint the metrics with.  libvirt-dev, libxml2-dev:
# its libvirt backend; libvirt-daemon, -driver-qemu, -clients: the libvirtd
# that tests/vm/e2e_libvirt.py runs (scripts/deps.sh adds the libvirt-qemu
# user libvirtd wants).
DEB_PACKAGES := build-essential cmake pkg-config git python3 \
	$(addprefix linux-headers-,$(KVERS)) kmod cpio zstd xz-utils \
	qemu-system-x86 qemu-utils busybox-static \
	libgtest-dev googletest nlohmann-json3-dev libnuma-dev \
	libbpf-dev bpftool clang llvm libclang-rt-dev libpfm4-dev gnuplot-nox \
	linux-source-6.1 linux-libc-dev libc6-dev file libelf-dev zlib1g-dev libbenchmark-dev \
	dpkg-dev debhelper dh-dkms dkms lintian libsystemd-dev systemd help2man \
	prometheus-cpp-dev prometheus \
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev libxml2-dev

.PHONY: all deps guest-kernel kmod userspace workloads selftests bpf test unit-test vm-test \
	pkg-test bench demo deb dkms clean

all: kmod userspace selftests workloads bpf

deps:
	./scripts/deps.sh $(DEB_PACKAGES)
	$(MAKE) guest-kernel

guest-kernel: $(foreach k,$(KVERS),$(CACHE)/guest-kernel/$(k)/vmlinuz)

$(CACHE)/guest-kernel/%/vmlinuz:
	./scripts/fetch-guest-kernel.sh $* $(CACHE)/guest-kernel/$*

kmod:
	set -e; for k in $(KVERS); do \
		$(MAKE) -C guest-kmod KVER=$$k KDIR=/usr/src/linux-headers-$$k \
			OUT=$(BUILD)/kmod/$$k; \
	done

userspace:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

bpf: guest-kernel
	$(MAKE) -C bpf OUT=$(BUILD)/bin OBJ=$(BUILD)/bpf KVER=$(KVER) GUEST_VMLINUZ=$(GUEST_ROOT)/vmlinuz

workloads:
	$(MAKE) -C bench/gups

selftests:
	$(MAKE) -C tests/selftests/htier OUT=$(BUILD)/selftests

# Every test: unit tests, then the tests inside QEMU guests.  Ends with the
# line "N passed, N failed[, N skipped]" and fails on any failure.
test: all guest-kernel
	/usr/bin/python3 tests/run_all.py

unit-test: userspace
	/usr/bin/python3 tests/run_all.py --unit-only

vm-test: all guest-kernel
	/usr/bin/python3 tests/run_all.py --vm-only

# The packaging part of vm-test alone (tests/pkg/packages.py).
pkg-test: all guest-kernel
	/usr/bin/python3 tests/run_all.py --pkg-only

bench: all guest-kernel
	./bench/run.sh

demo: all guest-kernel
	./scripts/demo.sh

# Debian packages htier-dkms, htier-guest, htier-host (and their -dbgsym)
# in $(DEB_OUT), built with dpkg-buildpackage from a copy of the tracked and
# new files, so neither build/ nor the parent directory is touched.
deb: guest-kernel
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/src
	git ls-files -z --cached --others --exclude-standard | \
		tar --null --ignore-failed-read -T - -cf - | tar -xf - -C $(DEB_OUT)/src
	cd $(DEB_OUT)/src && GUEST_VMLINUZ=$(GUEST_ROOT)/vmlinuz \
		dpkg-buildpackage -b -us -uc -j$(JOBS)
	rm -rf $(DEB_OUT)/src
	@ls -1 $(DEB_OUT)/*.deb

# Registers this tree's module with the system's DKMS and builds and
# installs it for every installed kernel that has headers (later kernels:
# AUTOINSTALL).  The htier-dkms package does the same on install.
dkms:
	./scripts/dkms-install.sh $(VERSION)

clean:
	$(MAKE) -C guest-kmod KDIR=$(KDIR) clean
	$(MAKE) -C bpf OUT=$(BUILD)/bin OBJ=$(BUILD)/bpf clean
	rm -rf $(BUILD)
