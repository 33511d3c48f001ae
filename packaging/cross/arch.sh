# SPDX-License-Identifier: Apache-2.0
# Sourced (POSIX sh): the facts a cross build needs per Debian architecture,
# and the -dev packages atrest builds against (those of quickstart's
# BUILD_DEPS that carry a library).

# Sets CROSS_TRIPLET, CROSS_QEMU, CROSS_QEMU_SYSTEM (and the package that
# ships it, CROSS_QEMU_SYSTEM_PKG) and CROSS_LDSO for a
# Debian architecture name; returns 1 for one the project does not build.
cross_arch() {
	case "$1" in
	arm64)
		CROSS_TRIPLET=aarch64-linux-gnu
		CROSS_QEMU=qemu-aarch64-static
		CROSS_QEMU_SYSTEM=qemu-system-aarch64
		CROSS_QEMU_SYSTEM_PKG=qemu-system-arm
		CROSS_LDSO=/lib/ld-linux-aarch64.so.1
		;;
	amd64)
		CROSS_TRIPLET=x86_64-linux-gnu
		CROSS_QEMU=qemu-x86_64-static
		CROSS_QEMU_SYSTEM=qemu-system-x86_64
		CROSS_QEMU_SYSTEM_PKG=qemu-system-x86
		CROSS_LDSO=/lib64/ld-linux-x86-64.so.2
		;;
	*)
		echo "unsupported architecture: $1 (arm64 or amd64)" >&2
		return 1
		;;
	esac
}

CROSS_DEV_PKGS="libblkid-dev libcryptsetup-dev libcurl4-openssl-dev libjson-c-dev
	libsystemd-dev libmicrohttpd-dev libssl-dev libinih-dev zlib1g-dev"
