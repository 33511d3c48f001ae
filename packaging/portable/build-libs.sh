#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside the Debian 11 build root (deps.sh starts it): unpacks each pinned
# Debian source package with its patches and installs a static library with
# only what atrest uses into $PREFIX, beside the static archives of the pinned
# -dev packages. Environment: HOST (target triple), PREFIX, SRC (the .dsc
# files and their tarballs), DEBS (the -dev packages), WORK (scratch), JOBS.
set -euo pipefail

: "${HOST:?}" "${PREFIX:?}" "${SRC:?}" "${DEBS:?}" "${WORK:?}" "${JOBS:=2}"
BUILD=$(dpkg-architecture -qDEB_BUILD_GNU_TYPE)
CROSS=
[ "$HOST" = "$BUILD" ] || CROSS=$HOST-
export CC=${CROSS}gcc AR=${CROSS}ar RANLIB=${CROSS}ranlib STRIP=${CROSS}strip
# Sections per function so that the final link drops what atrest never calls;
# the hardening flags Debian builds these libraries with.
export CFLAGS="-O2 -g0 -ffunction-sections -fdata-sections -fstack-protector-strong -fPIE"
export CPPFLAGS="-I$PREFIX/include -D_FORTIFY_SOURCE=2"
export LDFLAGS="-L$PREFIX/lib"
# Only our prefix: nothing of the build root's own .pc files leaks in.
export PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig PKG_CONFIG_PATH=
# Static archives need their dependencies named at link time (configure tests).
export LIBS="-ldl -lpthread -lm"
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"

log() { printf '== portable deps: %s (%ds)\n' "$*" "$SECONDS" >&2; }

unpack() { # unpack PACKAGE: the patched source tree of PACKAGE, cd'ed into
	local dsc
	dsc=$(ls "$SRC/$1"_*.dsc)
	rm -rf "${WORK:?}/$1"
	dpkg-source -x "$dsc" "$WORK/$1" >/dev/null 2>"$WORK/$1.unpack.log" ||
		{ cat "$WORK/$1.unpack.log" >&2; return 1; }
	cd "$WORK/$1"
}

conf() { # autoconf configure with the common options
	./configure -q --prefix="$PREFIX" --libdir="$PREFIX/lib" --host="$HOST" --build="$BUILD" \
		--disable-shared --enable-static --disable-dependency-tracking "$@"
}

