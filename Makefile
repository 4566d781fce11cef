# htier top-level entry points: deps, all (default), test, unit-test, vm-test,
# bench, demo.  See README.md.
#
# The guest kernel is pinned: its headers are installed from Debian, and the
# image (vmlinuz + modules) is unpacked from its .deb into .cache/ so that the
# QEMU guests boot exactly the kernel the module was built against.

KVER        ?= 6.1.0-56-amd64
KDIR        ?= /usr/src/linux-headers-$(KVER)
CACHE       ?= $(CURDIR)/.cache
GUEST_ROOT  := $(CACHE)/guest-kernel/$(KVER)
BUILD       ?= $(CURDIR)/build
JOBS        ?= $(shell nproc)

export KVER KDIR CACHE GUEST_ROOT BUILD

DEB_PACKAGES := build-essential cmake pkg-config git python3 \
	linux-headers-$(KVER) kmod cpio zstd xz-utils \
	qemu-system-x86 qemu-utils busybox-static \
	libgtest-dev googletest nlohmann-json3-dev libnuma-dev \
	libbpf-dev bpftool clang llvm libclang-rt-dev libpfm4-dev gnuplot-nox \
	linux-source-6.1 linux-libc-dev libc6-dev file libelf-dev zlib1g-dev libbenchmark-dev

.PHONY: all deps guest-kernel kmod userspace workloads selftests bpf test unit-test vm-test \
	bench demo clean

all: kmod userspace selftests workloads bpf

deps:
	./scripts/deps.sh $(DEB_PACKAGES)
	$(MAKE) guest-kernel

guest-kernel: $(GUEST_ROOT)/vmlinuz

$(GUEST_ROOT)/vmlinuz:
	./scripts/fetch-guest-kernel.sh $(KVER) $(GUEST_ROOT)

kmod:
	$(MAKE) -C guest-kmod KDIR=$(KDIR)

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

bench: all guest-kernel
	./bench/run.sh

demo: all guest-kernel
	./scripts/demo.sh

clean:
	$(MAKE) -C guest-kmod KDIR=$(KDIR) clean
	$(MAKE) -C bpf OUT=$(BUILD)/bin OBJ=$(BUILD)/bpf clean
	rm -rf $(BUILD)
