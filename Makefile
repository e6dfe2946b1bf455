# lagghook: build with cargo, install the FreeBSD way.
#
#	make				build target/release/lagghook and
#					lagghook-devd, as yourself
#	make install			as root; honours PREFIX and DESTDIR
#	make uninstall			as root; the configuration stays
#	make dist			lagghook-VERSION.tar.gz, the port's distfile
#
# Self-contained on purpose, with no .include <bsd.*.mk>: FreeBSD's make
# and GNU make both run it (only ?=, plain rules and sh recipes).
#
# install does not build: cargo should not run as root, and a root-owned
# target/ would get in the way of the next build. BINARY names another
# lagghook to install (CI installs its debug build); lagghook-devd is
# taken from beside it.
#
# Installed files, relative to PREFIX; port/sysutils/lagghook/pkg-plist
# lists the same, and tests/install.rs keeps the two in step:
#	sbin/lagghook
#	libexec/lagghook-devd
#	share/man/man8/lagghook.8
#	share/man/man5/lagghook.toml.5
#	etc/lagghook.toml.sample
#	etc/rc.d/lagghook
#	share/examples/lagghook/lagghook.conf
# Never etc/lagghook.toml (the administrator's copy of the sample) nor
# etc/devd/lagghook.conf (what `lagghook devd-conf` generates for it).
#
# lagghook itself looks for /usr/local/etc/lagghook.toml, and its devd
# rules run /usr/local/libexec/lagghook-devd: another PREFIX moves the
# files but not those two paths. The rc.d script is installed with PREFIX in its
# path to the program.

PREFIX?=	/usr/local
DESTDIR?=
CARGO?=		cargo
INSTALL?=	install
BINARY?=	target/release/lagghook
DEVD_BINARY=	$(BINARY)-devd

SBINDIR=	$(DESTDIR)$(PREFIX)/sbin
LIBEXECDIR=	$(DESTDIR)$(PREFIX)/libexec
MAN5DIR=	$(DESTDIR)$(PREFIX)/share/man/man5
MAN8DIR=	$(DESTDIR)$(PREFIX)/share/man/man8
ETCDIR=		$(DESTDIR)$(PREFIX)/etc
RCDIR=		$(DESTDIR)$(PREFIX)/etc/rc.d
EXAMPLESDIR=	$(DESTDIR)$(PREFIX)/share/examples/lagghook

all:
	$(CARGO) build --release --locked

# mkdir -p, not install -d: install -d would chmod directories that exist
# and belong to the system, such as PREFIX/etc.
install:
	@for b in $(BINARY) $(DEVD_BINARY); do \
		if [ ! -f $$b ]; then \
			echo "$$b does not exist: run make (as yourself) first" >&2; \
			exit 1; \
		fi; \
	done
	mkdir -p $(SBINDIR) $(LIBEXECDIR) $(MAN5DIR) $(MAN8DIR) $(ETCDIR) $(RCDIR) $(EXAMPLESDIR)
	$(INSTALL) -m 555 $(BINARY) $(SBINDIR)/lagghook
	$(INSTALL) -m 555 $(DEVD_BINARY) $(LIBEXECDIR)/lagghook-devd
	$(INSTALL) -m 444 man/lagghook.8 $(MAN8DIR)/lagghook.8
	$(INSTALL) -m 444 man/lagghook.toml.5 $(MAN5DIR)/lagghook.toml.5
	$(INSTALL) -m 644 lagghook.toml.sample $(ETCDIR)/lagghook.toml.sample
	rm -f $(RCDIR)/lagghook
	sed -e 's|/usr/local|$(PREFIX)|g' rc.d/lagghook > $(RCDIR)/lagghook
	chmod 555 $(RCDIR)/lagghook
	$(INSTALL) -m 444 devd/lagghook.conf $(EXAMPLESDIR)/lagghook.conf

uninstall:
	rm -f $(SBINDIR)/lagghook $(LIBEXECDIR)/lagghook-devd
	rm -f $(MAN8DIR)/lagghook.8 $(MAN5DIR)/lagghook.toml.5
	rm -f $(ETCDIR)/lagghook.toml.sample $(RCDIR)/lagghook
	rm -f $(EXAMPLESDIR)/lagghook.conf
	rmdir $(EXAMPLESDIR) 2>/dev/null || true

# The tree of the commit checked out, as the port's distfile
# lagghook-VERSION.tar.gz with everything under lagghook-VERSION/.
dist:
	v=$$(sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1) && \
	git archive --format=tar.gz --prefix=lagghook-$$v/ \
		-o lagghook-$$v.tar.gz HEAD && \
	echo lagghook-$$v.tar.gz

clean:
	$(CARGO) clean

.PHONY: all install uninstall dist clean