build_debian_static() { # the pinned -dev packages' static archives, headers and .pc files
	local x=$WORK/debs deb pc
	rm -rf "$x"
	mkdir -p "$x"
	for deb in "$DEBS"/*.deb; do dpkg-deb -x "$deb" "$x"; done
	cp "$x/usr/lib/$HOST"/*.a "$PREFIX/lib/"
	# Headers, the multiarch ones (opensslconf.h, configuration.h) merged in.
	cp -a "$x/usr/include/." "$PREFIX/include/"
	rm -rf "${PREFIX:?}/include/$HOST"
	cp -a "$x/usr/include/$HOST/." "$PREFIX/include/"
	for pc in "$x/usr/lib/$HOST/pkgconfig"/*.pc; do
		sed -e "s|^prefix=/usr\$|prefix=$PREFIX|" -e "s|^exec_prefix=/usr\$|exec_prefix=$PREFIX|" \
			-e "s|=/usr/lib/$HOST\$|=$PREFIX/lib|" -e "s|^includedir=/usr/include\$|includedir=$PREFIX/include|" \
			-e "s|/lib/$HOST\$|/lib|" "$pc" >"$PREFIX/lib/pkgconfig/${pc##*/}"
	done
	# Debian 12's GCC calls libgcc helpers Debian 11's lacks (aarch64-sync.c):
	# the archives that call them get them as a member of their own.
	local a
	for a in "$PREFIX"/lib/*.a; do
		if ${CROSS}nm -u "$a" 2>/dev/null | grep -q '__aarch64_cas[0-9]*_sync$'; then
			[ -f "$WORK/aarch64-sync.o" ] ||
				$CC -O2 -fPIE -c "$(dirname "$0")/aarch64-sync.c" -o "$WORK/aarch64-sync.o"
			$AR rs "$a" "$WORK/aarch64-sync.o" 2>/dev/null
			echo "${a##*/}: + aarch64-sync.o" >&2
		fi
	done
	if grep -l "/usr" "$PREFIX/lib/pkgconfig"/*.pc; then
		echo "a .pc file still names /usr" >&2
		return 1
	fi
}

build_devmapper() { # libdevmapper only (lvm2's device_mapper library)
	unpack lvm2
	conf --disable-selinux --disable-udev_sync --disable-udev_rules --disable-blkid_wiping \
		--disable-readline --disable-systemd-journal --disable-app-machineid \
		--disable-notify-dbus --enable-static_link --enable-pkgconfig \
		--with-default-run-dir=/run/lvm --with-default-locking-dir=/run/lock/lvm \
		--with-default-pid-dir=/run \
		ac_cv_func_malloc_0_nonnull=yes ac_cv_func_realloc_0_nonnull=yes # glibc's; not probed when cross-building
	make -s -j"$JOBS" -C libdm >/dev/null
	make -s -C libdm install_static install_include >/dev/null
	make -s -C libdm install_pkgconfig >/dev/null
}

build_cryptsetup() { # the library only: LUKS1/2, BitLocker and others, OpenSSL crypto
	unpack cryptsetup
	autoreconf -fi >/dev/null 2>&1
	conf --disable-nls --disable-asciidoc --disable-cryptsetup --disable-veritysetup \
		--disable-integritysetup --disable-ssh-token --disable-external-tokens \
		--disable-udev --disable-selinux --disable-pwquality --disable-passwdqc \
		--disable-blkid --disable-libargon2 --enable-internal-argon2 \
		--with-crypto_backend=openssl \
		ac_cv_lib_popt_poptConfigFileToString=yes # popt serves only the tools
	make -s -j"$JOBS" libcryptsetup.la >/dev/null
	make -s install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA >/dev/null
}

build_curl() { # HTTP and HTTPS (OpenSSL), nothing else
	unpack curl
	conf --with-openssl="$PREFIX" --without-ca-bundle --without-ca-path --with-ca-fallback \
		--enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps \
		--disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 \
		--disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
		--disable-manual --disable-ntlm --disable-ntlm-wb --disable-alt-svc \
		--disable-hsts --disable-cookies --disable-doh --disable-netrc --disable-unix-sockets \
		--disable-websockets --enable-threaded-resolver --enable-ipv6 \
		--without-zlib --without-brotli --without-zstd --without-libidn2 --without-libpsl \
		--without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-librtmp \
		--without-libssh2 --without-libssh --without-gssapi --without-libgsasl
	make -s -j"$JOBS" -C lib >/dev/null
	make -s -C lib install >/dev/null
	make -s -C include install >/dev/null
	make -s install-pkgconfigDATA >/dev/null
}

build_microhttpd() { # no TLS: atrest serves plain HTTP on loopback or a pod IP
	unpack libmicrohttpd
	conf --disable-https --without-gnutls --disable-curl --disable-doc --disable-examples \
		--disable-nls
	make -s -j"$JOBS" -C src/microhttpd >/dev/null
	make -s -C src/microhttpd install >/dev/null
	make -s -C src/include install >/dev/null
	make -s install-pkgconfigDATA >/dev/null
}

# The -dev packages first (every build below needs some of them), then three
# chains at once: configure scripts run on one core, so two chains keep both
# busy. Each chain logs to a file, shown when it fails.
chain() { # chain STEP...: each step in turn, in a subshell of its own
	local step
	for step in "$@"; do
		log "$step"
		# (not "|| return": that would switch set -e off inside the step)
		(build_"$step")
	done
}
# STEPS: a subset, for working on one library's build by hand.
if [ -n "${STEPS:-}" ]; then
	chain $STEPS
else
	chain debian_static
	pids=()
	for c in "devmapper cryptsetup" curl microhttpd; do
		chain $c >"$WORK/chain-${c%% *}.log" 2>&1 &
		pids+=("$!:${c%% *}")
	done
	fail=0
	for p in "${pids[@]}"; do
		if ! wait "${p%%:*}"; then
			echo "== portable deps: ${p#*:} failed:" >&2
			tail -40 "$WORK/chain-${p#*:}.log" >&2
			fail=1
		fi
	done
	[ $fail = 0 ] || exit 1
	cat "$WORK"/chain-*.log >&2
fi
rm -f "$PREFIX"/lib/*.la
log done
