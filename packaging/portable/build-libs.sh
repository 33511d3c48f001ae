#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside the Debian 11 build root (deps.sh starts it): unpacks each pinned
# Debian source package with its patches and installs a static library with
# only what atrest uses into $PREFIX. Environment: HOST (target triple), PREFIX,
# SRC (the .dsc files and their tarballs), WORK (scratch), JOBS.
set -euo pipefail

: "${HOST:?}" "${PREFIX:?}" "${SRC:?}" "${WORK:?}" "${JOBS:=2}"
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
export LIBS="-lpthread -lm"
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
		--disable-shared --enable-static "$@"
}

build_zlib() {
	unpack zlib
	# zlib's configure is not autoconf: it takes CHOST for the cross compiler.
	CHOST=$HOST ./configure --static --prefix="$PREFIX" --libdir="$PREFIX/lib" >/dev/null
	make -s -j"$JOBS" libz.a
	make -s install >/dev/null
}

openssl_target() {
	case $HOST in
	x86_64-linux-gnu) echo linux-x86_64 ;;
	aarch64-linux-gnu) echo linux-aarch64 ;;
	*) echo "no OpenSSL target known for $HOST" >&2; return 1 ;;
	esac
}

build_openssl() {
	unpack openssl
	# Assembly stays on (AES-NI/VAES for XTS). No shared objects, modules, engines or
	# legacy provider; nothing loads a config file on its own. OPENSSLDIR only
	# names where a config would be: CA certificates are chosen by atrest.
	./Configure "$(openssl_target)" ${CROSS:+--cross-compile-prefix=$CROSS} \
		--prefix="$PREFIX" --libdir=lib --openssldir=/etc/ssl \
		no-shared no-module no-dso no-engine no-legacy no-tests no-ui-console \
		no-comp no-ssl3 no-autoload-config $CFLAGS $CPPFLAGS >/dev/null
	make -s -j"$JOBS" build_libs >/dev/null
	# (its install scripts warn under Debian 11's perl; the log keeps them)
	make -s install_dev >"$WORK/openssl.install.log" 2>&1 || { cat "$WORK/openssl.install.log" >&2; return 1; }
}

build_jsonc() {
	unpack json-c
	mkdir _b && cd _b
	local cross=()
	[ -z "$CROSS" ] || cross=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="${HOST%%-*}")
	cmake .. -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" "${cross[@]}" \
		-DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DBUILD_TESTING=OFF \
		-DDISABLE_WERROR=ON -DDISABLE_EXTRA_LIBS=ON -DENABLE_THREADING=OFF \
		-DBUILD_APPS=OFF >/dev/null
	make -s -j"$JOBS" >/dev/null
	make -s install >/dev/null
}

build_util_linux() { # libblkid and libuuid only
	unpack util-linux
	# Debian's patches touch configure.ac: regenerate once here, or make
	# would re-run configure and rebuild everything a second time.
	autoreconf -fi >/dev/null 2>&1
	conf --disable-all-programs --enable-libblkid --enable-libuuid --disable-nls \
		--disable-bash-completion --disable-asciidoc --disable-poman \
		--without-systemd --without-udev --without-selinux --without-audit \
		--without-python --without-readline --without-ncursesw --without-ncurses \
		--without-tinfo --without-libmagic --without-cap-ng --without-btrfs \
		--without-econf --without-user --without-libz
	make -s -j"$JOBS" libblkid.la libuuid.la >/dev/null
	make -s install-usrlib_execLTLIBRARIES install-pkgconfigDATA \
		install-nodist_blkidincHEADERS install-uuidincHEADERS >/dev/null
}

build_devmapper() { # libdevmapper only (lvm2's device_mapper library)
	unpack lvm2
	conf --disable-selinux --disable-udev_sync --disable-udev_rules --disable-blkid_wiping \
		--disable-readline --disable-systemd-journal --disable-app-machineid \
		--disable-notify-dbus --enable-static_link --enable-pkgconfig \
		--with-default-run-dir=/run/lvm --with-default-locking-dir=/run/lock/lvm \
		--with-default-pid-dir=/run
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

build_inih() { # one C file; Debian builds it with meson and the defaults of ini.h
	unpack libinih
	local v
	v=$(dpkg-parsechangelog -SVersion | sed 's/-.*//')
	$CC $CFLAGS $CPPFLAGS -c ini.c -o ini.o
	$AR rcs "$PREFIX/lib/libinih.a" ini.o
	install -m 644 ini.h "$PREFIX/include/ini.h"
	printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: inih\nDescription: simple .INI file parser\nVersion: %s\nLibs: -L${libdir} -linih\nCflags: -I${includedir}\n' \
		"$PREFIX" "$v" >"$PREFIX/lib/pkgconfig/inih.pc"
}

# STEPS: a subset, for working on one library's build by hand.
for step in ${STEPS:-zlib openssl jsonc util_linux devmapper cryptsetup curl microhttpd inih}; do
	log "$step"
	(build_"$step")
done
rm -f "$PREFIX"/lib/*.la
log done
